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
  const r = new Float64Array(K);
  let S = 0;
  for (let k = 0; k < K; k++) {
    r[k] = Math.exp(l[k] - mx);
    S += r[k];
  }
  for (let k = 0; k < K; k++) r[k] /= S;
  const logDensity = mx + Math.log(S);
  let Lbar = 0;
  for (let k = 0; k < K; k++) Lbar += r[k] * L[k];
  const condR = new Float64Array(K);
  for (let k = 0; k < K; k++) condR[k] = r[k] * (1 + L[k] + Lbar);

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
  return {
    r, logDensity, mean, score, entropy, variance,
    cond: {
      r: condR, logDensity: 1 + Lbar + Math.abs(logDensity) + Math.log(K), mean: condMean, score: condScore,
      entropy: condH, variance: condV,
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
