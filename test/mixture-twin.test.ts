/**
 * The mixture posterior kernel on both backends: property tests (fast-check) over random K,
 * dim, batch, variance kinds, weights and noise levels compare the native addon at every SIMD
 * level it reports and thread counts 1, 2, 3 with the TypeScript twin and with an independent
 * float64 reference (reliability.md §3.3's twin rule); native results are bit-identical across
 * thread counts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { native } from '../src/backend.js';
import { jsKernels } from '../src/js/index.js';
import type { FloatArray, Kernels } from '../src/types.js';
import { backends } from './helpers/backends.js';
import { expectClose, referenceBatch, type ReferenceModel, type ReferenceRow } from './helpers/mixture-reference.js';

type Kind = 'shared' | 'component' | 'diagonal' | 'empirical';
const OUTPUTS = ['responsibilities', 'mean', 'score', 'logDensity', 'entropy', 'variance'] as const;
type Out = (typeof OUTPUTS)[number];

interface Case {
  K: number;
  dim: number;
  rows: number;
  kind: Kind;
  means: Float64Array;
  variances: Float64Array; // compact
  weights: Float64Array; // normalised
  logWeights: Float64Array;
  alpha: Float64Array; // length 1 or rows
  sigma: Float64Array;
  x: FloatArray;
}

function expand(c: Case): Float64Array {
  const v = new Float64Array(c.K * c.dim);
  for (let k = 0; k < c.K; k++) {
    for (let j = 0; j < c.dim; j++) {
      v[k * c.dim + j] = c.variances.length === c.K * c.dim ? c.variances[k * c.dim + j] : c.variances[c.variances.length === 1 ? 0 : k];
    }
  }
  return v;
}

function run(kernels: Kernels, c: Case, want: readonly Out[] = OUTPUTS): Record<Out, FloatArray | null> {
  const ctor = c.x.constructor as new (n: number) => FloatArray;
  const len: Record<Out, number> = {
    responsibilities: c.rows * c.K, mean: c.rows * c.dim, score: c.rows * c.dim, logDensity: c.rows, entropy: c.rows, variance: c.rows,
  };
  const o = {} as Record<Out, FloatArray | null>;
  for (const key of OUTPUTS) o[key] = want.includes(key) ? new ctor(len[key]).fill(NaN) : null;
  kernels.mixturePosterior(c.x, c.dim, c.means, c.variances, c.logWeights, c.alpha, c.sigma, o.responsibilities, o.mean,
    o.score, o.logDensity, o.entropy, o.variance);
  return o;
}

/** Every output of `got` against `want` (or the reference values when want is null), by the twin rule. */
function compare(c: Case, ref: ReferenceRow[], got: Record<Out, FloatArray | null>, want: Record<Out, FloatArray | null> | null,
  what: string): void {
  const f32 = c.x instanceof Float32Array;
  const { K, dim } = c;
  ref.forEach((rr, b) => {
    const pick = (key: Out, i: number, refValue: number): number => (want ? (want[key] as FloatArray)[i] : refValue);
    for (let k = 0; k < K; k++) {
      const i = b * K + k;
      expectClose(got.responsibilities![i], pick('responsibilities', i, rr.r[k]), rr.cond.r[k], f32, `${what} r[${b},${k}]`);
    }
    for (let j = 0; j < dim; j++) {
      const i = b * dim + j;
      expectClose(got.mean![i], pick('mean', i, rr.mean[j]), rr.cond.mean[j], f32, `${what} mean[${b},${j}]`);
      expectClose(got.score![i], pick('score', i, rr.score[j]), rr.cond.score[j], f32, `${what} score[${b},${j}]`);
    }
    expectClose(got.logDensity![b], pick('logDensity', b, rr.logDensity), rr.cond.logDensity, f32, `${what} logDensity[${b}]`);
    expectClose(got.entropy![b], pick('entropy', b, rr.entropy), rr.cond.entropy, f32, `${what} entropy[${b}]`);
    expectClose(got.variance![b], pick('variance', b, rr.variance), rr.cond.variance, f32, `${what} variance[${b}]`);
  });
}

function bitsEqual(a: FloatArray | null, b: FloatArray | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return ua.every((v, i) => v === ub[i]);
}

const logUniform = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.double({ min: Math.log(lo), max: Math.log(hi), noNaN: true }).map(Math.exp);

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    K: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 7, max: 200 })),
    dim: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 40 })),
    rows: fc.integer({ min: 0, max: 12 }),
    kind: fc.constantFrom<Kind>('shared', 'component', 'diagonal', 'empirical'),
    f32: fc.boolean(),
    perRow: fc.boolean(),
    scale: fc.constantFrom(0.1, 1, 10),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    zeroWeights: fc.boolean(),
    far: fc.boolean(),
    alphaZero: fc.boolean(),
    sigmaLo: logUniform(1e-6, 1e4),
    sigmaSpread: fc.double({ min: 0, max: 3, noNaN: true }),
  })
  .map((p): Case => {
    let s = p.seed >>> 0;
    const rand = (): number => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s + 0.5) / 4294967296;
    };
    const gauss = (): number => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    const { K, dim, rows } = p;
    const means = Float64Array.from({ length: K * dim }, () => p.scale * gauss());
    const vlen = p.kind === 'shared' || p.kind === 'empirical' ? 1 : p.kind === 'component' ? K : K * dim;
    const variances = Float64Array.from({ length: vlen }, () => (p.kind === 'empirical' ? 0 : p.scale * p.scale * Math.exp(4 * gauss() - 2)));
    const raw = Float64Array.from({ length: K }, (_, k) => (p.zeroWeights && k % 3 === 1 ? 0 : 0.05 + rand()));
    const sum = raw.reduce((a, b) => a + b, 0);
    const weights = raw.map((w) => w / sum);
    const logWeights = weights.map(Math.log);
    const n = p.perRow ? rows : 1;
    const alpha = Float64Array.from({ length: n }, (_, i) => (p.alphaZero && i % 2 === 0 ? 0 : 2 * rand()));
    const sigma = Float64Array.from({ length: n }, () => p.sigmaLo * Math.exp(p.sigmaSpread * rand()));
    const x64 = new Float64Array(rows * dim);
    for (let b = 0; b < rows; b++) {
      const k = Math.floor(rand() * K);
      const a = alpha[n === 1 ? 0 : b];
      const sg = sigma[n === 1 ? 0 : b];
      for (let j = 0; j < dim; j++) {
        const far = p.far && b % 2 === 1 ? 1e4 * p.scale * gauss() : 0;
        x64[b * dim + j] = a * means[k * dim + j] + (sg + p.scale) * gauss() + far;
      }
    }
    const x = p.f32 ? Float32Array.from(x64) : x64;
    return { K, dim, rows, kind: p.kind, means, variances, weights, logWeights, alpha, sigma, x };
  });

