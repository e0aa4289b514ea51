/**
 * Philox4x32-10 in TypeScript, twin of native/core/philox.h.
 *
 * The 32x32 -> 64-bit products: the low word is Math.imul; the high word comes from exact
 * integer arithmetic on 16-bit halves (see {@link mulhi}). The normal generator in pbm.ts inlines the same
 * rounds by hand in its fill loop; this module is the readable reference and serves
 * single blocks.
 * @module
 */

/** Round multipliers, split into 16-bit halves for the exact high word. */
export const M0 = 0xd2511f53;
export const M0_HI = 0xd251;
export const M0_LO = 0x1f53;
export const M1 = 0xcd9e8d57;
export const M1_HI = 0xcd9e;
export const M1_LO = 0x8d57;
/** Weyl key increments as int32 (key words are kept as int32 and wrap like uint32 adds). */
export const W0 = 0x9e3779b9 | 0;
export const W1 = 0xbb67ae85 | 0;
/**
 * High 32 bits of c * m for a uint32 c (int32 bits are fine) and m = mHi 2^16 + mLo
 * (16-bit halves), in int32 arithmetic only. With c = a 2^16 + b (16-bit halves):
 *   c m = a mHi 2^32 + (a mLo + b mHi) 2^16 + b mLo, so with t = b mHi + floor(b mLo / 2^16),
 *   hi = a mHi + floor(a mLo / 2^16) + floor(t / 2^16) + floor(((a mLo mod 2^16) + (t mod 2^16)) / 2^16).
 * Each product of 16-bit halves is below 2^32 and t < 0.82 * 2^32 + 2^16 < 2^32, so every
 * intermediate is an exact integer whose low 32 bits are all the result needs; V8 then
 * compiles the whole thing to 32-bit integer multiplies, adds and shifts. (An exact float64
 * formula exists too, but its conversions and latency made it ~2x slower in V8.)
 */
export function mulhi(c: number, mHi: number, mLo: number): number {
  const a = c >>> 16;
  const b = c & 0xffff;
  const aLo = a * mLo;
  const t = b * mHi + ((b * mLo) >>> 16);
  return a * mHi + (aLo >>> 16) + (t >>> 16) + (((aLo & 0xffff) + (t & 0xffff)) >>> 16);
}

/** Writes Philox4x32-10(counter, key) into out[o .. o + 3]. All inputs are uint32 numbers. */
export function philoxBlock(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number,
  out: Uint32Array, o: number): void {
  // Words are carried as int32 bits (what ^ and Math.imul give); the Uint32Array store makes them uint32.
  c0 |= 0; c1 |= 0; c2 |= 0; c3 |= 0; k0 |= 0; k1 |= 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) | 0;
      k1 = (k1 + W1) | 0;
    }
    const hi0 = mulhi(c0, M0_HI, M0_LO);
    const hi1 = mulhi(c2, M1_HI, M1_LO);
    const lo0 = Math.imul(c0, M0);
    const lo1 = Math.imul(c2, M1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
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
