/**
 * A counter-based virtual Brownian tree: one Brownian path W per sample over the noise levels
 * of a run, evaluated at any sigma without storing the path, so that the noise of an SDE
 * sampler is the increment of one path whatever the step grid (k-diffusion's
 * BrownianTreeNoiseSampler, made independent of the batch: each row's path depends only on
 * (seed, sample id) and the run's sigma range).
 *
 * Construction (docs/random-streams.md):
 * - Brownian time is sigma itself (as k-diffusion's tree): W(sigmaMin) = 0,
 *   W(sigmaMax) = sqrt(sigmaMax - sigmaMin) * z_0.
 * - The split points are dyadic in u = ln(sigma): the node interval [a, b] (heap numbering,
 *   root = 1, children 2n and 2n + 1) splits at u_m = (u_a + u_b) / 2, sigma_m = exp(u_m), where
 *   W(sigma_m) is the Brownian bridge value
 *   W_a + w (W_b - W_a) + sqrt((sigma_m - sigma_a)(sigma_b - sigma_m) / (sigma_b - sigma_a)) z_n,
 *   w = (sigma_m - sigma_a) / (sigma_b - sigma_a). Splitting in ln sigma gives the same relative
 *   resolution at every noise level.
 * - z_n is the normal of element e at index (0x20000000 + n) * 2^32 + e, stream = sample id
 *   (node 0 is the endpoint W(sigmaMax)).
 * - Refinement stops at depth ceil(log2((ln sigmaMax - ln sigmaMin) / tol)) (at most
 *   {@link BROWNIAN_MAX_DEPTH}), tol = {@link BROWNIAN_TOL} in ln sigma; inside a leaf W is
 *   interpolated linearly (the bridge mean). Values at tree nodes are exact draws of the path;
 *   an increment over an interval covering n leaves misses at most a fraction ~1/(2n) of its
 *   variance (about 1e-3 for an interval of 1e-3 in ln sigma).
 *
 * Every value is computed in float64 through the step kernel (same bits on every backend).
 * A query costs depth + 2 passes over the batch with inline normals (~26 for sigma 0.002..80);
 * the last three values are cached, so consecutive steps pay one query each.
 * @module
 */
import { kernels } from '../backend.js';
import type { NoiseSampler } from './engine.js';

/** Index high word of the endpoint normal z_0; node n uses BROWNIAN_TAG + n. */
export const BROWNIAN_TAG = 0x20000000;
/** Leaf width of the tree in ln(sigma). */
export const BROWNIAN_TOL = 2 ** -20;
/** Deepest refinement (node ids stay below 2^26, index high words below 0x24000000). */
export const BROWNIAN_MAX_DEPTH = 26;

/** Settings of a {@link BrownianTree}. */
export interface BrownianTreeOptions {
  /** Number of samples (rows). */
  rows: number;
  /** Row length. */
  dim: number;
  /** The seed as [low, high] 32-bit words. */
  seed: [number, number];
  /** Stream id per row as (lo, hi) word pairs, or null for the row index. */
  streams: Uint32Array | null;
  /** Lower end of the path (W = 0 there), > 0. */
  sigmaMin: number;
  /** Upper end of the path, >= sigmaMin. */
  sigmaMax: number;
  /**
   * The array operations (default: the step kernel, fill(0) and set): a recording run
   * (src/samplers/program.ts) substitutes its own to capture the tree's work as a program.
   */
  ops?: TreeOps;
}

/** The array operations of a {@link BrownianTree}: the step kernel's lincomb, zero and copy. */
export interface TreeOps {
  lincomb(out: Float64Array, dim: number, terms: Float64Array[], coef: Float64Array, coefPerRow: boolean,
    noise: Uint32Array | null, streams: Uint32Array | null): void;
  zero(a: Float64Array): void;
  copy(dst: Float64Array, src: Float64Array): void;
}

const kernelOps: TreeOps = {
  lincomb: (out, dim, terms, coef, coefPerRow, noise, streams) => kernels().lincomb(out, dim, terms, coef, coefPerRow, noise, streams),
  zero: (a) => a.fill(0),
  copy: (dst, src) => dst.set(src),
};

interface Cached { sigma: number; w: Float64Array; used: number }

/** One Brownian path per row in sigma over [sigmaMin, sigmaMax], evaluated lazily. */
export class BrownianTree {
  /** Refinement depth in use. */
  readonly depth: number;
  private readonly dim: number;
  private readonly sMin: number;
  private readonly sMax: number;
  private readonly words: Uint32Array;
  private readonly streams: Uint32Array | null;
  private readonly wa: Float64Array;
  private readonly wb: Float64Array;
  private readonly out: Float64Array;
  private readonly cache: Cached[];
  private readonly c2 = new Float64Array(2);
  private readonly c3 = new Float64Array(3);
  private readonly ops: TreeOps;
  private clock = 0;

