/**
 * Statistics for testing a standard normal generator (reliability.md §3.2), written out here
 * rather than borrowed: the normal CDF to ~1e-16 absolute and ~2e-15 relative (tails included),
 * Kolmogorov-Smirnov with the Kolmogorov series, Anderson-Darling for a fully specified N(0, 1)
 * ("case 0", not scipy's estimated-parameter variant), chi-square with the regularised
 * incomplete gamma function, moment z-scores, correlations and Poisson tail counts.
 * @module
 */
import { normalDensity as bigNormalDensity, normalUpperTail as bigNormalUpperTail, toDouble } from './bigfixed.js';

const INV_SQRT_2PI = 0.3989422804014327; // 1 / sqrt(2 pi)

/**
 * The standard normal density. exp(-x^2 / 2) is evaluated as exp(-xh^2 / 2) exp(-(x - xh)(x + xh) / 2)
 * with xh = x rounded to 1/16, so that xh^2 / 2 is exact and the rounding of x^2 (which would
 * cost x^2 * 2^-53 relative, 1e-14 at x = 6) does not reach the result.
 */
export function normalPdf(x: number): number {
  const ax = Math.abs(x);
  const xh = Math.round(ax * 16) / 16;
  const d = (ax - xh) * (ax + xh);
  return INV_SQRT_2PI * Math.exp(-(xh * xh) / 2) * Math.exp(-d / 2);
}

/**
 * Upper tail Q(x) = P(Z > x), x >= 0. For x < 7.5: a Taylor expansion around the nearest grid
 * point k/64, Q(xk + h) = Q(xk) - phi(xk) sum_{n>=1} (-1)^(n-1) He_{n-1}(xk) h^n / n!
 * (He = probabilists' Hermite polynomials, |h| <= 1/128, 12 terms), with Q(xk) and phi(xk)
 * taken from a 256-bit reference (bigfixed.ts) when the table is built. Above 7.5 the Laplace
 * continued fraction. Error ~2e-16 relative on [0, 7.5).
 */
const GRID = 64;
const TABLE_MAX = 7.5;
const TERMS = 12;
let table: Float64Array | undefined;

function buildTable(): Float64Array {
  const points = TABLE_MAX * GRID + 1;
  const t = new Float64Array(points * (TERMS + 1));
  for (let k = 0; k < points; k++) {
    const xk = k / GRID;
    const base = k * (TERMS + 1);
    t[base] = toDouble(bigNormalUpperTail(xk));
    const phi = toDouble(bigNormalDensity(xk));
    // He_0 = 1, He_1 = x, He_{m+1} = x He_m - m He_{m-1}; c_n = -phi (-1)^(n-1) He_{n-1} / n!
    let hePrev = 0;
    let he = 1;
    let fact = 1;
    for (let n = 1; n <= TERMS; n++) {
      fact *= n;
      t[base + n] = (-phi * (n % 2 === 1 ? 1 : -1) * he) / fact;
      const next = xk * he - (n - 1) * hePrev;
      hePrev = he;
      he = next;
    }
  }
  return t;
}

/** Upper tail Q(x) = P(Z > x) for x >= 0. */
function upperTail(x: number): number {
  if (x < TABLE_MAX) {
    const t = (table ??= buildTable());
    const k = Math.round(x * GRID);
    const h = x - k / GRID; // exact
    const base = k * (TERMS + 1);
    let s = t[base + TERMS];
    for (let n = TERMS - 1; n >= 1; n--) s = s * h + t[base + n];
    return t[base] + s * h;
  }
  // Q(x) = phi(x) / (x + 1/(x + 2/(x + 3/(x + ...)))), by the modified Lentz method.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let j = 1; j < 5000; j++) {
    d = x + j * d;
    if (d === 0) d = tiny;
    c = x + j / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-17) break;
  }
  return normalPdf(x) / f;
}

/** P(Z > x) for any x (accurate relative to the result for x > 0). */
export function normalSurvival(x: number): number {
  return x >= 0 ? upperTail(x) : 1 - upperTail(-x);
}

/** Standard normal CDF Phi(x). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x < 0 ? upperTail(-x) : 1 - upperTail(x);
}

/** log Phi(x), accurate in the lower tail (relative) and near 1 (via log1p). */
export function logNormalCdf(x: number): number {
  return x < 0 ? Math.log(upperTail(-x)) : Math.log1p(-upperTail(x));
}

/** log Gamma(x) for x > 0: Stirling's series after shifting x above 15 (error ~1e-16 relative). */
export function logGamma(x: number): number {
  let shift = 0;
  while (x < 15) {
    shift += Math.log(x);
    x += 1;
  }
  const x2 = 1 / (x * x);
  const series = (1 / x) * (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 * (1 / 1680 - x2 / 1188))));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** Regularised upper incomplete gamma Q(a, x) (Numerical Recipes gser / gcf). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPre = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let n = 0; n < 10000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - sum * Math.exp(lnPre);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-17) break;
  }
  return Math.exp(lnPre) * h;
}

/** P(chi^2_df > x). */
export function chiSquareSurvival(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/** Kolmogorov distribution survival P(K > lambda). */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda <= 0) return 1;
  if (lambda < 1.18) {
    // P(K <= l) = sqrt(2 pi) / l * sum_k exp(-(2k - 1)^2 pi^2 / (8 l^2))
    const a = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let s = 0;
    for (let k = 1; k < 100; k++) {
      const t = Math.exp(-(2 * k - 1) * (2 * k - 1) * a);
      s += t;
      if (t < 1e-18 * s) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / lambda) * s;
  }
  // P(K > l) = 2 sum_k (-1)^(k-1) exp(-2 k^2 l^2)
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const t = Math.exp(-2 * k * k * lambda * lambda);
    s += k % 2 === 1 ? t : -t;
    if (t < 1e-18) break;
  }
  return Math.min(1, 2 * s);
}

