/**
 * A deliberately plain float64 reference of the mixture posterior (samplers.md §0.1), written
 * independently of both kernels (per-dimension log determinants, expanded variances, a
 * different summation layout), plus the condition numbers of reliability.md §3.3's twin rule:
 * per output element, C = sum of the absolute values of the terms that make it up, including
 * the way errors in the log-domain terms l_k move the responsibilities.
 * @module
 */
import type { FloatArray } from '../../src/types.js';

export interface ReferenceModel {
  dim: number;
  means: Float64Array; // [K, dim]
  variances: Float64Array; // [K, dim] (expanded)
  weights: Float64Array; // [K], normalised
}

export interface ReferenceRow {
  r: Float64Array;
  logDensity: number;
  mean: Float64Array;
  score: Float64Array;
  entropy: number;
  variance: number;
  /** Condition numbers (the C of the twin rule) of each output. */
  cond: { r: Float64Array; logDensity: number; mean: Float64Array; score: Float64Array; entropy: number; variance: number };
}

const LOG_2PI = Math.log(2 * Math.PI);

/** The posterior at one row x (float64 values), level (a, s). */
export function referenceRow(m: ReferenceModel, x: ArrayLike<number>, a: number, s: number): ReferenceRow {
  const { dim, means, variances, weights } = m;
  const K = weights.length;
  const l = new Float64Array(K);
  const L = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    if (weights[k] === 0) {
      l[k] = -Infinity;
      continue;
    }
    let acc = Math.log(weights[k]);
    let mag = Math.abs(acc);
    for (let j = 0; j < dim; j++) {
      const C = a * a * variances[k * dim + j] + s * s;
      const e = x[j] - a * means[k * dim + j];
      const t1 = Math.log(2 * Math.PI * C);
      const t2 = (e * e) / C;
      acc -= 0.5 * (t1 + t2);
      mag += 0.5 * (Math.abs(t1) + t2);
    }
    l[k] = acc;
    L[k] = mag;
  }
  let mx = -Infinity;
  for (let k = 0; k < K; k++) mx = Math.max(mx, l[k]);
  // Every quadratic here overflowed (e e / C beyond the range: a kernel's own sum may just
  // stay below it): rounding decides the responsibilities, as below at near-ties; r is then
  // uniform over the components of nonzero weight, each able to take any share.
  const allOverflow = mx === -Infinity;
  if (allOverflow) {
    for (let k = 0; k < K; k++) l[k] = weights[k] === 0 ? -Infinity : 0;
    mx = 0;
  }
  const r = new Float64Array(K);
  let S = 0;
  for (let k = 0; k < K; k++) {
    r[k] = Math.exp(l[k] - mx);
    S += r[k];
  }
  for (let k = 0; k < K; k++) r[k] /= S;
  const logDensity = allOverflow ? -Infinity : mx + Math.log(S);
  let Lbar = 0;
  for (let k = 0; k < K; k++) if (r[k] > 0) Lbar += r[k] * L[k]; // (a component with r_k = 0 may have L_k = inf)
  const condR = new Float64Array(K);
  // First order, capped at 1e12 (a tolerance of 1: any share; also keeps 0 * inf out)
  for (let k = 0; k < K; k++) condR[k] = r[k] > 0 ? Math.min(1e12, r[k] * (1 + L[k] + Lbar)) : 0;
  // Beyond first order: where the rounding error of l_k and of the largest l (about
  // eps (L_k + L_top)) reaches 1, a component can take up to exp(l_k - l_top + that error) of
  // the weight whatever its r_k here (0 at near-ties between huge quadratics: rounding decides).
  let top = 0;
  for (let k = 1; k < K; k++) if (l[k] > l[top]) top = k;
  const eps = 4 * (dim + 2) * 2 ** -53;
  for (let k = 0; k < K; k++) {
    const err = eps * (L[k] + L[top]);
    if (l[k] > -Infinity && (err >= 1 || allOverflow)) condR[k] = Math.max(condR[k], 1e12 * Math.min(1, Math.exp(l[k] - mx + err)));
  }

  let entropy = 0;
  let condH = 0;
  for (let k = 0; k < K; k++) {
    if (r[k] > 0) {
      const lr = l[k] - mx - Math.log(S);
      entropy -= r[k] * lr;
      condH += condR[k] * (1 + Math.abs(lr)) + r[k] * (1 + L[k] + Lbar + Math.abs(lr));
    }
  }

  const mean = new Float64Array(dim);
  const score = new Float64Array(dim);
  const condMean = new Float64Array(dim);
  const condScore = new Float64Array(dim);
  const mk = new Float64Array(K * dim);
  const mterm = new Float64Array(K * dim);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < dim; j++) {
      const mu = means[k * dim + j];
      const v = variances[k * dim + j];
      const C = a * a * v + s * s;
      const e = x[j] - a * mu;
      const u = e / C;
      const uMag = (Math.abs(x[j]) + Math.abs(a * mu)) / C;
      mk[k * dim + j] = mu + a * v * u;
      mterm[k * dim + j] = Math.abs(mu) + a * v * uMag;
      mean[j] += r[k] * mk[k * dim + j];
      score[j] -= r[k] * u;
      condMean[j] += (r[k] + condR[k]) * mterm[k * dim + j];
      condScore[j] += (r[k] + condR[k]) * uMag;
    }
  }
  let variance = 0;
  let condV = 0;
  for (let k = 0; k < K; k++) {
    let tr = 0;
    let d2 = 0;
    let c2 = 0;
    for (let j = 0; j < dim; j++) {
      const v = variances[k * dim + j];
      const C = a * a * v + s * s;
      tr += (v * s * s) / C;
      const d = mk[k * dim + j] - mean[j];
      d2 += d * d;
      const b = Math.abs(d) + mterm[k * dim + j] + condMean[j];
      c2 += b * b;
    }
    variance += r[k] * (tr + d2);
    condV += (r[k] + condR[k]) * (tr + c2);
  }
  variance /= dim;
  condV /= dim;
  // Terms that are subnormal round with an absolute error of up to 2^-1075 each, whatever the
  // size of the sum: about 4 K (dim + 1) such roundings at most per output, added to every
  // condition as 1e12 times that (the tolerance takes 1e-12 of it).
  const floor = 4 * K * (dim + 1) * 2 ** -1074 * 1e12;
  for (let k = 0; k < K; k++) condR[k] += floor;
  for (let j = 0; j < dim; j++) {
    condMean[j] += floor;
    condScore[j] += floor;
  }
  return {
    r, logDensity, mean, score, entropy, variance,
    cond: {
      r: condR, logDensity: 1 + Lbar + Math.abs(logDensity) + Math.log(K) + floor, mean: condMean, score: condScore,
      entropy: condH + floor, variance: condV + floor,
    },
  };
}

