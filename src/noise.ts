/**
 * Forward noising `x_t = alpha * x0 + sigma * eps`, training targets, and conversions between
 * the eps-, x0-, v- and score-parameterised outputs of a model. All of it is elementwise in
 * float64 with one rounding to the array's dtype, so both backends give the same bits.
 * @module
 */
import { kernels } from './backend.js';
import { rangeError, typeError } from './errors.js';
import type { FloatArray, PerRow, Uint64Like } from './types.js';
import { floatArray, options, outArray, perRow, positiveInt, rowsOf, streamIds, uint64Words } from './validate.js';

const FINITE = { expected: 'a finite number' };
const SIGMA = { min: 0, expected: 'a finite number >= 0' };

/** Options of {@link addNoise}. */
export interface AddNoiseOptions {
  /** Row length: x0 is a flat [batch, dim] array. */
  dim: number;
  /** Signal scale: one number, or one per row. Finite. */
  alpha: PerRow;
  /** Noise scale: one number, or one per row. Finite and >= 0. */
  sigma: PerRow;
  /** Noise to use (same dtype and length as x0). Give either eps or seed. */
  eps?: FloatArray;
  /** Draw eps inline: eps[b, e] = normal(seed, stream = sampleIds[b] ?? b, index = e). */
  seed?: Uint64Like;
  /** Stream id of each row (default: the row index), so a sample's noise does not depend on the batch. */
  sampleIds?: ArrayLike<number | bigint>;
  /** Output (same dtype and length as x0); may be x0 itself, or eps when eps is given. */
  out?: FloatArray;
  /** With seed: receives the eps that was drawn (must not overlap x0 or out). */
  epsOut?: FloatArray;
}

/**
 * Forward noising of a batch: `out[b, e] = alpha_b * x0[b, e] + sigma_b * eps[b, e]`, computed
 * in float64 and rounded once to x0's dtype. With `seed`, eps is drawn in the same pass from
 * the counter-based generator (stream = sample id, index = element), so a sample's noise does
 * not depend on batch size, batch order, threads, SIMD level or backend. NaN or infinite data
 * gives NaN or infinite results in the same elements.
 * @returns out (a new array unless `out` was given)
 */
export function addNoise<T extends FloatArray>(x0: T, opts: AddNoiseOptions): T {
  floatArray('x0', x0);
  const o = options<AddNoiseOptions>('options', opts);
  const dim = positiveInt('dim', o.dim);
  const rows = rowsOf('x0', x0, dim);
  const a = perRow('alpha', o.alpha, rows, FINITE);
  const c = perRow('sigma', o.sigma, rows, SIGMA);
  if (o.eps !== undefined) {
    for (const name of ['seed', 'sampleIds', 'epsOut'] as const) {
      if (o[name] !== undefined) throw typeError(name, `nothing when eps is given (${name} is for drawing eps)`, o[name]);
    }
    const eps = floatArray('eps', o.eps);
    if (eps.constructor !== x0.constructor) throw typeError('eps', `a ${x0.constructor.name} like x0`, eps);
    if (eps.length !== x0.length) throw rangeError('eps.length', `${x0.length} (the length of x0)`, eps.length);
    const out = outArray('out', o.out, x0, [['x0', x0, true], ['eps', eps, true]]);
    kernels().combine2(out, x0, eps, dim, a, c);
    return out;
  }
  if (o.seed === undefined) throw typeError('seed', 'a seed (or eps) to draw the noise from', undefined);
  const [seedLo, seedHi] = uint64Words('seed', o.seed);
  const streams = o.sampleIds === undefined ? null : streamIds('sampleIds', o.sampleIds, rows);
  const out = outArray('out', o.out, x0, [['x0', x0, true]]);
  const epsOut = o.epsOut === undefined ? null : outArray('epsOut', o.epsOut, x0, [['x0', x0, false], ['out', out, false]]);
  kernels().addNoise(out, epsOut, x0, dim, a, c, seedLo, seedHi, streams);
  return out;
}

/** What a model predicts: the noise, the clean data, the velocity `alpha * eps - sigma * x0`, or the score. */
export type Prediction = 'eps' | 'x0' | 'v' | 'score';
const PREDICTIONS: readonly Prediction[] = ['eps', 'x0', 'v', 'score'];

function prediction(name: string, v: unknown): Prediction {
  if (typeof v !== 'string' || !(PREDICTIONS as readonly string[]).includes(v)) {
    throw typeError(name, `one of ${PREDICTIONS.map((p) => `'${p}'`).join(', ')}`, v);
  }
  return v as Prediction;
}

/** Options of {@link trainingTarget}. */
export interface TrainingTargetOptions {
  /** Clean data [batch, dim]. */
  x0: FloatArray;
  /** The noise used to make x_t (same dtype and length as x0). */
  eps: FloatArray;
  /** Row length. */
  dim: number;
  /** Signal scale per row or shared (finite). */
  alpha: PerRow;
  /** Noise scale per row or shared (finite, >= 0; > 0 for the 'score' target). */
  sigma: PerRow;
  /** Output (same dtype and length); may be x0 or eps. */
  out?: FloatArray;
}

/**
 * The regression target of a model trained to predict `kind`: eps, x0,
 * v = alpha * eps - sigma * x0 (Salimans & Ho 2022), or the denoising score -eps / sigma.
 * @returns out (a new array unless `out` was given)
 */
