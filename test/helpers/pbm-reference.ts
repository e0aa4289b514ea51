/**
 * Accuracy of the PBM normals (Philox words -> Box-Muller with our own log and sincos) against a
 * correctly rounded reference built from BigInt fixed point (bigfixed.ts):
 * - ln u for u = (2w + 1) 2^-33 after exact reduction m = 2w + 1 = f 2^k, by the atanh series;
 * - cos, sin of the exact angle pi (2w + 1) 2^-32, reduced exactly by quadrants (integer arithmetic)
 *   to |phi| <= pi/4, by Taylor series with a 100-digit pi;
 * - r = sqrt(-2 ln u) by integer Newton, z = r cos / r sin; each rounded once to the nearest double.
 *
 * Our values are observed end to end through the public randomNormal: for any four target
 * words (w0, w1, w2, w3) the Philox bijection is inverted (for a fixed key, Philox4x32-10 is a
 * permutation of the 128-bit counter) to find the (seed, stream, offset) whose block yields them.
 * The log is measured directly (logU of src/js/pbm.ts). The sincos is not exported, so it is
 * recovered from the normals of a block [r1, w, r2, w]: z0 = fl(R1 cos), z2 = fl(R2 cos) with
 * R = sqrt(-2 logU(r)) known exactly, so cos is among the doubles c with fl(R1 c) = z0 and
 * fl(R2 c) = z2 (almost always exactly one; otherwise the largest error is reported).
 * @module
 */
import { randomNormal } from '../../src/rng.js';
import { logU } from '../../src/js/pbm.js';
import { philox4x32 } from '../../src/js/philox.js';
import * as B from './bigfixed.js';
import { ulpDistance } from './ulp.js';

const M0 = 0xd2511f53n;
const M1 = 0xcd9e8d57n;
const W0 = 0x9e3779b9n;
const W1 = 0xbb67ae85n;
const MASK32 = 0xffffffffn;

/** Inverse of an odd number modulo 2^32 (Newton: each step doubles the correct bits). */
function inverse32(m: bigint): bigint {
  let x = m;
  for (let i = 0; i < 5; i++) x = (x * (2n - m * x)) & MASK32;
  return x;
}
const M0_INV = inverse32(M0);
const M1_INV = inverse32(M1);

/** The counter c with Philox4x32-10(c, key) = words. */
export function philoxInverse(words: readonly number[], k0: number, k1: number): [number, number, number, number] {
  let [o0, o1, o2, o3] = words.map(BigInt);
  for (let round = 9; round >= 0; round--) {
    const rk0 = (BigInt(k0) + BigInt(round) * W0) & MASK32;
    const rk1 = (BigInt(k1) + BigInt(round) * W1) & MASK32;
    // forward: (c0, c1, c2, c3) -> (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0))
    const c2 = (o1 * M1_INV) & MASK32;
    const c0 = (o3 * M0_INV) & MASK32;
    const hi1 = (M1 * c2) >> 32n;
    const hi0 = (M0 * c0) >> 32n;
    const c1 = o0 ^ hi1 ^ rk0;
    const c3 = o2 ^ hi0 ^ rk1;
    [o0, o1, o2, o3] = [c0, c1, c2, c3];
  }
  return [Number(o0), Number(o1), Number(o2), Number(o3)];
}

/** Where the block with the given four words lives: randomNormal(out, { seed, stream, offset }), out.length = 4. */
export interface BlockAddress { seed: bigint; stream: bigint; offset: bigint }

/**
 * A (seed, stream, offset) whose Philox block has the given words. Blocks j >= 2^62 have no
 * offset (offset = 4 j < 2^64), so keys are tried from seedBase on until the inverted counter
 * has a high block word below 2^30 (one key in four, on average). Checked forward.
 */
export function addressOf(words: readonly number[], seedBase = 0x5eed0000n): BlockAddress {
  for (let t = 0n; t < 1000n; t++) {
    const seed = (seedBase + t) & 0xffffffffffffffffn;
    const k0 = Number(seed & MASK32);
    const k1 = Number(seed >> 32n);
    const c = philoxInverse(words, k0, k1);
    if (c[1] >= 2 ** 30) continue;
    const out = new Uint32Array(4);
    philox4x32(Uint32Array.from(c), Uint32Array.of(k0, k1), out);
    if (out.some((v, i) => v !== words[i] >>> 0)) throw new Error(`philoxInverse is wrong for words ${words.join(', ')}`);
    return { seed, stream: (BigInt(c[3]) << 32n) | BigInt(c[2]), offset: 4n * ((BigInt(c[1]) << 32n) | BigInt(c[0])) };
  }
  throw new Error('no reachable key found');
}

