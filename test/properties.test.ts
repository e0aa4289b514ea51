/**
 * Property tests (fast-check): the native kernels give the same bits as their TypeScript twins
 * for every kernel, on random shapes (dim 1, odd lengths, lengths that are not multiples of 4
 * or 8, empty, big enough to be split over threads), on subarray views at odd element offsets,
 * for both dtypes, at every SIMD level and at 1, 2 and 3 threads; and no kernel writes outside
 * its view. Also: filling [0, n) equals filling [0, m) then [m, n) with offset m.
 * fast-check prints the seed and path of a failing case; FC_SEED overrides the fixed seed.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { NativeBinding } from '../src/backend.js';
import * as tw from '../src/index.js';
import { jsKernels } from '../src/js/index.js';
import type { FloatArray } from '../src/types.js';
import {
  cloneGuarded, ctorOf, type Dtype, fillValues, guarded, guardBroken, type GuardedView, prng, words64,
} from './helpers/arrays.js';
import { backends } from './helpers/backends.js';
import { forEachNativeConfig, nativeOrSkip } from './helpers/native-config.js';
import { assertBitIdentical } from './helpers/ulp.js';

const FC_SEED = Number(process.env.FC_SEED ?? 0x7eed1e);
/**
 * The time limit bounds a run that found a failure on a big case: shrinking re-runs the
 * property (twin + every native configuration) many times. A failure found before the limit is
 * still reported (with the best shrink so far); runs cut short without a failure pass.
 */
const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: FC_SEED, numRuns, interruptAfterTimeLimit: 20000 });

const TWO_POW_64 = 2n ** 64n;
/** Below this many elements the native drivers do not split a job over threads (ops.cc kMinGrain). */
const MIN_GRAIN = 1 << 15;

const u64 = fc.oneof(
  fc.constantFrom(0n, 1n, 0xffffffffn, 0x100000000n, 2n ** 53n, 2n ** 63n, TWO_POW_64 - 1n),
  fc.bigInt({ min: 0n, max: TWO_POW_64 - 1n }),
  fc.bigInt({ min: 2n ** 32n, max: TWO_POW_64 - 1n }), // high word set
);
const dtype = fc.constantFrom<Dtype>('f32', 'f64');
const lead = fc.constantFrom(0, 1, 2, 3);
const tail = fc.constantFrom(0, 1, 2);

/** [rows, dim]: small and awkward (dim 1, odd, not multiples of 4/8, empty) or large enough to be split over 2 or 3 threads. */
const shape = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.integer({ min: 0, max: 9 }), fc.oneof(fc.constantFrom(1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33), fc.integer({ min: 1, max: 70 }))) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 5000 }).chain((dim) =>
    fc.integer({ min: Math.ceil((2 * MIN_GRAIN) / dim), max: Math.max(Math.ceil((2 * MIN_GRAIN) / dim), Math.floor(120000 / dim)) })
      .map((rows) => [rows, dim] as [number, number])) },
);

/**
 * Per-row coefficients: one value (broadcast) or one per row drawn from a seed (so that big
 * cases stay small to print and quick to shrink), with zeros, -0, negatives, subnormals and
 * huge values among them.
 */
const COEF_SPECIAL = [0, -0, 1, -1, 0.5, 5e-324, 1e300, -1e-300];
const coefValue = fc.oneof(fc.double({ min: -4, max: 4, noNaN: true }), fc.constantFrom(...COEF_SPECIAL));
type Coef = { broadcast: number } | { perRowSeed: number };
const coefficients: fc.Arbitrary<Coef> = fc.oneof(
  coefValue.map((v) => ({ broadcast: v })),
  fc.integer().map((seed) => ({ perRowSeed: seed })),
);
function coefArray(c: Coef, rows: number): Float64Array {
  if ('broadcast' in c) return Float64Array.of(c.broadcast);
  const r = prng(c.perRowSeed);
  return Float64Array.from({ length: rows }, () => (r() < 0.2 ? COEF_SPECIAL[Math.floor(r() * COEF_SPECIAL.length)] : 8 * r() - 4));
}
/** Per-row 64-bit sample ids from a seed, many with high bits set, as (lo, hi) words. */
function streamWords(seed: number, rows: number): Uint32Array {
  const r = prng(seed);
  const w = new Uint32Array(2 * rows);
  for (let i = 0; i < rows; i++) {
    const kind = r();
    w[2 * i] = kind < 0.1 ? 0xffffffff : Math.floor(r() * 2 ** 32);
    w[2 * i + 1] = kind < 0.3 ? 0 : kind < 0.4 ? 0xffffffff : Math.floor(r() * 2 ** 32);
  }
  return w;
}

