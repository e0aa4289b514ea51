/**
 * Samplers of the k-diffusion family (Karras et al. 2022; Lu et al. 2022), in k-diffusion's
 * coordinates: x is scaled (x = x0 + sigma * eps), D = D(x; sigma), d = (x - D) / sigma.
 * Each step is one fused pass (Run.combine) whose coefficients are computed here once, in
 * float64, so every backend gets the same bits. Update rules: shared/reference/samplers.md §2.
 * @module
 */
import type { FloatArray } from '../types.js';
import type { Request, Run } from './engine.js';

type Gen = Generator<Request, void, void>;

const num = (run: Run, key: string, fallback: number): number => {
  const v = run.options[key];
  return typeof v === 'number' ? v : fallback;
};

/**
 * The ancestral split of a step sigma -> sigmaNext (k-diffusion get_ancestral_step):
 * sigmaUp = min(sigmaNext, eta sqrt(sigmaNext^2 (sigma^2 - sigmaNext^2) / sigma^2)),
 * sigmaDown = sqrt(sigmaNext^2 - sigmaUp^2).
 */
export function ancestralStep(sigma: number, sigmaNext: number, eta: number): [number, number] {
  if (!eta) return [sigmaNext, 0];
  const up = Math.min(sigmaNext, eta * Math.sqrt((sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext)) / (sigma * sigma)));
  return [Math.sqrt(sigmaNext * sigmaNext - up * up), up];
}

/** torch.lerp(a, b, w) for w = 0.5 (its formula for weights >= 0.5). */
const lerpHalf = (a: number, b: number): number => b - (b - a) * 0.5;

/** Coefficients of x and D for the Euler step x + (to - from) (x - D) / from. */
function eulerCoefs(from: number, to: number): [number, number] {
  const k = (to - from) / from;
  return [1 + k, -k];
}

/** EDM churn (Karras et al. 2022, Alg. 2): raises the noise level when sTmin <= sigma <= sTmax. */
function churn(run: Run, i: number, x: FloatArray): number {
  const s = run.sigmas[i];
  const sChurn = num(run, 'sChurn', 0);
  const sTmin = num(run, 'sTmin', 0);
  const sTmax = num(run, 'sTmax', Infinity);
  const gamma = sTmin <= s && s <= sTmax ? Math.min(sChurn / run.steps, Math.SQRT2 - 1) : 0;
  const sHat = s * (gamma + 1);
  if (gamma > 0) {
    run.combineNoisy(x, [x], [1], num(run, 'sNoise', 1) * Math.sqrt(sHat * sHat - s * s), i, 0, s, sHat);
  }
  return sHat;
}

/** 'euler': Euler on the probability-flow ODE, with optional churn. NFE N. */
export function* euler(run: Run): Gen {
  const { x, sigmas } = run;
  const D = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    const sHat = churn(run, i, x);
    yield run.evalAt(x, sHat, D, i);
    yield run.stepDone(i, sHat, x, D);
    run.combine(x, [x, D], eulerCoefs(sHat, sigmas[i + 1]));
  }
}

/**
 * 'euler-ancestral' (eta 1) and, with their own defaults, 'ddim' (eta 0: DDIM(eta) in these
 * coordinates is exactly this step) and 'ddpm' (eta fixed at 1: the DDPM posterior step). NFE N.
 */
export function* eulerAncestral(run: Run, defaultEta = 1, fixedEta?: number): Gen {
  const { x, sigmas } = run;
  const eta = fixedEta ?? num(run, 'eta', defaultEta);
  const sNoise = num(run, 'sNoise', 1);
  const D = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, s, D, i);
    yield run.stepDone(i, s, x, D);
    const [down, up] = ancestralStep(s, s1, eta);
    if (s1 > 0) run.combineNoisy(x, [x, D], eulerCoefs(s, down), sNoise * up, i, 0, s, s1);
    else run.combine(x, [x, D], eulerCoefs(s, down));
  }
}

/** 'heun' and 'edm': Heun's method (EDM Alg. 1, with Alg. 2's churn); Euler on the last step to 0. NFE 2N - 1. */
export function* heun(run: Run): Gen {
  const { x, sigmas } = run;
  const D = run.buffer();
  const x2 = run.buffer();
  const D2 = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    const sHat = churn(run, i, x);
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, sHat, D, i);
    yield run.stepDone(i, sHat, x, D);
    if (s1 === 0) {
      run.combine(x, [x, D], eulerCoefs(sHat, s1));
      continue;
    }
    run.combine(x2, [x, D], eulerCoefs(sHat, s1));
    yield run.evalAt(x2, s1, D2, i);
    const dt = s1 - sHat;
    const a = dt / (2 * sHat);
    const b = dt / (2 * s1);
    run.combine(x, [x, D, x2, D2], [1 + a, -a, b, -b]);
  }
}

