/**
 * The reverse SDE by Euler-Maruyama (Song et al. 2021, arXiv 2011.13456), with an optional
 * Langevin corrector (their predictor-corrector sampler), in k-diffusion's coordinates.
 *
 * In (x, sigma) coordinates the data process is x = x0 + sigma eps, so the forward SDE is
 * dx = sqrt(d sigma^2 / d sigma) dW = sqrt(2 sigma) dW and the reverse SDE (the eta = 1 member of
 * the family in samplers.md §0) is dx = -2 sigma grad log p dsigma + sqrt(2 sigma) dW, with
 * grad log p = (D - x) / sigma^2. One Euler-Maruyama step in sigma from s to s' < s:
 *   x' = x + 2 (s' - s) / s (x - D) + sqrt(2 s (s - s')) z,
 * and x' = D on a final step to sigma = 0 (the step above would not be a denoiser there).
 * @module
 */
import type { FloatArray } from '../types.js';
import type { Request, Run } from './engine.js';

type Gen = Generator<Request, void, void>;

/**
 * Euclidean norm of each row of a (or of a - b), summed in float64 in element order: a
 * reduction in TypeScript, so the same bits on every backend.
 */
export function rowNorms(out: Float64Array, a: FloatArray, b: FloatArray | null, dim: number): Float64Array {
  for (let r = 0, base = 0; r < out.length; r++, base += dim) {
    let acc = 0;
    for (let i = base, end = base + dim; i < end; i++) {
      const d = b ? a[i] - b[i] : a[i];
      acc += d * d;
    }
    out[r] = Math.sqrt(acc);
  }
  return out;
}

/**
 * 'euler-maruyama': Euler-Maruyama on the reverse SDE (NFE N without corrector). With
 * `correctorSteps` = K > 0, each node sigma_i > 0 first takes K Langevin steps at fixed sigma
 * (score_sde's `langevin` corrector, VE form):
 *   g = (D - x) / sigma^2, eps_L = 2 (snr |z| / |g|)^2, x <- x + eps_L g + sqrt(2 eps_L) z,
 * with |.| the Euclidean norm of each sample's own row (score_sde averages the norms over the
 * batch, which makes a sample depend on the rest of the batch; here it does not), and eps_L = 0
 * for a row with g = 0. NFE N (1 + K). The corrector's z is the built-in normal of (step i,
 * stage 1 + k) even when a noiseSampler or Brownian noise drives the predictor (stage 0).
 * The step rule assumes many elements per sample (|z| ~ sqrt(dim), as for images): with only a
 * few, eps_L divides by one sample's score norm and is erratic (in 1-D it blows up near a mode).
 */
export function* eulerMaruyama(run: Run): Gen {
  const { x, sigmas, rows, dim } = run;
  const K = typeof run.options.correctorSteps === 'number' ? run.options.correctorSteps : 0;
  const snr = typeof run.options.snr === 'number' ? run.options.snr : 0.16;
  const D = run.buffer();
  const z = K > 0 ? run.buffer() : D;
  const zNorm = new Float64Array(K > 0 ? rows : 0);
  const gNorm = new Float64Array(K > 0 ? rows : 0);
  const coef = new Float64Array(K > 0 ? 3 * rows : 0);
  for (let i = 0; i < run.steps; i++) {
    const s = sigmas[i];
    const s1 = sigmas[i + 1];
    for (let k = 0; k < K; k++) {
      yield run.evalAt(x, s, D, i);
      run.normals(z, i, 1 + k);
      rowNorms(zNorm, z, null, dim);
      rowNorms(gNorm, D, x, dim);
      for (let r = 0; r < rows; r++) {
        // eps_L / s^2 = 2 (snr |z| s / |D - x|)^2, since |g| = |D - x| / s^2
        const q = gNorm[r] > 0 ? (snr * zNorm[r] * s) / gNorm[r] : 0;
        const e = 2 * q * q * s * s; // eps_L
        const w = 2 * q * q; // eps_L / s^2
        coef[r] = 1 - w;
        coef[rows + r] = w;
        coef[2 * rows + r] = Math.sqrt(2 * e);
      }
      run.combineRows(x, [x, D, z], coef);
    }
    yield run.evalAt(x, s, D, i);
    yield run.stepDone(i, s, x, D);
    if (s1 === 0) {
      run.combine(x, [D], [1]);
    } else {
      const k = (2 * (s1 - s)) / s;
      run.combineNoisy(x, [x, D], [1 + k, -k], Math.sqrt(2 * s * (s - s1)), i, 0, s, s1);
    }
  }
}
