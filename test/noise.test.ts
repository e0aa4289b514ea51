/**
 * Semantics of forward noising (addNoise), training targets and conversions between
 * eps-, x0-, v- and score-parameterised predictions, through the public API on the active
 * backend (the suite runs under both backends).
 */
import { expect } from 'chai';
import * as tw from '../src/index.js';
import type { FloatArray, Prediction } from '../src/index.js';
import { ctorOf, type Dtype, prng } from './helpers/arrays.js';
import { assertBitIdentical, ulpDistance, ulpDistance32 } from './helpers/ulp.js';

const DTYPES: Dtype[] = ['f32', 'f64'];
const SEED = 0x0123456789abcdefn;

/** Values in [-scale, scale), rounded to the dtype. */
function data(dtype: Dtype, n: number, seed: number, scale = 3): FloatArray {
  const r = prng(seed);
  const a = new (ctorOf(dtype))(n);
  for (let i = 0; i < n; i++) a[i] = (2 * r() - 1) * scale;
  return a;
}

describe('addNoise', () => {
  for (const dtype of DTYPES) {
    const Ctor = ctorOf(dtype);
    const round = dtype === 'f32' ? Math.fround : (v: number): number => v;
    const rows = 5;
    const dim = 37;
    const x0 = data(dtype, rows * dim, 1);
    const alpha = [0.9, 0.5, 1, 0, -0.25];
    const sigma = [0.3, 0.8, 0, 2.5, 1];

    it(`given eps equals the inline eps of the same seed, bit for bit (${dtype})`, () => {
      const epsOut = new Ctor(x0.length);
      const inline = tw.addNoise(x0, { dim, alpha, sigma, seed: SEED, epsOut });
      const given = tw.addNoise(x0, { dim, alpha, sigma, eps: epsOut });
      assertBitIdentical(given, inline, 'eps given vs inline');
      expect(inline).to.be.instanceOf(Ctor);
    });

    it(`epsOut receives the drawn eps: row r is randomNormal(seed, stream = r, offset 0) (${dtype})`, () => {
      const epsOut = new Ctor(x0.length);
      tw.addNoise(x0, { dim, alpha: 1, sigma: 1, seed: SEED, epsOut });
      for (let r = 0; r < rows; r++) {
        const row = tw.randomNormal(new Ctor(dim), { seed: SEED, stream: r });
        assertBitIdentical(epsOut.subarray(r * dim, (r + 1) * dim), row, `row ${r}`);
      }
      // and it is the noise that was added: out - alpha x0 = sigma eps for sigma = 1, alpha = 0
      const out = tw.addNoise(x0, { dim, alpha: 0, sigma: 1, seed: SEED });
      assertBitIdentical(out, epsOut, 'alpha 0, sigma 1 gives eps');
    });

    it(`sampleIds make a row's noise independent of batch size, composition and order (${dtype})`, () => {
      const ids = [5n, 2n ** 40n + 3n, 0n, 2n ** 64n - 1n, 77n];
      const batch = tw.addNoise(x0, { dim, alpha, sigma, seed: SEED, sampleIds: ids });
      for (let r = 0; r < rows; r++) {
        const single = tw.addNoise(x0.subarray(r * dim, (r + 1) * dim) as FloatArray, {
          dim, alpha: alpha[r], sigma: sigma[r], seed: SEED, sampleIds: [ids[r]],
        });
        assertBitIdentical(batch.subarray(r * dim, (r + 1) * dim), single, `row ${r} alone`);
      }
      // reversed order
      const perm = [4, 3, 2, 1, 0];
      const xp = new Ctor(x0.length);
      perm.forEach((p, i) => xp.set(x0.subarray(p * dim, (p + 1) * dim), i * dim));
      const reversed = tw.addNoise(xp, {
        dim, alpha: perm.map((p) => alpha[p]), sigma: perm.map((p) => sigma[p]), seed: SEED, sampleIds: perm.map((p) => ids[p]),
      });
      perm.forEach((p, i) => assertBitIdentical(reversed.subarray(i * dim, (i + 1) * dim), batch.subarray(p * dim, (p + 1) * dim), `row ${p} reordered`));
      // a different batch around the same sample: the sample with id 77 between strangers
      const other = new Ctor(3 * dim);
      other.set(data(dtype, dim, 9), 0);
      other.set(x0.subarray(4 * dim, 5 * dim), dim);
      other.set(data(dtype, dim, 10), 2 * dim);
      const mixed = tw.addNoise(other, { dim, alpha: [1, alpha[4], 1], sigma: [1, sigma[4], 1], seed: SEED, sampleIds: [1000, 77, 3] });
      assertBitIdentical(mixed.subarray(dim, 2 * dim), batch.subarray(4 * dim, 5 * dim), 'id 77 in another batch');
      // numbers and bigints name the same ids; the default ids are the row indices
      assertBitIdentical(tw.addNoise(x0, { dim, alpha, sigma, seed: SEED, sampleIds: [0, 1, 2, 3, 4] }),
        tw.addNoise(x0, { dim, alpha, sigma, seed: SEED }), 'default ids');
      assertBitIdentical(tw.addNoise(x0, { dim, alpha, sigma, seed: SEED, sampleIds: [0n, 1n, 2n, 3n, 4n] }),
        tw.addNoise(x0, { dim, alpha, sigma, seed: SEED }), 'bigint ids');
    });

    it(`out = x0 works in place and returns out (${dtype})`, () => {
      const expected = tw.addNoise(x0, { dim, alpha, sigma, seed: SEED });
      const inPlace = x0.slice();
      const ret = tw.addNoise(inPlace, { dim, alpha, sigma, seed: SEED, out: inPlace });
      expect(ret).to.equal(inPlace);
      assertBitIdentical(inPlace, expected, 'in place with seed');
      // with eps given, out may be x0 or eps
      const eps = tw.randomNormal(new Ctor(x0.length), { seed: 4 });
      const viaEps = tw.addNoise(x0, { dim, alpha, sigma, eps });
      const a = x0.slice();
      tw.addNoise(a, { dim, alpha, sigma, eps, out: a });
      assertBitIdentical(a, viaEps, 'in place on x0 with eps');
      const e = eps.slice();
      tw.addNoise(x0, { dim, alpha, sigma, eps: e, out: e });
      assertBitIdentical(e, viaEps, 'in place on eps');
      // a fresh out is filled and returned
      const out = new Ctor(x0.length);
      expect(tw.addNoise(x0, { dim, alpha, sigma, eps, out })).to.equal(out);
      assertBitIdentical(out, viaEps, 'given out');
    });

    it(`uses each row's alpha and sigma; one number means every row (${dtype})`, () => {
      const epsOut = new Ctor(x0.length);
      const out = tw.addNoise(x0, { dim, alpha, sigma, seed: SEED, epsOut });
      for (let r = 0; r < rows; r++) {
        for (let e = 0; e < dim; e++) {
          const i = r * dim + e;
          expect(out[i], `row ${r} element ${e}`).to.equal(round(alpha[r] * x0[i] + sigma[r] * epsOut[i]));
        }
      }
      const shared = tw.addNoise(x0, { dim, alpha: 0.6, sigma: 0.8, seed: SEED });
      const perRow = tw.addNoise(x0, { dim, alpha: new Float64Array(rows).fill(0.6), sigma: new Float64Array(rows).fill(0.8), seed: SEED });
      assertBitIdentical(perRow, shared, 'Float64Array of one value');
      assertBitIdentical(tw.addNoise(x0, { dim, alpha: Array(rows).fill(0.6), sigma: Array(rows).fill(0.8), seed: SEED }), shared, 'arrays of one value');
    });

    it(`sigma = 0 gives alpha * x0 exactly (${dtype})`, () => {
      for (const a of [1, 0.7, -3, 0]) {
        const out = tw.addNoise(x0, { dim, alpha: a, sigma: 0, seed: SEED });
        for (let i = 0; i < x0.length; i++) expect(out[i]).to.equal(round(a * x0[i]));
      }
    });

    it(`computes alpha x0 + sigma eps in float64 and rounds once (${dtype})`, () => {
      // coefficients that are not float32 numbers, so rounding the products to float32 first would show
      const n = 4000;
      const x = data(dtype, n, 21);
      const a = 0.7310585786300049;
      const s = 0.6821881769209206;
      const epsOut = new Ctor(n);
      const out = tw.addNoise(x, { dim: 1, alpha: a, sigma: s, seed: SEED, epsOut });
      let discriminating = 0;
      for (let i = 0; i < n; i++) {
        const exact = round(a * x[i] + s * epsOut[i]);
        expect(out[i], `element ${i}`).to.equal(exact);
        if (dtype === 'f32' && Math.fround(Math.fround(a * x[i]) + Math.fround(s * epsOut[i])) !== exact) discriminating++;
      }
      if (dtype === 'f32') expect(discriminating, 'elements where rounding the products first would differ').to.be.above(50);
      // by hand, a few elements
      for (const i of [0, 1, 2, 1234, n - 1]) {
        const want = dtype === 'f32' ? Math.fround(a * x[i] + s * epsOut[i]) : a * x[i] + s * epsOut[i];
        expect(out[i]).to.equal(want);
      }
    });

    it(`float32 eps is the float64 normal rounded once (${dtype})`, () => {
      const e64 = new Float64Array(x0.length);
      const e = new Ctor(x0.length);
      tw.addNoise(x0, { dim: x0.length, alpha: 1, sigma: 1, seed: SEED, epsOut: e });
      tw.randomNormal(e64, { seed: SEED, stream: 0 });
      for (let i = 0; i < e.length; i++) expect(e[i]).to.equal(round(e64[i]));
    });

    it(`keeps NaN and infinities in their elements (${dtype})`, () => {
      const x = Ctor.of(NaN, Infinity, -Infinity, 1);
      const out = tw.addNoise(x, { dim: 2, alpha: 0.5, sigma: 0.5, seed: SEED });
      expect(out[0]).to.be.NaN;
      expect(out[1]).to.equal(Infinity);
      expect(out[2]).to.equal(-Infinity);
      expect(Number.isFinite(out[3])).to.equal(true);
    });

    it(`handles empty batches (${dtype})`, () => {
      const out = tw.addNoise(new Ctor(0), { dim: 3, alpha: 1, sigma: 1, seed: SEED });
      expect(out.length).to.equal(0);
      expect(out).to.be.instanceOf(Ctor);
      expect(tw.addNoise(new Ctor(0), { dim: 3, alpha: [], sigma: [], seed: SEED, sampleIds: [] }).length).to.equal(0);
    });
  }
});

