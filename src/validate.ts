/**
 * The one validation layer both backends share: every public function checks its arguments
 * here before any kernel runs or any output is written.
 * @module
 */
import { rangeError, shapeError, typeError } from './errors.js';
import type { FloatArray, PerRow, Uint64Like } from './types.js';

const TWO_POW_32 = 4294967296;
const TWO_POW_64 = 1n << 64n;

/**
 * True when the view cannot be read: its ArrayBuffer was detached (transferred), or it is a
 * view of a resizable buffer that shrank below it (out of bounds). Both read as length 0, like
 * an empty array; V8's slice throws for them (and only them).
 */
export function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0) return false;
  try {
    (view as unknown as Uint8Array).slice(0, 0);
    return false;
  } catch {
    return true;
  }
}

/** A Float32Array or Float64Array whose buffer is not detached. */
export function floatArray(name: string, v: unknown): FloatArray {
  if (!(v instanceof Float32Array || v instanceof Float64Array)) {
    throw typeError(name, 'a Float32Array or Float64Array', v);
  }
  if (isDetached(v)) throw typeError(name, 'a typed array with an attached ArrayBuffer', 'detached ArrayBuffer');
  return v;
}

/** An integer from 1 to 2^53 - 1. */
export function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number') throw typeError(name, 'a positive integer', v);
  if (!Number.isSafeInteger(v) || v < 1) throw rangeError(name, 'a positive integer', v);
  return v;
}

/** An integer from 0 to 2^53 - 1. */
export function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number') throw typeError(name, 'a non-negative integer', v);
  if (!Number.isSafeInteger(v) || v < 0) throw rangeError(name, 'a non-negative integer', v);
  return v;
}

/** Rows of a flat [batch, dim] array. */
export function rowsOf(name: string, x: FloatArray, dim: number): number {
  if (x.length % dim !== 0) {
    throw shapeError(`Expected the length of ${name} to be a multiple of dim = ${dim} but received length ${x.length}`);
  }
  return x.length / dim;
}

/** A 64-bit unsigned integer (safe-integer number or bigint < 2^64) as [lo, hi] uint32 words. */
export function uint64Words(name: string, v: unknown): [number, number] {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw rangeError(name, 'an integer from 0 to 2^53 - 1 (use a bigint for larger values)', v);
    }
    return [v >>> 0, Math.floor(v / TWO_POW_32)];
  }
  if (typeof v === 'bigint') {
    if (v < 0n || v >= TWO_POW_64) throw rangeError(name, 'a bigint from 0 to 2^64 - 1', v);
    return [Number(v & 0xffffffffn), Number(v >> 32n)];
  }
  throw typeError(name, 'a non-negative integer number or bigint', v);
}

/** Interface for per-row options. */
export interface PerRowRule {
  /** Smallest allowed value (inclusive); default: any finite value. */
  min?: number;
  /** When true, `min` itself is not allowed. */
  exclusive?: boolean;
  /** Description used in messages, e.g. 'a finite number >= 0'. */
  expected: string;
}

/** A noise-level style argument as a Float64Array of length 1 (one number) or rows. */
export function perRow(name: string, v: PerRow | undefined, rows: number, rule: PerRowRule): Float64Array {
  const bad = (x: number): boolean =>
    !Number.isFinite(x) || (rule.min !== undefined && (rule.exclusive ? x <= rule.min : x < rule.min));
  if (typeof v === 'number') {
    if (bad(v)) throw rangeError(name, rule.expected, v);
    return Float64Array.of(v);
  }
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number' ||
      (ArrayBuffer.isView(v) && !(v instanceof Float64Array || v instanceof Float32Array))) {
    throw typeError(name, `a number or an array of ${rows} numbers`, v);
  }
  if (ArrayBuffer.isView(v) && isDetached(v)) throw typeError(name, 'a typed array with an attached ArrayBuffer', 'detached ArrayBuffer');
  const arr = v as ArrayLike<number>;
  if (arr.length !== rows) throw rangeError(`${name}.length`, `${rows} (one value per row)`, arr.length);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x = arr[i];
    if (typeof x !== 'number') throw typeError(`${name}[${i}]`, 'a number', x);
    if (bad(x)) throw rangeError(`${name}[${i}]`, rule.expected, x);
    out[i] = x;
  }
  return out;
}

/** Per-row 64-bit ids as a Uint32Array of (lo, hi) pairs. */
export function streamIds(name: string, v: unknown, rows: number): Uint32Array {
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<unknown>).length !== 'number') {
    throw typeError(name, `an array of ${rows} non-negative integers`, v);
  }
  if (ArrayBuffer.isView(v) && isDetached(v)) throw typeError(name, 'a typed array with an attached ArrayBuffer', 'detached ArrayBuffer');
  const arr = v as ArrayLike<unknown>;
  if (arr.length !== rows) throw rangeError(`${name}.length`, `${rows} (one id per row)`, arr.length);
  const words = new Uint32Array(2 * rows);
  for (let i = 0; i < rows; i++) {
    const [lo, hi] = uint64Words(`${name}[${i}]`, arr[i]);
    words[2 * i] = lo;
    words[2 * i + 1] = hi;
  }
  return words;
}

function byteRange(v: ArrayBufferView): [number, number] {
  return [v.byteOffset, v.byteOffset + v.byteLength];
}

/** True when a and b share bytes of the same buffer. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  const [a0, a1] = byteRange(a);
  const [b0, b1] = byteRange(b);
  return a0 < b1 && b0 < a1;
}

/** True when a and b are views of exactly the same elements. */
export function sameView(a: FloatArray, b: FloatArray): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length &&
    a.constructor === b.constructor;
}

/**
 * An output array: same dtype and length as `like`, or a new one when `out` is undefined.
 * `mayEqual` lists inputs that out may be exactly (in place); any other overlap with `inputs`
 * is a RangeError.
 */
export function outArray<T extends FloatArray>(name: string, out: unknown, like: T,
  inputs: Array<[string, FloatArray | null | undefined, boolean]>): T {
  if (out === undefined) return new (like.constructor as new (n: number) => T)(like.length);
  const o = floatArray(name, out);
  if (o.constructor !== like.constructor) {
    throw typeError(name, `a ${like.constructor.name} like the input`, o);
  }
  if (o.length !== like.length) throw rangeError(`${name}.length`, `${like.length}`, o.length);
  for (const [inName, input, mayEqual] of inputs) {
    if (!input || !overlaps(o, input)) continue;
    if (mayEqual && sameView(o, input)) continue;
    throw shapeError(`${name} must not overlap ${inName}${mayEqual ? ` (it may be ${inName} itself)` : ''}`);
  }
  return o as T;
}

/** An options object (or undefined when optional). */
export function options<T extends object>(name: string, v: unknown, optional = false): T {
  if (v === undefined && optional) return {} as T;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError(name, 'an options object', v);
  return v as T;
}
