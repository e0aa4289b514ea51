/**
 * Noising kernels, twins of native/core/scalar.cc (combine2, noise_inline) and ops.cc (rows).
 * Arithmetic: a * x + c * y in double, one rounding on the store to the output array.
 *
 * Each loop exists once per dtype (…F32 / …F64) so that V8 sees one element kind per
 * function and keeps its loads and stores monomorphic.
 * @module
 */
import type { FloatArray } from '../types.js';
import { normalBlocks } from './pbm.js';

function combine2F32(out: Float32Array, x: Float32Array, y: Float32Array, rows: number, dim: number,
  a: Float64Array, c: Float64Array): void {
  const aStep = a.length === 1 ? 0 : 1;
  const cStep = c.length === 1 ? 0 : 1;
  for (let r = 0, base = 0; r < rows; r++, base += dim) {
    const ar = a[r * aStep];
    const cr = c[r * cStep];
    for (let i = base, end = base + dim; i < end; i++) out[i] = ar * x[i] + cr * y[i];
  }
}

function combine2F64(out: Float64Array, x: Float64Array, y: Float64Array, rows: number, dim: number,
  a: Float64Array, c: Float64Array): void {
  const aStep = a.length === 1 ? 0 : 1;
  const cStep = c.length === 1 ? 0 : 1;
  for (let r = 0, base = 0; r < rows; r++, base += dim) {
    const ar = a[r * aStep];
    const cr = c[r * cStep];
    for (let i = base, end = base + dim; i < end; i++) out[i] = ar * x[i] + cr * y[i];
  }
}

/** out[r, e] = a[r] * x[r, e] + c[r] * y[r, e]; a and c have length 1 (broadcast) or rows. */
export function combine2(out: FloatArray, x: FloatArray, y: FloatArray, dim: number, a: Float64Array,
  c: Float64Array): void {
  const rows = out.length / dim;
  if (out instanceof Float32Array) combine2F32(out, x as Float32Array, y as Float32Array, rows, dim, a, c);
  else combine2F64(out, x as Float64Array, y as Float64Array, rows, dim, a, c);
}

/**
 * Normals of one run of a row, in float64 (rounded to the dtype where eps is stored). A
 * multiple of 4 long and at most 2048 normals (16 KiB, in L1), so a run is whole Philox blocks.
 */
const CHUNK = 2048;
const scratch = new Float64Array(CHUNK);

/** out[i] = a x0[i] + c eps for i = base .. base + m - 1, eps = float32(z[i - base]). */
function noiseRunF32(out: Float32Array, epsOut: Float32Array | null, x0: Float32Array, base: number, m: number,
  z: Float64Array, a: number, c: number): void {
  for (let j = 0, i = base; j < m; j++, i++) {
    const eps = Math.fround(z[j]);
    out[i] = a * x0[i] + c * eps;
    if (epsOut !== null) epsOut[i] = eps;
  }
}

/** out[i] = a x0[i] + c eps for i = base .. base + m - 1, eps = z[i - base]. */
function noiseRunF64(out: Float64Array, epsOut: Float64Array | null, x0: Float64Array, base: number, m: number,
  z: Float64Array, a: number, c: number): void {
  for (let j = 0, i = base; j < m; j++, i++) {
    const eps = z[j];
    out[i] = a * x0[i] + c * eps;
    if (epsOut !== null) epsOut[i] = eps;
  }
}

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
  for (let r = 0, base = 0; r < rows; r++, base += dim) {
    const streamLo = streams ? streams[2 * r] : r >>> 0;
    const streamHi = streams ? streams[2 * r + 1] : Math.floor(r / 4294967296);
    const ar = a[r * aStep];
    const cr = c[r * cStep];
    for (let e0 = 0; e0 < dim; e0 += CHUNK) {
      const m = Math.min(CHUNK, dim - e0);
      // Element e0 is block e0 / 4 (e0 is a multiple of 4 below 2^53). A partial last block is
      // drawn whole and its tail ignored: normals depend only on their index.
      const block = e0 / 4;
      normalBlocks(scratch, 0, Math.ceil(m / 4), seedLo, seedHi, streamLo, streamHi,
        block % 4294967296, Math.floor(block / 4294967296));
      if (f32) noiseRunF32(out as Float32Array, epsOut as Float32Array | null, x0 as Float32Array, base + e0, m, scratch, ar, cr);
      else noiseRunF64(out as Float64Array, epsOut as Float64Array | null, x0 as Float64Array, base + e0, m, scratch, ar, cr);
    }
  }
}
