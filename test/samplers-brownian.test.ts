/**
 * Brownian noise (`noise: 'brownian'`): the virtual Brownian tree's layout, the law of its
 * increments, consistency under grid refinement, and what it buys a stochastic sampler.
 *
 * Statistical checks use fixed seeds and z-scores with |z| < 5.5 (two-sided false-alarm rate
 * 3.8e-8 per check; about 25 checks, so ~1e-6 for the file if the generator were re-seeded).
 */
import { expect } from 'chai';
import * as tw from '../src/index.js';
import { BROWNIAN_TAG, BrownianTree } from '../src/samplers/brownian.js';
import { gaussian, mixture1d } from './helpers/sampler-models.js';

const Z = 5.5;

/** Mean, variance, and the z-scores of mean 0 and variance 1 for n standard normal values. */
function moments(v: ArrayLike<number>): { zMean: number; zVar: number; zKurt: number } {
  const n = v.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += v[i];
  m /= n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = v[i] * v[i];
    m2 += d;
    m4 += d * d;
  }
  m2 /= n;
  m4 /= n;
  // for N(0, 1): E z^2 = 1 (var of z^2 = 2), E z^4 = 3 (var of z^4 = 96)
  return { zMean: m * Math.sqrt(n), zVar: (m2 - 1) / Math.sqrt(2 / n), zKurt: (m4 - 3) / Math.sqrt(96 / n) };
}

/** z-score of the sample correlation of two independent standard normal vectors. */
function zCorr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s / Math.sqrt(a.length);
}

describe('Brownian noise: the virtual tree', () => {
  const rows = 20000;
  const dim = 2;
  const tree = new BrownianTree({ rows, dim, seed: [7, 0], streams: null, sigmaMin: 0.002, sigmaMax: 80 });

  it('has the documented layout: W(sigmaMin) = 0, W(sigmaMax) = sqrt(range) z_0, the root split is the bridge draw of node 1', () => {
    expect(tree.depth).to.equal(Math.ceil(Math.log2((Math.log(80) - Math.log(0.002)) / 2 ** -20)));
    expect(Array.from(tree.at(0.002)).every((v) => v === 0)).to.equal(true);
    const wMax = Float64Array.from(tree.at(80));
    const m = Math.exp(0.5 * (Math.log(0.002) + Math.log(80)));
    const wMid = Float64Array.from(tree.at(m));
    for (const r of [0, 1, 12345]) {
      const z0 = tw.randomNormal(new Float64Array(dim), { seed: 7, stream: r, offset: BigInt(BROWNIAN_TAG) << 32n });
      const z1 = tw.randomNormal(new Float64Array(dim), { seed: 7, stream: r, offset: BigInt(BROWNIAN_TAG + 1) << 32n });
      for (let e = 0; e < dim; e++) {
        const end = Math.sqrt(80 - 0.002) * z0[e];
        expect(wMax[r * dim + e]).to.be.closeTo(end, 1e-13);
        const w = (m - 0.002) / (80 - 0.002);
        const mid = w * end + Math.sqrt(((m - 0.002) * (80 - m)) / (80 - 0.002)) * z1[e];
        expect(wMid[r * dim + e]).to.be.closeTo(mid, 1e-13);
      }
    }
  });

  it('increments over disjoint intervals are independent N(0, |dt|) (normalised: mean 0, variance 1, kurtosis 3, uncorrelated)', () => {
    const intervals: Array<[number, number]> = [[80, 20], [20, 3], [3, 2.9], [1, 0.5], [0.5, 0.01], [0.0101, 0.01], [0.004, 0.002]];
    const zs = intervals.map(([a, b]) => Float64Array.from(tree.increment(a, b)));
    for (let k = 0; k < zs.length; k++) {
      const { zMean, zVar, zKurt } = moments(zs[k]);
      const where = `[${intervals[k][1]}, ${intervals[k][0]}]`;
      expect(Math.abs(zMean), `mean on ${where}`).to.be.below(Z);
      expect(Math.abs(zVar), `variance on ${where}`).to.be.below(Z);
      expect(Math.abs(zKurt), `kurtosis on ${where}`).to.be.below(Z);
    }
    for (const [i, j] of [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [0, 6]]) {
      expect(Math.abs(zCorr(zs[i], zs[j])), `${i}, ${j}`).to.be.below(Z);
    }
  });

  it('overlapping intervals are correlated as one path: corr = sqrt(|I1| / |I2|) for I1 inside I2', () => {
    const inner = Float64Array.from(tree.increment(1, 0.5));
    const outer = Float64Array.from(tree.increment(1, 0.1));
    const n = inner.length;
    let s = 0;
    for (let i = 0; i < n; i++) s += inner[i] * outer[i];
    const rho = Math.sqrt(0.5 / 0.9);
    // sample covariance of two unit normals with correlation rho has variance (1 + rho^2) / n
    expect(Math.abs(s / n - rho) / Math.sqrt((1 + rho * rho) / n)).to.be.below(Z);
  });

  it('refining the grid reproduces the coarse increments as sums (to rounding), whatever the order of the queries', () => {
    const small = new BrownianTree({ rows: 50, dim: 3, seed: [1, 2], streams: null, sigmaMin: 0.01, sigmaMax: 20 });
    const fine = Array.from({ length: 33 }, (_, i) => Math.exp(Math.log(20) + (i / 32) * (Math.log(0.01) - Math.log(20))));
    fine[0] = 20;
    fine[32] = 0.01;
    for (const step of [2, 4, 32]) {
      for (let c = 0; c + step < fine.length; c += step) {
        const a = fine[c];
        const b = fine[c + step];
        const coarse = Float64Array.from(small.increment(a, b)).map((v) => v * Math.sqrt(a - b));
        const sum = new Float64Array(coarse.length);
        for (let f = c + step - 1; f >= c; f--) { // queries in reverse order: the values are a pure function of sigma
          const inc = small.increment(fine[f], fine[f + 1]);
          for (let i = 0; i < sum.length; i++) sum[i] += inc[i] * Math.sqrt(fine[f] - fine[f + 1]);
        }
        for (let i = 0; i < sum.length; i++) expect(sum[i]).to.be.closeTo(coarse[i], 1e-12 * (1 + Math.abs(coarse[i])));
      }
    }
  });

  it('a path depends only on (seed, sample id, range): not on the batch or the row', () => {
    const a = new BrownianTree({ rows: 3, dim: 4, seed: [5, 0], streams: Uint32Array.of(10, 0, 11, 0, 12, 0), sigmaMin: 0.1, sigmaMax: 10 });
    const b = new BrownianTree({ rows: 1, dim: 4, seed: [5, 0], streams: Uint32Array.of(11, 0), sigmaMin: 0.1, sigmaMax: 10 });
    expect(Array.from(b.increment(3, 2))).to.deep.equal(Array.from(a.increment(3, 2).subarray(4, 8)));
  });
});