/** Runs `call` on fresh clones of the inputs for each backend/config and checks the outputs against the TypeScript twin. */
function compareWithTwin(n: NativeBinding, what: string, run: (k: typeof jsKernels) => FloatArray[], guards: () => GuardedView<FloatArray>[]): void {
  const checkGuards = (label: string): void => {
    for (const g of guards()) {
      const broken = guardBroken(g);
      if (broken >= 0) throw new Error(`${what} (${label}) wrote outside its view at element ${broken - g.lead}`);
    }
  };
  const expected = run(jsKernels);
  checkGuards('TypeScript');
  forEachNativeConfig(n, (label) => {
    const got = run(n);
    checkGuards(label);
    for (let i = 0; i < expected.length; i++) assertBitIdentical(got[i], expected[i], `${what} output ${i} (${label})`);
  });
}

describe('properties: native == TypeScript, bit for bit', function () {
  it('philox4x32 on random counters and keys', function () {
    const n = nativeOrSkip(this);
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 6, maxLength: 6 }), (w) => {
      const counter = Uint32Array.from(w.slice(0, 4));
      const key = Uint32Array.from(w.slice(4));
      const a = new Uint32Array(4);
      const b = new Uint32Array(4);
      jsKernels.philox4x32(counter, key, a);
      n.philox4x32(counter, key, b);
      expect(Array.from(b)).to.deep.equal(Array.from(a));
    }), params(300));
  });

  it('normalFill: any length, view offset, seed, stream (high bits set) and offset (not a multiple of 4, near 2^64)', function () {
    const n = nativeOrSkip(this);
    const offset = (len: number): fc.Arbitrary<bigint> => fc.oneof(
      fc.bigInt({ min: 0n, max: 17n }),
      fc.bigInt({ min: 0n, max: TWO_POW_64 - BigInt(len) }),
      fc.bigInt({ min: 0n, max: 9n }).map((k) => TWO_POW_64 - BigInt(len) - k),
      fc.bigInt({ min: 0n, max: 40n }).map((k) => 2n ** 34n - k), // block index crossing 2^32, from any lane
    ).filter((o) => o >= 0n && o + BigInt(len) <= TWO_POW_64);
    const arb = fc.record({ dtype, len: shape.map(([r, d]) => r * d), lead, tail, seed: u64, stream: u64 })
      .chain((c) => offset(c.len).map((off) => ({ ...c, offset: off })));
    fc.assert(fc.property(arb, (c) => {
      const template = guarded(c.dtype, c.len, c.lead, c.tail);
      let current = template;
      const [sl, sh] = words64(c.seed);
      const [kl, kh] = words64(c.stream);
      const [ol, oh] = words64(c.offset);
      compareWithTwin(n, 'normalFill', (k) => {
        current = cloneGuarded(template);
        k.normalFill(current.view, sl, sh, kl, kh, ol, oh);
        return [current.view];
      }, () => [current]);
    }), params(80));
  });

  it('combine2: per-row and broadcast coefficients, views, special values, in place on x or y', function () {
    const n = nativeOrSkip(this);
    const arb = fc.record({
      dtype, shape, lead: fc.tuple(lead, lead, lead), tail, valueSeed: fc.integer(), mode: fc.constantFrom('fresh', 'x', 'y'),
      a: coefficients, c: coefficients,
    });
    fc.assert(fc.property(arb, (c) => {
      const [rows, dim] = c.shape;
      const len = rows * dim;
      const a = coefArray(c.a, rows);
      const cc = coefArray(c.c, rows);
      const x0 = guarded(c.dtype, len, c.lead[0], c.tail);
      const y0 = guarded(c.dtype, len, c.lead[1], c.tail);
      const out0 = guarded(c.dtype, len, c.lead[2], c.tail);
      fillValues(x0.view, c.valueSeed);
      fillValues(y0.view, c.valueSeed + 1);
      let live: GuardedView<FloatArray>[] = [];
      compareWithTwin(n, `combine2 (${c.mode})`, (k) => {
        const x = cloneGuarded(x0);
        const y = cloneGuarded(y0);
        const out = c.mode === 'x' ? x : c.mode === 'y' ? y : cloneGuarded(out0);
        live = [x, y, out];
        k.combine2(out.view, x.view, y.view, dim, a, cc);
        return [out.view, x.view, y.view];
      }, () => live);
    }), params(80));
  });

  it('addNoise: with and without epsOut, sample ids with high bits, per-row and broadcast coefficients, in place', function () {
    const n = nativeOrSkip(this);
    const arb = fc.record({
      dtype, shape, lead: fc.tuple(lead, lead, lead), tail, valueSeed: fc.integer(), seed: u64,
      withEps: fc.boolean(), inPlace: fc.boolean(), idSeed: fc.option(fc.integer()), a: coefficients, c: coefficients,
    });
    fc.assert(fc.property(arb, (c) => {
      const [rows, dim] = c.shape;
      const len = rows * dim;
      const a = coefArray(c.a, rows);
      const cc = coefArray(c.c, rows);
      const x0 = guarded(c.dtype, len, c.lead[0], c.tail);
      const out0 = guarded(c.dtype, len, c.lead[1], c.tail);
      const eps0 = guarded(c.dtype, len, c.lead[2], c.tail);
      fillValues(x0.view, c.valueSeed);
      const streams = c.idSeed === null ? null : streamWords(c.idSeed, rows);
      const [sl, sh] = words64(c.seed);
      let live: GuardedView<FloatArray>[] = [];
      compareWithTwin(n, `addNoise (epsOut ${c.withEps}, in place ${c.inPlace}, ids ${c.idSeed !== null})`, (k) => {
        const x = cloneGuarded(x0);
        const out = c.inPlace ? x : cloneGuarded(out0);
        const eps = c.withEps ? cloneGuarded(eps0) : null;
        live = eps ? [x, out, eps] : [x, out];
        k.addNoise(out.view, eps ? eps.view : null, x.view, dim, a, cc, sl, sh, streams);
        return eps ? [out.view, eps.view, x.view] : [out.view, x.view];
      }, () => live);
    }), params(80));
  });
});

