/**
 * Statistics of randomNormal on fixed seeds (reliability.md §3.2). The inputs are fixed, so
 * every check passes or fails always; each is gated at a false-alarm rate of about 1e-6
 * (p > 1e-6, |z| < 5, Anderson-Darling case 0 A^2 < 10) so that a refactor that redraws the
 * stream is very unlikely to trip one by chance. The big sample is drawn once through the
 * public API (the other tests prove that every backend gives the same bits). The last block
 * checks that these checks do fail on deliberately broken samplers.
 */
import { expect } from 'chai';
import * as tw from '../src/index.js';
import {
  chiSquareSurvival, correlationZ, fitNormal, andersonDarlingSorted, kolmogorovSurvival, logGamma, momentZ,
  normalCdf, normalSurvival, poissonTwoSided, type FitStatistics,
} from './helpers/stats.js';
import * as B from './helpers/bigfixed.js';

const ALPHA = 1e-6; // smallest acceptable p-value
const Z_MAX = 5; // largest acceptable |z| (two-sided p 5.7e-7)
const AD_MAX = 10; // P(A^2 > 10) ~ 2.5e-6 for case 0

const N = 1 << 22;
/** The reference key of reliability.md §2.4: key (0x12345678, 0x9ABCDEF0), stream 0. */
const SEED = 0x9abcdef012345678n;
/** Largest |z| the generator can produce: u >= 2^-33, so r <= sqrt(66 ln 2) = 6.7637. */
const R_MAX = Math.sqrt(66 * Math.LN2);

let bigSample: Float64Array | undefined;
/** The 2^22 normals of SEED, stream 0, drawn once for the whole file. */
function sample(): Float64Array {
  return (bigSample ??= tw.randomNormal(new Float64Array(N), { seed: SEED }));
}

function expectZ(name: string, z: number): void {
  expect(Number.isFinite(z), `${name}: z = ${z}`).to.equal(true);
  expect(Math.abs(z), `${name}: |z| = ${Math.abs(z).toFixed(2)} should be < ${Z_MAX}`).to.be.below(Z_MAX);
}

function expectP(name: string, p: number): void {
  expect(p, `${name}: p = ${p.toExponential(2)} should be > ${ALPHA}`).to.be.above(ALPHA);
}

/** Moments, KS, AD and chi-square of a sample; returns what failed (empty when all pass). */
function normalityFailures(x: ArrayLike<number>): string[] {
  const failed: string[] = [];
  const m = momentZ(x);
  for (const [k, z] of Object.entries(m)) if (!(Math.abs(z) < Z_MAX)) failed.push(`${k} z = ${z.toFixed(1)}`);
  const fit: FitStatistics = fitNormal(x);
  if (!(fit.ksP > ALPHA)) failed.push(`KS p = ${fit.ksP.toExponential(1)}`);
  if (!(fit.ad < AD_MAX)) failed.push(`AD A^2 = ${fit.ad.toFixed(1)}`);
  if (!(fit.chiP > ALPHA)) failed.push(`chi-square p = ${fit.chiP.toExponential(1)}`);
  return failed;
}

/** Correlation z-scores of Box-Muller pair members (z0, z1), (z2, z3) and of their squares. */
function pairZ(x: ArrayLike<number>): { values: number; squares: number } {
  const n = x.length >> 1;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = x[2 * i];
    b[i] = x[2 * i + 1];
  }
  return { values: correlationZ(a, b), squares: correlationZ(a, b, true) };
}

