/**
 * Test arrays: views with guard elements around them (to catch writes out of bounds and
 * misaligned element offsets), deterministic value fills with special values, and 64-bit
 * values as (lo, hi) words.
 * @module
 */
import type { FloatArray } from '../../src/types.js';

/** An ArrayBuffer with the ES2024 resizable options (not in this project's lib typings). */
export interface ResizableArrayBuffer extends ArrayBuffer { resize(byteLength: number): void }
export const ResizableArrayBuffer = ArrayBuffer as unknown as
  new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

export type Dtype = 'f32' | 'f64';
export const ctorOf = (d: Dtype): Float32ArrayConstructor | Float64ArrayConstructor =>
  d === 'f32' ? Float32Array : Float64Array;

/** Guard value written around a view; any kernel writing it is a bug. */
export const GUARD = -12345.6875; // exact in float32

/** A view of n elements at element offset `lead` of a larger buffer whose other elements are GUARD. */
export interface GuardedView<T extends FloatArray> {
  view: T;
  whole: T;
  lead: number;
}

export function guarded<T extends FloatArray>(dtype: Dtype, n: number, lead: number, tail: number): GuardedView<T> {
  const whole = new (ctorOf(dtype))(lead + n + tail).fill(GUARD) as T;
  return { whole, lead, view: whole.subarray(lead, lead + n) as T };
}

/** The index of the first guard element that changed, or -1. */
export function guardBroken(g: GuardedView<FloatArray>): number {
  const end = g.lead + g.view.length;
  for (let i = 0; i < g.whole.length; i++) {
    if ((i < g.lead || i >= end) && !Object.is(g.whole[i], GUARD)) return i;
  }
  return -1;
}

/** A copy of a guarded view, guards included, at the same offsets. */
export function cloneGuarded<T extends FloatArray>(g: GuardedView<T>): GuardedView<T> {
  const whole = g.whole.slice() as T;
  return { whole, lead: g.lead, view: whole.subarray(g.lead, g.lead + g.view.length) as T };
}

/** mulberry32: a small deterministic PRNG for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = [0, -0, 1, -1, 5e-324, -2.5e-310, 1e-40, 3.4e38, 1e300, -1e300, Infinity, -Infinity, NaN, 0.1, 65504];

/**
 * Fills a with values from `seed`: mostly scaled normals-ish values, with probability `special`
 * one of zeros, subnormals, huge values, infinities and NaN.
 */
export function fillValues(a: FloatArray, seed: number, special = 0.02): void {
  const r = prng(seed);
  for (let i = 0; i < a.length; i++) {
    if (r() < special) a[i] = SPECIAL[Math.floor(r() * SPECIAL.length)];
    else a[i] = (r() * 2 - 1) * 10 ** Math.floor(r() * 7 - 3);
  }
}

/** [lo, hi] uint32 words of a 64-bit bigint. */
export function words64(v: bigint): [number, number] {
  return [Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)];
}
