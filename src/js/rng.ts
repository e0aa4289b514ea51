/**
 * Normal fill, twin of normal_fill in native/core/scalar.cc. The arithmetic is all in
 * pbm.ts's normalBlocks; this file cuts a request into partial and whole Philox blocks.
 * @module
 */
import type { FloatArray } from '../types.js';
import { normalBlocks, normalsBlock, Z } from './pbm.js';

const TWO_POW_32 = 4294967296;

/**
 * Float64 staging for float32 output: the hot loop only ever stores into Float64Arrays (one
 * element kind keeps it monomorphic); a float32 run is then rounded once per element by the
 * copy into the Float32Array, as the reference rounds each normal once. 2048 doubles stay in L1.
 */
const CHUNK_BLOCKS = 512;
const stage = new Float64Array(4 * CHUNK_BLOCKS);

/** Rounds stage[0 .. n - 1] into out[o ..]: a Float32Array store rounds to nearest, like the native cast. */
function storeF32(out: Float32Array, o: number, n: number): void {
  for (let j = 0; j < n; j++) out[o + j] = stage[j];
}

/**
 * Writes normals index0 .. index0 + n - 1 of (seed, stream) into out[o ..], all 64-bit values
 * as (lo, hi) uint32 words. Blocks start at floor(index / 4), so any offset gives the same bits.
 */
export function fillNormals(out: FloatArray, o: number, n: number, seedLo: number, seedHi: number,
  streamLo: number, streamHi: number, indexLo: number, indexHi: number): void {
  let blockLo = ((indexLo >>> 2) | ((indexHi & 3) << 30)) >>> 0;
  let blockHi = indexHi >>> 2;
  const lane = indexLo & 3;
  let i = 0;
  // A partial first block (offset not a multiple of 4).
  if (lane !== 0 && n > 0) {
    normalsBlock(seedLo, seedHi, streamLo, streamHi, blockLo, blockHi);
    for (let l = lane; l < 4 && i < n; l++, i++) out[o + i] = Z[l];
    if (++blockLo === TWO_POW_32) {
      blockLo = 0;
      blockHi++;
    }
  }
  // Whole blocks, at most CHUNK_BLOCKS per call of the hot loop: V8 then optimizes it as a
  // function (after a few calls) rather than by on-stack replacement in one huge first call,
  // whose code deoptimized on the next call. Straight into a Float64Array; staged for float32.
  const f64 = out instanceof Float64Array;
  while (n - i >= 4) {
    const blocks = Math.min(CHUNK_BLOCKS, Math.floor((n - i) / 4));
    if (f64) {
      normalBlocks(out, o + i, blocks, seedLo, seedHi, streamLo, streamHi, blockLo, blockHi);
    } else {
      normalBlocks(stage, 0, blocks, seedLo, seedHi, streamLo, streamHi, blockLo, blockHi);
      storeF32(out as Float32Array, o + i, 4 * blocks);
    }
    i += 4 * blocks;
    // Advance the 64-bit block counter (blocks < 2^32, so the sum is exact).
    const lo = blockLo + blocks;
    blockLo = lo % TWO_POW_32;
    blockHi += Math.floor(lo / TWO_POW_32);
  }
  // A partial last block.
  if (i < n) {
    normalsBlock(seedLo, seedHi, streamLo, streamHi, blockLo, blockHi);
    for (let l = 0; i < n; l++, i++) out[o + i] = Z[l];
  }
}

/** Kernel entry, same arguments as the native binding's normalFill. */
export function normalFill(out: FloatArray, seedLo: number, seedHi: number, streamLo: number, streamHi: number,
  offsetLo: number, offsetHi: number): void {
  fillNormals(out, 0, out.length, seedLo, seedHi, streamLo, streamHi, offsetLo, offsetHi);
}
