/**
 * Exact Gaussian-mixture posteriors: the ideal denoiser, score, log-density, responsibility
 * entropy and posterior variance of data p0 = sum_k w_k N(mu_k, diag(v_k)) under
 * `x_t = alpha * x0 + sigma * eps`, and exact draws of x0, of x_t and of the transition
 * x_s | x_t between two noise levels. Formulas: native/core/mixture.h.
 * @module
 */
import { kernels, native, type NativeBinding } from './backend.js';
import { rangeError, shapeError, typeError } from './errors.js';
import { mixturePosteriorInWorker, totalmem } from './platform/index.js';
import type { FloatArray, Kernels, PerRow, Uint64Like } from './types.js';
import {
  floatArray, nonNegativeInt, options, outArray, overlaps, perRow, positiveInt, rowsOf, streamIds, uint64Words,
} from './validate.js';

/** How the component variances are stored: one shared, one per component, per component and dimension, or all zero. */
export type VarianceKind = 'shared' | 'component' | 'diagonal' | 'empirical';

/** A list of numbers: Float64Array, Float32Array or a plain array. */
export type NumberList = Float64Array | Float32Array | readonly number[];

/** Options of the {@link GaussianMixture} constructor. */
export interface GaussianMixtureOptions {
  /** Dimension of the data (>= 1). */
  dim: number;
  /** Component means, flat row-major [K, dim]; K = means.length / dim >= 1. Finite. */
  means: NumberList;
  /** Relative component weights [K], finite and >= 0 with a positive sum (normalised); default uniform. Zeros allowed. */
  weights?: NumberList;
  /**
   * Component variances (data units squared), finite and > 0: one number (shared isotropic),
   * K numbers (isotropic per component) or K x dim numbers (diagonal, row-major).
   */
  variances: number | NumberList;
}

/** A noise level `x_t = alpha * x0 + sigma * eps`: one number for every row, or one per row. */
export interface NoiseLevel {
  /** Signal scale, finite and >= 0 (0: pure noise). */
  alpha: PerRow;
  /** Noise scale, finite and > 0 (at least 1e-150 so that sigma^2 is a normal double). */
  sigma: PerRow;
}

/** Names of the outputs of {@link GaussianMixture.posterior}. */
export type PosteriorOutput = 'responsibilities' | 'mean' | 'score' | 'logDensity' | 'entropy' | 'variance';

/** The valid keys of a posterior request, in output order. */
export const POSTERIOR_OUTPUTS: readonly PosteriorOutput[] =
  ['responsibilities', 'mean', 'score', 'logDensity', 'entropy', 'variance'];

/**
 * What {@link GaussianMixture.posterior} computes: per output `true` (allocate), an output
 * array of x's dtype and the right length, or false / absent (not computed).
 * Shapes: responsibilities [batch, K]; mean, score [batch, dim]; logDensity, entropy, variance [batch].
 */
export type PosteriorRequest = { [K in PosteriorOutput]?: boolean | FloatArray };

/** The requested outputs, each in x's dtype. */
export type PosteriorResult<T extends FloatArray, W extends PosteriorRequest = PosteriorRequest> =
  { [K in keyof W & PosteriorOutput as W[K] extends true | FloatArray ? K : never]: T } &
  { [K in keyof W & PosteriorOutput as W[K] extends true | FloatArray ? never : W[K] extends false | undefined ? never : K]?: T };

/** The request used when none is given: every output except the [batch, K] responsibilities. */
export type DefaultPosteriorRequest = {
  /** E[x0 | x_t] [batch, dim]. */
  mean: true;
  /** grad log p_t(x_t) [batch, dim]. */
  score: true;
  /** log p_t(x_t) [batch], nats. */
  logDensity: true;
  /** Entropy of the responsibilities [batch], nats. */
  entropy: true;
  /** trace Cov[x0 | x_t] / dim [batch]. */
  variance: true;
};

/** Options of {@link GaussianMixture.sample}. */
export interface MixtureSampleOptions {
  /** Generator key: an integer number below 2^53 or a bigint below 2^64. */
  seed: Uint64Like;
  /** Stream (sample id) of each row, default the row index; a row's draw depends only on (seed, id). */
  sampleIds?: ArrayLike<number | bigint>;
}

/** Options of {@link GaussianMixture.sampleNoisy}: a seed and the noise level of the draws. */
export interface MixtureSampleNoisyOptions extends MixtureSampleOptions {
  /** Signal scale per row or shared, finite. */
  alpha: PerRow;
  /** Noise scale per row or shared, finite and >= 0. */
  sigma: PerRow;
}

/** The two noise levels of {@link GaussianMixture.transition}. */
export interface TransitionLevels {
  /** Level of the given x (alpha >= 0, sigma > 0). */
  from: NoiseLevel;
  /** Level of the draws: alpha > 0, sigma >= 0, and sigma / alpha below that of `from`. */
  to: {
    /** Signal scale of the draws, per row or shared. */
    alpha: PerRow;
    /** Noise scale of the draws, per row or shared. */
    sigma: PerRow;
  };
}

