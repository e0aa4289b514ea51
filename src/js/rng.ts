/**
 * Normal fill, twin of normal_fill in native/core/scalar.cc.
 * @module
 */
import type { FloatArray } from '../types.js';
import { normalsBlock, Z } from './pbm.js';

const TWO_POW_32 = 4294967296;

/**
 * Writes normals index0 .. index0 + n - 1 of (seed, stream) into out[o ..], all 64-bit values
 * as (lo, hi) uint32 words. Blocks start at floor(index / 4), so any offset gives the same bits.
 */
export function fillNormals(out: FloatArray, o: number, n: number, seedLo: number, seedHi: number,
  streamLo: number, streamHi: number, indexLo: number, indexHi: number): void {
  let blockLo = ((indexLo >>> 2) | ((indexHi & 3) << 30)) >>> 0;
  let blockHi = indexHi >>> 2;
  let lane = indexLo & 3;
  let i = 0;
  while (i < n) {
    normalsBlock(seedLo, seedHi, streamLo, streamHi, blockLo, blockHi);
    if (lane === 0 && n - i >= 4) {
      out[o + i] = Z[0];
      out[o + i + 1] = Z[1];
      out[o + i + 2] = Z[2];
      out[o + i + 3] = Z[3];
      i += 4;
    } else {
      for (; lane < 4 && i < n; lane++, i++) out[o + i] = Z[lane];
    }
    lane = 0;
    if (++blockLo === TWO_POW_32) {
      blockLo = 0;
      blockHi++;
    }
  }
}

/** Kernel entry, same arguments as the native binding's normalFill. */
export function normalFill(out: FloatArray, seedLo: number, seedHi: number, streamLo: number, streamHi: number,
  offsetLo: number, offsetHi: number): void {
  fillNormals(out, 0, out.length, seedLo, seedHi, streamLo, streamHi, offsetLo, offsetHi);
}
