/**
 * Exact sampling from a GaussianMixture: the documented stream layout (docs/random-streams.md),
 * independence from batch composition, and Monte Carlo checks of x0, x_t and the transition
 * x_to | x_from against closed forms and against the forward process itself. Seeds are fixed;
 * every statistical threshold is chosen so that a correct sampler would fail a given test with
 * probability about 1e-6 or less over random seeds (|z| <= 5.5 per statistic, at most 20
 * statistics per test: 20 * P(|Z| > 5.5) = 7.6e-7).
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as tw from '../src/index.js';

const Z = 5.5;

/** Standard normal CDF from Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, far below the 1e-3 noise of these tests). */
function Phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-z * z);
  return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}

function mixtureCdf(t: number, w: number[], mean: number[], sd: number[]): number {
  return w.reduce((acc, wk, k) => acc + wk * Phi((t - mean[k]) / sd[k]), 0);
}

/** z-scores of the empirical CDF of xs at points ts against cdf (binomial). */
function cdfZ(xs: ArrayLike<number>, ts: number[], cdf: (t: number) => number): number[] {
  const n = xs.length;
  return ts.map((t) => {
    let c = 0;
    for (let i = 0; i < n; i++) if (xs[i] <= t) c++;
    const p = cdf(t);
    return (c / n - p) / Math.sqrt((p * (1 - p)) / n);
  });
}

interface Moments { n: number; mean: number; variance: number; m4: number }
function moments(xs: ArrayLike<number>): Moments {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const mean = s / n;
  let s2 = 0;
  let s4 = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i] - mean;
    s2 += d * d;
    s4 += d * d * d * d;
  }
  return { n, mean, variance: s2 / (n - 1), m4: s4 / n };
}

/** z of a sample mean and variance against known values (normal data: var(s^2) = 2 sigma^4 / (n - 1)). */
function gaussianZ(m: Moments, mean: number, variance: number): [number, number] {
  return [(m.mean - mean) / Math.sqrt(variance / m.n), (m.variance / variance - 1) / Math.sqrt(2 / (m.n - 1))];
}

/** Two-sample z of means and of variances (variance of s^2 estimated from the fourth moment). */
function twoSampleZ(a: Moments, b: Moments): [number, number] {
  const zm = (a.mean - b.mean) / Math.sqrt(a.variance / a.n + b.variance / b.n);
  const vv = (m: Moments): number => Math.max(m.m4 - m.variance * m.variance, 1e-300) / m.n;
  const zv = (a.variance - b.variance) / Math.sqrt(vv(a) + vv(b));
  return [zm, zv];
}

function expectZ(zs: number[], what: string): void {
  expect(zs.length, what).to.be.at.most(20);
  zs.forEach((z, i) => expect(Math.abs(z), `${what} [${i}] z = ${z}`).to.be.at.most(Z));
}

const sha = (a: Float64Array): string => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

