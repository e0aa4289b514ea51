/**
 * UniPC (Zhao et al. 2023, arXiv 2302.04867), data-prediction form with the B(h) variants
 * bh1 / bh2, as in diffusers' UniPCMultistepScheduler (shared/reference/samplers.md §2.14), in
 * k-diffusion's coordinates (alpha = 1, sigma = sigma/alpha, lambda = -ln sigma), where the
 * data-prediction update reads x_t = (sigma_t / sigma_s) x_s - (e^{-h} - 1) m_s - B(h) (...).
 * Coefficients are computed here once per step in float64; each update is one fused pass.
 * @module
 */
import type { FloatArray } from '../types.js';
import type { Request, Run } from './engine.js';
import { factorial, phi, solve } from './phi.js';

type Gen = Generator<Request, void, void>;

/** The two B(h) choices of UniPC: B(h) = -h ('bh1') or e^{-h} - 1 ('bh2'). */
export type UniPCVariant = 'bh1' | 'bh2';

/**
 * Coefficients of one UniP (predictor) or UniC (corrector) update of order p from s to t,
 * h = lambda_t - lambda_s > 0, history ratios r_k = (lambda_{s_k} - lambda_s) / h (k = 1 .. p - 1,
 * negative). Returns [c_x, c_m0, c_m1, ..., c_m(p-1)] for the predictor and the same plus the
 * weight of m_t for the corrector, in x_t = c_x x_s + sum_k c_mk m_k (+ c_mt m_t):
 * x_t = (sigma_t / sigma_s) x_s - (e^{-h} - 1) m_0 - B(h) (sum_k rho_k (m_k - m_0) / r_k [+ rho_p (m_t - m_0)]),
 * rho from R rho = b, R_ij = r_j^(i-1) (r_p = 1), b_i = i! z phi_{i+1}(z) / B(h), z = -h;
 * hard-coded rho = 1/2 for the order-2 predictor and the order-1 corrector, as in the reference code.
 */
export function unipcCoefficients(h: number, ratio: number, r: number[], p: number, variant: UniPCVariant,
  corrector: boolean): number[] {
  const z = -h;
  const em = Math.expm1(z);
  const B = variant === 'bh1' ? z : em;
  const b: number[] = [];
  for (let i = 1; i <= p; i++) b.push((factorial(i) * z * phi(i + 1, z)) / B);
  const out = [ratio, -em];
  let rho: number[];
  if (corrector) {
    if (p === 1) rho = [0.5];
    else {
      const rk = [...r.slice(0, p - 1), 1];
      rho = solve(rk.map((_, i) => rk.map((v) => v ** i)), b);
    }
  } else if (p === 1) {
    return out;
  } else if (p === 2) {
    rho = [0.5];
  } else {
    const rk = r.slice(0, p - 1);
    rho = solve(rk.map((_, i) => rk.map((v) => v ** i)), b.slice(0, p - 1));
  }
  for (let k = 0; k < p - 1; k++) {
    const w = (B * rho[k]) / r[k];
    out[1] += w;
    out.push(-w);
  }
  if (corrector) {
    const w = B * rho[p - 1];
    out[1] += w;
    out.push(-w);
  }
  return out;
}

/**
 * 'unipc': UniPC-p multistep (p = `order`, 1-3, default 2 as diffusers), `variant` 'bh2' (default,
 * as diffusers; the UniPC repository defaults to 'bh1'). Warm-up: step i uses order
 * min(p, i + 1); with `lowerOrderFinal` (default true) also at most N - i (the last step is first
 * order, i.e. x = D on a final step to 0). The corrector UniC re-uses the model output at the
 * predicted point as history, so it costs no evaluation; it runs after every step but the last
 * (`disableCorrector: true` turns it off: UniP-2 bh2 is then DPM-Solver++(2M)). NFE N.
 * onStep's `x` is the corrected state, `denoised` the model output at the predicted state.
 */
export function* unipc(run: Run): Gen {
  const { x, sigmas } = run;
  const N = run.steps;
  const order = typeof run.options.order === 'number' ? run.options.order : 2;
  const variant: UniPCVariant = run.options.variant === 'bh1' ? 'bh1' : 'bh2';
  const useCorrector = run.options.disableCorrector !== true;
  const lowerOrderFinal = run.options.lowerOrderFinal !== false;
  const pool: FloatArray[] = Array.from({ length: order + 1 }, () => run.buffer());
  const xP = useCorrector ? run.buffer() : x; // the predicted state, evaluated next step
  const ms: FloatArray[] = []; // model outputs, newest first
  const lams: number[] = []; // their lambda = -ln sigma
  let lastOrder = 0;
  for (let i = 0; i < N; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    const m = pool.pop() as FloatArray;
    yield run.evalAt(i > 0 ? xP : x, s, m, i);
    if (i > 0 && useCorrector) {
      // UniC for the step sigmas[i - 1] -> s: x (the state at sigmas[i - 1]) -> corrected state at s.
      const sPrev = sigmas[i - 1];
      const h = Math.log(sPrev) - Math.log(s);
      const lam0 = lams[0];
      const r = lams.slice(1, lastOrder).map((l) => (l - lam0) / h);
      const c = unipcCoefficients(h, s / sPrev, r, lastOrder, variant, true);
      run.combine(x, [x, ...ms.slice(0, lastOrder), m], c);
    }
    ms.unshift(m);
    lams.unshift(-Math.log(s));
    if (ms.length > order) {
      pool.push(ms.pop() as FloatArray);
      lams.pop();
    }
    yield run.stepDone(i, s, x, m);
    if (s1 === 0) {
      run.combine(x, [m], [1]);
      continue;
    }
    let p = Math.min(order, i + 1);
    if (lowerOrderFinal) p = Math.min(p, N - i);
    const h = Math.log(s) - Math.log(s1);
    const lam0 = lams[0];
    const r = lams.slice(1, p).map((l) => (l - lam0) / h);
    const c = unipcCoefficients(h, s1 / s, r, p, variant, false);
    run.combine(i === N - 1 ? x : xP, [x, ...ms.slice(0, p)], c);
    lastOrder = p;
  }
}