/** 'dpm2': DPM-Solver-2 at the geometric midpoint (k-diffusion sample_dpm_2), with churn. NFE 2N - 1. */
export function* dpm2(run: Run): Gen {
  const { x, sigmas } = run;
  const D = run.buffer();
  const x2 = run.buffer();
  const D2 = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    const sHat = churn(run, i, x);
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, sHat, D, i);
    yield run.stepDone(i, sHat, x, D);
    if (s1 === 0) {
      run.combine(x, [x, D], eulerCoefs(sHat, s1));
      continue;
    }
    const sMid = Math.exp(lerpHalf(Math.log(sHat), Math.log(s1)));
    run.combine(x2, [x, D], eulerCoefs(sHat, sMid));
    yield run.evalAt(x2, sMid, D2, i);
    const k = (s1 - sHat) / sMid;
    run.combine(x, [x, x2, D2], [1, k, -k]);
  }
}

/** 'dpm2-ancestral': DPM-Solver-2 to sigmaDown, then sigmaUp of fresh noise. NFE 2N - 1 (fewer if sigmaDown hits 0). */
export function* dpm2Ancestral(run: Run): Gen {
  const { x, sigmas } = run;
  const eta = num(run, 'eta', 1);
  const sNoise = num(run, 'sNoise', 1);
  const D = run.buffer();
  const x2 = run.buffer();
  const D2 = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, s, D, i);
    yield run.stepDone(i, s, x, D);
    const [down, up] = ancestralStep(s, s1, eta);
    if (down === 0) {
      run.combine(x, [x, D], eulerCoefs(s, down));
      continue;
    }
    const sMid = Math.exp(lerpHalf(Math.log(s), Math.log(down)));
    run.combine(x2, [x, D], eulerCoefs(s, sMid));
    yield run.evalAt(x2, sMid, D2, i);
    const k = (down - s) / sMid;
    run.combineNoisy(x, [x, x2, D2], [1, k, -k], sNoise * up, i, 0, s, s1);
  }
}

/**
 * Coefficient of d_{i-j} in the linear multistep step t_i -> t_{i+1}: the integral over
 * [t_i, t_{i+1}] of the Lagrange basis polynomial that is 1 at t_{i-j} and 0 at the other
 * nodes t_i .. t_{i-order+1}, by exact polynomial integration in u = tau - t_i.
 */
export function lmsCoefficient(order: number, t: ArrayLike<number>, i: number, j: number): number {
  const poly = [1]; // coefficients of u^0, u^1, ...
  let denom = 1;
  for (let k = 0; k < order; k++) {
    if (k === j) continue;
    const root = t[i - k] - t[i];
    for (let m = poly.length; m >= 0; m--) poly[m] = (m > 0 ? poly[m - 1] : 0) - root * (poly[m] ?? 0);
    denom *= t[i - j] - t[i - k];
  }
  const h = t[i + 1] - t[i];
  let integral = 0;
  let hp = h;
  for (let m = 0; m < poly.length; m++, hp *= h) integral += (poly[m] * hp) / (m + 1);
  return integral / denom;
}

/** 'lms': linear multistep in sigma (k-diffusion sample_lms), order 4 by default. NFE N. */
export function* lms(run: Run): Gen {
  const { x, sigmas } = run;
  const order = num(run, 'order', 4);
  const D = run.buffer();
  const ds: FloatArray[] = [];
  const pool: FloatArray[] = Array.from({ length: order }, () => run.buffer());
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    yield run.evalAt(x, s, D, i);
    const d = ds.length === order ? (ds.shift() as FloatArray) : (pool.pop() as FloatArray);
    run.combine(d, [x, D], [1 / s, -1 / s]);
    ds.push(d);
    yield run.stepDone(i, s, x, D);
    const cur = Math.min(i + 1, order);
    const terms: FloatArray[] = [x];
    const coefs = [1];
    for (let j = 0; j < cur; j++) {
      terms.push(ds[ds.length - 1 - j]);
      coefs.push(lmsCoefficient(cur, sigmas, i, j));
    }
    run.combine(x, terms, coefs);
  }
}

