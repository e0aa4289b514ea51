/**
 * The step family, twin of native/core/step.cc: fused linear combinations for samplers,
 * out = sum_j coef_j * term_j (+ coef_n * z), accumulated left to right in float64 and
 * rounded once to out's dtype; z = normal(seed, stream_r, indexHi * 2^32 + e) rounded to the dtype.
 * @module
 */
import type { FloatArray } from '../types.js';
import { fillNormals } from './rng.js';

const CHUNK = 4096;
const scratch = new Float64Array(CHUNK);

/**
 * Kernel entry, same arguments as the native binding's lincomb: coef holds one value per term
 * (and one for the noise), or, when coefPerRow, coef[j * rows + r]. noise = [seedLo, seedHi,
 * indexHi] or null; streams = (lo, hi) per row or null for the row index.
 */
export function lincomb(out: FloatArray, dim: number, terms: FloatArray[], coef: Float64Array, coefPerRow: boolean,
  noise: Uint32Array | null, streams: Uint32Array | null): void {
  const rows = out.length / dim;
  const n = terms.length;
  const f32 = out instanceof Float32Array;
  const c = new Float64Array(n + 1);
  for (let r = 0, base = 0; r < rows; r++, base += dim) {
    for (let j = 0; j < n + (noise ? 1 : 0); j++) c[j] = coefPerRow ? coef[j * rows + r] : coef[j];
    if (noise === null) {
      for (let i = base, end = base + dim; i < end; i++) {
        let acc = c[0] * terms[0][i];
        for (let j = 1; j < n; j++) acc = acc + c[j] * terms[j][i];
        out[i] = acc;
      }
      continue;
    }
    const streamLo = streams ? streams[2 * r] : r >>> 0;
    const streamHi = streams ? streams[2 * r + 1] : Math.floor(r / 4294967296);
    const cz = c[n];
    for (let e0 = 0; e0 < dim; e0 += CHUNK) {
      const m = Math.min(CHUNK, dim - e0);
      fillNormals(scratch, 0, m, noise[0], noise[1], streamLo, streamHi, e0, noise[2]);
      for (let k = 0; k < m; k++) {
        const i = base + e0 + k;
        let acc = c[0] * terms[0][i];
        for (let j = 1; j < n; j++) acc = acc + c[j] * terms[j][i];
        const z = f32 ? Math.fround(scratch[k]) : scratch[k];
        out[i] = acc + cz * z;
      }
    }
  }
}

/** Kernel entry, same contract as the native copyFinite (src/types.ts). */
export function copyFinite(out: FloatArray, src: FloatArray): number {
  for (let i = 0; i < src.length; i++) if (!Number.isFinite(src[i])) return i;
  if (out !== src) out.set(src);
  return -1;
}
