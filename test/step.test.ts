import { expect } from 'chai';
import fc from 'fast-check';
import { native } from '../src/backend.js';
import { jsKernels } from '../src/js/index.js';
import type { FloatArray } from '../src/types.js';

const bits = (a: FloatArray): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('step kernel (lincomb)', () => {
  it('accumulates left to right in float64 and rounds once', () => {
    const t0 = Float32Array.of(1, 0.1, 3e-8);
    const t1 = Float32Array.of(1e-8, 0.2, 1);
    const out = new Float32Array(3);
    jsKernels.lincomb(out, 3, [t0, t1], Float64Array.of(0.5, 3), false, null, null);
    for (let i = 0; i < 3; i++) expect(out[i]).to.equal(Math.fround(0.5 * t0[i] + 3 * t1[i]));
  });

  it('with noise adds coef * z, z the dtype-rounded normal at index indexHi * 2^32 + e of stream = row', () => {
    const dim = 5;
    const out = new Float32Array(2 * dim);
    const zero = new Float32Array(2 * dim);
    jsKernels.lincomb(out, dim, [zero], Float64Array.of(0, 1), false, Uint32Array.of(7, 0, 0x10000003), null);
    for (let r = 0; r < 2; r++) {
      const z = new Float64Array(dim);
      jsKernels.normalFill(z, 7, 0, r, 0, 0, 0x10000003);
      for (let e = 0; e < dim; e++) expect(out[r * dim + e]).to.equal(Math.fround(z[e]));
    }
  });

  it('native and TypeScript give the same bits on random shapes, terms, coefficients and noise', function () {
    const nat = native();
    if (!nat) this.skip();
    const levels = nat!.info().simdLevels;
    const original = nat!.info().simd;
    const threadsBefore = nat!.info().threads;
    try {
      fc.assert(fc.property(
        // dims past the 512-normal chunk of the noisy kernel, now and then
        fc.integer({ min: 1, max: 9 }), fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 500, max: 1600 })), fc.integer({ min: 1, max: 8 }),
        fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(...levels),
        (rows, dim, nTerms, f32, perRow, withNoise, indexHi, threads, level) => {
          const Ctor = f32 ? Float32Array : Float64Array;
          const n = rows * dim;
          const mk = (salt: number): FloatArray => {
            const backing = new Ctor(n + 2);
            for (let i = 0; i < backing.length; i++) backing[i] = Math.sin(i * 12.9898 + salt * 78.233) * 10;
            return backing.subarray(1, n + 1);
          };
          const terms = Array.from({ length: nTerms }, (_, j) => mk(j));
          const nCoef = nTerms + (withNoise ? 1 : 0);
          const coef = Float64Array.from({ length: nCoef * (perRow ? rows : 1) }, (_, k) => Math.cos(k * 3.1) * 2);
          const noise = withNoise ? Uint32Array.of(123, 456, indexHi) : null;
          const streams = withNoise && rows > 1 ? Uint32Array.from({ length: 2 * rows }, (_, k) => (k * 2654435761) >>> 0) : null;
          const a = mk(99);
          const b = mk(99);
          nat!.setSimd(level);
          nat!.setThreads(threads);
          jsKernels.lincomb(a, dim, terms, coef, perRow, noise, streams);
          nat!.lincomb(b, dim, terms, coef, perRow, noise, streams);
          expect(bits(b)).to.equal(bits(a));
          // in place: out is the first term
          const c = terms[0].slice() as FloatArray;
          const d = terms[0].slice() as FloatArray;
          jsKernels.lincomb(c, dim, [c, ...terms.slice(1)], coef, perRow, noise, streams);
          nat!.lincomb(d, dim, [d, ...terms.slice(1)], coef, perRow, noise, streams);
          expect(bits(d)).to.equal(bits(c));
        }), { numRuns: 150 });
    } finally {
      nat!.setSimd(original);
      nat!.setThreads(threadsBefore);
    }
  });

  it('native and TypeScript agree on batches big enough to be split over threads', function () {
    const nat = native();
    if (!nat) this.skip();
    const threadsBefore = nat!.info().threads;
    try {
      for (const [rows, dim] of [[3, 40001], [70001, 1], [5, 16384]]) {
        for (const Ctor of [Float32Array, Float64Array]) {
          const n = rows * dim;
          const t0 = new Ctor(n).map((_, i) => Math.sin(i));
          const t1 = new Ctor(n).map((_, i) => Math.cos(i * 0.7));
          const coef = Float64Array.of(0.9, -0.4, 0.3);
          const a = new Ctor(n);
          jsKernels.lincomb(a, dim, [t0, t1], coef, false, Uint32Array.of(5, 6, 0x10000009), null);
          for (const threads of [1, 2, 3]) {
            nat!.setThreads(threads);
            const b = new Ctor(n);
            nat!.lincomb(b, dim, [t0, t1], coef, false, Uint32Array.of(5, 6, 0x10000009), null);
            expect(bits(b), `${rows} x ${dim}, ${threads} threads`).to.equal(bits(a));
          }
        }
      }
    } finally {
      nat!.setThreads(threadsBefore);
    }
  });
});