/** 'dpmpp-2s-ancestral': DPM-Solver++(2S) to sigmaDown, then noise. NFE 2N - 1. */
export function* dpmpp2sAncestral(run: Run): Gen {
  const { x, sigmas } = run;
  const eta = num(run, 'eta', 1);
  const sNoise = num(run, 'sNoise', 1);
  const D = run.buffer();
  const x2 = run.buffer();
  const D2 = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, s, D, i);
    yield run.stepDone(i, s, x, D);
    const [down, up] = ancestralStep(s, s1, eta);
    let terms: FloatArray[];
    let coefs: number[];
    if (down === 0) {
      terms = [x, D];
      coefs = eulerCoefs(s, down);
    } else {
      const t = -Math.log(s);
      const tNext = -Math.log(down);
      const h = tNext - t;
      const sMid = t + 0.5 * h;
      run.combine(x2, [x, D], [Math.exp(-sMid) / Math.exp(-t), -Math.expm1(-h * 0.5)]);
      yield run.evalAt(x2, Math.exp(-sMid), D2, i);
      terms = [x, D2];
      coefs = [Math.exp(-tNext) / Math.exp(-t), -Math.expm1(-h)];
    }
    if (s1 > 0) run.combineNoisy(x, terms, coefs, sNoise * up, i, 0, s, s1);
    else run.combine(x, terms, coefs);
  }
}

/**
 * 'dpmpp-sde': stochastic DPM-Solver++ with a midpoint stage (k-diffusion sample_dpmpp_sde,
 * r = 1/2). The two noise draws of a step are increments of one Brownian path in sigma (stage 1
 * over [sigma_s, sigma], stage 2 over [sigmaNext, sigma]), so they are correlated as in
 * k-diffusion's Brownian tree. NFE 2N - 1.
 */
export function* dpmppSde(run: Run): Gen {
  const { x, sigmas } = run;
  const eta = num(run, 'eta', 1);
  const sNoise = num(run, 'sNoise', 1);
  const r = num(run, 'r', 0.5);
  const fac = 1 / (2 * r);
  const D = run.buffer();
  const x2 = run.buffer();
  const D2 = run.buffer();
  const z1 = run.buffer();
  const z2 = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, s, D, i);
    yield run.stepDone(i, s, x, D);
    if (s1 === 0) {
      run.combine(x, [x, D], eulerCoefs(s, s1));
      continue;
    }
    const t = -Math.log(s);
    const tNext = -Math.log(s1);
    const h = tNext - t;
    const sMid = Math.exp(-(t + h * r));
    // Stage 1: ancestral DPM-Solver++(1) step to the midpoint.
    const [down1, up1] = ancestralStep(s, sMid, eta);
    const t1 = -Math.log(down1);
    const n1 = run.noiseFor(z1, i, 0, s, sMid);
    run.combine(x2, [x, D, n1], [Math.exp(-t1) / Math.exp(-t), -Math.expm1(t - t1), sNoise * up1]);
    yield run.evalAt(x2, sMid, D2, i);
    // Stage 2: from x with the midpoint-corrected denoiser.
    const [down2, up2] = ancestralStep(s, s1, eta);
    const t2 = -Math.log(down2);
    const n2 = run.noiseFor(z2, i, 1, s, s1, { z: n1, from: s, mid: sMid });
    const em = -Math.expm1(t - t2);
    run.combine(x, [x, D, D2, n2], [Math.exp(-t2) / Math.exp(-t), em * (1 - fac), em * fac, sNoise * up2]);
  }
}

/** 'dpmpp-2m': DPM-Solver++(2M), midpoint form; first-order start, x = D on the final step to 0. NFE N. */
export function* dpmpp2m(run: Run): Gen {
  const { x, sigmas } = run;
  let D = run.buffer();
  let Dold = run.buffer();
  let haveOld = false;
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, s, D, i);
    yield run.stepDone(i, s, x, D);
    if (s1 === 0) {
      run.combine(x, [D], [1]);
    } else {
      const t = -Math.log(s);
      const tNext = -Math.log(s1);
      const h = tNext - t;
      const ratio = Math.exp(-tNext) / Math.exp(-t);
      const em = Math.expm1(-h);
      if (!haveOld) {
        run.combine(x, [x, D], [ratio, -em]);
      } else {
        const hLast = t + Math.log(sigmas[i - 1]);
        const k = 1 / (2 * (hLast / h));
        run.combine(x, [x, D, Dold], [ratio, -em * (1 + k), em * k]);
      }
    }
    [D, Dold] = [Dold, D];
    haveOld = true;
  }
}

