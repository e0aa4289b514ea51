/**
 * The sampler engine: every sampler is a generator that yields model evaluations and step
 * boundaries; the engine runs it synchronously or asynchronously, calls the model, validates
 * what comes back, draws noise and applies the fused step kernel. One implementation of each
 * sampler therefore serves `sample` and `sampleSync` and both backends.
 * @module
 */
import { kernels } from '../backend.js';
import { jsKernels } from '../js/index.js';
import { typeError } from '../errors.js';
import type { FloatArray } from '../types.js';
import { isDetached } from '../validate.js';

/** A denoiser: D(x; sigma) = E[x0 | x], for x at noise level sigma (one sigma per row). */
export type DenoiserFn = (x: FloatArray, sigma: Float64Array) => FloatArray | Promise<FloatArray>;

/** Anything with the mixture's denoise method (GaussianMixture): evaluated without a JS callback. */
export interface MixtureDenoiser {
  /** Dimension of the data. */
  readonly dim: number;
  /** E[x0 | x_t] for x [batch, dim] at (alpha, sigma), written into `out` when given. */
  denoise(x: FloatArray, level: { alpha: number | ArrayLike<number>; sigma: number | ArrayLike<number> }, out?: FloatArray): FloatArray;
}

/** A model: a denoiser function, or a GaussianMixture (its exact denoiser). */
export type Model = DenoiserFn | MixtureDenoiser;

/** Overrides the built-in noise: returns standard normal noise for the step sigma -> sigmaNext. */
export type NoiseSampler = (sigma: number, sigmaNext: number) => FloatArray;

/** What `onStep` receives after each step (k-diffusion's callback). Arrays are valid during the call only. */
export interface StepInfo {
  /** Step index (0-based). */
  i: number;
  /** sigmas[i]. */
  sigma: number;
  /** sigmas[i + 1]. */
  sigmaNext: number;
  /** The noise level the model saw first in this step (sigma raised by churn, else sigma). */
  sigmaHat: number;
  /** The state at the start of the step (after churn). */
  x: FloatArray;
  /** The first denoiser output of the step. */
  denoised: FloatArray;
}

/** A request a sampler yields to the engine. */
export type Request =
  | { kind: 'eval'; x: FloatArray; sigma: number | Float64Array; into: FloatArray; step: number }
  | { kind: 'step'; info: StepInfo };

/** A sampler: yields requests; `run` gives it the state, buffers, noise and step kernel. */
export type SamplerFn = (run: Run) => Generator<Request, void, void>;

/** Index high word of sampler noise (docs/random-streams.md): 0x10000000 + 8 * step + stage. */
export function noiseTag(step: number, stage: number): number {
  return 0x10000000 + 8 * step + stage;
}

/** Settings a run is made from (validated by the public layer). */
export interface RunConfig {
  x: FloatArray;
  dim: number;
  sigmas: Float64Array;
  seed: [number, number];
  streams: Uint32Array | null;
  noiseSampler?: NoiseSampler;
  options: Record<string, unknown>;
}

/** An AbortError like Node core's: name 'AbortError', code 'ABORT_ERR', cause = signal.reason. */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  (err as Error & { code: string }).code = 'ABORT_ERR';
  return err;
}

/** State and services of one sampling run. */
export class Run {
  /** Row length. */
  readonly dim: number;
  /** Number of samples. */
  readonly rows: number;
  /** The grid, sigma/alpha units, strictly decreasing, may end in 0. */
  readonly sigmas: Float64Array;
  /** Number of steps (sigmas.length - 1). */
  readonly steps: number;
  /** The state, a copy of the caller's x (the caller's array is never written). */
  readonly x: FloatArray;
  /** Sampler options (eta, sNoise, ...), already validated. */
  readonly options: Record<string, unknown>;
  /** Model evaluations so far. */
  nfe = 0;
  /** Extra counters a sampler reports (accepted / rejected steps). */
  readonly extra: Record<string, number> = {};
  private readonly noiseSampler?: NoiseSampler;
  private readonly noiseWords: Uint32Array;
  /** Stream id words per row (lo, hi), or null for the row index. */
  protected readonly streams: Uint32Array | null;
  private readonly coefs: Float64Array[] = [];
  private noiseScratch?: FloatArray;

