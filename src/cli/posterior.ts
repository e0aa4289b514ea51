/**
 * `tweedie posterior`: the shape of the exact posterior p(x0 | x_t) along the noise levels, and
 * what that shape does to one reverse step.
 *
 * Levels (alpha = 1, VE): at each sigma of a log-spaced grid, n exact draws x_t ~ p_t
 * (`mix.sampleNoisy`, sample ids 0 .. n-1) and the means over them of the entropy of the
 * responsibilities p(component | x_t) (nats; log K when the posterior cannot tell the components
 * apart, 0 when it is sure) and of the posterior variance tr Cov[x0 | x_t] / dim.
 *
 * Steps: for a fixed target level s (`--to`) and start levels t from just above s to sigmaMax,
 * from the same exact x_t draws:
 * - exact: x_s ~ p(x_s | x_t) by `mix.transition` (sample ids 0 .. n-1); a second exact set
 *   (ids n .. 2n-1) gives the floor;
 * - Gaussian, matched variance: x_s = m + sqrt(v) z with the exact mean
 *   m = E[x_s | x_t] = D + (s^2 / t^2)(x_t - D), D = E[x0 | x_t], and the isotropic variance
 *   v = s^2 (1 - s^2/t^2) + (1 - s^2/t^2)^2 tr Cov[x0 | x_t] / dim that matches the exact
 *   conditional's total variance: the best a one-Gaussian step (DDPM with learned variances)
 *   can do;
 * - Gaussian, DDPM variance: the same mean, v = s^2 (1 - s^2/t^2) (DDPM's posterior variance
 *   given x0, which ignores the uncertainty in x0);
 * - DDIM (eta = 0): x_s = D + (s / t)(x_t - D), deterministic.
 * z = `randomNormal(seed, stream = sample id, index 0x30000000 * 2^32 + element)`.
 * Each approximation's x_s set is compared with the exact set by the sliced W2 (metrics.ts).
 * @module
 */
import { randomNormal } from '../index.js';
import { DEFAULT_DIRECTIONS, SlicedW2 } from './metrics.js';
import type { NamedMixture } from './mixtures.js';

/** Index offset of the Gaussian step's normals (high word 0x30000000, unused by the library). */
const STEP_NOISE_OFFSET = BigInt(0x30000000) << 32n;

/** What to compute. */
export interface PosteriorOptions {
  mixture: NamedMixture;
  /** Exact draws per level. */
  n: number;
  seed: number;
  /** Noise-level grid for entropy and variance: `levels` values log-spaced in [sigmaMin, sigmaMax]. */
  sigmaMin: number;
  sigmaMax: number;
  levels: number;
  /** Target level s of the one-step experiment. */
  to: number;
  /** Number of start levels t, log-spaced in (to, sigmaMax]. */
  stepCount: number;
  directions?: number;
  onProgress?: (done: number, total: number, label: string) => void;
}

/** Posterior statistics at one noise level. */
export interface LevelStats {
  sigma: number;
  /** Mean entropy of p(component | x_t) over exact x_t draws (nats). */
  entropy: number;
  /** Mean of tr Cov[x0 | x_t] / dim (data units squared). */
  variance: number;
}

/** One reverse step t -> s, each approximation's sliced W2 to the exact p(x_s) draws. */
export interface StepStats {
  /** Start level t. */
  from: number;
  /** t / s. */
  ratio: number;
  /** Mean posterior entropy at t (nats). */
  entropy: number;
  gaussian: number;
  ddpm: number;
  ddim: number;
  /** Exact vs exact (a second exact set from the same x_t). */
  floor: number;
}

/** The whole report, as `--json` prints it. */
export interface PosteriorReport {
  mixture: { name: string; dim: number; components: number; kind: string };
  n: number;
  seed: number;
  directions: number;
  /** Target level s of the steps. */
  to: number;
  levels: LevelStats[];
  steps: StepStats[];
}

/** `count` values log-spaced from lo to hi (both included). */
export function logspace(lo: number, hi: number, count: number): number[] {
  if (count === 1) return [hi];
  return Array.from({ length: count }, (_, i) => Math.exp(Math.log(lo) + ((Math.log(hi) - Math.log(lo)) * i) / (count - 1)));
}

function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return v.length ? s / v.length : 0;
}