/** 'dpmpp-2m-sde': DPM-Solver++(2M) SDE (midpoint or heun solverType), eta 1 by default. NFE N. */
export function* dpmpp2mSde(run: Run): Gen {
  const { x, sigmas } = run;
  const eta = num(run, 'eta', 1);
  const sNoise = num(run, 'sNoise', 1);
  const heunType = run.options.solverType === 'heun';
  let D = run.buffer();
  let Dold = run.buffer();
  let haveOld = false;
  let hLast = 0;
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, s, D, i);
    yield run.stepDone(i, s, x, D);
    let h = 0;
    if (s1 === 0) {
      run.combine(x, [D], [1]);
    } else {
      h = -Math.log(s1) + Math.log(s);
      const etaH = eta * h;
      const cx = (s1 / s) * Math.exp(-etaH);
      const cD = -Math.expm1(-h - etaH);
      let k = 0;
      if (haveOld) {
        const r = hLast / h;
        k = heunType ? (-Math.expm1(-h - etaH) / (-h - etaH) + 1) * (1 / r) : 0.5 * -Math.expm1(-h - etaH) * (1 / r);
      }
      const terms = haveOld ? [x, D, Dold] : [x, D];
      const coefs = haveOld ? [cx, cD + k, -k] : [cx, cD];
      if (eta) run.combineNoisy(x, terms, coefs, s1 * Math.sqrt(-Math.expm1(-2 * etaH)) * sNoise, i, 0, s, s1);
      else run.combine(x, terms, coefs);
    }
    [D, Dold] = [Dold, D];
    haveOld = true;
    hLast = h;
  }
}

/**
 * 'dpmpp-3m-sde' (eta 1) and 'dpmpp-3m' (eta 0, deterministic): DPM-Solver++(3M). NFE N.
 * The reference update adds -phi3 D2 with D2 = (d1_0 - d1_1) / (r0 + r1) ~ h^2 D''/2, half of
 * the h^2 D'' a third-order rule needs; `thirdOrder` doubles that term (docs/cross-checks.md).
 */
export function* dpmpp3mSde(run: Run, defaultEta = 1): Gen {
  const { x, sigmas } = run;
  const eta = num(run, 'eta', defaultEta);
  const sNoise = num(run, 'sNoise', 1);
  const d2Weight = run.options.thirdOrder === true ? 2 : 1;
  let D = run.buffer();
  let D1 = run.buffer();
  let D2 = run.buffer();
  let h1: number | undefined;
  let h2: number | undefined;
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    yield run.evalAt(x, s, D, i);
    yield run.stepDone(i, s, x, D);
    let h: number | undefined;
    if (s1 === 0) {
      run.combine(x, [D], [1]);
    } else {
      h = -Math.log(s1) + Math.log(s);
      const hEta = h * (eta + 1);
      const terms: FloatArray[] = [x, D];
      const coefs = [Math.exp(-hEta), -Math.expm1(-hEta)];
      const phi2 = Math.expm1(-hEta) / hEta + 1;
      if (h2 !== undefined && h1 !== undefined) {
        const r0 = h1 / h;
        const r1 = h2 / h;
        const phi3 = (phi2 / hEta - 0.5) * d2Weight;
        const q = r0 / (r0 + r1);
        const a = phi2 * (1 + q) - phi3 / (r0 + r1); // weight of d1_0 = (D - D1) / r0
        const b = phi2 * q - phi3 / (r0 + r1); // weight of -d1_1 = -(D1 - D2) / r1
        coefs[1] += a / r0;
        terms.push(D1, D2);
        coefs.push(-a / r0 - b / r1, b / r1);
      } else if (h1 !== undefined) {
        const r = h1 / h;
        coefs[1] += phi2 / r;
        terms.push(D1);
        coefs.push(-phi2 / r);
      }
      if (eta) run.combineNoisy(x, terms, coefs, s1 * Math.sqrt(-Math.expm1(-2 * h * eta)) * sNoise, i, 0, s, s1);
      else run.combine(x, terms, coefs);
    }
    [D, D1, D2] = [D2, D, D1];
    h2 = h1;
    h1 = h;
  }
}