/** The reference at every row of x [rows, dim], level per row (arrays of length 1 broadcast). */
export function referenceBatch(m: ReferenceModel, x: FloatArray, alpha: ArrayLike<number>,
  sigma: ArrayLike<number>): ReferenceRow[] {
  const rows = x.length / m.dim;
  const out: ReferenceRow[] = [];
  for (let b = 0; b < rows; b++) {
    out.push(referenceRow(m, Array.from(x.subarray(b * m.dim, (b + 1) * m.dim)),
      alpha[alpha.length === 1 ? 0 : b], sigma[sigma.length === 1 ? 0 : b]));
  }
  return out;
}

/** An upper bound on one ulp of b in the output dtype (float64, or float32 when f32). */
export function ulpOf(b: number, f32: boolean): number {
  return f32 ? Math.max(Math.abs(b) * 2 ** -23, 2 ** -149) : Math.max(Math.abs(b) * 2 ** -52, Number.MIN_VALUE);
}

/** The twin rule of reliability.md §3.3: |a - b| <= 2 ulp(b) + 1e-12 C. */
export function twinTolerance(b: number, cond: number, f32: boolean): number {
  return 2 * ulpOf(b, f32) + 1e-12 * cond;
}

/** Throws when a and b differ by more than the twin rule allows at element i. */
export function expectClose(a: number, b: number, cond: number, f32: boolean, what: string): void {
  const tol = twinTolerance(b, cond, f32);
  if (!(Math.abs(a - b) <= tol) && !(a === b)) {
    throw new Error(`${what}: ${a} vs ${b} (|diff| = ${Math.abs(a - b)} > tolerance ${tol}, C = ${cond})`);
  }
}