  constructor(o: BrownianTreeOptions) {
    const n = o.rows * o.dim;
    this.dim = o.dim;
    this.sMin = o.sigmaMin;
    this.sMax = o.sigmaMax;
    this.words = Uint32Array.of(o.seed[0], o.seed[1], 0);
    this.streams = o.streams;
    this.ops = o.ops ?? kernelOps;
    const range = Math.log(o.sigmaMax) - Math.log(o.sigmaMin);
    this.depth = range > 0 ? Math.min(BROWNIAN_MAX_DEPTH, Math.max(1, Math.ceil(Math.log2(range / BROWNIAN_TOL)))) : 0;
    this.wa = new Float64Array(n);
    this.wb = new Float64Array(n);
    this.out = new Float64Array(n);
    this.cache = Array.from({ length: 3 }, () => ({ sigma: NaN, w: new Float64Array(n), used: 0 }));
  }

  /**
   * The normalised increment (W(hi) - W(lo)) / sqrt(hi - lo) of every row's path over the
   * interval between sigma and sigmaNext (either order; zeros for an empty interval). Points
   * outside [sigmaMin, sigmaMax] are clamped to it. The returned array is reused by the next call.
   */
  increment(sigma: number, sigmaNext: number): Float64Array {
    const hi = Math.min(Math.max(sigma, sigmaNext), this.sMax);
    const lo = Math.max(Math.min(sigma, sigmaNext), this.sMin);
    if (!(hi > lo)) {
      this.ops.zero(this.out);
      return this.out;
    }
    const wHi = this.at(hi);
    const wLo = this.at(lo);
    const k = 1 / Math.sqrt(hi - lo);
    this.c2[0] = k;
    this.c2[1] = -k;
    this.ops.lincomb(this.out, this.dim, [wHi, wLo], this.c2, false, null, null);
    return this.out;
  }

  /** W(sigma) of every row (sigma clamped to the range); a cached array, valid until the next query. */
  at(sigma: number): Float64Array {
    const s = Math.min(Math.max(sigma, this.sMin), this.sMax);
    for (const c of this.cache) {
      if (c.sigma === s) {
        c.used = ++this.clock;
        return c.w;
      }
    }
    let slot = this.cache[0];
    for (const c of this.cache) if (c.used < slot.used) slot = c;
    this.evaluate(s, slot.w);
    slot.sigma = s;
    slot.used = ++this.clock;
    return slot.w;
  }

  /** A noise sampler (k-diffusion's interface) drawing this tree's increments. */
  noiseSampler(): NoiseSampler {
    return (sigma, sigmaNext) => this.increment(sigma, sigmaNext);
  }

  private draw(out: Float64Array, terms: Float64Array[], c: Float64Array, tag: number): void {
    this.words[2] = tag;
    this.ops.lincomb(out, this.dim, terms, c, false, this.words, this.streams);
  }

  /** W(s) for s in [sMin, sMax] into w, descending from the root. */
  private evaluate(s: number, w: Float64Array): void {
    if (s <= this.sMin || this.depth === 0) {
      this.ops.zero(w);
      return;
    }
    const { wa, wb } = this;
    let tA = this.sMin;
    let tB = this.sMax;
    let uA = Math.log(tA);
    let uB = Math.log(tB);
    this.ops.zero(wa);
    this.ops.zero(wb);
    this.c2[0] = 0;
    this.c2[1] = Math.sqrt(tB - tA);
    this.draw(wb, [wb], this.c2, BROWNIAN_TAG);
    if (s >= tB) {
      this.ops.copy(w, wb);
      return;
    }
    let node = 1;
    for (let level = 0; level < this.depth; level++) {
      const uM = 0.5 * (uA + uB);
      const tM = Math.exp(uM);
      if (!(tM > tA && tM < tB)) break; // the interval no longer splits in float64
      const span = tB - tA;
      const wt = (tM - tA) / span;
      this.c3[0] = 1 - wt;
      this.c3[1] = wt;
      this.c3[2] = Math.sqrt(((tM - tA) * (tB - tM)) / span);
      if (s < tM) {
        this.draw(wb, [wa, wb], this.c3, BROWNIAN_TAG + node);
        tB = tM;
        uB = uM;
        node = 2 * node;
      } else {
        this.draw(wa, [wa, wb], this.c3, BROWNIAN_TAG + node);
        tA = tM;
        uA = uM;
        node = 2 * node + 1;
      }
      if (s === tA) {
        this.ops.copy(w, wa);
        return;
      }
    }
    const wt = (s - tA) / (tB - tA);
    this.c2[0] = 1 - wt;
    this.c2[1] = wt;
    this.ops.lincomb(w, this.dim, [wa, wb], this.c2, false, null, null);
  }
}