/** The four float64 normals of the block with the given words, through the public randomNormal. */
export function normalsOfWords(words: readonly number[], seedBase?: bigint): Float64Array {
  return randomNormal(new Float64Array(4), addressOf(words, seedBase));
}

/** ln((w + 0.5) 2^-32) = ln((2w + 1) 2^-33), fixed point. */
export function refLog(w: number): bigint {
  return B.lnScaled(2n * BigInt(w) + 1n, -33);
}

/** The Box-Muller radius sqrt(-2 ln u(w)), fixed point. */
export function refRadius(w: number): bigint {
  return B.sqrt(-2n * refLog(w));
}

/**
 * [cos, sin] of 2 pi (w + 0.5) 2^-32 = pi j 2^-32 with j = 2w + 1, fixed point: j = q 2^31 + rem
 * with |rem| <= 2^30 (exact integers), phi = pi rem 2^-32 in [-pi/4, pi/4], then a rotation by q quarter turns.
 */
export function refCosSin(w: number): [bigint, bigint] {
  const j = 2n * BigInt(w) + 1n;
  const q = (j + (1n << 30n)) >> 31n;
  const rem = j - (q << 31n);
  const [c, s] = B.cosSinSmall((B.PI * rem) >> 32n);
  switch (Number(q & 3n)) {
    case 0: return [c, s];
    case 1: return [-s, c];
    case 2: return [-c, -s];
    default: return [s, -c];
  }
}

/** Error of a double y against an exact value: ordinal ULPs to the correctly rounded value, and |y - exact| / ulp(exact). */
export interface UlpError { ulps: number; frac: number }

export function ulpError(y: number, exact: bigint): UlpError {
  const rounded = B.toDouble(exact);
  const diff = B.fromDouble(y) - exact;
  const ulp = B.ulpFixed(rounded);
  return { ulps: ulpDistance(y, rounded), frac: Math.abs(Number((diff * 1000000n) / ulp)) / 1e6 };
}

/** Running max and mean of errors, remembering the worst input. */
export class ErrorStats {
  maxUlps = 0;
  maxFrac = 0;
  sumFrac = 0;
  count = 0;
  worst = '';
  add(e: UlpError, what: string): void {
    this.count++;
    this.sumFrac += e.frac;
    if (e.ulps > this.maxUlps || (e.ulps === this.maxUlps && e.frac > this.maxFrac)) this.worst = what;
    this.maxUlps = Math.max(this.maxUlps, e.ulps);
    this.maxFrac = Math.max(this.maxFrac, e.frac);
  }
  get meanFrac(): number {
    return this.count ? this.sumFrac / this.count : 0;
  }
  toString(): string {
    return `max ${this.maxUlps} ulp (${this.maxFrac.toFixed(3)} ulp from the exact value), ` +
      `mean ${this.meanFrac.toFixed(3)} ulp over ${this.count}; worst: ${this.worst}`;
  }
}

/** Errors of the four normals of the block with words w (z0 = r(w0) cos(w1), z1 = r(w0) sin(w1), z2, z3). */
export function measureBlock(words: readonly number[], z: ArrayLike<number>, stats: ErrorStats): void {
  for (const pair of [0, 2]) {
    const r = refRadius(words[pair]);
    const [c, s] = refCosSin(words[pair + 1]);
    const tag = `w${pair} = ${words[pair]}, w${pair + 1} = ${words[pair + 1]}`;
    stats.add(ulpError(z[pair], B.mul(r, c)), `z${pair} (${tag}) = ${z[pair]}`);
    stats.add(ulpError(z[pair + 1], B.mul(r, s)), `z${pair + 1} (${tag}) = ${z[pair + 1]}`);
  }
}

/** Error of logU(w) against ln((w + 0.5) 2^-32). */
export function measureLog(w: number, stats: ErrorStats): void {
  const y = logU(w);
  stats.add(ulpError(y, refLog(w)), `logU(${w}) = ${y}`);
}

const F64 = new Float64Array(1);
const I64 = new BigInt64Array(F64.buffer);
function nextDouble(x: number, steps: number): number {
  F64[0] = x;
  // x > 0 here: moving the bit pattern moves along the doubles
  I64[0] += BigInt(steps);
  return F64[0];
}

/** Every double c near z / r with fl(r * c) === z (r > 0, z finite and non-zero). */
export function factorCandidates(z: number, r: number): number[] {
  const sign = z < 0 ? -1 : 1;
  const az = Math.abs(z);
  const c0 = az / r;
  const out: number[] = [];
  for (let k = -6; k <= 6; k++) {
    const c = nextDouble(c0, k);
    if (r * c === az) out.push(sign * c);
  }
  if (out.length === 0) throw new Error(`no factor c with fl(${r} * c) = ${z}`);
  return out;
}