  constructor(cfg: RunConfig) {
    this.dim = cfg.dim;
    this.rows = cfg.x.length / cfg.dim;
    this.sigmas = cfg.sigmas;
    this.steps = cfg.sigmas.length - 1;
    this.x = cfg.x.slice() as FloatArray;
    this.options = cfg.options;
    this.noiseSampler = cfg.noiseSampler;
    this.noiseWords = Uint32Array.of(cfg.seed[0], cfg.seed[1], 0);
    this.streams = cfg.streams;
    for (let n = 0; n <= 9; n++) this.coefs.push(new Float64Array(n));
  }

  /** A new zeroed array of the state's dtype and length. */
  buffer(): FloatArray {
    return new (this.x.constructor as new (n: number) => FloatArray)(this.x.length);
  }

  /**
   * A model evaluation request: the engine writes D(x; sigma) into `into`. `sigma` is one
   * level for every row, or one per row (a Float64Array of length rows, copied before the
   * model sees it; used by per-sample adaptive solvers).
   */
  evalAt(x: FloatArray, sigma: number | Float64Array, into: FloatArray, step: number): Request {
    return { kind: 'eval', x, sigma, into, step };
  }

  /** A step-boundary request: onStep runs and cancellation is checked. */
  stepDone(i: number, sigmaHat: number, x: FloatArray, denoised: FloatArray): Request {
    return { kind: 'step', info: { i, sigma: this.sigmas[i], sigmaNext: this.sigmas[i + 1], sigmaHat, x, denoised } };
  }

  /** out = sum_j c_j terms_j in one pass (float64 accumulation, one rounding). out may be a term. */
  combine(out: FloatArray, terms: FloatArray[], c: number[]): void {
    const coef = this.coefs[c.length];
    for (let j = 0; j < c.length; j++) coef[j] = c[j];
    this.lincomb(out, terms, coef, false, null);
  }

  /**
   * Per-row coefficients: out[r, :] = sum_j coef[j * rows + r] * terms_j[r, :] in one pass
   * (float64 accumulation, one rounding; out may be a term). For samplers whose rows keep their
   * own step sizes (dopri5) or step lengths (the Langevin corrector).
   */
  combineRows(out: FloatArray, terms: FloatArray[], coef: Float64Array): void {
    this.lincomb(out, terms, coef, true, null);
  }

  /**
   * The built-in normals of (step, stage) written into `into`, ignoring any noiseSampler: for
   * noise that is not a Brownian increment over [sigmaNext, sigma] (the Langevin corrector).
   */
  normals(into: FloatArray, step: number, stage: number): FloatArray {
    const coef = this.coefs[2];
    coef[0] = 0;
    coef[1] = 1;
    this.noiseWords[2] = noiseTag(step, stage);
    // 0 * 0 + 1 * z = z exactly: a pure draw through the step kernel.
    this.zero(into);
    this.lincomb(into, [into], coef, false, this.noiseWords);
    return into;
  }

  /**
   * out = sum_j c_j terms_j + cz * z, with z the noise of (step, stage) for sigma -> sigmaNext:
   * from noiseSampler when one was given (called exactly here, even when cz = 0), else drawn
   * inline from the counter-based generator.
   */
  combineNoisy(out: FloatArray, terms: FloatArray[], c: number[], cz: number, step: number, stage: number,
    sigma: number, sigmaNext: number): void {
    if (this.noiseSampler) {
      const z = this.userNoise(sigma, sigmaNext, step);
      this.combine(out, [...terms, z], [...c, cz]);
      return;
    }
    if (cz === 0) {
      this.combine(out, terms, c);
      return;
    }
    const coef = this.coefs[c.length + 1];
    for (let j = 0; j < c.length; j++) coef[j] = c[j];
    coef[c.length] = cz;
    this.noiseWords[2] = noiseTag(step, stage);
    this.lincomb(out, terms, coef, false, this.noiseWords);
  }

