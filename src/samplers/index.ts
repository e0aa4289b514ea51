/**
 * Reverse-diffusion samplers in k-diffusion's convention: `x` is the scaled state at
 * `sigmas[0]` (x_T = sigmas[0] * z for a VE-style start), `sigmas` a strictly decreasing grid
 * in sigma/alpha units that may end in 0, and `model(x, sigma)` returns D(x; sigma) = E[x0 | x].
 * @module
 */
import { rangeError, typeError } from '../errors.js';
import type { FloatArray, Uint64Like } from '../types.js';
import { floatArray, options, positiveInt, rowsOf, streamIds, uint64Words } from '../validate.js';
import { BrownianTree, type BrownianTreeOptions } from './brownian.js';
import { dopri5 } from './dopri5.js';
import { dpmSolver3 } from './dpmsolver.js';
import { type Model, type NoiseSampler, Run, type SamplerFn, type StepInfo, runAsync, runSync } from './engine.js';
import {
  dpm2, dpm2Ancestral, dpmpp2m, dpmpp2mSde, dpmpp2sAncestral, dpmpp3mSde, dpmppSde, euler, eulerAncestral, heun, lms,
} from './kdiffusion.js';
import { type ProgramSetup, recordProgram, runProgramAsync, runProgramSync } from './program.js';
import { eulerMaruyama } from './sde.js';
import { unipc } from './unipc.js';

export type { DenoiserFn, MixtureDenoiser, Model, NoiseSampler, StepInfo } from './engine.js';

/** Options only some samplers take (the rest take none of these). */
const CHURN = ['sChurn', 'sTmin', 'sTmax', 'sNoise'] as const;
const ANCESTRAL = ['eta', 'sNoise', 'noise'] as const;
const SAMPLER_OPTIONS: Record<string, readonly string[]> = {
  euler: CHURN, heun: CHURN, dpm2: CHURN, edm: CHURN,
  'euler-ancestral': ANCESTRAL, 'dpm2-ancestral': ANCESTRAL, 'dpmpp-2s-ancestral': ANCESTRAL, 'dpmpp-sde': ANCESTRAL,
  'dpmpp-3m-sde': [...ANCESTRAL, 'thirdOrder'], ddim: ANCESTRAL, ddpm: ['sNoise', 'noise'],
  'dpmpp-2m-sde': [...ANCESTRAL, 'solverType'], lms: ['order'], 'dpmpp-2m': [], 'dpmpp-3m': ['thirdOrder'],
  unipc: ['order', 'variant', 'disableCorrector', 'lowerOrderFinal'], 'dpm-solver-3': ['nfe'],
  'euler-maruyama': ['snr', 'correctorSteps', 'noise'], dopri5: ['rtol', 'atol'],
};
const SAMPLER_KEYS = [
  'eta', 'sNoise', 'sChurn', 'sTmin', 'sTmax', 'order', 'solverType', 'variant', 'disableCorrector', 'lowerOrderFinal',
  'thirdOrder', 'nfe', 'snr', 'correctorSteps', 'rtol', 'atol', 'noise',
] as const;

/** Every sampler id, with its implementation. */
/** A sampler id (README, "Samplers"; shared/reference update rules in src/samplers/*.ts). */
export type SamplerId =
  | 'euler' | 'euler-ancestral' | 'heun' | 'dpm2' | 'dpm2-ancestral' | 'lms' | 'dpmpp-2s-ancestral' | 'dpmpp-sde'
  | 'dpmpp-2m' | 'dpmpp-3m' | 'dpmpp-2m-sde' | 'dpmpp-3m-sde' | 'ddim' | 'ddpm' | 'edm' | 'unipc' | 'dpm-solver-3'
  | 'euler-maruyama' | 'dopri5';

const SAMPLERS: Record<SamplerId, SamplerFn> = {
  euler,
  'euler-ancestral': (run: Run) => eulerAncestral(run, 1),
  heun,
  dpm2,
  'dpm2-ancestral': dpm2Ancestral,
  lms,
  'dpmpp-2s-ancestral': dpmpp2sAncestral,
  'dpmpp-sde': dpmppSde,
  'dpmpp-2m': dpmpp2m,
  'dpmpp-3m': (run: Run) => dpmpp3mSde(run, 0),
  'dpmpp-2m-sde': dpmpp2mSde,
  'dpmpp-3m-sde': (run: Run) => dpmpp3mSde(run, 1),
  ddim: (run: Run) => eulerAncestral(run, 0),
  ddpm: (run: Run) => eulerAncestral(run, 1, 1),
  edm: heun,
  unipc,
  'dpm-solver-3': dpmSolver3,
  'euler-maruyama': eulerMaruyama,
  dopri5,
};