/** Options of {@link GaussianMixture.transition}. */
export interface TransitionOptions extends MixtureSampleOptions {
  /** Output [batch, dim] of x's dtype; may be x itself. */
  out?: FloatArray;
}

/** The plain-JSON form of a mixture (see {@link GaussianMixture.toJSON}). */
export interface GaussianMixtureJSON {
  /** Always 'tweedie.GaussianMixture'. */
  format: 'tweedie.GaussianMixture';
  /** Format version, 1. */
  version: 1;
  /** Dimension of the data. */
  dim: number;
  /** Number of components K. */
  components: number;
  /** Which variances the mixture has (see {@link VarianceKind}). */
  kind: VarianceKind;
  /** Means [K * dim], row-major. */
  means: number[];
  /** Relative weights as given (normalised on load); absent for uniform weights. */
  weights?: number[];
  /** shared: one number; component: K numbers; diagonal: K * dim numbers; empirical: absent. */
  variances?: number | number[];
}

/** Validated noise levels and the output arrays of one posterior call. */
interface Plan<T extends FloatArray> {
  alpha: Float64Array;
  sigma: Float64Array;
  result: Partial<Record<PosteriorOutput, T>>;
}

/** The addon's async entry: mixturePosterior's arguments; the outputs are filled when it resolves. */
type AsyncPosterior = (x: FloatArray, dim: number, means: Float64Array, variances: Float64Array,
  logWeights: Float64Array, alpha: Float64Array, sigma: Float64Array, ...outs: Array<FloatArray | null>) => Promise<void>;

const JSON_FORMAT = 'tweedie.GaussianMixture';
/** Smallest sigma of a posterior: sigma^2 stays a normal double. */
const MIN_SIGMA = 1e-150;
/** Largest alpha^2 v + sigma^2: its reciprocal stays a normal double. */
const MAX_C = 1e300;
/** Responsibilities per chunk of transition rows (bounds the scratch memory). */
const TRANSITION_CHUNK = 1 << 20;
/** Stream layout, docs/random-streams.md: the high word of the index says what a number is for. */
const HI_SAMPLE_X0 = 0x01000000;
const HI_SAMPLE_CHOICE = 0x01000001;
const HI_SAMPLE_NOISE = 0x01000002;
const HI_TRANSITION_X = 0x02000000;
const HI_TRANSITION_CHOICE = 0x02000001;
const TWO_POW_32 = 4294967296;
const TWO_POW_26 = 67108864;
const TWO_POW_M53 = 2 ** -53;

/** Marks the options of an empirical (zero-variance) mixture; module-private. */
const EMPIRICAL = Symbol('empirical');

const ALPHA_RULE = { min: 0, expected: 'a finite number >= 0' };
const SIGMA_RULE = { min: 0, exclusive: true, expected: 'a finite number > 0' };

function numberList(name: string, v: unknown): Float64Array {
  let src: ArrayLike<unknown>;
  if (v instanceof Float64Array || v instanceof Float32Array) src = v;
  else if (Array.isArray(v)) src = v;
  else throw typeError(name, 'a Float64Array, Float32Array or array of numbers', v);
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    if (typeof x !== 'number') throw typeError(`${name}[${i}]`, 'a number', x);
    if (!Number.isFinite(x)) throw rangeError(`${name}[${i}]`, 'a finite number', x);
    out[i] = x;
  }
  return out;
}

/**
 * Sizes below this are allocated without asking the machine's memory first (os.totalmem() costs
 * microseconds a call: as much as a small posterior).
 */
const SMALL_BYTES = 2 ** 28;

/** Whether `bytes` certainly cannot be allocated: more than the machine's memory. */
function beyondMemory(bytes: number): boolean {
  return bytes > SMALL_BYTES && bytes > totalmem();
}

