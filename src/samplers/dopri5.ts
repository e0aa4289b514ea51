/**
 * Adaptive Dormand-Prince 5(4) (Dormand & Prince 1980; tableau and controller conventions of
 * shared/reference/samplers.md §2.17) on the probability-flow ODE in u = ln sigma:
 * dx/du = x - D(x; e^u), integrated from sigmas[0] down to the last positive sigma.
 *
 * Every sample keeps its own step size, error history and step counts: rows advance
 * independently (the model is called for the whole batch with one sigma per row; rows that
 * have reached the next grid node wait there, re-evaluated at their node and left unchanged),
 * so a sample's result does not depend on the rest of the batch. All arithmetic on arrays is
 * the fused step kernel with per-row coefficients; the error norms are float64 reductions in
 * TypeScript, so the same bits on every backend.
 * @module
 */
import type { FloatArray } from '../types.js';
import type { Request, Run } from './engine.js';

type Gen = Generator<Request, void, void>;

// Dormand-Prince 5(4) tableau.
const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const A: number[][] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
const B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];
const B4 = [5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40];
const E = B5.map((b, j) => b - B4[j]);

/** Default relative tolerance of 'dopri5'. */
export const DOPRI5_RTOL = 1e-4;
/** Default absolute tolerance of 'dopri5' (data units). */
export const DOPRI5_ATOL = 1e-4;

// Step-size controller (Hairer, Norsett & Wanner, DOPRI5): PI with beta = 0.04, i.e.
// h_new = h * clamp(0.9 * err^-0.17 * errPrev^0.04, 0.2, 10); after a rejection the next
// step may not grow; on a rejection h_new = h * max(0.2, 0.9 * err^-0.17).
const SAFETY = 0.9;
const EXPO = 0.2 - 0.04 * 0.75;
const BETA = 0.04;
const FAC_MIN = 0.2;
const FAC_MAX = 10;
/** Attempts per row and interval before giving up (a model the controller cannot follow). */
const MAX_ATTEMPTS = 100000;

/**
 * RMS over a row of err / (atol + rtol max(|a|, |b|)) (b may be null), in float64.
 */
function rowErrors(out: Float64Array, err: FloatArray, a: FloatArray, b: FloatArray | null, dim: number,
  rtol: number, atol: number): void {
  for (let r = 0, base = 0; r < out.length; r++, base += dim) {
    let acc = 0;
    for (let i = base, end = base + dim; i < end; i++) {
      const m = b ? Math.max(Math.abs(a[i]), Math.abs(b[i])) : Math.abs(a[i]);
      const q = err[i] / (atol + rtol * m);
      acc += q * q;
    }
    out[r] = Math.sqrt(acc / dim);
  }
}

/**
 * 'dopri5': adaptive Dormand-Prince 5(4) on the PF-ODE in ln sigma, per-sample step control
 * with tolerances `rtol`, `atol` (defaults 1e-4 and 1e-4), Hairer's initial step
 * (one extra evaluation) and a PI controller. The grid's interior nodes are checkpoints: steps
 * are shortened to land on them and onStep fires there; the accuracy is set by the tolerances,
 * not by the grid. A final 0 in the grid ends with x = D at the last positive sigma, the model
 * output of the FSAL stage (no extra evaluation). NFE 2 + 6 * (attempt rounds); the result's
 * `accepted` and `rejected` count steps summed over the samples.
 */