  /**
   * The noise of (step, stage) for sigma -> sigmaNext, written into `into` and returned: the
   * noiseSampler's result when one was given, else the counter-based normals. With `path`, the
   * built-in noise is the normalised Brownian increment over [sigmaNext, path.from] of the path
   * whose increment over [path.mid, path.from] was `path.z` (the stage before), so the two are
   * correlated as increments of one Brownian motion in sigma.
   */
  noiseFor(into: FloatArray, step: number, stage: number, sigma: number, sigmaNext: number,
    path?: { z: FloatArray; from: number; mid: number }): FloatArray {
    if (this.noiseSampler) {
      this.copy(into, this.userNoise(sigma, sigmaNext, step));
      return into;
    }
    this.normals(into, step, stage);
    if (path) {
      const d1 = path.from - path.mid;
      const d2 = path.mid - sigmaNext;
      const total = Math.sqrt(d1 + d2);
      this.combine(into, [path.z, into], [Math.sqrt(d1) / total, Math.sqrt(d2) / total]);
    }
    return into;
  }

  /**
   * The step kernel on this run's rows: every array operation of a run goes through lincomb,
   * zero and copy, so that a recording run (src/samplers/program.ts) can capture them as a
   * program for the native loop instead of running them.
   */
  protected lincomb(out: FloatArray, terms: FloatArray[], coef: Float64Array, coefPerRow: boolean,
    noise: Uint32Array | null): void {
    kernels().lincomb(out, this.dim, terms, coef, coefPerRow, noise, noise ? this.streams : null);
  }

  /** a <- 0. */
  protected zero(a: FloatArray): void {
    a.fill(0);
  }

  /** dst <- src (rounded once when dst is a Float32Array and src a Float64Array). */
  protected copy(dst: FloatArray, src: FloatArray): void {
    dst.set(src);
  }

  /** The noiseSampler's noise of a step, checked, in the state's dtype. */
  protected userNoise(sigma: number, sigmaNext: number, step: number): FloatArray {
    let z: unknown;
    try {
      z = (this.noiseSampler as NoiseSampler)(sigma, sigmaNext);
    } catch (err) {
      throw stepError(`noiseSampler threw at step ${step}`, err);
    }
    if (!(z instanceof Float32Array || z instanceof Float64Array) || isDetached(z)) {
      throw typeError(`noiseSampler result at step ${step}`, 'a Float32Array or Float64Array', z);
    }
    if (z.length !== this.x.length) {
      throw typeError(`noiseSampler result at step ${step}`, `an array of length ${this.x.length}`, z);
    }
    if (z.constructor === this.x.constructor) return z;
    this.noiseScratch ??= this.buffer();
    this.copy(this.noiseScratch, z);
    return this.noiseScratch;
  }
}

/** An Error for a failure at a sampler step, keeping the original as `cause`. */
export function stepError(message: string, cause: unknown): Error {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new Error(`${message}: ${detail}`, { cause });
}

/** Sigma per row handed to the model, refilled for each call. */
function fillSigma(buf: Float64Array, sigma: number | Float64Array): Float64Array {
  if (typeof sigma === 'number') buf.fill(sigma);
  else buf.set(sigma);
  return buf;
}

/** The noise level of a request for error messages. */
function sigmaText(sigma: number | Float64Array): string {
  return typeof sigma === 'number' ? String(sigma) : 'per row';
}

function isMixture(model: Model): model is MixtureDenoiser {
  return typeof model === 'object' && model !== null && typeof (model as MixtureDenoiser).denoise === 'function';
}