function reference(c: Case): ReferenceRow[] {
  const m: ReferenceModel = { dim: c.dim, means: c.means, variances: expand(c), weights: c.weights };
  return referenceBatch(m, c.x instanceof Float32Array ? Float64Array.from(c.x) : c.x, c.alpha, c.sigma);
}

describe('mixture posterior kernel: native vs TypeScript twin vs reference', () => {
  const n = native();
  let saved: { simd: string; threads: number } | undefined;
  before(() => {
    if (n) saved = { simd: n.info().simd, threads: n.info().threads };
  });
  after(() => {
    if (n && saved) {
      n.setSimd(saved.simd);
      n.setThreads(saved.threads);
    }
  });

  for (const { name, kernels } of backends()) {
    it(`${name}: agrees with the float64 reference within the twin rule (fast-check)`, () => {
      fc.assert(fc.property(caseArb, (c) => {
        compare(c, reference(c), run(kernels, c), null, `${name} vs reference`);
      }), { numRuns: 150, seed: 20240611 });
    });

    it(`${name}: an output does not depend on which others are requested`, () => {
      fc.assert(fc.property(caseArb, fc.subarray([...OUTPUTS], { minLength: 1 }), (c, want) => {
        const all = run(kernels, c);
        const some = run(kernels, c, want);
        for (const key of OUTPUTS) {
          if (want.includes(key)) expect(bitsEqual(some[key], all[key]), key).to.equal(true);
          else expect(some[key]).to.equal(null);
        }
      }), { numRuns: 60, seed: 7 });
    });
  }

  it('native at every SIMD level and 1, 2, 3 threads: matches the twin, bit-identical across threads (fast-check)', function () {
    if (!n) this.skip();
    const levels = n!.info().simdLevels;
    expect(levels).to.include('scalar');
    fc.assert(fc.property(caseArb, (c) => {
      const ref = reference(c);
      const ts = run(jsKernels, c);
      compare(c, ref, ts, null, 'js vs reference');
      for (const level of levels) {
        expect(n!.setSimd(level)).to.equal(true);
        n!.setThreads(1);
        const one = run(n!, c);
        compare(c, ref, one, ts, `native(${level}) vs js`);
        for (const t of [2, 3]) {
          n!.setThreads(t);
          const many = run(n!, c);
          for (const key of OUTPUTS) expect(bitsEqual(many[key], one[key]), `${key} at ${t} threads, ${level}`).to.equal(true);
        }
      }
    }), { numRuns: 100, seed: 99 });
  });

  it('native: rows split over 1..5 threads give the same bits on a large batch', function () {
    if (!n) this.skip();
    // K * dim = 1024 per row: a few dozen rows per part, so 301 rows are split at every count.
    const K = 64;
    const dim = 16;
    const rows = 301;
    let s = 12345;
    const rand = (): number => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s + 0.5) / 4294967296;
    };
    for (const kind of ['component', 'diagonal'] as const) {
      const means = Float64Array.from({ length: K * dim }, () => 4 * rand() - 2);
      const variances = Float64Array.from({ length: kind === 'component' ? K : K * dim }, () => 0.01 + rand());
      const weights = Float64Array.from({ length: K }, () => rand()).map((w, _, a) => w / a.reduce((p, q) => p + q, 0));
      for (const f32 of [false, true]) {
        const x64 = Float64Array.from({ length: rows * dim }, () => 6 * rand() - 3);
        const cs: Case = {
          K, dim, rows, kind, means, variances, weights, logWeights: weights.map(Math.log),
          alpha: Float64Array.from({ length: rows }, () => rand()), sigma: Float64Array.from({ length: rows }, () => 0.05 + rand()),
          x: f32 ? Float32Array.from(x64) : x64,
        };
        n!.setThreads(1);
        const one = run(n!, cs);
        compare(cs, reference(cs), one, run(jsKernels, cs), `native vs js (${kind}, ${f32 ? 'f32' : 'f64'})`);
        for (const t of [2, 3, 4, 5]) {
          n!.setThreads(t);
          const many = run(n!, cs);
          for (const key of OUTPUTS) expect(bitsEqual(many[key], one[key]), `${key} at ${t} threads`).to.equal(true);
        }
      }
    }
  });
});