export function trainingTarget<T extends FloatArray>(kind: Prediction, opts: TrainingTargetOptions & { x0: T }): T {
  const k = prediction('kind', kind);
  const o = options<TrainingTargetOptions>('options', opts);
  const x0 = floatArray('x0', o.x0) as T;
  const eps = floatArray('eps', o.eps);
  if (eps.constructor !== x0.constructor) throw typeError('eps', `a ${x0.constructor.name} like x0`, eps);
  if (eps.length !== x0.length) throw rangeError('eps.length', `${x0.length} (the length of x0)`, eps.length);
  const dim = positiveInt('dim', o.dim);
  const rows = rowsOf('x0', x0, dim);
  const alpha = perRow('alpha', o.alpha, rows, FINITE);
  const sigma = perRow('sigma', o.sigma, rows, k === 'score' ? { min: 0, exclusive: true, expected: 'a finite number > 0' } : SIGMA);
  const out = outArray('out', o.out, x0, [['x0', x0, true], ['eps', eps, true]]);
  switch (k) {
    case 'eps': out.set(eps); break;
    case 'x0': out.set(x0); break;
    case 'v': kernels().combine2(out, eps, x0, dim, alpha, sigma.map((s) => -s)); break;
    case 'score': {
      // -eps / sigma as h * eps + h * eps with h = -0.5 / sigma: the same bits as (-1 / sigma) * eps
      // (halving is exact), and no 0 * eps term, which would turn an infinite eps into NaN.
      const h = sigma.map((s) => -0.5 / s);
      kernels().combine2(out, eps, eps, dim, h, h);
      break;
    }
  }
  return out;
}

/** Options of {@link convertPrediction}. */
export interface ConvertPredictionOptions {
  /** What `pred` is. */
  from: Prediction;
  /** What to convert it to. */
  to: Prediction;
  /** The noisy input x_t the model saw, [batch, dim], same dtype as pred. */
  x: FloatArray;
  /** Row length. */
  dim: number;
  /** Signal scale of x_t per row or shared (finite). */
  alpha: PerRow;
  /** Noise scale of x_t per row or shared (finite, >= 0). */
  sigma: PerRow;
  /** Output (same dtype and length); may be pred or x. */
  out?: FloatArray;
}

/**
 * Converts a model output between parameterisations, given the noisy input x = alpha x0 + sigma eps:
 * x0 = (x - sigma eps) / alpha, eps = (x - alpha x0) / sigma, v = alpha eps - sigma x0,
 * score = -eps / sigma (general alpha, sigma: v recovers x0 = (alpha x - sigma v) / (alpha^2 + sigma^2)).
 * Each output is `kx * x + kp * pred` per row with coefficients computed once in float64.
 * A conversion that divides by alpha (or sigma) needs alpha != 0 (sigma > 0): RangeError otherwise.
 * @returns out (a new array unless `out` was given)
 */
export function convertPrediction<T extends FloatArray>(pred: T, opts: ConvertPredictionOptions): T {
  floatArray('pred', pred);
  const o = options<ConvertPredictionOptions>('options', opts);
  const from = prediction('from', o.from);
  const to = prediction('to', o.to);
  const x = floatArray('x', o.x);
  if (x.constructor !== pred.constructor) throw typeError('x', `a ${pred.constructor.name} like pred`, x);
  if (x.length !== pred.length) throw rangeError('x.length', `${pred.length} (the length of pred)`, x.length);
  const dim = positiveInt('dim', o.dim);
  const rows = rowsOf('pred', pred, dim);
  const alpha = perRow('alpha', o.alpha, rows, FINITE);
  const sigma = perRow('sigma', o.sigma, rows, SIGMA);
  const n = Math.max(alpha.length, sigma.length);
  const kx = new Float64Array(n);
  const kp = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const al = alpha[alpha.length === 1 ? 0 : r];
    const si = sigma[sigma.length === 1 ? 0 : r];
    const [x0x, x0p, ex, ep] = basis(from, to, al, si, r);
    switch (to) {
      case 'x0': kx[r] = x0x; kp[r] = x0p; break;
      case 'eps': kx[r] = ex; kp[r] = ep; break;
      case 'v': kx[r] = al * ex - si * x0x; kp[r] = al * ep - si * x0p; break;
      case 'score': kx[r] = -ex / si; kp[r] = -ep / si; break;
    }
  }
  const out = outArray('out', o.out, pred, [['pred', pred, true], ['x', x, true]]);
  if (from === to) out.set(pred);
  else if (kx.every((k) => k === 0)) {
    // The result does not depend on x (eps <-> score): kp * pred as two exact halves, so a
    // non-finite x does not leak in through 0 * x.
    const half = kp.map((k) => k * 0.5);
    kernels().combine2(out, pred, pred, dim, half, half);
  } else kernels().combine2(out, x, pred, dim, kx, kp);
  return out;
}

/** x0 and eps as (coefficient of x, coefficient of pred) for one row. */
function basis(from: Prediction, to: Prediction, al: number, si: number, row: number): [number, number, number, number] {
  const needAlpha = (from === 'eps' || from === 'score') && (to === 'x0' || to === 'v');
  const needSigma = (from === 'x0' && to !== 'x0') || to === 'score' || from === 'score';
  if (needAlpha && al === 0) throw rangeError(`alpha[${row}]`, `a non-zero alpha to convert ${from} to ${to}`, al);
  if (needSigma && si === 0) throw rangeError(`sigma[${row}]`, `sigma > 0 to convert ${from} to ${to}`, si);
  switch (from) {
    case 'eps': return [1 / al, -si / al, 0, 1];
    case 'x0': return [0, 1, 1 / si, -al / si];
    case 'score': return [1 / al, (si * si) / al, 0, -si];
    case 'v': {
      const n2 = al * al + si * si;
      if (n2 === 0) throw rangeError(`alpha[${row}]`, 'alpha and sigma not both 0 to convert from v', al);
      return [al / n2, -si / n2, si / n2, al / n2];
    }
  }
}
