/**
 * Turns a network trained on a discrete VP schedule into a denoiser in k-diffusion's
 * coordinates (k-diffusion's DiscreteEpsDDPMDenoiser / DiscreteVDDPMDenoiser): the sampler's
 * state x at noise level sigma (sigma/alpha units) is the VP state divided by alpha, with
 * alpha = 1 / sqrt(1 + sigma^2) and sigma_vp = sigma * alpha.
 * @module
 */
import { kernels } from '../backend.js';
import { rangeError, typeError } from '../errors.js';
import { convertPrediction } from '../noise.js';
import type { DiscreteSchedule } from '../schedules.js';
import type { FloatArray } from '../types.js';
import { isDetached, options } from '../validate.js';
import type { DenoiserFn } from './engine.js';

/** A network: (VP-scaled input [batch, dim], fractional timestep per row) => prediction. */
export type NetworkFn = (x: FloatArray, t: Float64Array) => FloatArray | Promise<FloatArray>;

/** Options of {@link wrapModel}. */
export interface WrapModelOptions {
  /** What the network predicts: the noise eps, the clean data x0, or v = alpha eps - sigma x0. */
  prediction: 'eps' | 'x0' | 'v';
  /** The discrete schedule the network was trained on (its timesteps index this table). */
  schedule: DiscreteSchedule;
  /**
   * Round each timestep to the nearest table entry in log sigma (k-diffusion's `quantize`), for
   * networks that only take integer timesteps; the conversion still uses the exact sigma.
   * Default false (fractional timesteps).
   */
  quantize?: boolean;
}

const PREDICTIONS = ['eps', 'x0', 'v'] as const;

/**
 * Wraps a network `fn(xIn, t)` trained on a discrete VP schedule as a denoiser
 * `(x, sigma) => D(x; sigma)` for {@link sample}: for each row with noise level sigma it
 * calls fn with `xIn = alpha * x` (alpha = 1 / sqrt(1 + sigma^2)) and
 * `t = schedule.timestepFromSigma(sigma)` (fractional, log-sigma interpolation of the table),
 * and converts the prediction to x0 with {@link convertPrediction} at (alpha, sigma_vp =
 * sigma * alpha). `fn` may return a Promise (then so does the denoiser: use `sample`, not
 * `sampleSync`), and its output may be either float dtype (converted to x's).
 *
 * Each call allocates the scaled input, the timesteps and the result (the network may keep
 * what it is given; the result is the caller's).
 * @throws TypeError/RangeError for bad options; the returned denoiser throws a TypeError when
 * the network's output is not a float array of x's length.
 */
export function wrapModel(fn: NetworkFn, opts: WrapModelOptions): DenoiserFn {
  if (typeof fn !== 'function') throw typeError('fn', 'a function (x, t) => prediction', fn);
  const o = options<WrapModelOptions>('options', opts);
  if (typeof o.prediction !== 'string' || !(PREDICTIONS as readonly string[]).includes(o.prediction)) {
    throw typeError('prediction', `one of ${PREDICTIONS.map((p) => `'${p}'`).join(', ')}`, o.prediction);
  }
  const schedule = o.schedule as unknown;
  if (schedule === null || typeof schedule !== 'object' || (schedule as DiscreteSchedule).kind !== 'discrete' ||
      typeof (schedule as DiscreteSchedule).timestepFromSigma !== 'function') {
    throw typeError('schedule', 'a DiscreteSchedule (tw.schedules.linear(), ...)', schedule);
  }
  if (o.quantize !== undefined && typeof o.quantize !== 'boolean') throw typeError('quantize', 'a boolean', o.quantize);
  const sched = schedule as DiscreteSchedule;
  const prediction = o.prediction;
  const quantize = o.quantize === true;
  const zero = new Float64Array(1);
  return (x: FloatArray, sigma: Float64Array): FloatArray | Promise<FloatArray> => {
    const rows = sigma.length;
    if (rows === 0 || x.length % rows !== 0) {
      throw rangeError('x.length', `a multiple of sigma.length = ${rows}`, x.length);
    }
    const dim = x.length / rows;
    const alpha = new Float64Array(rows);
    const sigmaVp = new Float64Array(rows);
    const t = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const s = sigma[r];
      if (!(s >= 0) || s === Infinity) throw rangeError(`sigma[${r}]`, 'a finite noise level >= 0', s);
      const a = 1 / Math.sqrt(1 + s * s);
      alpha[r] = a;
      sigmaVp[r] = s * a;
      const tr = sched.timestepFromSigma(s);
      t[r] = quantize ? (tr - Math.floor(tr) <= 0.5 ? Math.floor(tr) : Math.ceil(tr)) : tr;
    }
    const xIn = new (x.constructor as new (n: number) => FloatArray)(x.length);
    kernels().combine2(xIn, x, x, dim, alpha, zero);
    const convert = (pred: unknown): FloatArray => {
      if (!(pred instanceof Float32Array || pred instanceof Float64Array) || isDetached(pred)) {
        throw typeError("the network's output", 'a Float32Array or Float64Array', pred);
      }
      if (pred.length !== x.length) throw typeError("the network's output", `an array of length ${x.length}`, pred);
      let p: FloatArray = pred;
      if (p.constructor !== xIn.constructor) {
        p = new (xIn.constructor as new (n: number) => FloatArray)(p.length);
        p.set(pred);
      }
      return convertPrediction(p, { from: prediction, to: 'x0', x: xIn, dim, alpha, sigma: sigmaVp });
    };
    const out = fn(xIn, t);
    if (out !== null && typeof out === 'object' && typeof (out as Promise<unknown>).then === 'function') {
      return (out as Promise<unknown>).then(convert);
    }
    return convert(out);
  };
}
