/**
 * Bit-level comparisons of floating-point arrays: ordinal ULP distance, bit identity, and a
 * readable first difference for failure messages.
 * @module
 */
import type { FloatArray } from '../../src/types.js';

const F64 = new Float64Array(1);
const I64 = new BigInt64Array(F64.buffer);
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** Position of a double on the number line of doubles (monotonic, -0 and +0 both 0). */
function ordinal64(x: number): bigint {
  F64[0] = x;
  const b = I64[0];
  return b < 0n ? -(b & 0x7fffffffffffffffn) : b;
}

/** Number of doubles between a and b (0 when equal; Infinity if either is NaN). */
export function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const d = ordinal64(a) - ordinal64(b);
  return Number(d < 0n ? -d : d);
}

/** Number of floats between a and b, both float32 values. */
export function ulpDistance32(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  F32[0] = a;
  let ia = I32[0];
  F32[0] = b;
  let ib = I32[0];
  if (ia < 0) ia = -(ia & 0x7fffffff);
  if (ib < 0) ib = -(ib & 0x7fffffff);
  return Math.abs(ia - ib);
}

/** The bit pattern of a double as 16 hex digits. */
export function hex64(x: number): string {
  F64[0] = x;
  return (I64[0] & 0xffffffffffffffffn).toString(16).padStart(16, '0');
}

function bitsEqual(a: number, b: number, f32: boolean): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true; // NaN payloads are not part of the contract
  if (f32) {
    F32[0] = a;
    const ia = I32[0];
    F32[0] = b;
    return ia === I32[0];
  }
  return Object.is(a, b);
}

/**
 * Index of the first element whose bits differ (any NaN equals any NaN), or -1. Arrays of
 * different dtype or length differ at index 0 / at the shorter length.
 */
export function firstBitDifference(a: FloatArray, b: FloatArray): number {
  if (a.constructor !== b.constructor) return 0;
  const n = Math.min(a.length, b.length);
  const f32 = a instanceof Float32Array;
  for (let i = 0; i < n; i++) if (!bitsEqual(a[i], b[i], f32)) return i;
  return a.length === b.length ? -1 : n;
}

/** Throws an Error describing the first differing element, unless a and b are bit-identical. */
export function assertBitIdentical(a: FloatArray, b: FloatArray, what: string): void {
  const i = firstBitDifference(a, b);
  if (i < 0) return;
  if (a.constructor !== b.constructor || a.length !== b.length) {
    throw new Error(`${what}: ${a.constructor.name}(${a.length}) vs ${b.constructor.name}(${b.length})`);
  }
  throw new Error(`${what}: element ${i} of ${a.length} differs: ${a[i]} (0x${hex64(a[i])}) vs ${b[i]} (0x${hex64(b[i])})`);
}