/** The sampler ids, in a stable order. */
export const samplerIds: readonly SamplerId[] = Object.keys(SAMPLERS) as SamplerId[];

/** Options of {@link sample} and {@link sampleSync}. */
export interface SampleOptions {
  /**
   * The denoiser: a function (x, sigma) => D(x; sigma), or a GaussianMixture. `sigma` holds one
   * level per row; all rows share it except under 'dopri5', whose samples keep their own step
   * sizes. A network trained on a discrete VP schedule plugs in through `tw.wrapModel`.
   */
  model: Model;
  /**
   * Which sampler (samplers.md §2): the k-diffusion family ('euler', 'euler-ancestral', 'heun',
   * 'dpm2', 'dpm2-ancestral', 'lms', 'dpmpp-2s-ancestral', 'dpmpp-sde', 'dpmpp-2m', 'dpmpp-3m',
   * 'dpmpp-2m-sde', 'dpmpp-3m-sde'), 'ddim', 'ddpm', 'edm', and
   * - 'unipc': UniPC-p in data-prediction form (diffusers' defaults: order 2, 'bh2'), NFE N;
   * - 'dpm-solver-3': singlestep DPM-Solver-3, 3 NFE per interval, or the 'fast' allocation of `nfe`;
   * - 'euler-maruyama': Euler-Maruyama on the reverse SDE, optional Langevin corrector, NFE N (1 + correctorSteps);
   * - 'dopri5': adaptive Dormand-Prince 5(4) on the probability-flow ODE, per-sample step control.
   * A final step to sigma = 0 returns the denoised x in every sampler but 'lms'.
   */
  sampler: SamplerId;
  /** Noise levels in sigma/alpha units, strictly decreasing, >= 2 entries; only the last may be 0. */
  sigmas: ArrayLike<number>;
  /** Start state at sigmas[0], [batch, dim] (never written; the result is a new array of its dtype). */
  x: FloatArray;
  /** Row length. */
  dim: number;
  /** Seed of the built-in noise (default 0): noise of sample b, step i, stage g, element e is
   * normal(seed, stream = sampleIds[b] ?? b, index = (0x10000000 + 8 i + g) * 2^32 + e). */
  seed?: Uint64Like;
  /** Stream id of each row (default: the row index). */
  sampleIds?: ArrayLike<number | bigint>;
  /** Stochasticity of ancestral and SDE samplers (k-diffusion's eta; default per sampler). */
  eta?: number;
  /** Noise multiplier (default 1). */
  sNoise?: number;
  /** EDM churn (euler, heun, dpm2, edm): total churn S_churn (default 0). */
  sChurn?: number;
  /** Churn only where sTmin <= sigma <= sTmax: the lower bound (default 0). */
  sTmin?: number;
  /** Churn only where sTmin <= sigma <= sTmax: the upper bound (default Infinity). */
  sTmax?: number;
  /** 'lms': the order (1-4, default 4). 'unipc': the order p of UniPC-p (1-3, default 2 as diffusers' solver_order). */
  order?: number;
  /** 'dpmpp-2m-sde': 'midpoint' (default) or 'heun'. */
  solverType?: 'midpoint' | 'heun';
  /** 'unipc': B(h) = -h ('bh1') or e^{-h} - 1 ('bh2', default as diffusers; the UniPC repository defaults to 'bh1'). */
  variant?: 'bh1' | 'bh2';
  /** 'unipc': true turns the corrector UniC off (UniP only; UniP-2 'bh2' is then DPM-Solver++(2M)). Default false. */
  disableCorrector?: boolean;
  /** 'unipc': lower the order near the end, to at most the steps left (default true, as diffusers). */
  lowerOrderFinal?: boolean;
  /**
   * 'dpmpp-3m', 'dpmpp-3m-sde': weight the second divided difference D2 by what a third-order
   * multistep rule needs, twice the weight of k-diffusion, diffusers and the DPM-Solver repository
   * (whose update is therefore second order asymptotically: docs/cross-checks.md, "DPM-Solver++(3M) is second order").
   * Default false: the reference formula, reproduced to float64 rounding.
   */
  thirdOrder?: boolean;
  /**
   * 'dpm-solver-3': an NFE budget (integer >= 1) spent by DPM-Solver-fast's allocation: floor(nfe / 3) + 1
   * steps uniform in log sigma from sigmas[0] to the last positive sigma, orders [3, ..., 3, 2, 1] or
   * [3, ..., 3, nfe mod 3]; the interior grid nodes are then ignored, and a final 0 adds one denoising
   * evaluation. Without it: one third-order step (3 NFE) per grid interval.
   */
  nfe?: number;
  /** 'euler-maruyama': Langevin corrector steps per node (integer 0-7, default 0 = no corrector). */
  correctorSteps?: number;
  /**
   * 'euler-maruyama': the corrector's signal-to-noise ratio r (default 0.16, score_sde's CIFAR-10 VE value):
   * step eps_L = 2 (r |z| / |score|)^2 with norms per sample (not averaged over the batch as in score_sde,
   * so a sample does not depend on the rest of the batch). Meant for samples of many elements (images):
   * with a few elements per sample the step is erratic.
   */
  snr?: number;
  /**
   * 'dopri5': relative and absolute tolerances of the local error control, per element
   * (atol + rtol max(|x|, |x_new|), RMS over each sample). Defaults 1e-4 and 1e-4, in the units of x:
   * the final error then stays well below an 8-bit level of [-1, 1] data (1/127.5), e.g. 3e-4 on a
   * two-component 1-D mixture from sigma 80 to 0.002 at ~15 steps (NFE ~90); 1e-3 already costs
   * about one level. atol > 0, rtol >= 1e-13; with a float32 state, tolerances below ~1e-6 buy
   * more steps but no accuracy (the state is rounded to float32 at every stage).
   */
  rtol?: number;
  /** 'dopri5': absolute tolerance (see rtol). */
  atol?: number;
  /**
   * SDE and ancestral samplers: 'independent' (default) draws each step's noise from the counter-based
   * generator; 'brownian' takes it from one Brownian path per sample over [last positive sigma,
   * sigmas[0]] (a virtual Brownian tree keyed by seed and sample id, see docs/random-streams.md), so the
   * noise of an interval stays the same when the grid is refined (with the same end points) and results
   * converge as the step count grows. Not with `noiseSampler`.
   */
  noise?: 'independent' | 'brownian';
  /** Replaces the built-in noise; called where k-diffusion calls its noise sampler. */
  noiseSampler?: NoiseSampler;
  /**
   * Called after each step's first model evaluation (k-diffusion's callback). With a
   * GaussianMixture model, giving onStep runs the JavaScript loop instead of the native one
   * (the same results; one JavaScript round trip per step).
   */
  onStep?: (info: StepInfo) => void;
  /** Stops the run between steps; the Promise rejects with an AbortError. */
  signal?: AbortSignal;
}

