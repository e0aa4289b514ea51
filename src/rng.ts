/**
 * Counter-based random numbers: Philox4x32-10 and the normals built from it.
 *
 * Stream layout (fixed; part of the API): normal number `i` of `(seed, stream)` comes from the
 * Philox block with key = [seed low 32 bits, seed high 32 bits] and counter =
 * [j low, j high, stream low, stream high], j = floor(i / 4); the block's words w0..w3 give
 * z0 = r(w0) cos t(w1), z1 = r(w0) sin t(w1), z2 = r(w2) cos t(w3), z3 = r(w2) sin t(w3) with
 * u(w) = (w + 0.5) 2^-32, r = sqrt(-2 ln u), t = 2 pi u, using our own ln and sincos so that
 * every backend gives the same bits. Float32 output is the float64 value rounded once.
 * @module
 */
import { kernels } from './backend.js';
import { rangeError, typeError } from './errors.js';
import type { FloatArray, Uint64Like } from './types.js';
import { floatArray, isDetached, options, uint64Words } from './validate.js';

const TWO_POW_64 = 1n << 64n;

/**
 * Philox4x32-10 of one block (Salmon et al. 2011), as in Random123.
 * @param counter - four uint32 counter words, word 0 first
 * @param key - two uint32 key words
 * @returns the four output words
 */
export function philox4x32(counter: Uint32Array, key: Uint32Array): Uint32Array {
  if (!(counter instanceof Uint32Array)) throw typeError('counter', 'a Uint32Array of length 4', counter);
  if (!(key instanceof Uint32Array)) throw typeError('key', 'a Uint32Array of length 2', key);
  for (const [name, v] of [['counter', counter], ['key', key]] as const) {
    if (isDetached(v)) throw typeError(name, 'a typed array with an attached ArrayBuffer', 'detached ArrayBuffer');
  }
  if (counter.length !== 4) throw rangeError('counter.length', '4', counter.length);
  if (key.length !== 2) throw rangeError('key.length', '2', key.length);
  const out = new Uint32Array(4);
  kernels().philox4x32(counter, key, out);
  return out;
}

/** Options of {@link randomNormal}. */
export interface RandomNormalOptions {
  /** Key of the generator: an integer number below 2^53, or a bigint below 2^64. */
  seed: Uint64Like;
  /** Independent stream under the same seed (default 0): number below 2^53 or bigint below 2^64. */
  stream?: Uint64Like;
  /** Index of the first normal written (default 0): out[k] is normal number offset + k. */
  offset?: Uint64Like;
}

/**
 * Fills `out` with standard normal deviates number `offset .. offset + out.length - 1` of
 * `(seed, stream)`. The values depend only on (seed, stream, index): filling [0, n) at once
 * equals filling [0, m) and then [m, n) with offset m; both backends give the same bits.
 * @returns out
 */
export function randomNormal<T extends FloatArray>(out: T, opts: RandomNormalOptions): T {
  floatArray('out', out);
  const o = options<RandomNormalOptions>('options', opts);
  if (o.seed === undefined) throw typeError('seed', 'a non-negative integer number or bigint', undefined);
  const [seedLo, seedHi] = uint64Words('seed', o.seed);
  const [streamLo, streamHi] = uint64Words('stream', o.stream === undefined ? 0 : o.stream);
  const [offLo, offHi] = uint64Words('offset', o.offset === undefined ? 0 : o.offset);
  if ((BigInt(offHi) << 32n) + BigInt(offLo) + BigInt(out.length) > TWO_POW_64) {
    throw rangeError('offset', `at most 2^64 - ${out.length} so that offset + out.length <= 2^64`, o.offset);
  }
  kernels().normalFill(out, seedLo, seedHi, streamLo, streamHi, offLo, offHi);
  return out;
}