/** Chi-square p of the pair angle atan2(z1, z0) on `bins` bins, and of u = exp(-r^2 / 2) on 100 bins (both uniform). */
function polarP(x: ArrayLike<number>, bins: number): { angle: number; radius: number } {
  const n = x.length >> 1;
  const ca = new Float64Array(bins);
  const cr = new Float64Array(100);
  for (let i = 0; i < n; i++) {
    const u = x[2 * i];
    const v = x[2 * i + 1];
    let t = Math.atan2(v, u) / (2 * Math.PI);
    if (t < 0) t += 1;
    ca[Math.min(bins - 1, Math.floor(t * bins))]++;
    cr[Math.min(99, Math.floor(Math.exp(-(u * u + v * v) / 2) * 100))]++;
  }
  const chi = (c: Float64Array): number => {
    const e = n / c.length;
    let s = 0;
    for (const k of c) s += ((k - e) * (k - e)) / e;
    return chiSquareSurvival(s, c.length - 1);
  };
  return { angle: chi(ca), radius: chi(cr) };
}

/** Tail counts |z| > t against Poisson(n P(|Z| > t)): the failures. */
function tailFailures(x: ArrayLike<number>): string[] {
  const failed: string[] = [];
  for (const t of [3, 4, 4.5, 5]) {
    let k = 0;
    for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > t) k++;
    const mu = x.length * 2 * normalSurvival(t);
    const p = poissonTwoSided(k, mu);
    if (!(p > ALPHA)) failed.push(`|z| > ${t}: ${k} vs ${mu.toFixed(1)} expected, p = ${p.toExponential(1)}`);
  }
  return failed;
}

describe('randomNormal statistics (fixed seed, 2^22 draws, false alarm ~1e-6 per check)', function () {
  let x: Float64Array;
  before(function () {
    x = sample();
  });

  it('has mean, variance, skewness and excess kurtosis z-scores below 5', () => {
    const m = momentZ(x);
    expectZ('mean', m.mean);
    expectZ('variance', m.variance);
    expectZ('skewness', m.skewness);
    expectZ('excess kurtosis', m.kurtosis);
  });

  it('passes Kolmogorov-Smirnov, Anderson-Darling (case 0) and chi-square on 100 equiprobable bins', () => {
    const fit = fitNormal(x);
    expectP('Kolmogorov-Smirnov', fit.ksP);
    expect(fit.ad, `Anderson-Darling A^2 = ${fit.ad.toFixed(2)}`).to.be.below(AD_MAX);
    expectP('chi-square (100 bins)', fit.chiP);
  });

  it('has uncorrelated Box-Muller pair members, squares, and neighbours at lags 1 to 8', () => {
    const pz = pairZ(x);
    expectZ('pair members (z0, z1)', pz.values);
    expectZ('squares of pair members', pz.squares);
    // (z0, z2) and (z1, z3): the two pairs of a block
    const n = N >> 2;
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (const [i, j] of [[0, 2], [1, 3], [0, 3]]) {
      for (let k = 0; k < n; k++) {
        a[k] = x[4 * k + i];
        b[k] = x[4 * k + j];
      }
      expectZ(`z${i} vs z${j} of a block`, correlationZ(a, b));
      expectZ(`z${i}^2 vs z${j}^2 of a block`, correlationZ(a, b, true));
    }
    for (let lag = 1; lag <= 8; lag++) {
      expectZ(`lag ${lag}`, correlationZ(x.subarray(0, N - lag), x.subarray(lag)));
      expectZ(`lag ${lag}, squares`, correlationZ(x.subarray(0, N - lag), x.subarray(lag), true));
    }
  });

  it('has a uniform pair angle (1000 bins) and an exponential pair radius (u = exp(-r^2/2), 100 bins)', () => {
    const p = polarP(x, 1000);
    expectP('angle chi-square', p.angle);
    expectP('radius chi-square', p.radius);
  });

  it('has the right tail counts beyond 3, 4, 4.5 and 5, and nothing beyond the radius bound', () => {
    expect(tailFailures(x)).to.deep.equal([]);
    let max = 0;
    for (let i = 0; i < N; i++) max = Math.max(max, Math.abs(x[i]));
    expect(max).to.be.at.most(R_MAX);
  });

  it('gives uncorrelated streams for adjacent seeds and adjacent stream ids (also across the 32-bit word boundary)', () => {
    const n = 1 << 17;
    const draw = (seed: bigint, stream: bigint): Float64Array => tw.randomNormal(new Float64Array(n), { seed, stream });
    const cases: Array<[string, [bigint, bigint], [bigint, bigint]]> = [
      ['seed 0 vs 1', [0n, 0n], [1n, 0n]],
      ['seed 2^32 - 1 vs 2^32', [0xffffffffn, 0n], [0x100000000n, 0n]],
      ['seed s vs s + 2^32', [12345n, 0n], [12345n + 0x100000000n, 0n]],
      ['seed 2^64 - 2 vs 2^64 - 1', [2n ** 64n - 2n, 0n], [2n ** 64n - 1n, 0n]],
      ['stream 0 vs 1', [SEED, 0n], [SEED, 1n]],
      ['stream 2^32 - 1 vs 2^32', [SEED, 0xffffffffn], [SEED, 0x100000000n]],
      ['stream k vs k + 2^32', [SEED, 7n], [SEED, 7n + 0x100000000n]],
      ['stream 2^64 - 2 vs 2^64 - 1', [SEED, 2n ** 64n - 2n], [SEED, 2n ** 64n - 1n]],
    ];
    for (const [name, [s1, k1], [s2, k2]] of cases) {
      const a = draw(s1, k1);
      const b = draw(s2, k2);
      expectZ(`${name}: values`, correlationZ(a, b));
      expectZ(`${name}: squares`, correlationZ(a, b, true));
      // the sum of two independent N(0, 1) streams has variance 2
      const s = a.map((v, i) => (v + b[i]) / Math.SQRT2);
      expectZ(`${name}: variance of the normalised sum`, momentZ(s).variance);
    }
  });
});