describe('Brownian noise in the samplers', () => {
  const mix = mixture1d([0.3, 0.7], [-1, 1.5], [0.09, 0.25]);
  const sMax = 10;
  const sMin = 0.05;
  const NF = 1024;
  const fine = Array.from({ length: NF + 1 }, (_, i) => Math.exp(Math.log(sMax) + (i / NF) * (Math.log(sMin) - Math.log(sMax))));
  fine[0] = sMax;
  fine[NF] = sMin;
  const grid = (N: number): number[] => fine.filter((_, i) => i % (NF / N) === 0);
  const rows = 300;
  const x = tw.randomNormal(new Float64Array(rows), { seed: 1 }).map((v) => v * sMax);

  it('Euler-Maruyama converges strongly (order ~1, additive noise) on nested grids, where independent noise does not converge at all', () => {
    const run = (N: number, noise: 'brownian' | 'independent'): Float64Array =>
      tw.sampleSync({ model: mix, sampler: 'euler-maruyama', sigmas: grid(N), x, dim: 1, seed: 4, noise }).x as Float64Array;
    const ref = run(NF, 'brownian');
    const meanAbs = (a: Float64Array): number => a.reduce((s, v, i) => s + Math.abs(v - ref[i]), 0) / rows;
    const errs = [64, 128, 256].map((N) => meanAbs(run(N, 'brownian')));
    for (let j = 1; j < errs.length; j++) expect(Math.log2(errs[j - 1] / errs[j]), errs.join(', ')).to.be.within(0.7, 1.6);
    expect(meanAbs(run(256, 'independent'))).to.be.above(20 * errs[2]);
  });

  it('DPM-Solver++(2M) SDE with Brownian noise also converges to one path as the grid is refined', () => {
    const run = (N: number): Float64Array =>
      tw.sampleSync({ model: mix, sampler: 'dpmpp-2m-sde', sigmas: grid(N), x, dim: 1, seed: 4, noise: 'brownian' }).x as Float64Array;
    const ref = run(NF);
    const errs = [64, 256].map((N) => run(N).reduce((s, v, i) => s + Math.abs(v - ref[i]), 0) / rows);
    expect(errs[1]).to.be.below(errs[0] / 2.5);
  });

  it('ancestral samplers with Brownian noise still sample the data law (Gaussian, variance within 5.5 standard errors)', () => {
    // Euler ancestral (eta = 1) is the exact DDPM posterior step for Gaussian data only in the
    // limit; at 128 steps its bias is far below the 5.5-sigma band of 2000 samples.
    const n = 2000;
    const s2 = 0.25;
    const xT = tw.randomNormal(new Float64Array(n), { seed: 8 }).map((v) => v * Math.sqrt(s2 + sMax * sMax));
    const g = [...grid(128), 0];
    const r = tw.sampleSync({ model: gaussian(s2), sampler: 'euler-ancestral', sigmas: g, x: xT, dim: 1, seed: 2, noise: 'brownian' });
    const z = Float64Array.from(r.x, (v) => v / Math.sqrt(s2));
    const { zMean, zVar } = moments(z);
    expect(Math.abs(zMean)).to.be.below(Z);
    expect(Math.abs(zVar)).to.be.below(Z);
  });

  it('noiseSampler-compatible: the tree is called where k-diffusion calls its noise sampler (dpmpp-sde draws both stages from one path)', () => {
    // Stage 2's noise over [sigmaNext, sigma] and stage 1's over [sigmaMid, sigma] are increments
    // of the same path: with Brownian noise the run equals one whose noiseSampler is the tree.
    const o = { model: mix, sampler: 'dpmpp-sde' as const, sigmas: grid(16), x, dim: 1, seed: 6 };
    const tree = new BrownianTree({ rows, dim: 1, seed: [6, 0], streams: null, sigmaMin: sMin, sigmaMax: sMax });
    const a = tw.sampleSync({ ...o, noise: 'brownian' });
    const b = tw.sampleSync({ ...o, noiseSampler: tree.noiseSampler() });
    expect(Array.from(a.x)).to.deep.equal(Array.from(b.x));
  });
});