/** Goodness of fit of a sample to N(0, 1). */
export interface FitStatistics {
  /** Kolmogorov-Smirnov distance sup |F_n - Phi|. */
  ksD: number;
  /** Its p-value (Kolmogorov series, Stephens' finite-n correction). */
  ksP: number;
  /** Anderson-Darling A^2 for the fully specified N(0, 1) ("case 0"). */
  ad: number;
  /** Chi-square statistic on `bins` equiprobable bins (bin = floor(bins Phi(x))). */
  chi2: number;
  /** Its p-value, bins - 1 degrees of freedom. */
  chiP: number;
}

/**
 * Kolmogorov-Smirnov, Anderson-Darling (case 0) and chi-square against N(0, 1), in one pass over
 * a sorted copy. AD pairs ln F(x_(i)) with ln(1 - F(x_(n-1-i))); here each element contributes
 * both of its terms with their weights, and 1 - F comes from the upper tail directly.
 */
export function fitNormal(x: ArrayLike<number>, bins = 100): FitStatistics {
  const n = x.length;
  const xs = Float64Array.from(x).sort();
  const counts = new Float64Array(bins);
  let d = 0;
  let sLow = 0; // sum (2i + 1) ln F(x_(i))
  let sHigh = 0; // sum (2(n - 1 - i) + 1) ln(1 - F(x_(i)))
  for (let i = 0; i < n; i++) {
    const v = xs[i];
    const neg = v < 0;
    const q = upperTail(neg ? -v : v);
    const f = neg ? q : 1 - q;
    d = Math.max(d, (i + 1) / n - f, f - i / n);
    counts[Math.min(bins - 1, Math.floor(f * bins))]++;
    const lnF = neg ? Math.log(q) : Math.log1p(-q);
    const lnG = neg ? Math.log1p(-q) : Math.log(q);
    sLow += (2 * i + 1) * lnF;
    sHigh += (2 * (n - 1 - i) + 1) * lnG;
  }
  const expected = n / bins;
  let chi2 = 0;
  for (const c of counts) chi2 += ((c - expected) * (c - expected)) / expected;
  const sn = Math.sqrt(n);
  return {
    ksD: d,
    ksP: kolmogorovSurvival((sn + 0.12 + 0.11 / sn) * d),
    ad: -n - (sLow + sHigh) / n,
    chi2,
    chiP: chiSquareSurvival(chi2, bins - 1),
  };
}

/** Anderson-Darling A^2 against N(0, 1) (case 0) by the textbook formula on an already sorted sample (reference for fitNormal). */
export function andersonDarlingSorted(sortedX: ArrayLike<number>): number {
  const n = sortedX.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    s += (2 * i + 1) * (logNormalCdf(sortedX[i]) + logNormalCdf(-sortedX[n - 1 - i]));
  }
  return -n - s / n;
}

/** z-scores of the sample mean, variance, skewness and excess kurtosis under N(0, 1). */
export function momentZ(x: ArrayLike<number>): { mean: number; variance: number; skewness: number; kurtosis: number } {
  const n = x.length;
  let s1 = 0;
  for (let i = 0; i < n; i++) s1 += x[i];
  const mean = s1 / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  const variance = m2 / (n - 1);
  m2 /= n;
  m3 /= n;
  m4 /= n;
  const skew = m3 / Math.pow(m2, 1.5);
  const kurt = m4 / (m2 * m2) - 3;
  return {
    mean: mean * Math.sqrt(n),
    variance: (variance - 1) / Math.sqrt(2 / (n - 1)),
    skewness: skew / Math.sqrt(6 / n),
    kurtosis: kurt / Math.sqrt(24 / n),
  };
}

/**
 * Pearson correlation of (x[i], y[i]), or of (x[i]^2, y[i]^2) with `squares`; returned as the
 * z-score r sqrt(n), N(0, 1) under independence.
 */
export function correlationZ(x: ArrayLike<number>, y: ArrayLike<number>, squares = false): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError('correlationZ: lengths differ');
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    const a = squares ? x[i] * x[i] : x[i];
    const b = squares ? y[i] * y[i] : y[i];
    sx += a;
    sy += b;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = (squares ? x[i] * x[i] : x[i]) - mx;
    const b = (squares ? y[i] * y[i] : y[i]) - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return (sxy / Math.sqrt(sxx * syy)) * Math.sqrt(n);
}

/** Two-sided p-value of a Poisson count k with mean mu: 2 min(P(X <= k), P(X >= k)), capped at 1. */
export function poissonTwoSided(k: number, mu: number): number {
  const logPmf = (j: number): number => j * Math.log(mu) - mu - logGamma(j + 1);
  const pk = Math.exp(logPmf(k));
  // P(X <= k) = pk (1 + k/mu + k(k-1)/mu^2 + ...)
  let lower = 0;
  for (let j = k, t = pk; j >= 0 && t > 0; j--) {
    lower += t;
    t *= j / mu;
    if (t < lower * 1e-17) break;
  }
  // P(X >= k) = pk (1 + mu/(k+1) + mu^2/((k+1)(k+2)) + ...)
  let upper = 0;
  for (let j = k, t = pk; t > 0; j++) {
    upper += t;
    t *= mu / (j + 1);
    if (t < upper * 1e-17) break;
  }
  return Math.min(1, 2 * Math.min(lower, upper));
}
