/**
 * Normals from Philox words by Box-Muller with our own log and sincos ("PBM"), twin of
 * native/core/pbm.h: the same constants and the same order of + - * / and sqrt, so the bits
 * match the native code. Change both or neither.
 * @module
 */
import { philoxBlock } from './philox.js';

const LN2_HI = 0.6931471803691238; // 0x1.62e42fee00000p-1
const LN2_LO = 1.9082149292705877e-10;
const SQRT2 = 1.4142135623730951;
const TWO_POW_30 = 1073741824;
const TWO_POW_NEG_32 = 2.3283064365386963e-10;

/** 2^-e for e = 0..32. */
const POW2_NEG = new Float64Array(33);
for (let e = 0, p = 1; e <= 32; e++, p /= 2) POW2_NEG[e] = p;

/** log((w + 0.5) * 2^-32) for a uint32 w. */
export function logU(w: number): number {
  let e = 32 - Math.clz32(w);
  if (w === 0) e = 0;
  let f = (2 * w + 1) * POW2_NEG[e];
  if (f > SQRT2) {
    f = f * 0.5;
    e = e + 1;
  }
  const s = (f - 1) / (f + 1);
  const z = s * s;
  let q = 0.08695652173913043;
  q = q * z + 0.09523809523809523;
  q = q * z + 0.10526315789473684;
  q = q * z + 0.11764705882352941;
  q = q * z + 0.13333333333333333;
  q = q * z + 0.15384615384615385;
  q = q * z + 0.18181818181818182;
  q = q * z + 0.2222222222222222;
  q = q * z + 0.2857142857142857;
  q = q * z + 0.4;
  q = q * z + 0.6666666666666666;
  const logF = 2 * s + s * (z * q);
  const n = e - 33;
  return n * LN2_HI + (n * LN2_LO + logF);
}

/** Scratch for sincosTurns: [cos, sin]. */
const CS = new Float64Array(2);

/** cos and sin of 2 pi (w + 0.5) 2^-32 into CS[0], CS[1]. */
function sincosTurns(w: number): void {
  const q = Math.floor((w + 536870912) / TWO_POW_30);
  const r = (w + 0.5 - q * TWO_POW_30) * TWO_POW_NEG_32;
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
  switch (q & 3) {
    case 0: CS[0] = pc; CS[1] = sn; break;
    case 1: CS[0] = -sn; CS[1] = pc; break;
    case 2: CS[0] = -pc; CS[1] = -sn; break;
    default: CS[0] = sn; CS[1] = -pc; break;
  }
}

const WORDS = new Uint32Array(4);
/** The four normals of the current block, filled by normalsBlock. */
export const Z = new Float64Array(4);

/** Fills Z with the four normals of Philox block `block` (as lo/hi words) of (seed, stream). */
export function normalsBlock(seedLo: number, seedHi: number, streamLo: number, streamHi: number,
  blockLo: number, blockHi: number): void {
  philoxBlock(blockLo, blockHi, streamLo, streamHi, seedLo, seedHi, WORDS, 0);
  const r0 = Math.sqrt(-2 * logU(WORDS[0]));
  sincosTurns(WORDS[1]);
  Z[0] = r0 * CS[0];
  Z[1] = r0 * CS[1];
  const r2 = Math.sqrt(-2 * logU(WORDS[2]));
  sincosTurns(WORDS[3]);
  Z[2] = r2 * CS[0];
  Z[3] = r2 * CS[1];
}