/** Noise levels: VP (alpha^2 + sigma^2 = 1) and not (VE, scaled). */
const LEVELS: Array<{ name: string; alpha: number; sigma: number }> = [
  { name: 'VP, alphaBar 0.999', alpha: Math.sqrt(0.999), sigma: Math.sqrt(0.001) },
  { name: 'VP, alphaBar 0.5', alpha: Math.sqrt(0.5), sigma: Math.sqrt(0.5) },
  { name: 'VP, alphaBar 0.01', alpha: Math.sqrt(0.01), sigma: Math.sqrt(0.99) },
  { name: 'VE, sigma 0.3', alpha: 1, sigma: 0.3 },
  { name: 'VE, sigma 14.6', alpha: 1, sigma: 14.6 },
  { name: 'scaled, alpha 0.7, sigma 2.5', alpha: 0.7, sigma: 2.5 },
  { name: 'scaled, alpha 1.3, sigma 0.4', alpha: 1.3, sigma: 0.4 },
];
const KINDS: Prediction[] = ['eps', 'x0', 'v', 'score'];
const EPS64 = 2 ** -52;

/** The exact-math value of every parameterisation from x0 and eps at (alpha, sigma), in float64. */
function truth(x0: number, eps: number, a: number, s: number): Record<Prediction | 'x', number> {
  return { x: a * x0 + s * eps, eps, x0, v: a * eps - s * x0, score: -eps / s };
}

