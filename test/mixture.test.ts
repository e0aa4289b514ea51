/**
 * GaussianMixture posteriors through the public API, on the backend in use (run again with
 * TWEEDIE_BACKEND=js for the TypeScript twin): the analytic oracles of samplers.md §5, the K = 1
 * closed forms and the invariants of reliability.md §3.3, extreme inputs, and JSON round trips.
 */
import { expect } from 'chai';
import * as tw from '../src/index.js';
import type { FloatArray } from '../src/types.js';
import { expectClose, referenceBatch, type ReferenceModel } from './helpers/mixture-reference.js';

const ALL = { responsibilities: true, mean: true, score: true, logDensity: true, entropy: true, variance: true } as const;

function refModel(m: tw.GaussianMixture): ReferenceModel {
  return { dim: m.dim, means: m.means, variances: m.variances, weights: m.weights };
}

/** Deterministic pseudo-random numbers for test data (not the package generator). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
}

function relClose(a: number, b: number, rel: number, what: string): void {
  if (!(Math.abs(a - b) <= rel * Math.abs(b)) && a !== b) throw new Error(`${what}: ${a} vs ${b} (rel ${Math.abs(a - b) / Math.abs(b)})`);
}

function allFinite(a: FloatArray): boolean {
  return a.every((v) => Number.isFinite(v));
}

/** Every output against the float64 reference with the twin rule. */
function expectMatchesReference(mix: tw.GaussianMixture, x: FloatArray, alpha: number | number[], sigma: number | number[],
  what: string): void {
  const f32 = x instanceof Float32Array;
  const out = mix.posterior(x, { alpha, sigma }, ALL);
  const a = typeof alpha === 'number' ? [alpha] : alpha;
  const s = typeof sigma === 'number' ? [sigma] : sigma;
  const ref = referenceBatch(refModel(mix), x, a, s);
  const K = mix.components;
  const dim = mix.dim;
  ref.forEach((rr, b) => {
    for (let k = 0; k < K; k++) expectClose(out.responsibilities[b * K + k], rr.r[k], rr.cond.r[k], f32, `${what} r[${b},${k}]`);
    for (let j = 0; j < dim; j++) {
      expectClose(out.mean[b * dim + j], rr.mean[j], rr.cond.mean[j], f32, `${what} mean[${b},${j}]`);
      expectClose(out.score[b * dim + j], rr.score[j], rr.cond.score[j], f32, `${what} score[${b},${j}]`);
    }
    expectClose(out.logDensity[b], rr.logDensity, rr.cond.logDensity, f32, `${what} logDensity[${b}]`);
    expectClose(out.entropy[b], rr.entropy, rr.cond.entropy, f32, `${what} entropy[${b}]`);
    expectClose(out.variance[b], rr.variance, rr.cond.variance, f32, `${what} variance[${b}]`);
  });
}

