/**
 * Normals from Philox words by Box-Muller with our own log and sincos ("PBM"), twin of
 * native/core/pbm.h: the same constants and the same order of + - * / and sqrt, so the bits
 * match the native code. Change both or neither.
 *
 * All of it lives in one fill loop, {@link normalBlocks}, written for V8 (measured on Node 20,
 * each step worth 10 % to 2x):
 * - Philox rounds, log and sincos are written out in the loop body. As helper calls they were
 *   not all inlined (TurboFan's inlining budget runs out on this loop), and a call that is not
 *   inlined boxes every double it passes or returns.
 * - The Philox high words use int32 arithmetic only (mulhi in philox.ts).
 * - Constants are locals of the function: TurboFan folds those into the code, while a
 *   module-level const is loaded from the module context at run time, which turned every
 *   product by a multiplier into a generic float multiply (2x slower overall).
 * - The output is always a Float64Array (one element kind: monomorphic stores); callers with
 *   float32 output stage through one.
 * - The two data-dependent branches of the reference, the sqrt(2) fold of the log and the
 *   quadrant switch of sincos, go one way or the other at random and mispredicted about half
 *   of the time; they are replaced by table lookups that select exactly the same values.
 * @module
 */

/** 2^-e for e = 0..33 (33: a folded w of bit length 32). Scaling by it is exact. */
const POW2_NEG = new Float64Array(34);
for (let e = 0, p = 1; e <= 33; e++, p /= 2) POW2_NEG[e] = p;

/**
 * The sqrt(2) fold of log_u: the reference computes f = (2w + 1) 2^-e for w of bit length e,
 * then `if (f > SQRT2) { f = f * 0.5; e = e + 1 }`. Since scaling by 2^-e is exact,
 * f > SQRT2 iff 2w + 1 > SQRT2 2^e iff w > (SQRT2 2^e - 1) / 2, never an integer for e <= 32,
 * so iff w >= FOLD_AT[e] = floor((SQRT2 2^e - 1) / 2) + 1 (every step exact in float64).
 * Folding then gives f = (2w + 1) 2^-(e + 1), the same double as f * 0.5.
 */
const FOLD_AT = new Float64Array(33);
for (let e = 0; e <= 32; e++) FOLD_AT[e] = Math.floor((1.4142135623730951 * 2 ** e - 1) / 2) + 1;

/**
 * The quadrant swap of the reference, `switch (q & 3)`: (cos, sin) = (pc, sn), (-sn, pc),
 * (-pc, -sn), (sn, -pc), as cos = pc COS_PC[q] + sn COS_SN[q], sin = pc SIN_PC[q] + sn SIN_SN[q]
 * with entries in {-1, 0, 1}. Exact: x * +-1 is +-x, and the other term is +-0, which added to
 * a non-zero x gives x (pc >= cos(pi / 4) and sn = ps r with r != 0, so neither is zero).
 * Indexed by q in 0..4 (q = 4 is quadrant 0 again).
 */
const COS_PC = Float64Array.of(1, 0, -1, 0, 1);
const COS_SN = Float64Array.of(0, -1, 0, 1, 0);
const SIN_PC = Float64Array.of(0, 1, 0, -1, 0);
const SIN_SN = Float64Array.of(1, 0, -1, 0, 1);

/**
 * Writes the normals of nBlocks consecutive Philox blocks, starting at block (blockLo, blockHi)
 * of (seed, stream), into dst[o .. o + 4 nBlocks - 1]. 64-bit values are (lo, hi) uint32 words.
 * The hot loop of every TS normal. Call it with runs of a few hundred blocks or more: V8 then
 * optimizes it as a whole function (a single huge first call gets on-stack-replaced code only).
 */