/** What a sampler returns. */
export interface SampleResult {
  /** The final state, a new array of x's dtype. */
  x: FloatArray;
  /** Number of model evaluations. */
  nfe: number;
  /** 'dopri5': accepted steps, summed over the samples (each sample keeps its own step size). */
  accepted?: number;
  /** 'dopri5': rejected steps, summed over the samples. */
  rejected?: number;
}

const NON_NEGATIVE = ['eta', 'sNoise', 'sChurn'] as const;

/** A validated run: what both the JavaScript loop and the native loop (program.ts) are made from. */
interface Prepared extends ProgramSetup {
  o: SampleOptions;
}

function prepare(opts: SampleOptions): Prepared {
  const o = options<SampleOptions>('options', opts);
  const fn = (SAMPLERS as Record<string, SamplerFn>)[o.sampler as string];
  if (typeof o.sampler !== 'string' || !Object.hasOwn(SAMPLERS, o.sampler) || !fn) {
    throw typeError('sampler', `one of ${samplerIds.map((s) => `'${s}'`).join(', ')}`, o.sampler);
  }
  const allowed = SAMPLER_OPTIONS[o.sampler] ?? [];
  for (const key of SAMPLER_KEYS) {
    if (o[key] !== undefined && !allowed.includes(key)) {
      throw typeError(key, `nothing for sampler '${o.sampler}' (it takes ${allowed.length ? allowed.join(', ') : `none of ${SAMPLER_KEYS.join(', ')}`})`, o[key]);
    }
  }
  const model = o.model as unknown;
  const isMixture = typeof model === 'object' && model !== null && typeof (model as { denoise?: unknown }).denoise === 'function';
  if (typeof model !== 'function' && !isMixture) throw typeError('model', 'a function (x, sigma) => denoised or a GaussianMixture', model);
  const x = floatArray('x', o.x);
  const dim = positiveInt('dim', o.dim);
  rowsOf('x', x, dim);
  if (isMixture && (model as { dim: number }).dim !== dim) {
    throw rangeError('dim', `the mixture's dim ${(model as { dim: number }).dim}`, dim);
  }
  const sigmas = sigmaGrid(o.sigmas);
  for (const key of NON_NEGATIVE) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw rangeError(key, 'a finite number >= 0', v);
  }
  for (const key of ['sTmin', 'sTmax'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v))) throw rangeError(key, 'a number', v);
  }
  const maxOrder = o.sampler === 'unipc' ? 3 : 4;
  if (o.order !== undefined && (!Number.isInteger(o.order) || o.order < 1 || o.order > maxOrder)) {
    throw rangeError('order', `an integer from 1 to ${maxOrder}`, o.order);
  }
  if (o.solverType !== undefined && o.solverType !== 'midpoint' && o.solverType !== 'heun') {
    throw typeError('solverType', "'midpoint' or 'heun'", o.solverType);
  }
  if (o.variant !== undefined && o.variant !== 'bh1' && o.variant !== 'bh2') throw typeError('variant', "'bh1' or 'bh2'", o.variant);
  for (const key of ['disableCorrector', 'lowerOrderFinal', 'thirdOrder'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw typeError(key, 'a boolean', o[key]);
  }
  if (o.nfe !== undefined && (typeof o.nfe !== 'number' || !Number.isSafeInteger(o.nfe) || o.nfe < 1)) {
    throw rangeError('nfe', 'an integer >= 1', o.nfe);
  }
  if (o.nfe !== undefined && !(sigmas[1] > 0)) {
    throw rangeError('sigmas', 'a grid with at least two positive sigmas to spend an nfe budget on', o.sigmas);
  }
  if (o.correctorSteps !== undefined && (!Number.isInteger(o.correctorSteps) || o.correctorSteps < 0 || o.correctorSteps > 7)) {
    throw rangeError('correctorSteps', 'an integer from 0 to 7', o.correctorSteps);
  }
  if (o.snr !== undefined && (typeof o.snr !== 'number' || !Number.isFinite(o.snr) || o.snr <= 0)) {
    throw rangeError('snr', 'a finite number > 0', o.snr);
  }
  if (o.rtol !== undefined && (typeof o.rtol !== 'number' || !Number.isFinite(o.rtol) || o.rtol < 1e-13)) {
    throw rangeError('rtol', 'a finite number >= 1e-13', o.rtol);
  }
  if (o.atol !== undefined && (typeof o.atol !== 'number' || !Number.isFinite(o.atol) || o.atol <= 0)) {
    throw rangeError('atol', 'a finite number > 0', o.atol);
  }
  if (o.noise !== undefined && o.noise !== 'independent' && o.noise !== 'brownian') {
    throw typeError('noise', "'independent' or 'brownian'", o.noise);
  }
  if (o.noise === 'brownian' && o.noiseSampler !== undefined) {
    throw typeError('noise', "'independent' (or no noise option) when a noiseSampler is given", o.noise);
  }
  for (const key of ['noiseSampler', 'onStep'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw typeError(key, 'a function', o[key]);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw typeError('signal', 'an AbortSignal', o.signal);
  const rows = x.length / dim;
  const seed = uint64Words('seed', o.seed ?? 0);
  const streams = o.sampleIds === undefined ? null : streamIds('sampleIds', o.sampleIds, rows);
  let brownian: BrownianTreeOptions | null = null;
  if (o.noise === 'brownian') {
    const lastPositive = sigmas[sigmas.length - 1] > 0 ? sigmas[sigmas.length - 1] : sigmas[sigmas.length - 2];
    brownian = { rows, dim, seed, streams, sigmaMin: lastPositive, sigmaMax: sigmas[0] };
  }
  return {
    o, model: o.model, samplerId: o.sampler, sampler: fn, x, dim, sigmas, seed, streams, brownian,
    noiseSampler: o.noiseSampler, onStep: o.onStep,
    options: {
      eta: o.eta, sNoise: o.sNoise, sChurn: o.sChurn, sTmin: o.sTmin, sTmax: o.sTmax, order: o.order, solverType: o.solverType,
      variant: o.variant, disableCorrector: o.disableCorrector, lowerOrderFinal: o.lowerOrderFinal, thirdOrder: o.thirdOrder, nfe: o.nfe,
      snr: o.snr, correctorSteps: o.correctorSteps, rtol: o.rtol, atol: o.atol,
    },
  };
}

/** The JavaScript loop's Run (the Brownian tree, when asked for, is made here). */
function jsRun(p: Prepared): Run {
  const noiseSampler = p.brownian ? new BrownianTree(p.brownian).noiseSampler() : p.noiseSampler;
  return new Run({ x: p.x, dim: p.dim, sigmas: p.sigmas, seed: p.seed, streams: p.streams, noiseSampler, options: p.options });
}

/** A validated copy of a sigma grid. */
function sigmaGrid(v: unknown): Float64Array {
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
    throw typeError('sigmas', 'an array of noise levels', v);
  }
  const arr = v as ArrayLike<unknown>;
  if (arr.length < 2) throw rangeError('sigmas.length', 'at least 2', arr.length);
  const out = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const s = arr[i];
    if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) throw rangeError(`sigmas[${i}]`, 'a finite number >= 0', s);
    if (i > 0 && !(s < out[i - 1])) throw rangeError(`sigmas[${i}]`, `a value below sigmas[${i - 1}] = ${out[i - 1]} (strictly decreasing)`, s);
    if (s === 0 && i < arr.length - 1) throw rangeError(`sigmas[${i}]`, 'a positive value (only the last sigma may be 0)', s);
    out[i] = s;
  }
  return out;
}

