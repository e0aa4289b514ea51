/** Denoisers with known answers and grids for the sampler tests. */
import type { FloatArray } from '../../src/types.js';

/** EDM's Karras grid (eq. 5) of n positive levels, with a final 0 when `zero`. */
export function karras(n: number, sMin: number, sMax: number, zero = true, rho = 7): Float64Array {
  const out = new Float64Array(n + (zero ? 1 : 0));
  for (let i = 0; i < n; i++) out[i] = (sMax ** (1 / rho) + (i / (n - 1)) * (sMin ** (1 / rho) - sMax ** (1 / rho))) ** rho;
  return out;
}

/** n + 1 levels uniform in ln sigma from sMax to sMin (no final 0). */
export function exponential(n: number, sMin: number, sMax: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) out[i] = Math.exp(Math.log(sMax) + (i / n) * (Math.log(sMin) - Math.log(sMax)));
  out[0] = sMax;
  out[n] = sMin;
  return out;
}

/** Exact denoiser of isotropic Gaussian data N(0, s2 I): D = s2 x / (s2 + sigma^2), sigma per row. */
export const gaussian = (s2: number) => (x: FloatArray, sigma: Float64Array): Float64Array => {
  const dim = x.length / sigma.length;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const s = sigma[Math.floor(i / dim)];
    out[i] = (s2 * x[i]) / (s2 + s * s);
  }
  return out;
};

/**
 * The probability-flow ODE solution for Gaussian data N(0, s2) started at xT at level sT:
 * x(sigma) = xT sqrt(s2 + sigma^2) / sqrt(s2 + sT^2).
 */
export function gaussianFlow(xT: number, sT: number, sigma: number, s2: number): number {
  return (xT * Math.sqrt(s2 + sigma * sigma)) / Math.sqrt(s2 + sT * sT);
}

/**
 * Exact denoiser of a 1-D Gaussian mixture sum_k w_k N(mu_k, v_k) (every element is its own
 * 1-D sample): D = sum_k r_k (mu_k + v_k / (v_k + sigma^2) (x - mu_k)), r_k the posterior weights.
 */
export const mixture1d = (w: number[], mu: number[], v: number[]) => (x: FloatArray, sigma: Float64Array): Float64Array => {
  const dim = x.length / sigma.length;
  const out = new Float64Array(x.length);
  const l = new Float64Array(w.length);
  for (let i = 0; i < x.length; i++) {
    const s2 = sigma[Math.floor(i / dim)] ** 2;
    let lmax = -Infinity;
    for (let k = 0; k < w.length; k++) {
      const c = v[k] + s2;
      l[k] = Math.log(w[k]) - 0.5 * Math.log(c) - (0.5 * (x[i] - mu[k]) ** 2) / c;
      lmax = Math.max(lmax, l[k]);
    }
    let num = 0;
    let den = 0;
    for (let k = 0; k < w.length; k++) {
      const e = Math.exp(l[k] - lmax);
      num += e * (mu[k] + (v[k] / (v[k] + s2)) * (x[i] - mu[k]));
      den += e;
    }
    out[i] = num / den;
  }
  return out;
};