/** |coefficient of x| and |coefficient of pred| of the conversion from -> to, from the formulas. */
function coefficientSizes(from: Prediction, to: Prediction, a: number, s: number): [number, number] {
  const n2 = a * a + s * s;
  // x0 and eps as kx * x + kp * pred
  const basis: Record<Prediction, [number, number, number, number]> = {
    eps: [1 / a, -s / a, 0, 1],
    x0: [0, 1, 1 / s, -a / s],
    v: [a / n2, -s / n2, s / n2, a / n2],
    score: [1 / a, (s * s) / a, 0, -s],
  };
  const [x0x, x0p, ex, ep] = basis[from];
  const k: Record<Prediction, [number, number]> = {
    x0: [x0x, x0p], eps: [ex, ep], v: [a * ex - s * x0x, a * ep - s * x0p], score: [-ex / s, -ep / s],
  };
  return [Math.abs(k[to][0]), Math.abs(k[to][1])];
}

describe('trainingTarget', () => {
  for (const dtype of DTYPES) {
    const round = dtype === 'f32' ? Math.fround : (v: number): number => v;
    const dim = 16;
    const rows = 3;
    const x0 = data(dtype, rows * dim, 31);
    const eps = tw.randomNormal(new (ctorOf(dtype))(rows * dim), { seed: 8 });
    const alpha = [0.8, 1, 0.3];
    const sigma = [0.6, 0.5, 2];

    it(`eps and x0 are copies; v = alpha eps - sigma x0 rounded once (${dtype})`, () => {
      assertBitIdentical(tw.trainingTarget('eps', { x0, eps, dim, alpha, sigma }), eps, 'eps');
      assertBitIdentical(tw.trainingTarget('x0', { x0, eps, dim, alpha, sigma }), x0, 'x0');
      const v = tw.trainingTarget('v', { x0, eps, dim, alpha, sigma });
      for (let i = 0; i < v.length; i++) {
        const r = Math.floor(i / dim);
        expect(v[i], `v[${i}]`).to.equal(round(alpha[r] * eps[i] - sigma[r] * x0[i]));
      }
    });

    it(`score = -eps / sigma within 1 ulp (${dtype})`, () => {
      const score = tw.trainingTarget('score', { x0, eps, dim, alpha, sigma });
      for (let i = 0; i < score.length; i++) {
        const want = round(-eps[i] / sigma[Math.floor(i / dim)]);
        const d = dtype === 'f32' ? ulpDistance32(score[i], want) : ulpDistance(score[i], want);
        expect(d, `score[${i}] = ${score[i]} vs ${want}`).to.be.at.most(1);
      }
    });

    it(`score of an infinite eps is infinite (-eps / sigma), not NaN (${dtype})`, () => {
      const Ctor = ctorOf(dtype);
      const score = tw.trainingTarget('score', { x0: new Ctor(3), eps: Ctor.of(Infinity, -Infinity, 1), dim: 3, alpha: 1, sigma: 0.5 });
      expect(Array.from(score)).to.deep.equal([-Infinity, Infinity, -2]);
    });

    it(`writes into out, which may be x0 or eps (${dtype})`, () => {
      const want = tw.trainingTarget('v', { x0, eps, dim, alpha, sigma });
      const a = x0.slice();
      expect(tw.trainingTarget('v', { x0: a, eps, dim, alpha, sigma, out: a })).to.equal(a);
      assertBitIdentical(a, want, 'out = x0');
      const e = eps.slice();
      tw.trainingTarget('v', { x0, eps: e, dim, alpha, sigma, out: e });
      assertBitIdentical(e, want, 'out = eps');
    });
  }
});