export function* dopri5(run: Run): Gen {
  const { x, sigmas, rows, dim } = run;
  const rtol = typeof run.options.rtol === 'number' ? run.options.rtol : DOPRI5_RTOL;
  const atol = typeof run.options.atol === 'number' ? run.options.atol : DOPRI5_ATOL;
  const endsInZero = sigmas[sigmas.length - 1] === 0;
  const last = endsInZero ? sigmas.length - 2 : sigmas.length - 1;
  const k: FloatArray[] = Array.from({ length: 7 }, () => run.buffer());
  const y = run.buffer();
  const x5 = run.buffer();
  const err = run.buffer();
  const D = run.buffer(); // the model's output at each row's current point
  const D7 = run.buffer(); // ... at the FSAL stage
  const sig = new Float64Array(rows);
  const u = new Float64Array(rows); // ln sigma of each row
  const h = new Float64Array(rows); // proposed step (negative)
  const hUse = new Float64Array(rows);
  const clipped = new Uint8Array(rows);
  const accept = new Uint8Array(rows);
  const errPrev = new Float64Array(rows).fill(1e-4);
  const lastRejected = new Uint8Array(rows);
  const errs = new Float64Array(rows);
  const coef = new Float64Array(8 * rows);
  let accepted = 0;
  let rejected = 0;
  run.extra.accepted = 0;
  run.extra.rejected = 0;

  const stageSigma = (c: number): Float64Array => {
    for (let r = 0; r < rows; r++) sig[r] = Math.exp(u[r] + c * hUse[r]);
    return sig;
  };
  /** f = y - D(y) into k[j] (D evaluated into `into`, k[j] itself by default). */
  function* f(at: FloatArray, sigma: number | Float64Array, j: number, step: number, into: FloatArray = k[j]): Gen {
    yield run.evalAt(at, sigma, into, step);
    run.combine(k[j], [at, into], [1, -1]);
  }
  /** out = x + hUse * sum_l w_l k_l over the given stages (per-row coefficients); without x when withX is false. */
  const advance = (out: FloatArray, w: number[], withX = true): void => {
    const terms: FloatArray[] = withX ? [x] : [];
    for (let r = 0; r < rows && withX; r++) coef[r] = 1;
    let n = terms.length;
    for (let l = 0; l < w.length; l++) {
      if (w[l] === 0) continue;
      terms.push(k[l]);
      for (let r = 0; r < rows; r++) coef[n * rows + r] = hUse[r] * w[l];
      n++;
    }
    run.combineRows(out, terms, coef.subarray(0, n * rows));
  };

  u.fill(Math.log(sigmas[0]));
  // k1 at the start (D kept: the denoised output at each row's current point); onStep(0) below.
  yield* f(x, sigmas[0], 0, 0, D);
  if (last > 0) {
    // Hairer's initial step, per row, in |u| units.
    const d0 = new Float64Array(rows);
    const d1 = new Float64Array(rows);
    rowErrors(d0, x, x, null, dim, rtol, atol);
    rowErrors(d1, k[0], x, null, dim, rtol, atol);
    const span = Math.log(sigmas[0]) - Math.log(sigmas[last]);
    for (let r = 0; r < rows; r++) {
      const h0 = d0[r] < 1e-5 || d1[r] < 1e-5 ? 1e-6 : 0.01 * (d0[r] / d1[r]);
      hUse[r] = -Math.min(h0, span);
    }
    advance(y, [1]);
    yield* f(y, stageSigma(1), 1, 0);
    run.combine(err, [k[1], k[0]], [1, -1]);
    rowErrors(errs, err, x, null, dim, rtol, atol);
    for (let r = 0; r < rows; r++) {
      const h0 = -hUse[r];
      const d2 = errs[r] / h0;
      const m = Math.max(d1[r], d2);
      const h1 = m <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / m) ** (1 / 5);
      h[r] = -Math.min(100 * h0, h1, span);
    }
  }

  for (let i = 0; i < run.steps; i++) {
    const sNext = sigmas[i + 1];
    yield run.stepDone(i, sigmas[i], x, D);
    if (sNext === 0) {
      run.combine(x, [D], [1]);
      break;
    }
    const uT = Math.log(sNext);
    for (let attempt = 0; ; attempt++) {
      let active = 0;
      for (let r = 0; r < rows; r++) {
        const rest = uT - u[r];
        if (u[r] === uT) {
          hUse[r] = 0;
          clipped[r] = 0;
        } else if (Math.abs(rest) <= 1.01 * Math.abs(h[r])) {
          hUse[r] = rest;
          clipped[r] = 1;
          active++;
        } else {
          hUse[r] = h[r];
          clipped[r] = 0;
          active++;
        }
      }
      if (active === 0) break;
      if (attempt >= MAX_ATTEMPTS) {
        throw new Error(`dopri5 took more than ${MAX_ATTEMPTS} attempts between sigma = ${sigmas[i]} and ${sNext} (rtol/atol too tight for this model?)`);
      }
      for (let j = 1; j < 7; j++) {
        advance(j === 6 ? x5 : y, A[j]);
        yield* f(j === 6 ? x5 : y, stageSigma(C[j]), j, i, j === 6 ? D7 : k[j]);
      }
      advance(err, E, false); // the error estimate h sum_l (b5_l - b4_l) k_l
      rowErrors(errs, err, x, x5, dim, rtol, atol);
      for (let r = 0; r < rows; r++) {
        accept[r] = 0;
        if (hUse[r] === 0) continue;
        const e = errs[r];
        if (!Number.isFinite(e)) {
          throw new Error(`dopri5: non-finite error estimate at sigma = ${Math.exp(u[r])} (row ${r})`);
        }
        if (e <= 1) {
          accept[r] = 1;
          accepted++;
          let fac = e === 0 ? FAC_MAX : SAFETY * e ** -EXPO * errPrev[r] ** BETA;
          fac = Math.min(FAC_MAX, Math.max(FAC_MIN, fac));
          if (lastRejected[r]) fac = Math.min(fac, 1);
          let next = hUse[r] * fac;
          if (clipped[r] && fac >= 1 && Math.abs(h[r]) > Math.abs(next)) next = h[r];
          h[r] = next;
          errPrev[r] = Math.max(e, 1e-4);
          lastRejected[r] = 0;
          u[r] = clipped[r] ? uT : u[r] + hUse[r];
        } else {
          rejected++;
          h[r] = hUse[r] * Math.max(FAC_MIN, SAFETY * e ** -EXPO);
          lastRejected[r] = 1;
        }
        if (!(Math.abs(h[r]) > 1e-14 * Math.max(1, Math.abs(u[r])))) {
          throw new Error(`dopri5: step size underflow at sigma = ${Math.exp(u[r])} (row ${r})`);
        }
      }
      // Accepted rows move to x5 and take the FSAL stage as their new k1.
      for (let r = 0; r < rows; r++) {
        coef[r] = 1 - accept[r];
        coef[rows + r] = accept[r];
      }
      run.combineRows(x, [x, x5], coef.subarray(0, 2 * rows));
      run.combineRows(k[0], [k[0], k[6]], coef.subarray(0, 2 * rows));
      run.combineRows(D, [D, D7], coef.subarray(0, 2 * rows));
    }
  }
  run.extra.accepted = accepted;
  run.extra.rejected = rejected;
}