/**
 * Runs a sampler with a synchronous model. The caller's `x` is never written. With a
 * GaussianMixture model on the native backend the whole loop runs in native code (program.ts:
 * the same bits as the JavaScript loop; not with onStep, a noiseSampler, 'dopri5' or the
 * Langevin corrector, which keep the JavaScript loop).
 * @throws TypeError/RangeError for bad options; an Error naming the step when the model
 * throws or returns something invalid; an AbortError when `signal` aborts between steps.
 */
export function sampleSync(opts: SampleOptions): SampleResult {
  const p = prepare(opts);
  const program = recordProgram(p);
  if (program) return runProgramSync(program, p.o.signal);
  const run = jsRun(p);
  runSync(p.sampler, run, p.model, p.onStep, p.o.signal);
  return result(run);
}

/**
 * Runs a sampler; the model may return a Promise. Resolves to the final state and the number
 * of model evaluations; rejects with an AbortError when `signal` aborts (checked between
 * steps), or an Error naming the step when the model fails. The caller's `x` is never written.
 * With a GaussianMixture model on the native backend the whole loop runs in native code on the
 * libuv thread pool, leaving the event loop free, and `signal` stops it between two kernel
 * calls (as sampleSync: not with onStep, a noiseSampler, 'dopri5' or the Langevin corrector).
 */
export async function sample(opts: SampleOptions): Promise<SampleResult> {
  const p = prepare(opts);
  const program = recordProgram(p);
  if (program) return runProgramAsync(program, p.o.signal);
  const run = jsRun(p);
  await runAsync(p.sampler, run, p.model, p.onStep, p.o.signal);
  return result(run);
}

function result(run: Run): SampleResult {
  const r: SampleResult = { x: run.x, nfe: run.nfe };
  if (run.extra.accepted !== undefined) r.accepted = run.extra.accepted;
  if (run.extra.rejected !== undefined) r.rejected = run.extra.rejected;
  return r;
}
