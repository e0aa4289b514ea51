/**
 * Singlestep DPM-Solver (Lu et al. 2022, arXiv 2206.00927, Algorithms 1-2), noise-prediction
 * form, in k-diffusion's coordinates: lambda = -ln sigma, eps = (x - D) / sigma, and the
 * exponential-integrator steps of shared/reference/samplers.md §2.8 with alpha = 1:
 * - order 1: x_t = x - sigma_t (e^h - 1) eps_s;
 * - order 2 (r1 = 1/2): u = x - sigma_{s1}(e^{r1 h} - 1) eps_s,
 *   x_t = x - sigma_t (e^h - 1) eps_s - sigma_t / (2 r1) (e^h - 1) (eps(u) - eps_s);
 * - order 3 (r1 = 1/3, r2 = 2/3): u1 as above, u2 = x - sigma_{s2}(e^{r2 h} - 1) eps_s
 *   - sigma_{s2} (r2 / r1) ((e^{r2 h} - 1)/(r2 h) - 1) (eps_1 - eps_s),
 *   x_t = x - sigma_t (e^h - 1) eps_s - (sigma_t / r2) ((e^h - 1)/h - 1) (eps_2 - eps_s).
 * Each stage is one fused pass over (x, D, u, D_u) with coefficients computed here in float64.
 * @module
 */
import type { FloatArray } from '../types.js';
import type { Request, Run } from './engine.js';
import { phi } from './phi.js';

type Gen = Generator<Request, void, void>;

/**
 * The order of each outer step for an NFE budget n >= 1 (DPM-Solver-fast; k-diffusion's
 * sample_dpm_fast): K = floor(n / 3) + 1 steps, orders [3, ..., 3, 2, 1] when n is a multiple
 * of 3, else [3, ..., 3, n mod 3]; they sum to n.
 */
export function fastOrders(n: number): number[] {
  const K = Math.floor(n / 3) + 1;
  if (n % 3 === 0) return [...new Array<number>(K - 2).fill(3), 2, 1];
  return [...new Array<number>(K - 1).fill(3), n % 3];
}

/** One outer step: from sigma s to sigma t > 0 with the given order (1-3). */
interface Outer { s: number; t: number; order: number }

/**
 * The outer steps of a run: one third-order step per grid interval between positive sigmas,
 * or, with an NFE budget, fastOrders(nfe) over K steps uniform in lambda from sigmas[0] to the
 * last positive sigma (the interior grid nodes are then not used).
 */
function outerSteps(sigmas: Float64Array, nfe: number | undefined): Outer[] {
  const last = sigmas[sigmas.length - 1] === 0 ? sigmas.length - 2 : sigmas.length - 1;
  const steps: Outer[] = [];
  if (nfe === undefined) {
    for (let i = 0; i < last; i++) steps.push({ s: sigmas[i], t: sigmas[i + 1], order: 3 });
    return steps;
  }
  const orders = fastOrders(nfe);
  const K = orders.length;
  const l0 = -Math.log(sigmas[0]);
  const l1 = -Math.log(sigmas[last]);
  let prev = sigmas[0];
  for (let k = 0; k < K; k++) {
    const t = k === K - 1 ? sigmas[last] : Math.exp(-(l0 + ((k + 1) / K) * (l1 - l0)));
    steps.push({ s: prev, t, order: orders[k] });
    prev = t;
  }
  return steps;
}

/**
 * 'dpm-solver-3': singlestep DPM-Solver-3, one third-order step per grid interval (3 NFE), or
 * with `nfe` the 'fast' allocation of that budget; a final interval to sigma = 0 is a denoising
 * step x = D (1 NFE). NFE 3 (N - 1) + 1 on a grid of N intervals ending in 0 (3 N without the
 * 0), or `nfe` (+ 1 when the grid ends in 0). onStep fires once per outer step.
 */
export function* dpmSolver3(run: Run): Gen {
  const { x, sigmas } = run;
  const nfe = typeof run.options.nfe === 'number' ? run.options.nfe : undefined;
  const steps = outerSteps(sigmas, nfe);
  const D = run.buffer();
  const u1 = run.buffer();
  const D1 = run.buffer();
  const u2 = run.buffer();
  const D2 = run.buffer();
  const info = (i: number, s: number, t: number): Request =>
    ({ kind: 'step', info: { i, sigma: s, sigmaNext: t, sigmaHat: s, x, denoised: D } });
  for (let i = 0; i < steps.length; i++) {
    const { s, t, order } = steps[i];
    yield run.evalAt(x, s, D, i);
    yield info(i, s, t);
    const ls = -Math.log(s);
    const h = -Math.log(t) - ls;
    const A = Math.exp(-(ls + h)) * Math.expm1(h); // sigma_t (e^h - 1)
    if (order === 1) {
      run.combine(x, [x, D], [1 - A / s, A / s]);
      continue;
    }
    const r1 = order === 2 ? 0.5 : 1 / 3;
    const sig1 = Math.exp(-(ls + r1 * h));
    const k1 = (sig1 * Math.expm1(r1 * h)) / s;
    run.combine(u1, [x, D], [1 - k1, k1]);
    yield run.evalAt(u1, sig1, D1, i);
    if (order === 2) {
      const C = A / (2 * r1);
      // x + (C - A) eps_s - C eps_1, eps_s = (x - D) / s, eps_1 = (u1 - D1) / sig1
      run.combine(x, [x, D, u1, D1], [1 + (C - A) / s, -(C - A) / s, -C / sig1, C / sig1]);
      continue;
    }
    const r2 = 2 / 3;
    const sig2 = Math.exp(-(ls + r2 * h));
    const A2 = sig2 * Math.expm1(r2 * h);
    const C2 = sig2 * (r2 / r1) * (r2 * h * phi(2, r2 * h)); // (e^{r2 h} - 1)/(r2 h) - 1 = r2 h phi_2(r2 h)
    run.combine(u2, [x, D, u1, D1], [1 + (C2 - A2) / s, -(C2 - A2) / s, -C2 / sig1, C2 / sig1]);
    yield run.evalAt(u2, sig2, D2, i);
    const C = (Math.exp(-(ls + h)) / r2) * (h * phi(2, h));
    run.combine(x, [x, D, u2, D2], [1 + (C - A) / s, -(C - A) / s, -C / sig2, C / sig2]);
  }
  if (sigmas[sigmas.length - 1] === 0) {
    const i = steps.length;
    const s = sigmas[sigmas.length - 2];
    yield run.evalAt(x, s, D, i);
    yield info(i, s, 0);
    run.combine(x, [D], [1]);
  }
}