describe('step kernel (copyFinite)', () => {
  const Ctors = [Float32Array, Float64Array] as const;

  it('copies with one rounding and reports the first NaN or infinity (TypeScript twin)', () => {
    const out = new Float32Array(3);
    expect(jsKernels.copyFinite(out, Float64Array.of(0.1, -2, 1e-50))).to.equal(-1);
    expect(Array.from(out)).to.deep.equal([Math.fround(0.1), -2, 0]);
    expect(jsKernels.copyFinite(out, Float64Array.of(1, Infinity, NaN))).to.equal(1);
    const same = Float64Array.of(1, 2, NaN);
    expect(jsKernels.copyFinite(same, same)).to.equal(2);
  });

  it('native and TypeScript agree on random lengths, dtypes, bad positions and thread counts', function () {
    const nat = native();
    if (!nat) this.skip();
    const threadsBefore = nat!.info().threads;
    const bad = [NaN, Infinity, -Infinity];
    try {
      fc.assert(fc.property(
        fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 60000, max: 140000 })), fc.boolean(), fc.boolean(),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 2 })), { maxLength: 3 }),
        fc.integer({ min: 1, max: 3 }), fc.boolean(),
        (n, out64, src64, holes, threads, inPlace) => {
          const SrcCtor = Ctors[src64 ? 1 : 0];
          const OutCtor = inPlace ? SrcCtor : Ctors[out64 ? 1 : 0];
          // odd byte offsets through subarray views
          const src = new SrcCtor(n + 1).map((_, i) => Math.sin(i * 0.37) * 1e3).subarray(1);
          for (const [u, k] of holes) if (n > 0) src[Math.min(n - 1, Math.floor(u * n))] = bad[k];
          const a = inPlace ? src.slice() : new OutCtor(n + 2).subarray(1, n + 1);
          const b = inPlace ? src.slice() : new OutCtor(n + 2).subarray(1, n + 1);
          nat!.setThreads(threads);
          const ra = jsKernels.copyFinite(a, inPlace ? a : src);
          const rb = nat!.copyFinite(b, inPlace ? b : src);
          expect(rb).to.equal(ra);
          if (ra < 0) expect(bits(b)).to.equal(bits(a));
        }), { numRuns: 200 });
    } finally {
      nat!.setThreads(threadsBefore);
    }
  });

  it('native: rejects a partial overlap and mismatched lengths with a RangeError', function () {
    const nat = native();
    if (!nat) this.skip();
    const buf = new Float64Array(10);
    expect(() => nat!.copyFinite(buf.subarray(0, 5), buf.subarray(3, 8))).to.throw(RangeError, /partly overlap/);
    expect(() => nat!.copyFinite(new Float32Array(3), new Float32Array(4))).to.throw(RangeError, /same length/);
    expect(() => nat!.copyFinite(new Int32Array(3) as never, new Float32Array(3))).to.throw(TypeError);
  });
});