describe('properties: the stream layout', function () {
  const splitCase = fc.record({
    dtype, n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 2 * MIN_GRAIN, max: 100000 })), seed: u64, stream: u64,
    base: fc.oneof(fc.bigInt({ min: 0n, max: 10n }), fc.bigInt({ min: 0n, max: TWO_POW_64 - 100001n }),
      fc.bigInt({ min: 0n, max: 40n }).map((k) => 2n ** 34n - k), // block 2^32 - 1 to 2^32
      fc.bigInt({ min: 0n, max: 5n }).map((k) => TWO_POW_64 - 100001n - k)),
  }).chain((c) => fc.integer({ min: 0, max: c.n }).map((m) => ({ ...c, m })));

  it(`filling [0, n) equals filling [0, m) then [m, n) with offset m, through the public randomNormal (${tw.backend()} backend)`, () => {
    fc.assert(fc.property(splitCase, (c) => {
      const Ctor = ctorOf(c.dtype);
      const whole = tw.randomNormal(new Ctor(c.n), { seed: c.seed, stream: c.stream, offset: c.base });
      const parts = new Ctor(c.n);
      tw.randomNormal(parts.subarray(0, c.m), { seed: c.seed, stream: c.stream, offset: c.base });
      tw.randomNormal(parts.subarray(c.m), { seed: c.seed, stream: c.stream, offset: c.base + BigInt(c.m) });
      assertBitIdentical(parts, whole, `split at ${c.m} of ${c.n}`);
    }), params(150));
  });

  for (const { name, kernels } of backends()) {
    it(`filling [0, n) equals filling [0, m) then [m, n) with offset m (${name} kernel)`, () => {
      fc.assert(fc.property(splitCase, (c) => {
        const Ctor = ctorOf(c.dtype);
        const [sl, sh] = words64(c.seed);
        const [kl, kh] = words64(c.stream);
        const whole = new Ctor(c.n);
        const [bl, bh] = words64(c.base);
        kernels.normalFill(whole, sl, sh, kl, kh, bl, bh);
        const parts = new Ctor(c.n);
        kernels.normalFill(parts.subarray(0, c.m), sl, sh, kl, kh, bl, bh);
        const [ml, mh] = words64(c.base + BigInt(c.m));
        kernels.normalFill(parts.subarray(c.m), sl, sh, kl, kh, ml, mh);
        assertBitIdentical(parts, whole, `split at ${c.m} of ${c.n}`);
      }), params(100));
    });
  }

  it('float32 normals are the float64 normals rounded once, on every backend', () => {
    for (const { name, kernels } of backends()) {
      const a = new Float64Array(1001);
      const b = new Float32Array(1001);
      kernels.normalFill(a, 1, 2, 3, 4, 5, 6);
      kernels.normalFill(b, 1, 2, 3, 4, 5, 6);
      assertBitIdentical(b, Float32Array.from(a), `float32 normals (${name})`);
    }
  });

  it('public philox4x32 and randomNormal agree with the TypeScript kernels', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 6, maxLength: 6 }), u64, (w, seed) => {
      const ref = new Uint32Array(4);
      jsKernels.philox4x32(Uint32Array.from(w.slice(0, 4)), Uint32Array.from(w.slice(4)), ref);
      expect(Array.from(tw.philox4x32(Uint32Array.from(w.slice(0, 4)), Uint32Array.from(w.slice(4))))).to.deep.equal(Array.from(ref));
      const out = tw.randomNormal(new Float64Array(7), { seed, stream: 3, offset: 5 });
      const exp = new Float64Array(7);
      const [sl, sh] = words64(seed);
      jsKernels.normalFill(exp, sl, sh, 3, 0, 5, 0);
      assertBitIdentical(out, exp, 'randomNormal');
    }), params(100));
  });
});