describe('statistics helpers', () => {
  it('normal CDF: within 1e-16 absolute and 2e-15 relative of a 256-bit reference', () => {
    let worstAbs = 0;
    let worstRel = 0;
    const xs: number[] = [];
    for (let x = 0; x < 9; x += 0.0371) xs.push(x);
    xs.push(1 / 128, 3 / 128, 7.5, 7.4999999999, 7.5000000001, R_MAX, 8.5);
    for (const x of xs) {
      const q = B.toDouble(B.normalUpperTail(x));
      const got = normalCdf(-x);
      worstAbs = Math.max(worstAbs, Math.abs(got - q));
      worstRel = Math.max(worstRel, Math.abs(got - q) / q);
      expect(Math.abs(normalCdf(x) - (1 - q))).to.be.at.most(2.3e-16);
    }
    expect(worstAbs).to.be.at.most(1e-16);
    expect(worstRel).to.be.at.most(2e-15);
    expect(normalCdf(0)).to.equal(0.5);
  });

  it('chi-square, Kolmogorov and Poisson tails match tabulated values', () => {
    expect(chiSquareSurvival(123.2252, 99)).to.be.closeTo(0.05, 1e-5);
    expect(chiSquareSurvival(99, 99)).to.be.within(0.45, 0.5);
    expect(chiSquareSurvival(2, 2)).to.be.closeTo(Math.exp(-1), 1e-15);
    expect(kolmogorovSurvival(1.3581)).to.be.closeTo(0.05, 1e-4);
    expect(kolmogorovSurvival(1.6276)).to.be.closeTo(0.01, 1e-4);
    expect(kolmogorovSurvival(1.9495)).to.be.closeTo(0.001, 1e-5);
    expect(logGamma(0.5)).to.be.closeTo(0.5 * Math.log(Math.PI), 1e-14);
    expect(logGamma(10)).to.be.closeTo(Math.log(362880), 1e-13);
    // P(X >= 10 | mu = 1) = 1 - sum_{j<10} e^-1 / j!
    let s = 0;
    for (let j = 0, t = Math.exp(-1); j < 10; j++, t /= j) s += t;
    expect(poissonTwoSided(10, 1)).to.be.closeTo(2 * (1 - s), 1e-12);
    expect(poissonTwoSided(5, 5)).to.equal(1);
  });

  it('fitNormal (one pass, both AD terms per element) equals the textbook KS and AD', () => {
    const y = tw.randomNormal(new Float64Array(1 << 14), { seed: 3 });
    const fit = fitNormal(y);
    const s = Float64Array.from(y).sort();
    expect(fit.ad).to.be.closeTo(andersonDarlingSorted(s), 1e-9);
    let d = 0;
    for (let i = 0; i < s.length; i++) {
      const f = normalCdf(s[i]);
      d = Math.max(d, (i + 1) / s.length - f, f - i / s.length);
    }
    expect(fit.ksD).to.equal(d);
  });
});