/** Checks a model output and copies it into `into` (converting dtype); NaN or Inf is an error. */
function acceptOutput(out: unknown, into: FloatArray, step: number, sigma: number | Float64Array): void {
  const where = `the model's output at step ${step} (sigma = ${sigmaText(sigma)})`;
  if (!(out instanceof Float32Array || out instanceof Float64Array) || isDetached(out)) {
    throw typeError(where, 'a Float32Array or Float64Array', out);
  }
  if (out.length !== into.length) throw typeError(where, `an array of length ${into.length}`, out);
  // One native pass checks and copies; a view into `into` itself (a model may keep an onStep
  // buffer) goes through the twin, whose set() handles the overlap.
  const overlaps = out.buffer === into.buffer && out !== into;
  const bad = (overlaps ? jsKernels : kernels()).copyFinite(into, out);
  if (bad >= 0) throw new RangeError(`Expected finite values for ${where} but element ${bad} is ${out[bad]}`);
}

/** A JavaScript model call the loop needs: the request and the sigma per row to pass. */
interface ModelCall {
  req: Extract<Request, { kind: 'eval' }>;
  sigma: Float64Array;
}

/**
 * The sampling loop both drivers share: runs the sampler, serves steps and mixture models
 * itself, and yields each JavaScript model call, taking back the model's raw output.
 */
function* loop(sampler: SamplerFn, run: Run, model: Model, onStep?: (info: StepInfo) => void,
  signal?: AbortSignal): Generator<ModelCall, void, unknown> {
  const sigmaBuf = new Float64Array(run.rows);
  if (signal?.aborted) throw abortError(signal);
  const gen = sampler(run);
  for (let r = gen.next(); !r.done; r = gen.next()) {
    const req = r.value;
    if (req.kind === 'step') {
      onStep?.(req.info);
      if (signal?.aborted) throw abortError(signal);
      continue;
    }
    run.nfe++;
    if (isMixture(model)) {
      model.denoise(req.x, { alpha: 1, sigma: req.sigma }, req.into);
      continue;
    }
    const out: unknown = yield { req, sigma: fillSigma(sigmaBuf, req.sigma) };
    if (signal?.aborted) throw abortError(signal);
    acceptOutput(out, req.into, req.step, req.sigma);
  }
}

/** Runs a sampler to completion with a synchronous model. */
export function runSync(sampler: SamplerFn, run: Run, model: Model, onStep?: (info: StepInfo) => void,
  signal?: AbortSignal): void {
  const calls = loop(sampler, run, model, onStep, signal);
  for (let c = calls.next(); !c.done;) {
    const { req, sigma } = c.value;
    let out: unknown;
    try {
      out = (model as DenoiserFn)(req.x, sigma);
    } catch (err) {
      throw stepError(`The model threw at step ${req.step} (sigma = ${sigmaText(req.sigma)})`, err);
    }
    if (out !== null && typeof out === 'object' && typeof (out as Promise<unknown>).then === 'function') {
      (out as Promise<unknown>).then(undefined, () => undefined);
      throw new TypeError(`The model returned a Promise at step ${req.step}: use tw.sample (async) for async models`);
    }
    c = calls.next(out);
  }
}

/** Runs a sampler to completion, awaiting the model; cancellation is checked between steps. */
export async function runAsync(sampler: SamplerFn, run: Run, model: Model, onStep?: (info: StepInfo) => void,
  signal?: AbortSignal): Promise<void> {
  const calls = loop(sampler, run, model, onStep, signal);
  for (let c = calls.next(); !c.done;) {
    const { req, sigma } = c.value;
    let out: unknown;
    try {
      out = await (model as DenoiserFn)(req.x, sigma);
    } catch (err) {
      throw stepError(`The model failed at step ${req.step} (sigma = ${sigmaText(req.sigma)})`, err);
    }
    c = calls.next(out);
  }
}