/** Allocates a float array, or throws a RangeError naming it when that cannot fit in memory. */
function allocate<T extends FloatArray>(name: string, ctor: new (n: number) => T, length: number): T {
  const bytes = length * (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const tooBig = (): RangeError => shapeError(`The output for ${name} needs ${length} elements (${bytes} bytes), ` +
    `more than can be allocated (this machine has ${totalmem()} bytes)`);
  if (beyondMemory(bytes)) throw tooBig();
  try {
    return new ctor(length);
  } catch {
    throw tooBig();
  }
}

/** Sample id of row i as (lo, hi) words. */
function streamOf(streams: Uint32Array | null, i: number): [number, number] {
  return streams ? [streams[2 * i], streams[2 * i + 1]] : [i >>> 0, Math.floor(i / TWO_POW_32)];
}

/**
 * The uniform of docs/random-streams.md: words w0, w1 of the Philox block holding index
 * `indexHi * 2^32` of stream (streamLo, streamHi): k = (w0 >>> 6) 2^26 + (w1 >>> 6), u = (2k + 1) 2^-53.
 */
function uniformAt(seedLo: number, seedHi: number, streamLo: number, streamHi: number, indexHi: number,
  counter: Uint32Array, key: Uint32Array, words: Uint32Array): number {
  counter[0] = ((indexHi & 3) << 30) >>> 0;
  counter[1] = indexHi >>> 2;
  counter[2] = streamLo;
  counter[3] = streamHi;
  key[0] = seedLo;
  key[1] = seedHi;
  kernels().philox4x32(counter, key, words);
  const k = (words[0] >>> 6) * TWO_POW_26 + (words[1] >>> 6);
  return (2 * k + 1) * TWO_POW_M53;
}

/**
 * The first k whose running sum of p[o .. o + K) exceeds u * total (left to right, float64),
 * else the last k with p > 0.
 */
function choose(p: Float64Array, o: number, K: number, u: number): number {
  let total = 0;
  for (let k = 0; k < K; k++) total += p[o + k];
  const target = u * total;
  let run = 0;
  let last = -1;
  for (let k = 0; k < K; k++) {
    const pk = p[o + k];
    if (pk > 0) last = k;
    run += pk;
    if (run > target) return k;
  }
  return last;
}

/**
 * A mixture of K Gaussians with isotropic or diagonal covariances in `dim` dimensions, or a
 * finite point set ({@link GaussianMixture.empirical}), with its exact posterior under
 * Gaussian noising. Immutable: validated once at construction, parameters stored as float64 copies.
 */
export class GaussianMixture {
  readonly #dim: number;
  readonly #K: number;
  readonly #means: Float64Array;
  /** Compact variances: length 1 (shared / empirical), K (component) or K * dim (diagonal). */
  readonly #variances: Float64Array;
  readonly #kind: VarianceKind;
  readonly #rawWeights: Float64Array | null;
  readonly #weights: Float64Array;
  readonly #logWeights: Float64Array;
  readonly #vmax: number;

  /**
   * @param opts - dim, means [K, dim], optional weights [K], variances (number, [K] or [K, dim])
   * @throws TypeError / RangeError (code 'ERR_TWEEDIE_INVALID_ARG') naming the bad argument
   */
  constructor(opts: GaussianMixtureOptions) {
    const o = options<GaussianMixtureOptions>('options', opts);
    const dim = positiveInt('dim', o.dim);
    const means = numberList('means', o.means);
    if (means.length === 0 || means.length % dim !== 0) {
      throw rangeError('means.length', `a positive multiple of dim = ${dim} (components * dim)`, means.length);
    }
    const K = means.length / dim;
    let variances: Float64Array;
    let kind: VarianceKind;
    if ((o as { [EMPIRICAL]?: boolean })[EMPIRICAL] === true) {
      variances = new Float64Array(1);
      kind = 'empirical';
    } else if (typeof o.variances === 'number') {
      variances = Float64Array.of(o.variances);
      kind = 'shared';
    } else {
      variances = numberList('variances', o.variances);
      if (variances.length === K) kind = 'component';
      else if (variances.length === K * dim) kind = 'diagonal';
      else {
        throw rangeError('variances.length', `1 number, ${K} (one per component) or ${K * dim} (components * dim)`,
          variances.length);
      }
    }
    for (let i = 0; i < variances.length && kind !== 'empirical'; i++) {
      const v = variances[i];
      if (!(v > 0 && Number.isFinite(v))) {
        throw rangeError(kind === 'shared' ? 'variances' : `variances[${i}]`, 'a finite number > 0', v);
      }
    }
    const raw = o.weights === undefined ? null : numberList('weights', o.weights);
    this.#dim = dim;
    this.#K = K;
    this.#means = means;
    this.#variances = variances;
    this.#kind = kind;
    this.#rawWeights = raw;
    [this.#weights, this.#logWeights] = GaussianMixture.#normalise(raw, K);
    this.#vmax = variances.reduce((m, v) => Math.max(m, v), 0);
  }

  /** Weights [K] normalised (divided by their largest, then by the sum), and their logs. */
  static #normalise(raw: Float64Array | null, K: number): [Float64Array, Float64Array] {
    const w = raw ?? new Float64Array(K).fill(1);
    if (w.length !== K) throw rangeError('weights.length', `${K} (one per component)`, w.length);
    let max = 0;
    for (let k = 0; k < K; k++) {
      if (!(w[k] >= 0)) throw rangeError(`weights[${k}]`, 'a finite number >= 0', w[k]);
      if (w[k] > max) max = w[k];
    }
    if (!(max > 0)) throw shapeError('Expected weights with a positive sum but every weight is 0');
    let sum = 0;
    for (let k = 0; k < K; k++) sum += w[k] / max;
    const p = new Float64Array(K);
    const logp = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      p[k] = w[k] / max / sum;
      logp[k] = Math.log(p[k]);
    }
    return [p, logp];
  }

  /**
   * The point set `points` [K, dim] as a mixture of zero-variance components: its posterior
   * mean is the "memorising" ideal denoiser of a training set.
   * @param points - flat row-major [K, dim], finite
   * @param weights - relative weights [K] (default uniform)
   */
  static empirical(points: NumberList, dim: number, weights?: NumberList): GaussianMixture {
    const d = positiveInt('dim', dim);
    const means = numberList('points', points);
    if (means.length === 0 || means.length % d !== 0) {
      throw rangeError('points.length', `a positive multiple of dim = ${d} (points * dim)`, means.length);
    }
    return new GaussianMixture({ dim: d, means, weights, variances: 0, [EMPIRICAL]: true } as GaussianMixtureOptions);
  }

  /** Reads a mixture saved by {@link GaussianMixture.toJSON}, validating it like the constructor. */
  static fromJSON(json: unknown): GaussianMixture {
    const j = options<GaussianMixtureJSON>('json', json);
    if (j.format !== JSON_FORMAT) throw typeError('json.format', `'${JSON_FORMAT}'`, j.format);
    if (j.version !== 1) throw rangeError('json.version', '1', j.version);
    const kinds: readonly VarianceKind[] = ['shared', 'component', 'diagonal', 'empirical'];
    if (!kinds.includes(j.kind)) throw typeError('json.kind', kinds.map((k) => `'${k}'`).join(', '), j.kind);
    const dim = positiveInt('json.dim', j.dim);
    const K = positiveInt('json.components', j.components);
    const means = numberList('json.means', j.means);
    if (means.length !== K * dim) throw rangeError('json.means.length', `components * dim = ${K * dim}`, means.length);
    const weights = j.weights === undefined ? undefined : numberList('json.weights', j.weights);
    if (j.kind === 'empirical') {
      if (j.variances !== undefined) throw typeError('json.variances', 'nothing for an empirical mixture', j.variances);
      return GaussianMixture.empirical(means, dim, weights);
    }
    const want = j.kind === 'shared' ? 1 : j.kind === 'component' ? K : K * dim;
    if (j.kind === 'shared' ? typeof j.variances !== 'number' : !Array.isArray(j.variances)) {
      throw typeError('json.variances', j.kind === 'shared' ? 'a number' : `an array of ${want} numbers`, j.variances);
    }
    if (Array.isArray(j.variances) && j.variances.length !== want) {
      throw rangeError('json.variances.length', `${want}`, j.variances.length);
    }
    const m = new GaussianMixture({ dim, means, weights, variances: j.variances as number | number[] });
    if (m.#kind !== j.kind && !(j.kind === 'diagonal' && dim === 1)) {
      throw rangeError('json.kind', `'${m.#kind}' for these variances`, j.kind);
    }
    return m;
  }

  /** A plain, versioned JSON object that {@link GaussianMixture.fromJSON} reads back exactly. */
  toJSON(): GaussianMixtureJSON {
    const json: GaussianMixtureJSON = {
      format: JSON_FORMAT, version: 1, dim: this.#dim, components: this.#K, kind: this.#kind,
      means: Array.from(this.#means),
    };
    if (this.#rawWeights) json.weights = Array.from(this.#rawWeights);
    if (this.#kind === 'shared') json.variances = this.#variances[0];
    else if (this.#kind !== 'empirical') json.variances = Array.from(this.#variances);
    return json;
  }

  /** Dimension of the data. */
  get dim(): number {
    return this.#dim;
  }

  /** Number of components K. */
  get components(): number {
    return this.#K;
  }

  /** How the variances were given (see {@link VarianceKind}). */
  get varianceKind(): VarianceKind {
    return this.#kind;
  }

  /** Normalised weights [K] (a copy). */
  get weights(): Float64Array {
    return this.#weights.slice();
  }

  /** Means [K, dim], row-major (a copy). */
  get means(): Float64Array {
    return this.#means.slice();
  }

  /** Variances in diagonal form [K, dim], row-major (a copy; zeros for an empirical mixture). */
  get variances(): Float64Array {
    const K = this.#K;
    const dim = this.#dim;
    const v = this.#variances;
    if (v.length === K * dim) return v.slice();
    const out = new Float64Array(K * dim);
    for (let k = 0; k < K; k++) out.fill(v[v.length === 1 ? 0 : k], k * dim, (k + 1) * dim);
    return out;
  }

  /** Variance of component k, dimension j. */
  #variance(k: number, j: number): number {
    const v = this.#variances;
    return v.length === this.#K * this.#dim ? v[k * this.#dim + j] : v[v.length === 1 ? 0 : k];
  }

  /** Validated (alpha, sigma) of a posterior at `rows` rows: Float64Arrays of length 1 or rows. */
  #levels(name: string, level: unknown, rows: number): [Float64Array, Float64Array] {
    const l = options<NoiseLevel>(name, level);
    const prefix = name === 'level' ? '' : `${name}.`;
    const a = perRow(`${prefix}alpha`, l.alpha, rows, ALPHA_RULE);
    const s = perRow(`${prefix}sigma`, l.sigma, rows, SIGMA_RULE);
    const n = Math.max(a.length, s.length);
    for (let i = 0; i < n; i++) {
      const ai = a[a.length === 1 ? 0 : i];
      const si = s[s.length === 1 ? 0 : i];
      const sAt = `${prefix}sigma${s.length === 1 ? '' : `[${i}]`}`;
      const aAt = `${prefix}alpha${a.length === 1 ? '' : `[${i}]`}`;
      if (si < MIN_SIGMA) throw rangeError(sAt, `a number >= ${MIN_SIGMA} (sigma^2 must not underflow)`, si);
      if (!(ai * ai * this.#vmax + si * si <= MAX_C)) {
        const sigmaTooBig = si * si > MAX_C / 2;
        throw rangeError(sigmaTooBig ? sAt : aAt,
          `a value with alpha^2 * (largest variance ${this.#vmax}) + sigma^2 <= ${MAX_C}`, sigmaTooBig ? si : ai);
      }
    }
    return [a, s];
  }

  /**
   * Rows of x after checking it is a float array of this mixture's dim, and finite unless
   * `finite` is false (the native kernel checks that itself: see {@link GaussianMixture.#checked}).
   */
  #rows(name: string, x: unknown, finite = true): number {
    const arr = floatArray(name, x);
    const rows = rowsOf(name, arr, this.#dim);
    if (finite) GaussianMixture.#finite(name, arr);
    return rows;
  }

  static #finite(name: string, arr: FloatArray): void {
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i])) throw rangeError(`${name}[${i}]`, 'a finite number', arr[i]);
    }
  }

  /**
   * Runs `plan` then `run` with x's finiteness checked by the native kernel (which throws before
   * writing anything) instead of a JavaScript pass over x; on any error x is checked here
   * first, so that the errors are those (and in the order) of the checked path.
   */
  static #checked<R>(x: FloatArray, plan: (finite: boolean) => R, run: (p: R) => void): R {
    if (kernels() !== native()) {
      const p = plan(true);
      run(p);
      return p;
    }
    try {
      const p = plan(false);
      run(p);
      return p;
    } catch (err) {
      GaussianMixture.#finite('x', x);
      throw err;
    }
  }

  /**
   * The exact posterior p(x0 | x_t) at each row of x [batch, dim], computed in float64 and
   * rounded once to x's dtype. Only the requested outputs are computed:
   * - responsibilities [batch, K]: r_k = P(component k | x_t), by a stable log-sum-exp;
   * - mean [batch, dim]: E[x0 | x_t], the ideal denoiser D (data units);
   * - score [batch, dim]: grad_x log p_t(x) (1 / data units);
   * - logDensity [batch]: log p_t(x) (nats; density w.r.t. Lebesgue measure on R^dim);
   * - entropy [batch]: -sum_k r_k log r_k (nats, in [0, log K]);
   * - variance [batch]: trace Cov[x0 | x_t] / dim (data units squared).
   * If |x - alpha mu_k|^2 / C_k overflows a double for every component, logDensity is -Infinity
   * and the nearest components take all the responsibility. No output is NaN. A mean, score
   * or variance whose terms lie beyond the double range is summed again scaled, and is
   * +-Infinity only where that sum, the true value up to the rounding of those huge terms, is
   * beyond the range.
   * Without `want`: all outputs but responsibilities.
   * @param x - noisy data [batch, dim], Float32Array or Float64Array, finite
   * @param level - alpha (finite >= 0) and sigma (finite > 0), one number or one per row
   * @returns an object holding mean, score, logDensity, entropy and variance
   */
  posterior<T extends FloatArray>(x: T, level: NoiseLevel): PosteriorResult<T, DefaultPosteriorRequest>;
  /**
   * {@link GaussianMixture.posterior} with the outputs chosen by `want`.
   * @param x - noisy data [batch, dim], Float32Array or Float64Array, finite
   * @param level - alpha (finite >= 0) and sigma (finite > 0), one number or one per row
   * @param want - which outputs (default: all but responsibilities); `true` allocates, an array is filled
   * @returns an object holding exactly the requested outputs
   */
  posterior<T extends FloatArray, W extends PosteriorRequest>(x: T, level: NoiseLevel, want: W): PosteriorResult<T, W>;
  posterior<T extends FloatArray>(x: T, level: NoiseLevel, want?: PosteriorRequest): Partial<Record<PosteriorOutput, T>> {
    const arr = floatArray('x', x) as T;
    return GaussianMixture.#checked(arr, (finite) => this.#plan(arr, level, want, finite),
      (plan) => this.#run(kernels(), arr, plan)).result;
  }

  /**
   * {@link GaussianMixture.posterior} off the main thread: the native kernel on the libuv
   * thread pool, or the TypeScript twin in a worker thread on the js backend. In the browser
   * build the twin runs on the calling thread after one yield to the event loop (no Web Worker).
   * x and the levels are copied when it is called; the outputs (given arrays are filled) when it
   * resolves.
   * Bad arguments reject the promise with the errors posterior throws.
   */
  posteriorAsync<T extends FloatArray>(x: T, level: NoiseLevel): Promise<PosteriorResult<T, DefaultPosteriorRequest>>;
  posteriorAsync<T extends FloatArray, W extends PosteriorRequest>(x: T, level: NoiseLevel, want: W): Promise<PosteriorResult<T, W>>;
  async posteriorAsync<T extends FloatArray>(x: T, level: NoiseLevel, want?: PosteriorRequest): Promise<Partial<Record<PosteriorOutput, T>>> {
    const plan = this.#plan(x, level, want);
    await this.#runAsync(x, plan);
    return plan.result;
  }

  /** {@link GaussianMixture.denoise} off the main thread (see {@link GaussianMixture.posteriorAsync}). */
  async denoiseAsync<T extends FloatArray>(x: T, level: NoiseLevel, out?: T): Promise<T> {
    const plan = this.#denoisePlan(x, level, out);
    await this.#runAsync(x, plan);
    return plan.result.mean as T;
  }

  /** Calls the kernel with the plan's arrays. */
  #run<T extends FloatArray>(k: Kernels, x: T, p: Plan<T>): void {
    const r = p.result;
    k.mixturePosterior(x, this.#dim, this.#means, this.#variances, this.#logWeights, p.alpha, p.sigma,
      r.responsibilities ?? null, r.mean ?? null, r.score ?? null, r.logDensity ?? null, r.entropy ?? null,
      r.variance ?? null);
  }

  async #runAsync<T extends FloatArray>(x: T, p: Plan<T>): Promise<void> {
    const r = p.result;
    const outs = POSTERIOR_OUTPUTS.map((key) => r[key] ?? null);
    const n = native() as (NativeBinding & { mixturePosteriorAsync?: AsyncPosterior }) | undefined;
    if (n?.mixturePosteriorAsync) {
      await n.mixturePosteriorAsync(x, this.#dim, this.#means, this.#variances, this.#logWeights, p.alpha, p.sigma,
        outs[0], outs[1], outs[2], outs[3], outs[4], outs[5]);
      return;
    }
    const got = await mixturePosteriorInWorker(x, this.#dim, this.#means, this.#variances, this.#logWeights, p.alpha,
      p.sigma, outs.map((o) => (o === null ? -1 : o.length)));
    outs.forEach((o, i) => {
      if (o !== null) o.set(got[i] as T);
    });
  }

  /** Validates posterior's arguments and makes (or checks) its outputs; writes nothing. */
  #plan<T extends FloatArray>(x: T, level: NoiseLevel, want?: PosteriorRequest, finite = true): Plan<T> {
    const rows = this.#rows('x', x, finite);
    const [alpha, sigma] = this.#levels('level', level, rows);
    const request = want === undefined
      ? { mean: true, score: true, logDensity: true, entropy: true, variance: true }
      : options<PosteriorRequest>('want', want);
    const lengths: Record<PosteriorOutput, number> = {
      responsibilities: rows * this.#K, mean: x.length, score: x.length, logDensity: rows, entropy: rows, variance: rows,
    };
    for (const key of Object.keys(request)) {
      if (!(POSTERIOR_OUTPUTS as readonly string[]).includes(key)) {
        throw typeError(`want.${key}`, `one of the keys ${POSTERIOR_OUTPUTS.join(', ')}`, key);
      }
    }
    const given: Array<[PosteriorOutput, FloatArray]> = [];
    let allocations = 0;
    for (const key of POSTERIOR_OUTPUTS) {
      const v = (request as Record<string, unknown>)[key];
      if (v === undefined || v === false) continue;
      if (v === true) {
        allocations += lengths[key];
        continue;
      }
      const o = floatArray(`want.${key}`, v);
      if (o.constructor !== x.constructor) throw typeError(`want.${key}`, `a ${x.constructor.name} like x`, o);
      if (o.length !== lengths[key]) throw rangeError(`want.${key}.length`, `${lengths[key]}`, o.length);
      if (overlaps(o, x)) throw shapeError(`want.${key} must not overlap x`);
      for (const [other, arr] of given) {
        if (overlaps(o, arr)) throw shapeError(`want.${key} must not overlap want.${other}`);
      }
      given.push([key, o]);
    }
    const ctor = x.constructor as new (n: number) => T;
    const bytes = allocations * (x instanceof Float32Array ? 4 : 8);
    if (beyondMemory(bytes)) {
      throw shapeError(`The outputs requested by want need ${bytes} bytes (batch = ${rows}, components = ` +
        `${this.#K}, dim = ${this.#dim}), more than this machine's memory (${totalmem()} bytes)`);
    }
    const result: Partial<Record<PosteriorOutput, T>> = {};
    for (const [key, arr] of given) result[key] = arr as T;
    for (const key of POSTERIOR_OUTPUTS) {
      if ((request as Record<string, unknown>)[key] === true) result[key] = allocate(`want.${key}`, ctor, lengths[key]);
    }
    return { alpha, sigma, result };
  }

  /**
   * The ideal denoiser D(x) = E[x0 | x_t] at each row of x [batch, dim] (the posterior mean alone).
   * @param x - noisy data [batch, dim], finite
   * @param level - alpha (finite >= 0) and sigma (finite > 0), one number or one per row
   * @param out - optional output [batch, dim] of x's dtype (must not overlap x)
   * @returns out (a new array unless given)
   */
  denoise<T extends FloatArray>(x: T, level: NoiseLevel, out?: T): T {
    const arr = floatArray('x', x) as T;
    return GaussianMixture.#checked(arr, (finite) => this.#denoisePlan(arr, level, out, finite),
      (plan) => this.#run(kernels(), arr, plan)).result.mean as T;
  }

  #denoisePlan<T extends FloatArray>(x: T, level: NoiseLevel, out?: T, finite = true): Plan<T> {
    const rows = this.#rows('x', x, finite);
    const [alpha, sigma] = this.#levels('level', level, rows);
    const mean = out === undefined
      ? allocate('out', x.constructor as new (n: number) => T, x.length)
      : outArray('out', out, x, [['x', x, false]]);
    return { alpha, sigma, result: { mean } };
  }

  /** Fills out[r * dim ..] with exact x0 draws for rows r of (seed, stream) pairs (sample()'s streams). */
  #drawX0(out: Float64Array, n: number, seedLo: number, seedHi: number, streams: Uint32Array | null): void {
    const dim = this.#dim;
    const K = this.#K;
    const z = new Float64Array(dim);
    const counter = new Uint32Array(4);
    const key = new Uint32Array(2);
    const words = new Uint32Array(4);
    const empirical = this.#kind === 'empirical';
    for (let i = 0; i < n; i++) {
      const [sLo, sHi] = streamOf(streams, i);
      const u = uniformAt(seedLo, seedHi, sLo, sHi, HI_SAMPLE_CHOICE, counter, key, words);
      const k = choose(this.#weights, 0, K, u);
      if (!empirical) kernels().normalFill(z, seedLo, seedHi, sLo, sHi, 0, HI_SAMPLE_X0);
      const m0 = k * dim;
      const o = i * dim;
      for (let j = 0; j < dim; j++) out[o + j] = this.#means[m0 + j] + Math.sqrt(this.#variance(k, j)) * z[j];
    }
  }

  /** Validated sample count, seed words and stream ids. */
  #sampleArgs(n: unknown, opts: unknown): [number, number, number, Uint32Array | null] {
    const N = nonNegativeInt('n', n);
    const o = options<MixtureSampleOptions>('options', opts);
    if (o.seed === undefined) throw typeError('seed', 'a non-negative integer number or bigint', undefined);
    const [seedLo, seedHi] = uint64Words('seed', o.seed);
    const streams = o.sampleIds === undefined ? null : streamIds('sampleIds', o.sampleIds, N);
    return [N, seedLo, seedHi, streams];
  }

  /**
   * Exact draws of x0 from the mixture: row r picks component k with probability w_k (a
   * uniform from (seed, sample id, index 0x01000001 * 2^32)) and adds sqrt(v_k) times the
   * normals (seed, sample id, 0x01000000 * 2^32 + element). Identical on both backends, and a
   * row depends only on (seed, sample id).
   * @param n - number of draws
   * @returns Float64Array [n, dim]
   */
  sample(n: number, opts: MixtureSampleOptions): Float64Array {
    const [N, seedLo, seedHi, streams] = this.#sampleArgs(n, opts);
    const out = allocate('n', Float64Array, N * this.#dim);
    this.#drawX0(out, N, seedLo, seedHi, streams);
    return out;
  }

  /**
   * Exact draws of x_t = alpha x0 + sigma eps: x0 as {@link GaussianMixture.sample} (the same
   * x0 for the same seed and sample ids), eps = normals (seed, sample id, 0x01000002 * 2^32 + element).
   * @param n - number of draws
   * @returns Float64Array [n, dim]
   */
  sampleNoisy(n: number, opts: MixtureSampleNoisyOptions): Float64Array {
    const [N, seedLo, seedHi, streams] = this.#sampleArgs(n, opts);
    const o = opts;
    const alpha = perRow('alpha', o.alpha, N, { expected: 'a finite number' });
    const sigma = perRow('sigma', o.sigma, N, { min: 0, expected: 'a finite number >= 0' });
    const dim = this.#dim;
    const out = allocate('n', Float64Array, N * dim);
    this.#drawX0(out, N, seedLo, seedHi, streams);
    const eps = new Float64Array(dim);
    for (let i = 0; i < N; i++) {
      const [sLo, sHi] = streamOf(streams, i);
      kernels().normalFill(eps, seedLo, seedHi, sLo, sHi, 0, HI_SAMPLE_NOISE);
      const a = alpha[alpha.length === 1 ? 0 : i];
      const s = sigma[sigma.length === 1 ? 0 : i];
      const o0 = i * dim;
      for (let j = 0; j < dim; j++) out[o0 + j] = a * out[o0 + j] + s * eps[j];
    }
    return out;
  }

  /**
   * Exact draws of x_to | x_from for the Markov forward process, where
   * x_from = rho x_to + N(0, tau^2), rho = alpha_from / alpha_to,
   * tau^2 = sigma_from^2 - rho^2 sigma_to^2 > 0. The conditional is a Gaussian mixture: the
   * component is drawn with the posterior responsibilities at `from` (uniform from (seed,
   * sample id, 0x02000001 * 2^32)); then per dimension, with A = alpha_to^2 v + sigma_to^2 and
   * C = alpha_from^2 v + sigma_from^2, x_to = alpha_to mu + (rho A / C)(x_from - alpha_from mu)
   * + sqrt(A tau^2 / C) z, z = normals (seed, sample id, 0x02000000 * 2^32 + element). This
   * covariance form needs no inverse of a variance, so sigma_to = 0 and empirical mixtures work.
   * @param x - x_from [batch, dim], finite
   * @param levels - from: {alpha >= 0, sigma > 0}; to: {alpha > 0, sigma >= 0} with
   *   sigma_to / alpha_to < sigma_from / alpha_from (one number or one per row each)
   * @returns out (x's dtype; a new array unless opts.out was given)
   */
  transition<T extends FloatArray>(x: T, levels: TransitionLevels, opts: TransitionOptions): T {
    const rows = this.#rows('x', x);
    const lv = options<TransitionLevels>('levels', levels);
    const [af, sf] = this.#levels('from', lv.from, rows);
    const to = options<{ alpha: PerRow; sigma: PerRow }>('to', lv.to);
    const at = perRow('to.alpha', to.alpha, rows, { min: 0, exclusive: true, expected: 'a finite number > 0' });
    const st = perRow('to.sigma', to.sigma, rows, { min: 0, expected: 'a finite number >= 0' });
    const nLevels = Math.max(af.length, sf.length, at.length, st.length);
    const pick = (v: Float64Array, i: number): number => v[v.length === 1 ? 0 : i];
    for (let i = 0; i < nLevels; i++) {
      const a1 = pick(af, i);
      const s1 = pick(sf, i);
      const a0 = pick(at, i);
      const s0 = pick(st, i);
      if (!(s1 * a0 > a1 * s0)) {
        throw shapeError(`Expected to (row ${i}) to have less noise than from: to.sigma / to.alpha < ` +
          `from.sigma / from.alpha, but received ${s0} / ${a0} >= ${s1} / ${a1}`);
      }
    }
    const [, seedLo, seedHi, streams] = this.#sampleArgs(rows, opts);
    const o = options<TransitionOptions>('options', opts);
    const out = o.out === undefined
      ? allocate('out', x.constructor as new (n: number) => T, x.length)
      : outArray('out', o.out, x, [['x', x, true]]);

    const dim = this.#dim;
    const K = this.#K;
    const chunk = Math.max(1, Math.min(rows, Math.floor(TRANSITION_CHUNK / K)));
    const x64 = new Float64Array(Math.min(rows, chunk) * dim);
    const resp = new Float64Array(Math.min(rows, chunk) * K);
    const z = new Float64Array(dim);
    const counter = new Uint32Array(4);
    const key = new Uint32Array(2);
    const words = new Uint32Array(4);
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const m = Math.min(chunk, rows - r0);
      const xs = x64.subarray(0, m * dim);
      for (let i = 0; i < m * dim; i++) xs[i] = x[r0 * dim + i];
      const slice = (v: Float64Array): Float64Array => (v.length === 1 ? v : v.subarray(r0, r0 + m));
      kernels().mixturePosterior(xs, dim, this.#means, this.#variances, this.#logWeights, slice(af), slice(sf),
        resp.subarray(0, m * K), null, null, null, null, null);
      for (let i = 0; i < m; i++) {
        const row = r0 + i;
        const [sLo, sHi] = streamOf(streams, row);
        const u = uniformAt(seedLo, seedHi, sLo, sHi, HI_TRANSITION_CHOICE, counter, key, words);
        const k = choose(resp, i * K, K, u);
        kernels().normalFill(z, seedLo, seedHi, sLo, sHi, 0, HI_TRANSITION_X);
        const a1 = pick(af, row);
        const s1 = pick(sf, row);
        const a0 = pick(at, row);
        const s0 = pick(st, row);
        const rho = a1 / a0;
        // tau^2 = s1^2 - rho^2 s0^2 as a product of a difference and a sum: no cancellation.
        const tau2 = ((s1 * a0 - a1 * s0) * (s1 * a0 + a1 * s0)) / (a0 * a0);
        const m0 = k * dim;
        for (let j = 0; j < dim; j++) {
          const mu = this.#means[m0 + j];
          const v = this.#variance(k, j);
          const A = a0 * a0 * v + s0 * s0;
          const C = a1 * a1 * v + s1 * s1;
          const mean = a0 * mu + (rho * A / C) * (xs[i * dim + j] - a1 * mu);
          out[row * dim + j] = mean + Math.sqrt(A * tau2 / C) * z[j];
        }
      }
    }
    return out;
  }
}