/**
 * Radius words with r = sqrt(-2 ln u) just above 1/2 (r^2 / 2 in [0.1250001, 0.125001]): then
 * r * c falls in the binade below c's except for c within 4e-6 (relative) of the top of its
 * binade, so fl(r * c) determines c uniquely (its neighbours are r ulp(c) > ulp(r c) apart)
 * for nearly all c.
 */
export const RADIUS_WORD_LO = Math.ceil(Math.exp(-0.125001) * 2 ** 32);
export const RADIUS_WORD_HI = Math.floor(Math.exp(-0.1250001) * 2 ** 32);
/**
 * Radius words with r in about [0.6, 0.62], a second look at the same c: for r = 2^j (1 + t)
 * the doubles c with several candidates are the top t / (1 + t) of each binade, so two radii
 * leave only the overlap, the top 4e-6 of a binade (cos or sin within ~1e-6 of 1/2^k).
 */
export const RADIUS2_WORD_LO = Math.ceil(Math.exp(-0.1922) * 2 ** 32);
export const RADIUS2_WORD_HI = Math.floor(Math.exp(-0.18) * 2 ** 32);

/** A block [r1, w, r2, w] that shows cos and sin of angle word w through two radii (see measureSinCos). */
export function sinCosWords(w: number, next: () => number): number[] {
  const r1 = RADIUS_WORD_LO + (next() % (RADIUS_WORD_HI - RADIUS_WORD_LO + 1));
  const r2 = RADIUS2_WORD_LO + (next() % (RADIUS2_WORD_HI - RADIUS2_WORD_LO + 1));
  return [r1, w >>> 0, r2, w >>> 0];
}

/**
 * Errors of our cos and sin of 2 pi (w + 0.5) 2^-32 from a block [r1, w, r2, w] (sinCosWords):
 * z0 = fl(R1 c), z2 = fl(R2 c) with R = sqrt(-2 logU(r)) known exactly, so c is among the
 * doubles d with fl(R1 d) = z0 and fl(R2 d) = z2; likewise sin from z1 and z3. When several
 * candidates remain, the largest error is reported. Returns how many of the two values had
 * more than one candidate.
 */
export function measureSinCos(words: readonly number[], z: ArrayLike<number>, cosStats: ErrorStats,
  sinStats: ErrorStats): number {
  if (words[1] !== words[3]) throw new Error('measureSinCos needs a block [r1, w, r2, w]');
  const w = words[1];
  const r1 = Math.sqrt(-2 * logU(words[0])); // exactly the r the generator multiplies by
  const r2 = Math.sqrt(-2 * logU(words[2]));
  const [c, s] = refCosSin(w);
  let ambiguous = 0;
  for (const [za, zb, exact, stats, name] of [[z[0], z[2], c, cosStats, 'cos'], [z[1], z[3], s, sinStats, 'sin']] as const) {
    const b = factorCandidates(zb, r2);
    const candidates = factorCandidates(za, r1).filter((d) => b.includes(d));
    if (candidates.length === 0) throw new Error(`${name}(w = ${w}): no double fits both ${za} = fl(${r1} c) and ${zb} = fl(${r2} c)`);
    if (candidates.length > 1) ambiguous++;
    let worst: UlpError = { ulps: -1, frac: -1 };
    for (const cand of candidates) {
      const e = ulpError(cand, exact);
      if (e.ulps > worst.ulps || (e.ulps === worst.ulps && e.frac > worst.frac)) worst = e;
    }
    stats.add(worst, `${name}(w = ${w}) = ${candidates.join(' or ')}`);
  }
  return ambiguous;
}

/** A small seeded PRNG for choosing words (mulberry32): independent of the generator under test. */
export function wordSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Edge-case words: both ends, powers of two and their neighbours, quadrant and octant boundaries, the log's sqrt(2) folds. */
export function edgeWords(): number[] {
  const set = new Set<number>();
  const add = (w: number): void => {
    if (w >= 0 && w <= 0xffffffff) set.add(w >>> 0);
  };
  for (const w of [0, 1, 2, 3, 2 ** 31, 2 ** 31 - 1, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32 - 2]) add(w);
  for (let e = 0; e < 32; e++) for (const d of [-1, 0, 1]) add(2 ** e + d);
  for (let k = 0; k <= 4; k++) {
    for (let d = -3; d <= 3; d++) {
      add(2 ** 30 * k + d); // angle near k quarter turns: cos or sin near 0
      add(2 ** 30 * k + 2 ** 29 + d); // octant: where the reduction switches quadrant
    }
  }
  // log: the fold point, f = (2w + 1) 2^-e crossing sqrt(2)
  for (let e = 1; e <= 32; e++) {
    const at = Math.floor((Math.SQRT2 * 2 ** e - 1) / 2);
    for (let d = -1; d <= 2; d++) add(at + d);
  }
  return [...set].sort((a, b) => a - b);
}
