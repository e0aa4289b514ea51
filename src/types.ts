/** Shared types. @module */

/** A batch of values: a flat row-major `[batch, dim]` array of either float dtype. */
export type FloatArray = Float32Array | Float64Array;

/** A noise-level argument: one number for every row, or one value per row. */
export type PerRow = number | ArrayLike<number>;

/** A 64-bit unsigned integer: a safe integer `number` (< 2^53) or a `bigint` (< 2^64). */
export type Uint64Like = number | bigint;

/** The low-level kernel set implemented by both backends with identical semantics. */
export interface Kernels {
  /** Philox4x32-10 of one counter block. */
  philox4x32(counter: Uint32Array, key: Uint32Array, out: Uint32Array): void;
  /** out[i] = normal(seed, stream, offset + i); 64-bit values as (lo, hi) word pairs. */
  normalFill(out: FloatArray, seedLo: number, seedHi: number, streamLo: number, streamHi: number,
    offsetLo: number, offsetHi: number): void;
  /** out[r, e] = a[r] * x[r, e] + c[r] * y[r, e]; a, c of length 1 (broadcast) or rows. */
  combine2(out: FloatArray, x: FloatArray, y: FloatArray, dim: number, a: Float64Array, c: Float64Array): void;
  /** Fused noising with inline normals; streams: [lo, hi] per row, or null for the row index. */
  addNoise(out: FloatArray, epsOut: FloatArray | null, x0: FloatArray, dim: number, a: Float64Array,
    c: Float64Array, seedLo: number, seedHi: number, streams: Uint32Array | null): void;
  /**
   * Sampler step: out = sum_j coef_j term_j (+ coef_n z), left to right in float64, one rounding;
   * coef per term (and noise), or coef[j * rows + r] when coefPerRow; noise = [seedLo, seedHi,
   * indexHi] draws z = normal(seed, stream_r, indexHi * 2^32 + e); streams as in addNoise.
   */
  lincomb(out: FloatArray, dim: number, terms: FloatArray[], coef: Float64Array, coefPerRow: boolean,
    noise: Uint32Array | null, streams: Uint32Array | null): void;
  /**
   * Checks a model's output and copies it: returns the index of src's first NaN or infinity, or -1
   * after copying src into out (rounded once to out's dtype). out may be src (then it only checks),
   * never a partial overlap; out's content is unspecified when the result is >= 0.
   */
  copyFinite(out: FloatArray, src: FloatArray): number;
  /**
   * Exact posterior of a diagonal Gaussian mixture at each row of x [rows, dim] (formulas:
   * native/core/mixture.h): means [K, dim]; variances of length K * dim, K or 1; logWeights [K]
   * (normalised, -Infinity for zero weights); alpha, sigma of length 1 or rows. Each output
   * (x's dtype; null = not computed): responsibilities [rows, K], mean and score [rows, dim],
   * logDensity, entropy and variance [rows].
   */
  mixturePosterior(x: FloatArray, dim: number, means: Float64Array, variances: Float64Array,
    logWeights: Float64Array, alpha: Float64Array, sigma: Float64Array, responsibilities: FloatArray | null,
    mean: FloatArray | null, score: FloatArray | null, logDensity: FloatArray | null,
    entropy: FloatArray | null, variance: FloatArray | null): void;
}
