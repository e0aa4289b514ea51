/**
 * Philox4x32-10 in TypeScript, twin of native/core/philox.h. The 32x32 -> 64-bit products are
 * split so that every intermediate is an exact double: lo by Math.imul, hi from 16-bit halves
 * of the constant multiplier.
 * @module
 */

const M0 = 0xd2511f53;
const M0_HI = 0xd251;
const M0_LO = 0x1f53;
const M1 = 0xcd9e8d57;
const M1_HI = 0xcd9e;
const M1_LO = 0x8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** Writes Philox4x32-10(counter, key) into out[o .. o + 3]. All inputs are uint32 numbers. */
export function philoxBlock(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number,
  out: Uint32Array, o: number): void {
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    // hi(M * c) = floor((c * M_HI + floor(c * M_LO / 2^16)) / 2^16): all terms < 2^49, exact.
    const hi0 = Math.floor((c0 * M0_HI + Math.floor((c0 * M0_LO) / 65536)) / 65536);
    const lo0 = Math.imul(c0, M0) >>> 0;
    const hi1 = Math.floor((c2 * M1_HI + Math.floor((c2 * M1_LO) / 65536)) / 65536);
    const lo1 = Math.imul(c2, M1) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[o] = c0;
  out[o + 1] = c1;
  out[o + 2] = c2;
  out[o + 3] = c3;
}

/** Kernel entry: Philox of one block, arrays as in the native binding. */
export function philox4x32(counter: Uint32Array, key: Uint32Array, out: Uint32Array): void {
  philoxBlock(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out, 0);
}