describe('statistics checks reject broken samplers (tests of the tests)', function () {
  let x: Float64Array;
  before(function () {
    x = sample();
  });
  const head = (): Float64Array => x.subarray(0, 1 << 20);

  it('variance +2 % (scale 1.01): variance z and AD fail', () => {
    const failed = normalityFailures(head().map((v) => v * 1.01));
    expect(failed.some((f) => f.startsWith('variance'))).to.equal(true, failed.join('; '));
    expect(failed.some((f) => f.startsWith('AD'))).to.equal(true, failed.join('; '));
  });

  it('mean shifted by 0.01: mean z and KS fail', () => {
    const failed = normalityFailures(head().map((v) => v + 0.01));
    expect(failed.some((f) => f.startsWith('mean'))).to.equal(true, failed.join('; '));
    expect(failed.some((f) => f.startsWith('KS'))).to.equal(true, failed.join('; '));
  });

  it('Irwin-Hall(12) - 6 (sum of uniforms): kurtosis fails', () => {
    const n = Math.floor(N / 12);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = -6;
      for (let j = 0; j < 12; j++) s += normalCdf(x[12 * i + j]);
      y[i] = s;
    }
    expect(normalityFailures(y).some((f) => f.startsWith('kurtosis'))).to.equal(true);
  });

  it('angle drawn from the radius word (u1 reused): the pair-square correlation and the mean fail', () => {
    const y = new Float64Array(1 << 20);
    for (let i = 0; i < y.length; i += 2) {
      const r2 = x[i] * x[i] + x[i + 1] * x[i + 1];
      const theta = 2 * Math.PI * Math.exp(-r2 / 2); // u1 = exp(-r^2 / 2)
      const r = Math.sqrt(r2);
      y[i] = r * Math.cos(theta);
      y[i + 1] = r * Math.sin(theta);
    }
    expect(Math.abs(pairZ(y).squares)).to.be.above(Z_MAX);
    expect(normalityFailures(y).some((f) => f.startsWith('mean'))).to.equal(true);
  });

  it('8-bit angle resolution: the angle chi-square fails', () => {
    const y = new Float64Array(1 << 20);
    for (let i = 0; i < y.length; i += 2) {
      let t = Math.atan2(x[i + 1], x[i]) / (2 * Math.PI);
      if (t < 0) t += 1;
      const theta = (2 * Math.PI * (Math.floor(t * 256) + 0.5)) / 256;
      const r = Math.hypot(x[i], x[i + 1]);
      y[i] = r * Math.cos(theta);
      y[i + 1] = r * Math.sin(theta);
    }
    expect(polarP(y, 1000).angle).to.be.below(ALPHA);
  });

  it('tails clipped at |z| = 4: the tail counts fail', () => {
    const y = x.map((v) => Math.max(-4, Math.min(4, v)));
    expect(tailFailures(y).length).to.be.above(0);
  });

  it('a stream correlated with its neighbour at 0.02: the adjacent-stream correlation fails', () => {
    const n = 1 << 17;
    const a = x.subarray(0, n);
    const b = x.subarray(n, 2 * n).map((v, i) => 0.9998 * v + 0.02 * a[i]);
    expect(Math.abs(correlationZ(a, b))).to.be.above(Z_MAX);
  });
});
