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
        fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 8 }),
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
});