describe(`GaussianMixture sampling (${tw.backend()} backend)`, () => {
  const gmm = { w: [0.3, 0.7], mu: [-2, 1], v: [0.25, 1] };
  const mix1 = new tw.GaussianMixture({ dim: 1, means: gmm.mu, weights: gmm.w, variances: gmm.v });

  describe('stream layout and determinism', () => {
    it('sample follows docs/random-streams.md exactly', () => {
      const dim = 3;
      const mix = new tw.GaussianMixture({ dim, means: [0, 1, 2, -5, -6, -7, 10, 20, 30], weights: [1, 2, 3], variances: [0.5, 1, 2, 3, 4, 5, 6, 7, 8] });
      const seed = 0x1234567899n;
      const ids = [0, 5, 2 ** 40 + 3];
      const got = mix.sample(3, { seed, sampleIds: ids });
      const w = mix.weights;
      ids.forEach((id, r) => {
        const sLo = id >>> 0;
        const sHi = Math.floor(id / 2 ** 32);
        const hi = 0x01000001;
        const words = tw.philox4x32(Uint32Array.of(((hi & 3) << 30) >>> 0, hi >>> 2, sLo, sHi),
          Uint32Array.of(Number(seed & 0xffffffffn), Number(seed >> 32n)));
        const u = ((words[0] >>> 6) * 2 ** 26 + (words[1] >>> 6)) * 2 ** -52 + 2 ** -53;
        let k = 0;
        for (let run = 0, total = w[0] + w[1] + w[2]; k < 3; k++) if ((run += w[k]) > u * total) break;
        const z = tw.randomNormal(new Float64Array(dim), { seed, stream: id, offset: BigInt(0x01000000) << 32n });
        const v = mix.variances;
        const m = mix.means;
        for (let j = 0; j < dim; j++) expect(got[r * dim + j]).to.equal(m[k * dim + j] + Math.sqrt(v[k * dim + j]) * z[j]);
      });
    });

    it('sampleNoisy adds alpha x0 + sigma eps with eps at index 0x01000002 * 2^32', () => {
      const x0 = mix1.sample(50, { seed: 9 });
      expect(Array.from(mix1.sampleNoisy(50, { seed: 9, alpha: 1, sigma: 0 }))).to.deep.equal(Array.from(x0));
      const xt = mix1.sampleNoisy(50, { seed: 9, alpha: 0.8, sigma: 0.6 });
      for (let i = 0; i < 50; i++) {
        const eps = tw.randomNormal(new Float64Array(1), { seed: 9, stream: i, offset: BigInt(0x01000002) << 32n })[0];
        expect(xt[i]).to.equal(0.8 * x0[i] + 0.6 * eps);
      }
    });

    it('a row depends only on (seed, sample id), not on the batch', () => {
      const mix = new tw.GaussianMixture({ dim: 2, means: [0, 0, 3, 3, -3, 1], variances: [0.1, 0.2, 0.3] });
      const all = mix.sample(12, { seed: 77 });
      const some = mix.sample(3, { seed: 77, sampleIds: [7, 2, 11] });
      [7, 2, 11].forEach((id, r) => expect(Array.from(some.subarray(2 * r, 2 * r + 2))).to.deep.equal(Array.from(all.subarray(2 * id, 2 * id + 2))));
      const noisyAll = mix.sampleNoisy(12, { seed: 77, alpha: 0.5, sigma: 2 });
      const noisySome = mix.sampleNoisy(2, { seed: 77, alpha: 0.5, sigma: 2, sampleIds: [10n, 4n] });
      expect(Array.from(noisySome)).to.deep.equal([...noisyAll.subarray(20, 22), ...noisyAll.subarray(8, 10)]);
      const x = noisyAll;
      const levels = { from: { alpha: 0.5, sigma: 2 }, to: { alpha: 0.9, sigma: 0.5 } };
      const tAll = mix.transition(x, levels, { seed: 5 });
      const tSome = mix.transition(x.subarray(8, 12), levels, { seed: 5, sampleIds: [4, 5] });
      expect(Array.from(tSome)).to.deep.equal(Array.from(tAll.subarray(8, 12)));
      expect(Array.from(mix.sample(0, { seed: 1 }))).to.deep.equal([]);
    });

    it('gives the same bits on both backends (fixed digests)', () => {
      const mix = new tw.GaussianMixture({ dim: 3, means: [0, 1, 2, -1, -2, -3], weights: [2, 1], variances: [0.3, 0.4, 0.5, 1, 2, 3] });
      expect(sha(mix.sample(1000, { seed: 2024 }))).to.equal(SAMPLE_DIGEST);
      expect(sha(mix.sampleNoisy(1000, { seed: 2024, alpha: 0.7, sigma: 0.7 }))).to.equal(NOISY_DIGEST);
    });
  });

  describe('Monte Carlo', () => {
    it('sample: the empirical CDF of a 1-D GMM matches its CDF', () => {
      const n = 200000;
      const xs = mix1.sample(n, { seed: 31 });
      const ts = [-3, -2.5, -2, -1.5, -1, 0, 0.5, 1, 2, 3];
      expectZ(cdfZ(xs, ts, (t) => mixtureCdf(t, gmm.w, gmm.mu, gmm.v.map(Math.sqrt))), 'cdf');
    });

    it('sample: diagonal components have the right per-dimension moments; empirical weights the right frequencies', () => {
      const n = 100000;
      const mix = new tw.GaussianMixture({ dim: 3, means: [1, -2, 0.5], variances: [0.5, 2, 0.01] });
      const xs = mix.sample(n, { seed: 4 });
      const zs: number[] = [];
      for (let j = 0; j < 3; j++) {
        const col = Float64Array.from({ length: n }, (_, i) => xs[3 * i + j]);
        zs.push(...gaussianZ(moments(col), [1, -2, 0.5][j], [0.5, 2, 0.01][j]));
      }
      expectZ(zs, 'diagonal moments');
      const pts = tw.GaussianMixture.empirical([-1, 0, 4, 7], 1, [0.1, 0, 0.6, 0.3]);
      const draws = pts.sample(n, { seed: 8 });
      const counts = new Map<number, number>();
      for (const d of draws) counts.set(d, (counts.get(d) ?? 0) + 1);
      expect([...counts.keys()].sort((a, b) => a - b)).to.deep.equal([-1, 4, 7]);
      expectZ([[-1, 0.1], [4, 0.6], [7, 0.3]].map(([p, q]) => ((counts.get(p) ?? 0) / n - q) / Math.sqrt((q * (1 - q)) / n)), 'frequencies');
    });

    it('sampleNoisy: the empirical CDF matches the noisy marginal', () => {
      const n = 200000;
      const [alpha, sigma] = [0.6, 0.8];
      const xs = mix1.sampleNoisy(n, { seed: 12, alpha, sigma });
      const ts = [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2];
      const sd = gmm.v.map((v) => Math.sqrt(alpha * alpha * v + sigma * sigma));
      expectZ(cdfZ(xs, ts, (t) => mixtureCdf(t, gmm.w, gmm.mu.map((m) => alpha * m), sd)), 'noisy cdf');
    });

    it('transition, K = 1: matches the closed-form Gaussian conditional (precision form), per dimension', () => {
      const n = 100000;
      const mu = [0.5, -1, 2];
      const v = [1, 0.2, 4];
      const mix = new tw.GaussianMixture({ dim: 3, means: mu, variances: v });
      const y = [0.3, -2, 4];
      const cases = [
        { from: { alpha: 0.6, sigma: 0.8 }, to: { alpha: 0.95, sigma: 0.3122499 } },
        { from: { alpha: 1, sigma: 3 }, to: { alpha: 1, sigma: 0 } },
        { from: { alpha: 0.2, sigma: 0.98 }, to: { alpha: 0.9, sigma: 0.43 } },
      ];
      for (const { from, to } of cases) {
        const x = Float64Array.from({ length: 3 * n }, (_, i) => y[i % 3]);
        const out = mix.transition(x, { from, to }, { seed: 17 });
        const zs: number[] = [];
        const rho = from.alpha / to.alpha;
        const tau2 = from.sigma ** 2 - rho * rho * to.sigma ** 2;
        for (let j = 0; j < 3; j++) {
          const A = to.alpha ** 2 * v[j] + to.sigma ** 2;
          const P = 1 / A + (rho * rho) / tau2;
          const mean = ((to.alpha * mu[j]) / A + (rho * y[j]) / tau2) / P;
          const col = Float64Array.from({ length: n }, (_, i) => out[3 * i + j]);
          zs.push(...gaussianZ(moments(col), mean, 1 / P));
        }
        expectZ(zs, `from ${JSON.stringify(from)} to ${JSON.stringify(to)}`);
      }
    });

    it('transition, 1-D GMM: (x_to, x_from) from the forward process and (transition(x_from), x_from) agree bin by bin', () => {
      const n = 200000;
      const to = { alpha: 0.9, sigma: 0.3 };
      const from = { alpha: 0.6, sigma: 0.8 };
      const rho = from.alpha / to.alpha;
      const tau = Math.sqrt(from.sigma ** 2 - rho * rho * to.sigma ** 2);
      const xTo = mix1.sampleNoisy(n, { seed: 101, ...to });
      const eps = tw.randomNormal(new Float64Array(n), { seed: 202 });
      const xFrom = xTo.map((v, i) => rho * v + tau * eps[i]);
      const xHat = mix1.transition(xFrom, { from, to }, { seed: 303 });
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => xFrom[a] - xFrom[b]);
      const bins = 10;
      const zs: number[] = [];
      for (let b = 0; b < bins; b++) {
        const idx = order.slice(Math.floor((b * n) / bins), Math.floor(((b + 1) * n) / bins));
        zs.push(...twoSampleZ(moments(idx.map((i) => xTo[i])), moments(idx.map((i) => xHat[i]))));
      }
      expectZ(zs, 'binned conditional moments');
    });

    it('transition of an empirical mixture to sigma = 0 lands on the points with the posterior responsibilities', () => {
      const n = 100000;
      const pts = tw.GaussianMixture.empirical([-1, 0.5, 2], 1, [1, 2, 1]);
      const from = { alpha: 0.8, sigma: 0.5 };
      const y = 0.3;
      const out = pts.transition(new Float64Array(n).fill(y), { from, to: { alpha: 1, sigma: 0 } }, { seed: 6 });
      const r = pts.posterior(Float64Array.of(y), from, { responsibilities: true }).responsibilities;
      const counts = [-1, 0.5, 2].map((p) => out.filter((v) => v === p).length);
      expect(counts.reduce((a, b) => a + b, 0)).to.equal(n);
      expectZ(counts.map((c, k) => (c / n - r[k]) / Math.sqrt((r[k] * (1 - r[k])) / n)), 'point frequencies');
      // with alpha_to != 1 the draws are alpha_to * point + N(0, sigma_to^2 tau^2 / sigma_from^2) around each point
      const half = pts.transition(new Float32Array(8).fill(y), { from, to: { alpha: 2, sigma: 0 } }, { seed: 6 });
      expect(half).to.be.instanceOf(Float32Array);
      for (const v of half) expect([-2, 1, 4]).to.include(v);
    });

    it('transition from alpha = 0 (pure noise) draws the noisy marginal at `to`', () => {
      const n = 200000;
      const to = { alpha: 0.7, sigma: 0.5 };
      const out = mix1.transition(new Float64Array(n).fill(3), { from: { alpha: 0, sigma: 1 }, to }, { seed: 44 });
      const sd = gmm.v.map((v) => Math.sqrt(to.alpha * to.alpha * v + to.sigma * to.sigma));
      expectZ(cdfZ(out, [-2, -1, 0, 0.5, 1, 2], (t) => mixtureCdf(t, gmm.w, gmm.mu.map((m) => to.alpha * m), sd)), 'marginal');
    });
  });
});

// Digests of the sampling test above: the layout is checked independently by the first test,
// and both backends must reproduce these bits.
const SAMPLE_DIGEST = '2d4f49397897b2853e48eaac1c48098c645b172d42899f6edfe5d9ccf6755842';
const NOISY_DIGEST = '32af904ac5295de0873dabde9ce4ee78b6cdfbc9b8eafa7671325ef0d98f729a';