/** Computes the posterior report (synchronous work between awaits, so a progress bar can redraw). */
export async function posteriorReport(o: PosteriorOptions): Promise<PosteriorReport> {
  const mix = o.mixture.mixture;
  const { dim } = mix;
  const n = o.n;
  const directions = o.directions ?? DEFAULT_DIRECTIONS;
  const sigmasGrid = logspace(o.sigmaMin, o.sigmaMax, o.levels);
  const froms = logspace(o.to * 1.25, o.sigmaMax, o.stepCount);
  const total = sigmasGrid.length + froms.length;
  let done = 0;
  const tick = async (label: string): Promise<void> => {
    o.onProgress?.(done, total, label);
    await new Promise((resolve) => setImmediate(resolve));
  };
  const report: PosteriorReport = {
    mixture: { name: o.mixture.name, dim, components: mix.components, kind: mix.varianceKind },
    n, seed: o.seed, directions, to: o.to, levels: [], steps: [],
  };
  for (const sigma of sigmasGrid) {
    await tick(`sigma ${sigma.toPrecision(3)}`);
    const xt = mix.sampleNoisy(n, { alpha: 1, sigma, seed: o.seed });
    const post = mix.posterior(xt, { alpha: 1, sigma }, { entropy: true, variance: true });
    report.levels.push({ sigma, entropy: mean(post.entropy), variance: mean(post.variance) });
    done++;
  }
  const s = o.to;
  const z = new Float64Array(dim);
  const secondIds = Float64Array.from({ length: n }, (_, i) => n + i);
  for (const t of froms) {
    await tick(`step ${t.toPrecision(3)} -> ${s}`);
    const xt = mix.sampleNoisy(n, { alpha: 1, sigma: t, seed: o.seed });
    const levels = { from: { alpha: 1, sigma: t }, to: { alpha: 1, sigma: s } };
    const exact = mix.transition(xt, levels, { seed: o.seed });
    const exact2 = mix.transition(xt, levels, { seed: o.seed, sampleIds: secondIds });
    const post = mix.posterior(xt, { alpha: 1, sigma: t }, { mean: true, variance: true, entropy: true });
    const D = post.mean;
    const r = (s * s) / (t * t);
    const vDdpm = s * s * (1 - r);
    const gaussian = new Float64Array(n * dim);
    const ddpm = new Float64Array(n * dim);
    const ddim = new Float64Array(n * dim);
    for (let i = 0; i < n; i++) {
      randomNormal(z, { seed: o.seed, stream: i, offset: STEP_NOISE_OFFSET });
      const vMatched = vDdpm + (1 - r) * (1 - r) * post.variance[i];
      const sdMatched = Math.sqrt(vMatched);
      const sdDdpm = Math.sqrt(vDdpm);
      for (let j = 0; j < dim; j++) {
        const k = i * dim + j;
        const m = D[k] + r * (xt[k] - D[k]);
        gaussian[k] = m + sdMatched * z[j];
        ddpm[k] = m + sdDdpm * z[j];
        ddim[k] = D[k] + (s / t) * (xt[k] - D[k]);
      }
    }
    const sw = new SlicedW2(exact, dim, { directions, seed: o.seed });
    report.steps.push({
      from: t, ratio: t / s, entropy: mean(post.entropy),
      gaussian: sw.distance(gaussian), ddpm: sw.distance(ddpm), ddim: sw.distance(ddim), floor: sw.distance(exact2),
    });
    done++;
  }
  o.onProgress?.(done, total, 'done');
  return report;
}

/** The terminal tables of a posterior report. */
export function formatPosterior(p: PosteriorReport, fmt: (v: number) => string, columns: (rows: string[][]) => string): string {
  const m = p.mixture;
  const levels = [['sigma', 'entropy (nats)', 'variance'], ...p.levels.map((l) => [fmt(l.sigma), fmt(l.entropy), fmt(l.variance)])];
  const steps = [
    ['sigma_t', 't / s', 'entropy at t', 'Gaussian matched', 'Gaussian DDPM', 'DDIM', 'exact (floor)'],
    ...p.steps.map((s) => [fmt(s.from), fmt(s.ratio), fmt(s.entropy), fmt(s.gaussian), fmt(s.ddpm), fmt(s.ddim), fmt(s.floor)]),
  ];
  return [
    `tweedie posterior: ${m.name} (${m.dim}-D, ${m.components} ${m.kind === 'empirical' ? 'points' : 'components'}), ` +
      `n = ${p.n} exact draws per level, seed ${p.seed}, sliced W2 over ${p.directions} directions`,
    '',
    `Posterior p(x0 | x_t) at x_t ~ p_t (alpha = 1): mean entropy of p(component | x_t) (max log K = ` +
      `${fmt(Math.log(m.components))}) and mean tr Cov[x0 | x_t] / dim:`,
    columns(levels),
    '',
    `One reverse step from sigma_t to s = ${p.to}: sliced W2 between its x_s and exact draws of p(x_s | x_t) ` +
      '(the same x_t):',
    columns(steps),
  ].join('\n');
}