export function normalBlocks(dst: Float64Array, o: number, nBlocks: number, seedLo: number, seedHi: number,
  streamLo: number, streamHi: number, blockLo: number, blockHi: number): void {
  // Philox multipliers, as a whole (low words, Math.imul) and as 16-bit halves (high words),
  // and the Weyl key increments as int32 (see philox.ts).
  const M0 = 0xd2511f53;
  const M0_HI = 0xd251;
  const M0_LO = 0x1f53;
  const M1 = 0xcd9e8d57;
  const M1_HI = 0xcd9e;
  const M1_LO = 0x8d57;
  const W0 = 0x9e3779b9 | 0;
  const W1 = 0xbb67ae85 | 0;
  // log: n ln 2 split so that n LN2_HI is exact (pbm.h kLn2Hi, kLn2Lo).
  const LN2_HI = 0.6931471803691238; // 0x1.62e42fee00000p-1
  const LN2_LO = 1.9082149292705877e-10;
  const TWO_POW_30 = 1073741824;
  const TWO_POW_NEG_32 = 2.3283064365386963e-10;
  const TWO_POW_32 = 4294967296;

  const k0 = seedLo | 0;
  const k1 = seedHi | 0;
  const s0 = streamLo | 0;
  const s1 = streamHi | 0;
  let j0 = blockLo;
  let j1 = blockHi;
  for (let end = o + 4 * nBlocks; o < end; o += 4) {
    // Philox4x32-10 of counter [j0, j1, s0, s1] with key [k0, k1]; words as int32 bits.
    let c0 = j0 | 0;
    let c1 = j1 | 0;
    let c2 = s0;
    let c3 = s1;
    let ka = k0;
    let kb = k1;
    for (let round = 0; ; ) {
      // hi0, hi1: high words of M0 c0 and M1 c2, as mulhi() in philox.ts.
      const a0 = c0 >>> 16;
      const b0 = c0 & 0xffff;
      const aLo0 = a0 * M0_LO;
      const t0 = b0 * M0_HI + ((b0 * M0_LO) >>> 16);
      const hi0 = a0 * M0_HI + (aLo0 >>> 16) + (t0 >>> 16) + (((aLo0 & 0xffff) + (t0 & 0xffff)) >>> 16);
      const a2 = c2 >>> 16;
      const b2 = c2 & 0xffff;
      const aLo2 = a2 * M1_LO;
      const t2 = b2 * M1_HI + ((b2 * M1_LO) >>> 16);
      const hi1 = a2 * M1_HI + (aLo2 >>> 16) + (t2 >>> 16) + (((aLo2 & 0xffff) + (t2 & 0xffff)) >>> 16);
      const lo0 = Math.imul(c0, M0);
      const lo1 = Math.imul(c2, M1);
      c0 = hi1 ^ c1 ^ ka;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ kb;
      c3 = lo0;
      if (++round === 10) break;
      ka = (ka + W0) | 0;
      kb = (kb + W1) | 0;
    }
    // Box-Muller, one pair per pass: (z0, z1) = r(w0) (cos, sin) t(w1), then (z2, z3) from w2, w3.
    for (let p = 0; p < 4; p += 2) {
      const wr = (p === 0 ? c0 : c2) >>> 0;
      const wt = (p === 0 ? c1 : c3) >>> 0;

      // r = sqrt(-2 log u), u = (wr + 0.5) 2^-32 = m 2^-33 with m = 2 wr + 1 = f 2^e,
      // f in (sqrt(1/2), sqrt(2)]; log f = 2 atanh(s), s = (f - 1) / (f + 1), by its series
      // 2s + s z Q(z), z = s^2, Q = Taylor coefficients 2 / (2k + 1), k = 1..11 (pbm.h log_u).
      let e = 32 - Math.clz32(wr); // bit length; 0 for wr = 0 (m = 1, f = 1)
      e += Number(wr >= FOLD_AT[e]); // the sqrt(2) fold, see FOLD_AT
      const f = (2 * wr + 1) * POW2_NEG[e];
      const s = (f - 1) / (f + 1);
      const z = s * s;
      let lq = 0.08695652173913043;
      lq = lq * z + 0.09523809523809523;
      lq = lq * z + 0.10526315789473684;
      lq = lq * z + 0.11764705882352941;
      lq = lq * z + 0.13333333333333333;
      lq = lq * z + 0.15384615384615385;
      lq = lq * z + 0.18181818181818182;
      lq = lq * z + 0.2222222222222222;
      lq = lq * z + 0.2857142857142857;
      lq = lq * z + 0.4;
      lq = lq * z + 0.6666666666666666;
      const logF = 2 * s + s * (z * lq);
      const n = e - 33;
      const rad = Math.sqrt(-2 * (n * LN2_HI + (n * LN2_LO + logF)));

      // (cos, sin) of 2 pi (wt + 0.5) 2^-32 (pbm.h sincos_turns): quadrant
      // q = floor((wt + 2^29) / 2^30) in 0..4, computed in int32 as ((wt >>> 1) + 2^28) >>> 29
      // (the sum stays below 2^32); exact remainder r in [-1/8, 1/8) turns; Taylor polynomials
      // in r of sin(2 pi r) and cos(2 pi r); then the quadrant swap, see COS_PC.
      const q = ((wt >>> 1) + 0x10000000) >>> 29;
      const r = (wt + 0.5 - q * TWO_POW_30) * TWO_POW_NEG_32;
      const r2 = r * r;
      let ps = 0.10422916220813984;
      ps = ps * r2 + -0.7181223017785006;
      ps = ps * r2 + 3.819952584848282;
      ps = ps * r2 + -15.09464257682299;
      ps = ps * r2 + 42.058693944897655;
      ps = ps * r2 + -76.70585975306139;
      ps = ps * r2 + 81.60524927607506;
      ps = ps * r2 + -41.34170224039976;
      ps = ps * r2 + 6.283185307179586;
      let pc = -0.03638284114254567;
      pc = pc * r2 + 0.28200596845579123;
      pc = pc * r2 + -1.714390711088672;
      pc = pc * r2 + 7.903536371318469;
      pc = pc * r2 + -26.4262567833744;
      pc = pc * r2 + 60.24464137187666;
      pc = pc * r2 + -85.45681720669373;
      pc = pc * r2 + 64.9393940226683;
      pc = pc * r2 + -19.739208802178716;
      pc = pc * r2 + 1;
      const sn = ps * r;
      dst[o + p] = rad * (pc * COS_PC[q] + sn * COS_SN[q]);
      dst[o + p + 1] = rad * (pc * SIN_PC[q] + sn * SIN_SN[q]);
    }
    if (++j0 === TWO_POW_32) {
      j0 = 0;
      j1++;
    }
  }
}