describe(`GaussianMixture posterior (${tw.backend()} backend)`, () => {
  describe('analytic oracles (samplers.md §5)', () => {
    it('two points ±1: D = tanh(alpha x / sigma^2)', () => {
      const mix = tw.GaussianMixture.empirical([-1, 1], 1);
      const ve = mix.denoise(Float64Array.of(0.5), { alpha: 1, sigma: 1 });
      expect(Math.round(ve[0] * 1e7) / 1e7).to.equal(0.4621172);
      relClose(ve[0], Math.tanh(0.5), 4e-16, 'VE');
      const xs = Float64Array.of(-3, -0.5, 0, 0.25, 2);
      const vp = mix.denoise(xs, { alpha: 0.8, sigma: 0.6 });
      xs.forEach((x, i) => {
        const want = Math.tanh((0.8 * x) / 0.36);
        expect(Math.abs(vp[i] - want)).to.be.at.most(4 * 2 ** -52 * Math.max(1, Math.abs(want)), `x = ${x}`);
      });
    });

    it('1-D GMM w=(0.3,0.7) mu=(-2,1) var=(0.25,1) at alpha=0.8 sigma=0.6 x=0.5, to the digits given', () => {
      const mix = new tw.GaussianMixture({ dim: 1, means: [-2, 1], weights: [0.3, 0.7], variances: [0.25, 1] });
      const p = mix.posterior(Float64Array.of(0.5), { alpha: 0.8, sigma: 0.6 }, ALL);
      const digits = (v: number, want: number, places: number): void => {
        expect(Math.abs(v - want), `${v} vs ${want}`).to.be.at.most(0.5 * 10 ** -places);
      };
      digits(p.responsibilities[0], 0.0088740, 7);
      digits(p.responsibilities[1], 0.9911260, 7);
      digits(p.logDensity[0], -1.3116999, 7);
      digits(p.score[0], 0.2615006, 7);
      digits(p.mean[0], 0.7426753, 7);
      digits(p.variance[0], 0.3918643, 7);
      digits(-0.6 * p.score[0], -0.1569004, 7); // eps-hat = -sigma * score
      digits((0.5 + 0.36 * p.score[0]) / 0.8, 0.7426753, 7); // Tweedie
    });

    it('K = 1 gives the textbook linear posterior to 1e-12 relative', () => {
      const rand = lcg(11);
      for (const dim of [1, 3, 8]) {
        for (const [alpha, sigma] of [[1, 0.3], [0.8, 0.6], [0.05, 0.999], [2, 1e-3], [1, 50]]) {
          const mu = Array.from({ length: dim }, () => 3 * gauss(rand));
          const diag = Array.from({ length: dim }, () => 0.1 + 2 * rand());
          for (const variances of [0.7, [0.7], diag]) {
            const mix = new tw.GaussianMixture({ dim, means: mu, variances });
            const v = mix.variances;
            const x = Float64Array.from({ length: 2 * dim }, (_, i) => alpha * mu[i % dim] + 2 * gauss(rand));
            const p = mix.posterior(x, { alpha, sigma }, ALL);
            for (let b = 0; b < 2; b++) {
              let logp = 0;
              let tr = 0;
              for (let j = 0; j < dim; j++) {
                const C = alpha * alpha * v[j] + sigma * sigma;
                const e = x[b * dim + j] - alpha * mu[j];
                relClose(p.mean[b * dim + j], mu[j] + ((alpha * v[j]) / C) * e, 1e-12, 'mean');
                relClose(p.score[b * dim + j], -e / C, 1e-12, 'score');
                logp += -0.5 * Math.log(2 * Math.PI * C) - (0.5 * e * e) / C;
                tr += (v[j] * sigma * sigma) / C;
              }
              relClose(p.logDensity[b], logp, 1e-12, 'logDensity');
              relClose(p.variance[b], tr / dim, 1e-12, 'variance');
              expect(p.responsibilities[b]).to.equal(1);
              expect(p.entropy[b]).to.equal(0);
            }
          }
        }
      }
    });
  });

  describe('invariants (reliability.md §3.3)', () => {
    const rand = lcg(5);
    const dim = 3;
    const K = 5;
    const means = Array.from({ length: K * dim }, () => 2 * gauss(rand));
    const diag = Array.from({ length: K * dim }, () => 0.05 + rand());
    const mixes = {
      shared: new tw.GaussianMixture({ dim, means, weights: [1, 2, 0, 3, 4], variances: 0.3 }),
      component: new tw.GaussianMixture({ dim, means, weights: [5, 1, 1, 1, 2], variances: [0.1, 0.2, 0.5, 1, 2] }),
      diagonal: new tw.GaussianMixture({ dim, means, variances: diag }),
      empirical: tw.GaussianMixture.empirical(means, dim),
    };
    const levels: Array<[number, number]> = [[1, 0.05], [0.9, 0.4], [0.5, 0.8], [1, 3], [0.01, 1]];
    const x = Float64Array.from({ length: 6 * dim }, (_, i) => means[i % (K * dim)] + 0.7 * gauss(rand));

    for (const [kind, mix] of Object.entries(mixes)) {
      it(`agree with an independent float64 reference within the twin rule (${kind}, float64 and float32)`, () => {
        for (const [alpha, sigma] of levels) {
          expectMatchesReference(mix, x, alpha, sigma, `${kind} a=${alpha} s=${sigma}`);
          expectMatchesReference(mix, Float32Array.from(x), alpha, sigma, `${kind} f32 a=${alpha} s=${sigma}`);
        }
        const rows = x.length / dim;
        const alphas = Array.from({ length: rows }, (_, i) => levels[i % levels.length][0]);
        const sigmas = Array.from({ length: rows }, (_, i) => levels[i % levels.length][1]);
        expectMatchesReference(mix, x, alphas, sigmas, `${kind} per-row levels`);
      });

      it(`Tweedie: mean = (x + sigma^2 score) / alpha to rounding (${kind})`, () => {
        for (const [alpha, sigma] of levels) {
          const p = mix.posterior(x, { alpha, sigma }, { mean: true, score: true });
          const ref = referenceBatch(refModel(mix), x, [alpha], [sigma]);
          for (let i = 0; i < x.length; i++) {
            const b = Math.floor(i / dim);
            const j = i % dim;
            const tweedie = (x[i] + sigma * sigma * p.score[i]) / alpha;
            const cond = (Math.abs(x[i]) + sigma * sigma * ref[b].cond.score[j]) / alpha + ref[b].cond.mean[j];
            expectClose(p.mean[i], tweedie, cond, false, `Tweedie a=${alpha} s=${sigma} [${i}]`);
          }
        }
      });

      it(`score = central finite difference of logDensity (${kind})`, () => {
        for (const [alpha, sigma] of [[1, 0.4], [0.8, 1], [0.5, 2]] as const) {
          const x0 = Float64Array.from(x.subarray(0, dim));
          const score = mix.posterior(x0, { alpha, sigma }, { score: true, logDensity: true });
          const logp = (y: Float64Array): number => mix.posterior(y, { alpha, sigma }, { logDensity: true }).logDensity[0];
          for (let j = 0; j < dim; j++) {
            const fd = (h: number): number => {
              const up = Float64Array.from(x0);
              const dn = Float64Array.from(x0);
              up[j] += h;
              dn[j] -= h;
              return (logp(up) - logp(dn)) / (up[j] - dn[j]);
            };
            const h = 1e-4 * sigma;
            // Truncation error of fd(h) is a third of |fd(2h) - fd(h)|; roundoff ~ eps |log p| / h.
            const tol = Math.abs(fd(2 * h) - fd(h)) + (8 * 2 ** -52 * (1 + Math.abs(score.logDensity[0]))) / h;
            expect(Math.abs(fd(h) - score.score[j]), `a=${alpha} s=${sigma} j=${j}`).to.be.at.most(tol);
          }
        }
      });

      it(`responsibilities >= 0 sum to 1 within 1e-12 K; entropy in [0, log K] (${kind})`, () => {
        for (const [alpha, sigma] of [...levels, [1, 1e-6], [1, 1e4]] as Array<[number, number]>) {
          const p = mix.posterior(x, { alpha, sigma }, { responsibilities: true, entropy: true });
          for (let b = 0; b < x.length / dim; b++) {
            let sum = 0;
            for (let k = 0; k < K; k++) {
              expect(p.responsibilities[b * K + k]).to.be.at.least(0);
              sum += p.responsibilities[b * K + k];
            }
            expect(Math.abs(sum - 1)).to.be.at.most(1e-12 * K);
            expect(p.entropy[b]).to.be.at.least(0);
            expect(p.entropy[b]).to.be.at.most(Math.log(K) * (1 + 1e-12));
          }
        }
      });

      it(`alpha = 0 returns the prior (${kind})`, () => {
        const p = mix.posterior(x, { alpha: 0, sigma: 0.7 }, ALL);
        const w = mix.weights;
        const mu = mix.means;
        const v = mix.variances;
        for (let b = 0; b < x.length / dim; b++) {
          let total = 0;
          const prior = new Float64Array(dim);
          for (let k = 0; k < K; k++) {
            expectClose(p.responsibilities[b * K + k], w[k], 4 * w[k], false, 'r = w');
            for (let j = 0; j < dim; j++) prior[j] += w[k] * mu[k * dim + j];
          }
          for (let k = 0; k < K; k++) {
            for (let j = 0; j < dim; j++) total += w[k] * (v[k * dim + j] + (mu[k * dim + j] - prior[j]) ** 2);
          }
          for (let j = 0; j < dim; j++) expectClose(p.mean[b * dim + j], prior[j], 8 * dim * K * Math.max(...mu.map(Math.abs)), false, 'prior mean');
          expectClose(p.variance[b], total / dim, 16 * dim * K * (1 + total), false, 'prior variance');
        }
      });
    }

    it('permuting the components changes nothing', () => {
      const perm = [3, 0, 4, 2, 1];
      const mix = mixes.diagonal;
      const mu = mix.means;
      const v = mix.variances;
      const w = [1, 2, 3, 4, 5];
      const a = new tw.GaussianMixture({ dim, means: mu, variances: v, weights: w });
      const pm = (arr: ArrayLike<number>, width: number): number[] => perm.flatMap((k) => Array.from({ length: width }, (_, j) => arr[k * width + j]));
      const b = new tw.GaussianMixture({ dim, means: pm(mu, dim), variances: pm(v, dim), weights: pm(w, 1) });
      for (const [alpha, sigma] of levels) {
        const pa = a.posterior(x, { alpha, sigma }, ALL);
        const pb = b.posterior(x, { alpha, sigma }, ALL);
        const ref = referenceBatch(refModel(a), x, [alpha], [sigma]);
        ref.forEach((rr, row) => {
          perm.forEach((k, i) => expectClose(pb.responsibilities[row * K + i], pa.responsibilities[row * K + k], rr.cond.r[k], false, 'r'));
          for (let j = 0; j < dim; j++) {
            expectClose(pb.mean[row * dim + j], pa.mean[row * dim + j], rr.cond.mean[j], false, 'mean');
            expectClose(pb.score[row * dim + j], pa.score[row * dim + j], rr.cond.score[j], false, 'score');
          }
          expectClose(pb.logDensity[row], pa.logDensity[row], rr.cond.logDensity, false, 'logDensity');
          expectClose(pb.entropy[row], pa.entropy[row], rr.cond.entropy, false, 'entropy');
          expectClose(pb.variance[row], pa.variance[row], rr.cond.variance, false, 'variance');
        });
      }
    });

    it('splitting a component into two identical halves changes nothing', () => {
      const mix = mixes.component;
      const mu = mix.means;
      const w = mix.weights;
      const v = [0.1, 0.2, 0.5, 1, 2];
      // component 3 split in two halves appended at the end
      const split = new tw.GaussianMixture({
        dim, means: [...mu, ...mu.subarray(3 * dim, 4 * dim)], variances: [...v, v[3]],
        weights: [...Array.from(w).map((wk, k) => (k === 3 ? wk / 2 : wk)), w[3] / 2],
      });
      for (const [alpha, sigma] of levels) {
        const pa = mix.posterior(x, { alpha, sigma }, ALL);
        const pb = split.posterior(x, { alpha, sigma }, ALL);
        const ref = referenceBatch(refModel(mix), x, [alpha], [sigma]);
        ref.forEach((rr, row) => {
          for (let k = 0; k < K; k++) {
            const got = k === 3 ? pb.responsibilities[row * (K + 1) + 3] + pb.responsibilities[row * (K + 1) + K] : pb.responsibilities[row * (K + 1) + k];
            expectClose(got, pa.responsibilities[row * K + k], rr.cond.r[k], false, `r[${k}]`);
          }
          for (let j = 0; j < dim; j++) {
            expectClose(pb.mean[row * dim + j], pa.mean[row * dim + j], rr.cond.mean[j], false, 'mean');
            expectClose(pb.score[row * dim + j], pa.score[row * dim + j], rr.cond.score[j], false, 'score');
          }
          expectClose(pb.logDensity[row], pa.logDensity[row], rr.cond.logDensity, false, 'logDensity');
          expectClose(pb.variance[row], pa.variance[row], rr.cond.variance, false, 'variance');
        });
      }
    });

    it('the empirical mixture at small sigma returns the nearest point', () => {
      const mix = mixes.empirical;
      const pts = mix.means;
      for (const sigma of [1e-3, 1e-6]) {
        const d = mix.denoise(x, { alpha: 1, sigma });
        for (let b = 0; b < x.length / dim; b++) {
          let best = 0;
          let bestD = Infinity;
          for (let k = 0; k < K; k++) {
            let d2 = 0;
            for (let j = 0; j < dim; j++) d2 += (x[b * dim + j] - pts[k * dim + j]) ** 2;
            if (d2 < bestD) [best, bestD] = [k, d2];
          }
          expect(Array.from(d.subarray(b * dim, (b + 1) * dim))).to.deep.equal(Array.from(pts.subarray(best * dim, (best + 1) * dim)));
        }
      }
    });
  });

  describe('extreme inputs: no NaN or Inf', () => {
    it('far-away points collapse the responsibilities onto one component', () => {
      const mix = new tw.GaussianMixture({ dim: 2, means: [0, 0, 1, 1, -3, 2], variances: [0.1, 1, 0.5] });
      const x = Float64Array.of(1e6, 1e6, -1e8, 3, 0.5, 0.5);
      for (const sigma of [1e-6, 1e-3, 1]) {
        const p = mix.posterior(x, { alpha: 1, sigma }, ALL);
        for (const [key, arr] of Object.entries(p)) expect(allFinite(arr), `${key} at sigma ${sigma}`).to.equal(true);
        const r = p.responsibilities;
        expect(Math.max(r[0], r[1], r[2])).to.equal(1);
        expect(Math.max(r[3], r[4], r[5])).to.equal(1);
      }
    });

    it('sigma from 1e-6 to 1e4, alpha = 0, float32 inputs', () => {
      const rand = lcg(9);
      const dim = 4;
      const means = Array.from({ length: 6 * dim }, () => 3 * gauss(rand));
      const mixes = [
        new tw.GaussianMixture({ dim, means, variances: 0.5 }),
        new tw.GaussianMixture({ dim, means, variances: means.map((m) => 0.01 + m * m) }),
        tw.GaussianMixture.empirical(means, dim),
      ];
      const x64 = Float64Array.from({ length: 5 * dim }, () => 4 * gauss(rand));
      for (const mix of mixes) {
        for (const x of [x64, Float32Array.from(x64)]) {
          for (const sigma of [1e-6, 1e-4, 0.1, 1, 100, 1e4]) {
            for (const alpha of [0, 0.5, 1]) {
              const p = mix.posterior(x, { alpha, sigma }, ALL);
              for (const [key, arr] of Object.entries(p)) expect(allFinite(arr), `${key} sigma ${sigma} alpha ${alpha}`).to.equal(true);
            }
          }
        }
      }
    });

    it('K = 1e5 components (small batch)', () => {
      const rand = lcg(3);
      const K = 100000;
      const dim = 2;
      const means = Float64Array.from({ length: K * dim }, () => 10 * gauss(rand));
      const mix = tw.GaussianMixture.empirical(means, dim);
      const x = Float64Array.of(0.1, -0.2, 25, 25, 1e3, -1e3);
      for (const sigma of [1e-6, 0.1, 10, 1e4]) {
        const p = mix.posterior(x, { alpha: 1, sigma }, ALL);
        for (const [key, arr] of Object.entries(p)) expect(allFinite(arr), `${key} sigma ${sigma}`).to.equal(true);
        for (let b = 0; b < 3; b++) {
          let sum = 0;
          for (let k = 0; k < K; k++) sum += p.responsibilities[b * K + k];
          expect(Math.abs(sum - 1)).to.be.at.most(1e-12 * K);
          expect(p.entropy[b]).to.be.within(0, Math.log(K) * (1 + 1e-12));
        }
      }
    });

    it('dim = 4096', () => {
      const rand = lcg(4);
      const dim = 4096;
      const K = 6;
      const means = Float64Array.from({ length: K * dim }, () => gauss(rand));
      const mixes = [
        new tw.GaussianMixture({ dim, means, variances: 0.2 }),
        new tw.GaussianMixture({ dim, means, variances: Float64Array.from(means, (m) => 0.1 + m * m) }),
        tw.GaussianMixture.empirical(means, dim),
      ];
      const x = Float64Array.from({ length: 3 * dim }, (_, i) => means[i] + 0.5 * gauss(rand));
      for (const mix of mixes) {
        for (const sigma of [1e-6, 0.3, 1e4]) {
          const p = mix.posterior(Float32Array.from(x), { alpha: 1, sigma }, ALL);
          for (const [key, arr] of Object.entries(p)) expect(allFinite(arr), `${key} sigma ${sigma}`).to.equal(true);
        }
        expectMatchesReference(mix, x.subarray(0, 2 * dim), 0.9, 0.3, 'dim 4096');
      }
    });

    it('zero-variance components keep a finite mean where (x - alpha mu) / sigma^2 overflows', () => {
      const pts = tw.GaussianMixture.empirical([0, 1, 5], 1);
      const p = pts.posterior(Float64Array.of(1e5, 0.9, -3e4), { alpha: 1, sigma: 1e-150 }, ALL);
      expect(Array.from(p.mean)).to.deep.equal([5, 1, 0]);
      expect(Array.from(p.variance)).to.deep.equal([0, 0, 0]);
      expect(Array.from(p.entropy)).to.deep.equal([0, 0, 0]);
      // the score itself is beyond the double range: -(x - mu) / sigma^2 rounds to -Infinity, never NaN
      expect(Array.from(p.score).some(Number.isNaN)).to.equal(false);
    });

    it('quadratics beyond the double range: logDensity = -Infinity, the nearest component takes all', () => {
      const mix = new tw.GaussianMixture({ dim: 1, means: [0, 1e199, -1e199], weights: [1, 1, 1], variances: 1 });
      const p = mix.posterior(Float64Array.of(1e200, -1e200), { alpha: 1, sigma: 1 }, ALL);
      expect(Array.from(p.logDensity)).to.deep.equal([-Infinity, -Infinity]);
      expect(Array.from(p.responsibilities)).to.deep.equal([0, 1, 0, 0, 0, 1]);
      for (const key of ['mean', 'score', 'entropy', 'variance'] as const) expect(allFinite(p[key]), key).to.equal(true);
    });

    it('dense rows (dim >= 64) near the largest double: the nearest component takes all', () => {
      // fuzz finding responsibility-sse2-dense-cross-near-overflow: means 1e12 from the origin,
      // sigma 6e-150, x = alpha mu_k rounded. The vector levels' cross-term form
      // |x|^2 - 2a x.mu + a^2 |mu|^2 cancels to rounding noise there; its check compared two
      // overflowed sides (inf <= inf) and kept the noise, giving the weight to a wrong component.
      // The true quadratic of k over C is about 1e292, the others 1e307 or beyond the range.
      const rand = lcg(11);
      const dim = 72;
      const K = 6;
      const means = Float64Array.from({ length: K * dim }, (_, i) => 1e12 + 3e3 * Math.floor(i / dim) + 1e3 * gauss(rand));
      const mix = tw.GaussianMixture.empirical(means, dim);
      for (const alpha of [1, 1.2683594180391458, 0.71]) {
        const rows = 2 * K;
        const x = Float64Array.from({ length: rows * dim }, (_, i) => alpha * means[(Math.floor(i / dim) % K) * dim + (i % dim)]);
        const p = mix.posterior(x, { alpha, sigma: 6.0325293679983911e-150 }, { responsibilities: true, mean: true });
        for (let b = 0; b < rows; b++) {
          const k = b % K;
          const r = Array.from(p.responsibilities.subarray(b * K, (b + 1) * K));
          expect(r, `alpha ${alpha} row ${b}`).to.deep.equal(r.map((_, j) => (j === k ? 1 : 0)));
          expect(Array.from(p.mean.subarray(b * dim, (b + 1) * dim))).to.deep.equal(Array.from(means.subarray(k * dim, (k + 1) * dim)));
        }
      }
    });
  });

    it('a posterior mean or score term beyond the double range: inf where the true value is, never NaN', () => {
      // fuzz finding variance-nan-mean-overflow: m = mu + (alpha v / C)(x - alpha mu) = 1e313
      // rounds to Infinity, and the variance v sigma^2 / C = 1e-66 must not become inf - inf
      const one = new tw.GaussianMixture({ dim: 1, means: [0], variances: 1e226 });
      const p = one.posterior(Float64Array.of(1e232), { alpha: 1e-81, sigma: 1e-114 }, ALL);
      expect(p.mean[0]).to.equal(Infinity);
      expect(p.variance[0] / 1e-66).to.be.closeTo(1, 1e-13);
      expect(p.score[0] / -1e168).to.be.closeTo(1, 1e-13);
      // +inf and -inf score terms of two equally likely components (both quadratics overflow):
      // the true score at x = 0 is 0, at 1e290 beyond the range
      const two = tw.GaussianMixture.empirical([1e300, -1e300], 1);
      const q = two.posterior(Float64Array.of(0, 1e290), { alpha: 1, sigma: 1e-150 }, ALL);
      expect(Array.from(q.responsibilities)).to.deep.equal([0.5, 0.5, 1, 0]);
      expect(q.score[0] === 0 && q.score[1] === Infinity, `score ${q.score}`).to.equal(true);
      expect(Array.from(q.mean)).to.deep.equal([0, 1e300]);
      expect(Array.from(q.variance)).to.deep.equal([Infinity, 0]);
      // alpha mu beyond the range at a zero variance (gain 0): the mean is the point itself
      const far = tw.GaussianMixture.empirical([Number.MAX_VALUE], 1);
      const f = far.posterior(Float64Array.of(-4e90), { alpha: 5.7e9, sigma: 9e141 }, ALL);
      expect(Array.from(f.mean)).to.deep.equal([Number.MAX_VALUE]);
      expect(f.variance[0]).to.equal(0);
    });

  describe('outputs and options', () => {
    const mix = new tw.GaussianMixture({ dim: 2, means: [0, 0, 1, 2], variances: [0.5, 2] });
    const x = Float64Array.of(0.3, 0.4, 1, 1, -2, 0);

    it('computes only what is asked, into given arrays when given', () => {
      const mean = new Float64Array(6);
      const p = mix.posterior(x, { alpha: 1, sigma: 0.5 }, { mean, logDensity: true, score: false });
      expect(Object.keys(p).sort()).to.deep.equal(['logDensity', 'mean']);
      expect(p.mean).to.equal(mean);
      expect(p.logDensity).to.be.instanceOf(Float64Array).with.length(3);
      const all = mix.posterior(x, { alpha: 1, sigma: 0.5 }, ALL);
      expect(Array.from(mean)).to.deep.equal(Array.from(all.mean));
      expect(Array.from(p.logDensity)).to.deep.equal(Array.from(all.logDensity));
      expect(Object.keys(mix.posterior(x, { alpha: 1, sigma: 0.5 })).sort()).to.deep.equal(['entropy', 'logDensity', 'mean', 'score', 'variance']);
      expect(mix.posterior(x, { alpha: 1, sigma: 0.5 }, {})).to.deep.equal({});
    });

    it('denoise equals the posterior mean, keeps the dtype, fills out', () => {
      for (const arr of [x, Float32Array.from(x)]) {
        const d = mix.denoise(arr, { alpha: 0.7, sigma: [0.1, 1, 3] });
        expect(d.constructor).to.equal(arr.constructor);
        const p = mix.posterior(arr, { alpha: 0.7, sigma: [0.1, 1, 3] }, { mean: true });
        expect(Array.from(d)).to.deep.equal(Array.from(p.mean));
        const out = new (arr.constructor as new (n: number) => FloatArray)(6);
        expect(mix.denoise(arr, { alpha: 0.7, sigma: [0.1, 1, 3] }, out)).to.equal(out);
        expect(Array.from(out)).to.deep.equal(Array.from(d));
      }
    });

    it('an empty batch gives empty outputs', () => {
      const p = mix.posterior(new Float64Array(0), { alpha: 1, sigma: 1 }, ALL);
      for (const arr of Object.values(p)) expect(arr.length).to.equal(0);
    });
  });

  describe('construction, getters and JSON', () => {
    it('normalises weights, keeps float64 copies, expands variances', () => {
      const means = Float32Array.of(1, 2, 3, 4, 5, 6);
      const mix = new tw.GaussianMixture({ dim: 3, means, weights: [1, 3], variances: [0.5, 2] });
      expect(mix.dim).to.equal(3);
      expect(mix.components).to.equal(2);
      expect(mix.varianceKind).to.equal('component');
      expect(Array.from(mix.weights)).to.deep.equal([0.25, 0.75]);
      expect(Array.from(mix.variances)).to.deep.equal([0.5, 0.5, 0.5, 2, 2, 2]);
      means[0] = 100;
      expect(mix.means[0]).to.equal(1);
      mix.means[1] = 100;
      expect(mix.means[1]).to.equal(2);
      expect(new tw.GaussianMixture({ dim: 2, means: [0, 0], variances: [1, 2] }).varianceKind).to.equal('diagonal');
      expect(new tw.GaussianMixture({ dim: 2, means: [0, 0], variances: 1 }).varianceKind).to.equal('shared');
      expect(tw.GaussianMixture.empirical([0, 0], 2).varianceKind).to.equal('empirical');
      expect(Array.from(new tw.GaussianMixture({ dim: 1, means: [0, 1, 2], weights: [0, 2, 0], variances: 1 }).weights)).to.deep.equal([0, 1, 0]);
    });

    it('toJSON / fromJSON round-trips exactly through JSON text', () => {
      const rand = lcg(21);
      const dim = 3;
      const means = Array.from({ length: 4 * dim }, () => gauss(rand));
      const mixes = [
        new tw.GaussianMixture({ dim, means, variances: 0.1 + rand() }),
        new tw.GaussianMixture({ dim, means, weights: [0.1, 0, 3, Math.PI], variances: [1, 2, 3, rand()] }),
        new tw.GaussianMixture({ dim, means, variances: means.map(() => 0.1 + rand()) }),
        tw.GaussianMixture.empirical(means, dim, [1, 2, 3, 4]),
        new tw.GaussianMixture({ dim: 1, means: [1, 2], variances: [3, 4] }),
      ];
      const x = Float64Array.from({ length: 2 * dim }, () => gauss(rand));
      for (const mix of mixes) {
        const json = JSON.parse(JSON.stringify(mix)) as unknown;
        expect(json).to.deep.equal(mix.toJSON());
        const back = tw.GaussianMixture.fromJSON(json);
        expect(back.varianceKind).to.equal(mix.varianceKind);
        expect(Array.from(back.means)).to.deep.equal(Array.from(mix.means));
        expect(Array.from(back.weights)).to.deep.equal(Array.from(mix.weights));
        expect(Array.from(back.variances)).to.deep.equal(Array.from(mix.variances));
        const a = mix.posterior(x, { alpha: 0.9, sigma: 0.5 }, ALL);
        const b = back.posterior(x, { alpha: 0.9, sigma: 0.5 }, ALL);
        for (const key of Object.keys(a) as Array<keyof typeof a>) expect(Array.from(b[key])).to.deep.equal(Array.from(a[key]));
      }
    });
  });
});
