/**
 * Mixture posterior kernel, twin of native/core/mixture.cc: the same expressions with the same
 * operands in the same order (only Math.exp / Math.log may differ from the C library by an ulp).
 * Formulas: native/core/mixture.h.
 * @module
 */
import type { FloatArray } from '../types.js';

// mixturePosterior off the calling thread: a worker thread on Node.js, the calling thread after a
// yield in the browser build (src/platform/).
export { mixturePosteriorInWorker } from '../platform/index.js';

/** log(2 pi), the same literal as kLog2Pi in mixture.cc. */
const LOG_2PI = 1.8378770664093454835606594728112;

/**
 * Columns whose sums overflow are summed again scaled by 2^-1040, as two exact multiplications
 * by 2^-520 (as mixture.cc's scale_down / scale_up; the bounds are given there).
 */
const DOWN = 2 ** -520;
const UP = 2 ** 520;
const scaleDown = (v: number): number => v * DOWN * DOWN;
const scaleUp = (v: number): number => v * UP * UP;

/** Scratch for one call (float64 throughout; x's dtype only on the final stores). */
interface Workspace {
  l: Float64Array;
  r: Float64Array;
  h: Float64Array;
  ic: Float64Array;
  g: Float64Array;
  accMean: Float64Array;
  accScore: Float64Array;
  xr: Float64Array;
  /** Column j's mean sum scaled by 2^-1040 when it overflowed, else NaN. */
  bigMean: Float64Array;
  /** The same for the score. */
  bigScore: Float64Array;
  cached: boolean;
  cachedAlpha: number;
  cachedSigma: number;
}

/**
 * Posterior of a diagonal Gaussian mixture at each row of x [rows, dim]; arguments as the
 * native binding's mixturePosterior (validated by the caller). variances has length K * dim
 * (diagonal), K (isotropic per component) or 1 (shared); logWeights has length K. Outputs
 * that are null are not computed.
 */