/**
 * log((w + 0.5) 2^-32) for a uint32 w, exactly as the radius step of {@link normalBlocks}
 * computes it (same operations, same order; keep the two in step). Not used on the hot path:
 * a standalone function for tests that measure the log's accuracy.
 */
export function logU(w: number): number {
  w >>>= 0;
  let e = 32 - Math.clz32(w);
  e += Number(w >= FOLD_AT[e]);
  const f = (2 * w + 1) * POW2_NEG[e];
  const s = (f - 1) / (f + 1);
  const z = s * s;
  let lq = 0.08695652173913043;
  lq = lq * z + 0.09523809523809523;
  lq = lq * z + 0.10526315789473684;
  lq = lq * z + 0.11764705882352941;
  lq = lq * z + 0.13333333333333333;
  lq = lq * z + 0.15384615384615385;
  lq = lq * z + 0.18181818181818182;
  lq = lq * z + 0.2222222222222222;
  lq = lq * z + 0.2857142857142857;
  lq = lq * z + 0.4;
  lq = lq * z + 0.6666666666666666;
  const logF = 2 * s + s * (z * lq);
  const n = e - 33;
  return n * 0.6931471803691238 + (n * 1.9082149292705877e-10 + logF);
}

/** One block's normals, for partial blocks at the ends of a run. */
export const Z = new Float64Array(4);

/** Fills Z with the four normals of Philox block (blockLo, blockHi) of (seed, stream). */
export function normalsBlock(seedLo: number, seedHi: number, streamLo: number, streamHi: number,
  blockLo: number, blockHi: number): void {
  normalBlocks(Z, 0, 1, seedLo, seedHi, streamLo, streamHi, blockLo, blockHi);
}
