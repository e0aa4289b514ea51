/**
 * Reverse-diffusion samplers in k-diffusion's convention: `x` is the scaled state at
 * `sigmas[0]` (x_T = sigmas[0] * z for a VE-style start), `sigmas` a strictly decreasing grid
 * in sigma/alpha units that may end in 0, and `model(x, sigma)` returns D(x; sigma) = E[x0 | x].
 * @module
 */
import { rangeError, typeError } from '../errors.js';
import type { FloatArray, Uint64Like } from '../types.js';
import { floatArray, options, positiveInt, rowsOf, streamIds, uint64Words } from '../validate.js';
import { type Model, type NoiseSampler, Run, type SamplerFn, type StepInfo, runAsync, runSync } from './engine.js';
import {
  dpm2, dpm2Ancestral, dpmpp2m, dpmpp2mSde, dpmpp2sAncestral, dpmpp3mSde, dpmppSde, euler, eulerAncestral, heun, lms,
} from './kdiffusion.js';

export type { DenoiserFn, MixtureDenoiser, Model, NoiseSampler, StepInfo } from './engine.js';

/** Options only some samplers take (the rest take none of these). */
const CHURN = ['sChurn', 'sTmin', 'sTmax', 'sNoise'] as const;
const ANCESTRAL = ['eta', 'sNoise'] as const;
const SAMPLER_OPTIONS: Record<string, readonly string[]> = {
  euler: CHURN, heun: CHURN, dpm2: CHURN, edm: CHURN,
  'euler-ancestral': ANCESTRAL, 'dpm2-ancestral': ANCESTRAL, 'dpmpp-2s-ancestral': ANCESTRAL, 'dpmpp-sde': ANCESTRAL,
  'dpmpp-3m-sde': ANCESTRAL, ddim: ANCESTRAL, ddpm: ['sNoise'],
  'dpmpp-2m-sde': [...ANCESTRAL, 'solverType'], lms: ['order'], 'dpmpp-2m': [], 'dpmpp-3m': [],
};
const STOCHASTIC_KEYS = ['eta', 'sNoise', 'sChurn', 'sTmin', 'sTmax', 'order', 'solverType'] as const;

/** Every sampler id, with its implementation. */
const SAMPLERS = {
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
} satisfies Record<string, SamplerFn>;

/** A sampler id. */
export type SamplerId = keyof typeof SAMPLERS;

/** The sampler ids, in a stable order. */
export const samplerIds: readonly SamplerId[] = Object.keys(SAMPLERS) as SamplerId[];

/** Options of {@link sample} and {@link sampleSync}. */
export interface SampleOptions {
  /** The denoiser: a function (x, sigma) => D(x; sigma), or a GaussianMixture. */
  model: Model;
  /** Which sampler. */
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
  /** Churn only where sTmin <= sigma <= sTmax (defaults 0 and Infinity). */
  sTmin?: number;
  sTmax?: number;
  /** 'lms': the order (1-4, default 4). */
  order?: number;
  /** 'dpmpp-2m-sde': 'midpoint' (default) or 'heun'. */
  solverType?: 'midpoint' | 'heun';
  /** Replaces the built-in noise; called where k-diffusion calls its noise sampler. */
  noiseSampler?: NoiseSampler;
  /** Called after each step's first model evaluation (k-diffusion's callback). */
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
}

const NON_NEGATIVE = ['eta', 'sNoise', 'sChurn'] as const;

function prepare(opts: SampleOptions): { run: Run; sampler: SamplerFn; o: SampleOptions } {
  const o = options<SampleOptions>('options', opts);
  const fn = (SAMPLERS as Record<string, SamplerFn>)[o.sampler as string];
  if (typeof o.sampler !== 'string' || !Object.hasOwn(SAMPLERS, o.sampler) || !fn) {
    throw typeError('sampler', `one of ${samplerIds.map((s) => `'${s}'`).join(', ')}`, o.sampler);
  }
  const allowed = SAMPLER_OPTIONS[o.sampler] ?? [];
  for (const key of STOCHASTIC_KEYS) {
    if (o[key] !== undefined && !allowed.includes(key)) {
      throw typeError(key, `nothing for sampler '${o.sampler}' (it takes ${allowed.length ? allowed.join(', ') : 'none of eta, sNoise, sChurn, sTmin, sTmax, order, solverType'})`, o[key]);
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
  if (o.order !== undefined && (!Number.isInteger(o.order) || o.order < 1 || o.order > 4)) throw rangeError('order', 'an integer from 1 to 4', o.order);
  if (o.solverType !== undefined && o.solverType !== 'midpoint' && o.solverType !== 'heun') {
    throw typeError('solverType', "'midpoint' or 'heun'", o.solverType);
  }
  for (const key of ['noiseSampler', 'onStep'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw typeError(key, 'a function', o[key]);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw typeError('signal', 'an AbortSignal', o.signal);
  const rows = x.length / dim;
  const run = new Run({
    x, dim, sigmas,
    seed: uint64Words('seed', o.seed ?? 0),
    streams: o.sampleIds === undefined ? null : streamIds('sampleIds', o.sampleIds, rows),
    noiseSampler: o.noiseSampler,
    options: { eta: o.eta, sNoise: o.sNoise, sChurn: o.sChurn, sTmin: o.sTmin, sTmax: o.sTmax, order: o.order, solverType: o.solverType },
  });
  return { run, sampler: fn, o };
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
 * Runs a sampler with a synchronous model. The caller's `x` is never written.
 * @throws TypeError/RangeError for bad options; an Error naming the step when the model
 * throws or returns something invalid; an AbortError when `signal` aborts between steps.
 */
export function sampleSync(opts: SampleOptions): SampleResult {
  const { run, sampler, o } = prepare(opts);
  runSync(sampler, run, o.model, o.onStep, o.signal);
  return { x: run.x, nfe: run.nfe };
}

/**
 * Runs a sampler; the model may return a Promise. Resolves to the final state and the number
 * of model evaluations; rejects with an AbortError when `signal` aborts (checked between
 * steps), or an Error naming the step when the model fails. The caller's `x` is never written.
 */
export async function sample(opts: SampleOptions): Promise<SampleResult> {
  const { run, sampler, o } = prepare(opts);
  await runAsync(sampler, run, o.model, o.onStep, o.signal);
  return { x: run.x, nfe: run.nfe };
}