export function mixturePosterior(x: FloatArray, dim: number, means: Float64Array, variances: Float64Array,
  logWeights: Float64Array, alpha: Float64Array, sigma: Float64Array, responsibilities: FloatArray | null,
  mean: FloatArray | null, score: FloatArray | null, logDensity: FloatArray | null, entropy: FloatArray | null,
  variance: FloatArray | null): void {
  const rows = x.length / dim;
  if (rows === 0) return;
  const K = logWeights.length;
  const diag = variances.length === K * dim;
  const vstride = !diag && variances.length === K ? 1 : 0;
  const w: Workspace = {
    l: new Float64Array(K), r: new Float64Array(K), h: new Float64Array(K), ic: new Float64Array(K),
    g: new Float64Array(K), accMean: new Float64Array(dim), accScore: new Float64Array(dim),
    xr: new Float64Array(dim), bigMean: new Float64Array(dim), bigScore: new Float64Array(dim), cached: false, cachedAlpha: 0, cachedSigma: 0,
  };
  const aStep = alpha.length === 1 ? 0 : 1;
  const sStep = sigma.length === 1 ? 0 : 1;

  const prepare = (a: number, s: number): void => {
    const a2 = a * a;
    const s2 = s * s;
    const h = w.h;
    for (let k = 0; k < K; k++) {
      const lw = logWeights[k];
      if (lw === -Infinity) {
        h[k] = -Infinity;
        continue;
      }
      if (diag) {
        const v0 = k * dim;
        let sumlog = 0;
        for (let j = 0; j < dim; j++) {
          const c = a2 * variances[v0 + j] + s2;
          sumlog += Math.log(c);
        }
        h[k] = lw - 0.5 * (dim * LOG_2PI + sumlog);
      } else {
        const v = variances[k * vstride];
        const c = a2 * v + s2;
        h[k] = lw - 0.5 * (dim * (LOG_2PI + Math.log(c)));
        w.ic[k] = 1.0 / c;
        w.g[k] = a * v * w.ic[k];
      }
    }
    w.cached = true;
    w.cachedAlpha = a;
    w.cachedSigma = s;
  };

  // log q_k = log sum_j e_j^2 / C_j for the overflow fallback (streaming log-sum-exp of
  // 2 log|e_j| - log C_j): finite and ordered right where q_k overflows.
  const logQuadratic = (k: number, a: number, a2: number, s2: number): number => {
    const m0 = k * dim;
    const v0 = diag ? k * dim : k * vstride;
    const xr = w.xr;
    let mx = -Infinity;
    let sum = 0;
    for (let j = 0; j < dim; j++) {
      const e = xr[j] - a * means[m0 + j];
      const c = a2 * variances[v0 + (diag ? j : 0)] + s2;
      const t = 2.0 * Math.log(Math.abs(e)) - Math.log(c);
      if (t === -Infinity) continue;
      if (t > mx) {
        sum = sum * Math.exp(mx - t) + 1.0;
        mx = t;
      } else {
        sum += Math.exp(t - mx);
      }
    }
    return mx + Math.log(sum);
  };

  // Pass 2 again for the columns whose mean or score sum overflowed (a component's term beyond
  // the double range, or +inf and -inf from two components); as sum_big_columns in mixture.cc.
  const sumBigColumns = (a: number, a2: number, s2: number): void => {
    const { r, xr, accMean, accScore, bigMean, bigScore } = w;
    for (let j = 0; j < dim; j++) {
      bigMean[j] = Number.isFinite(accMean[j]) ? NaN : 0;
      bigScore[j] = Number.isFinite(accScore[j]) ? NaN : 0;
    }
    for (let k = 0; k < K; k++) {
      const rk = r[k];
      if (!(rk > 0)) continue;
      const m0 = k * dim;
      for (let j = 0; j < dim; j++) {
        if (Number.isNaN(bigMean[j]) && Number.isNaN(bigScore[j])) continue;
        const mu = means[m0 + j];
        // (x - alpha mu) scaled, from scaled operands: alpha mu may itself overflow
        const es = scaleDown(xr[j]) - a * scaleDown(mu);
        let ic: number;
        let m: number;
        if (diag) {
          const v = variances[m0 + j];
          ic = 1.0 / (a2 * v + s2);
          m = scaleDown(mu) + a * v * ic * es;
        } else {
          ic = w.ic[k];
          m = scaleDown(mu) + w.g[k] * es;
        }
        if (!Number.isNaN(bigMean[j])) bigMean[j] += rk * m;
        if (!Number.isNaN(bigScore[j])) bigScore[j] += rk * (es * ic);
      }
    }
    for (let j = 0; j < dim; j++) {
      if (!Number.isNaN(bigMean[j])) accMean[j] = scaleUp(bigMean[j]);
      if (!Number.isNaN(bigScore[j])) accScore[j] = scaleUp(bigScore[j]);
    }
  };

  // Pass 3 when some columns were summed scaled (variance_big_columns in mixture.cc).
  const varianceBigColumns = (a: number, a2: number, s2: number): number => {
    const { r, xr, accMean, bigMean } = w;
    let total = 0;
    let totalBig = 0;
    for (let k = 0; k < K; k++) {
      const rk = r[k];
      if (!(rk > 0)) continue;
      const m0 = k * dim;
      let d2 = 0;
      let d2Big = 0;
      let trv = 0;
      for (let j = 0; j < dim; j++) {
        const mu = means[m0 + j];
        const e = xr[j] - a * mu;
        let gain = diag ? 0 : w.g[k];
        if (diag) {
          const v = variances[m0 + j];
          const ic = 1.0 / (a2 * v + s2);
          gain = a * v * ic;
          trv += v * s2 * ic;
        }
        if (Number.isNaN(bigMean[j])) {
          const d = mu + gain * e - accMean[j];
          d2 += d * d;
        } else {
          const d = scaleDown(mu) + gain * (scaleDown(xr[j]) - a * scaleDown(mu)) - bigMean[j];
          d2Big += d * d;
        }
      }
      if (!diag) trv = dim * (variances[k * vstride] * s2 * w.ic[k]);
      total += rk * (trv + d2);
      totalBig += rk * d2Big;
    }
    return total / dim + scaleUp(scaleUp(totalBig / dim));
  };

  const { l, r, h, xr, accMean, accScore } = w;
  const wantMean = mean !== null || variance !== null;
  const wantScore = score !== null;
  for (let b = 0; b < rows; b++) {
    const a = alpha[b * aStep];
    const s = sigma[b * sStep];
    if (!w.cached || w.cachedAlpha !== a || w.cachedSigma !== s) prepare(a, s);
    const a2 = a * a;
    const s2 = s * s;
    const x0 = b * dim;
    for (let j = 0; j < dim; j++) xr[j] = x[x0 + j];

    // Pass 1: log joint densities l_k and their maximum.
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      if (h[k] === -Infinity) {
        l[k] = -Infinity;
        continue;
      }
      const m0 = k * dim;
      let q = 0;
      let lk: number;
      if (diag) {
        for (let j = 0; j < dim; j++) {
          const e = xr[j] - a * means[m0 + j];
          const c = a2 * variances[m0 + j] + s2;
          q += e * e / c;
        }
        lk = h[k] - 0.5 * q;
      } else {
        for (let j = 0; j < dim; j++) {
          const e = xr[j] - a * means[m0 + j];
          q += e * e;
        }
        lk = h[k] - 0.5 * (q * w.ic[k]);
      }
      l[k] = lk;
      if (lk > mx) mx = lk;
    }
    let overflow = false;
    if (mx === -Infinity) {
      // Every quadratic overflowed: the nearest components (smallest log q) take it all.
      overflow = true;
      let best = Infinity;
      for (let k = 0; k < K; k++) {
        if (logWeights[k] === -Infinity) {
          l[k] = Infinity;
          continue;
        }
        const lq = logQuadratic(k, a, a2, s2);
        l[k] = lq;
        if (lq < best) best = lq;
      }
      const tieAll = !(best < Infinity);
      for (let k = 0; k < K; k++) {
        const keep = logWeights[k] !== -Infinity && (tieAll || l[k] === best);
        l[k] = keep ? logWeights[k] : -Infinity;
        if (l[k] > mx) mx = l[k];
      }
    }

    // Responsibilities normalised by the sum (reliability.md 5.1), and log p.
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const d = l[k] - mx;
      l[k] = d;
      const t = Math.exp(d);
      r[k] = t;
      sum += t;
    }
    const logSum = Math.log(sum);
    for (let k = 0; k < K; k++) r[k] = r[k] / sum;
    if (responsibilities !== null) {
      const o = b * K;
      for (let k = 0; k < K; k++) responsibilities[o + k] = r[k];
    }
    if (logDensity !== null) logDensity[b] = overflow ? -Infinity : mx + logSum;
    if (entropy !== null) {
      let H = 0;
      for (let k = 0; k < K; k++) {
        if (r[k] > 0) H -= r[k] * (l[k] - logSum);
      }
      entropy[b] = H;
    }
    if (!wantMean && !wantScore) continue;

    // Pass 2: posterior mean and score over the components with r_k > 0.
    accMean.fill(0);
    accScore.fill(0);
    for (let k = 0; k < K; k++) {
      const rk = r[k];
      if (!(rk > 0)) continue;
      const m0 = k * dim;
      if (diag) {
        for (let j = 0; j < dim; j++) {
          const mu = means[m0 + j];
          const v = variances[m0 + j];
          const e = xr[j] - a * mu;
          const ic = 1.0 / (a2 * v + s2);
          if (wantScore) accScore[j] += rk * (e * ic);
          if (wantMean) accMean[j] += rk * (mu + a * v * ic * e);
        }
      } else {
        const ic = w.ic[k];
        const g = w.g[k];
        for (let j = 0; j < dim; j++) {
          const mu = means[m0 + j];
          const e = xr[j] - a * mu;
          if (wantScore) accScore[j] += rk * (e * ic);
          if (wantMean) accMean[j] += rk * (mu + g * e);
        }
      }
    }
    let big = false;
    for (let j = 0; j < dim; j++) big = big || !Number.isFinite(accMean[j]) || !Number.isFinite(accScore[j]);
    if (big) sumBigColumns(a, a2, s2);
    if (mean !== null) for (let j = 0; j < dim; j++) mean[x0 + j] = accMean[j];
    if (score !== null) for (let j = 0; j < dim; j++) score[x0 + j] = -accScore[j];
    if (variance === null) continue;

    // Pass 3: trace of Cov[x0 | x_t] as sum_k r_k (tr V_k + |m_k - D|^2), V_kj = v_kj sigma^2 / C_kj.
    if (big) {
      variance[b] = varianceBigColumns(a, a2, s2);
      continue;
    }
    let total = 0;
    for (let k = 0; k < K; k++) {
      const rk = r[k];
      if (!(rk > 0)) continue;
      const m0 = k * dim;
      let d2 = 0;
      let trv = 0;
      if (diag) {
        for (let j = 0; j < dim; j++) {
          const mu = means[m0 + j];
          const v = variances[m0 + j];
          const e = xr[j] - a * mu;
          const ic = 1.0 / (a2 * v + s2);
          const d = mu + a * v * ic * e - accMean[j];
          d2 += d * d;
          trv += v * s2 * ic;
        }
      } else {
        const ic = w.ic[k];
        const g = w.g[k];
        for (let j = 0; j < dim; j++) {
          const mu = means[m0 + j];
          const e = xr[j] - a * mu;
          const d = mu + g * e - accMean[j];
          d2 += d * d;
        }
        trv = dim * (variances[k * vstride] * s2 * ic);
      }
      total += rk * (trv + d2);
    }
    variance[b] = total / dim;
  }
}
