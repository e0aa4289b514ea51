/**
 * Noising kernels, twins of native/core/scalar.cc (combine2, noise_inline) and ops.cc (rows).
 * Arithmetic: a * x + c * y in double, one rounding on the store to the output array.
 * @module
 */
import type { FloatArray } from '../types.js';
import { fillNormals } from './rng.js';

/** out[r, e] = a[r] * x[r, e] + c[r] * y[r, e]; a and c have length 1 (broadcast) or rows. */
export function combine2(out: FloatArray, x: FloatArray, y: FloatArray, dim: number, a: Float64Array,
  c: Float64Array): void {
  const rows = out.length / dim;
  const aStep = a.length === 1 ? 0 : 1;
  const cStep = c.length === 1 ? 0 : 1;
  for (let r = 0, base = 0; r < rows; r++, base += dim) {
    const ar = a[r * aStep];
    const cr = c[r * cStep];
    for (let i = base, end = base + dim; i < end; i++) out[i] = ar * x[i] + cr * y[i];
  }
}

/** Scratch for a run of normals (float64: the rounding to the dtype happens on the eps store). */
const CHUNK = 4096;
const scratch = new Float64Array(CHUNK);

/**
 * Fused noising: eps[r, e] = normal(seed, stream_r, e) rounded to the array dtype,
 * out = a[r] * x0 + c[r] * eps, epsOut (nullable) receives eps. streams holds (lo, hi) per row,
 * or is null for stream = row index.
 */
export function addNoise(out: FloatArray, epsOut: FloatArray | null, x0: FloatArray, dim: number,
  a: Float64Array, c: Float64Array, seedLo: number, seedHi: number, streams: Uint32Array | null): void {
  const rows = out.length / dim;
  const aStep = a.length === 1 ? 0 : 1;
  const cStep = c.length === 1 ? 0 : 1;
  const f32 = out instanceof Float32Array;
  const z = scratch;
  for (let r = 0, base = 0; r < rows; r++, base += dim) {
    const streamLo = streams ? streams[2 * r] : r >>> 0;
    const streamHi = streams ? streams[2 * r + 1] : Math.floor(r / 4294967296);
    const ar = a[r * aStep];
    const cr = c[r * cStep];
    for (let e0 = 0; e0 < dim; e0 += CHUNK) {
      const m = Math.min(CHUNK, dim - e0);
      fillNormals(z, 0, m, seedLo, seedHi, streamLo, streamHi, e0 >>> 0, Math.floor(e0 / 4294967296));
      for (let j = 0; j < m; j++) {
        const eps = f32 ? Math.fround(z[j]) : z[j];
        const i = base + e0 + j;
        out[i] = ar * x0[i] + cr * eps;
        if (epsOut !== null) epsOut[i] = eps;
      }
    }
  }
}