describe('convertPrediction', () => {
  const dim = 8;
  const n = 64;
  const x0 = data('f64', n, 41, 2) as Float64Array;
  const eps = tw.randomNormal(new Float64Array(n), { seed: 9 });

  for (const { name, alpha: a, sigma: s } of LEVELS) {
    const t = (i: number): Record<Prediction | 'x', number> => truth(x0[i], eps[i], a, s);
    const x = Float64Array.from({ length: n }, (_, i) => t(i).x);
    const pred = (k: Prediction): Float64Array => Float64Array.from({ length: n }, (_, i) => t(i)[k]);

    it(`converts every kind to every other within a few ulps of the terms (${name})`, () => {
      for (const from of KINDS) {
        for (const to of KINDS) {
          const got = tw.convertPrediction(pred(from), { from, to, x, dim, alpha: a, sigma: s });
          const [kx, kp] = coefficientSizes(from, to, a, s);
          for (let i = 0; i < n; i++) {
            const want = t(i)[to];
            // rounding of x and of the true pred (each ~1 ulp), of the coefficients and products, of the sum
            const scale = kx * Math.abs(x[i]) + kp * Math.abs(t(i)[from]) + Math.abs(want);
            expect(Math.abs(got[i] - want), `${from} -> ${to} [${i}]: ${got[i]} vs ${want}`).to.be.at.most(8 * EPS64 * scale);
          }
        }
      }
    });

    it(`round trips p -> q -> p within a few ulps (${name})`, () => {
      for (const p of KINDS) {
        for (const q of KINDS) {
          const orig = pred(p);
          const mid = tw.convertPrediction(orig, { from: p, to: q, x, dim, alpha: a, sigma: s });
          const back = tw.convertPrediction(mid, { from: q, to: p, x, dim, alpha: a, sigma: s });
          const [kx1, kp1] = coefficientSizes(p, q, a, s);
          const [kx2, kp2] = coefficientSizes(q, p, a, s);
          for (let i = 0; i < n; i++) {
            const scale = kx2 * Math.abs(x[i]) + kp2 * (kx1 * Math.abs(x[i]) + kp1 * Math.abs(orig[i])) + Math.abs(orig[i]);
            expect(Math.abs(back[i] - orig[i]), `${p} -> ${q} -> ${p} [${i}]`).to.be.at.most(8 * EPS64 * scale);
          }
        }
      }
    });
  }

  it('with per-row noise levels, each row uses its own (alpha, sigma), mixing VP and non-VP rows', () => {
    const rows = n / dim;
    const lv = Array.from({ length: rows }, (_, r) => LEVELS[r % LEVELS.length]);
    const alpha = lv.map((l) => l.alpha);
    const sigma = lv.map((l) => l.sigma);
    const x = Float64Array.from({ length: n }, (_, i) => truth(x0[i], eps[i], alpha[Math.floor(i / dim)], sigma[Math.floor(i / dim)]).x);
    for (const [from, to] of [['eps', 'x0'], ['v', 'eps'], ['x0', 'score'], ['score', 'v']] as Array<[Prediction, Prediction]>) {
      const p = Float64Array.from({ length: n }, (_, i) => truth(x0[i], eps[i], alpha[Math.floor(i / dim)], sigma[Math.floor(i / dim)])[from]);
      const batch = tw.convertPrediction(p, { from, to, x, dim, alpha, sigma });
      for (let r = 0; r < rows; r++) {
        const sl = (a: Float64Array): Float64Array => a.subarray(r * dim, (r + 1) * dim);
        const one = tw.convertPrediction(sl(p), { from, to, x: sl(x), dim, alpha: alpha[r], sigma: sigma[r] });
        assertBitIdentical(sl(batch), one, `${from} -> ${to}, row ${r}`);
      }
    }
  });

  it('float32: each conversion is the float64 conversion of the same float32 inputs, rounded once', () => {
    const { alpha: a, sigma: s } = LEVELS[5];
    const x32 = Float32Array.from({ length: n }, (_, i) => truth(x0[i], eps[i], a, s).x);
    for (const from of KINDS) {
      const p32 = Float32Array.from({ length: n }, (_, i) => truth(x0[i], eps[i], a, s)[from]);
      for (const to of KINDS) {
        const got = tw.convertPrediction(p32, { from, to, x: x32, dim, alpha: a, sigma: s });
        const ref = tw.convertPrediction(Float64Array.from(p32), { from, to, x: Float64Array.from(x32), dim, alpha: a, sigma: s });
        expect(got).to.be.instanceOf(Float32Array);
        assertBitIdentical(got, Float32Array.from(ref), `${from} -> ${to}`);
      }
    }
  });

  it('from === to copies pred; out may be pred or x', () => {
    const p = eps.slice();
    assertBitIdentical(tw.convertPrediction(p, { from: 'v', to: 'v', x: x0, dim, alpha: 0.6, sigma: 0.8 }), p, 'identity');
    const want = tw.convertPrediction(p, { from: 'eps', to: 'x0', x: x0, dim, alpha: 0.6, sigma: 0.8 });
    const q = p.slice();
    expect(tw.convertPrediction(q, { from: 'eps', to: 'x0', x: x0, dim, alpha: 0.6, sigma: 0.8, out: q })).to.equal(q);
    assertBitIdentical(q, want, 'out = pred');
    const xx = x0.slice();
    tw.convertPrediction(p, { from: 'eps', to: 'x0', x: xx, dim, alpha: 0.6, sigma: 0.8, out: xx });
    assertBitIdentical(xx, want, 'out = x');
  });

  it('alpha = 0 is allowed where nothing divides by it; sigma = 0 likewise', () => {
    // eps -> score at alpha = 0: score = -eps / sigma
    const sc = tw.convertPrediction(eps, { from: 'eps', to: 'score', x: x0, dim, alpha: 0, sigma: 2 });
    for (let i = 0; i < n; i++) expect(sc[i]).to.equal(-0.5 * eps[i]);
    // x0 -> x0 and eps -> x0 at sigma = 0: x0 = x / alpha
    const x0s = tw.convertPrediction(eps, { from: 'eps', to: 'x0', x: x0, dim, alpha: 0.5, sigma: 0 });
    for (let i = 0; i < n; i++) expect(x0s[i]).to.equal(2 * x0[i]);
  });

  it('eps <-> score do not depend on x, so a non-finite x does not reach the result', () => {
    const x = Float64Array.of(NaN, Infinity, -Infinity, 1);
    const p = Float64Array.of(1, -2, 0.5, 4);
    const score = tw.convertPrediction(p, { from: 'eps', to: 'score', x, dim: 4, alpha: 0.8, sigma: 0.5 });
    expect(Array.from(score)).to.deep.equal([-2, 4, -1, -8]);
    const back = tw.convertPrediction(score, { from: 'score', to: 'eps', x, dim: 4, alpha: 0.8, sigma: 0.5 });
    expect(Array.from(back)).to.deep.equal(Array.from(p));
  });
});
