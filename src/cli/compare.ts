/**
 * `tweedie compare` and `npm run report:samplers`: run samplers on a mixture's exact denoiser
 * and measure how far their samples are from exact draws of the mixture.
 *
 * Random streams (one seed S): the sampler's start states are exact draws of x_T at sigmaMax,
 * `mix.sampleNoisy(n, { alpha: 1, sigma: sigmaMax, seed: S })` with sample ids 0 .. n-1; the
 * reference set is `mix.sample(n, { seed: S })` with sample ids n .. 2n-1; a second exact set
 * (ids 2n .. 3n-1) measures the floor that n samples put under any sampler's distance; the
 * sliced-W2 directions are `randomNormal(seed S, stream l)` (metrics.ts). Every sampler starts
 * from the same states, so only the integration differs.
 * @module
 */
import { GaussianMixture, type SamplerId, sampleSync, samplerIds, sigmas } from '../index.js';
import { DEFAULT_DIRECTIONS, median, nearestModeDistance, nearestModes, rowDistances, SlicedW2 } from './metrics.js';
import type { NamedMixture } from './mixtures.js';

/** The deterministic samplers (probability-flow ODE solvers) in report order. */
export const DETERMINISTIC_SAMPLERS: readonly SamplerId[] = [
  'euler', 'heun', 'dpm2', 'lms', 'dpmpp-2m', 'dpmpp-3m', 'ddim', 'unipc', 'dpm-solver-3', 'dopri5', 'edm',
];

/** `tweedie compare`'s default samplers: one of each family, all under 30 s together. */
export const DEFAULT_COMPARE_SAMPLERS: readonly SamplerId[] = [
  'euler', 'heun', 'lms', 'dpmpp-2m', 'dpmpp-3m', 'unipc', 'dpm-solver-3', 'euler-ancestral',
];

/** Default step counts. */
export const DEFAULT_STEPS: readonly number[] = [5, 10, 20, 40, 80];

/** The Karras grid every comparison uses unless told otherwise (EDM's defaults). */
export const DEFAULT_GRID = { sigmaMin: 0.002, sigmaMax: 80, rho: 7 } as const;

/** What to compare. */
export interface CompareOptions {
  mixture: NamedMixture;
  samplers: readonly SamplerId[];
  steps: readonly number[];
  /** Samples per run, and exact draws in the reference set. */
  n: number;
  seed: number;
  /** Karras grid: smallest positive sigma, largest sigma, rho. */
  sigmaMin?: number;
  sigmaMax?: number;
  rho?: number;
  /** Directions of the sliced W2 (default 256). */
  directions?: number;
  /**
   * Also solve the probability-flow ODE from the same start states to tolerance 1e-8 ('dopri5',
   * grid [sigmaMax, sigmaMin, 0]) and measure each deterministic sampler against that solution
   * (default true): the discretisation error alone, with no sampling floor.
   */
  reference?: boolean;
  /** Called before each run (done runs so far, total runs, label of the next). */
  onProgress?: (done: number, total: number, label: string) => void;
}

/** One sampler at one step count. */
export interface CompareRow {
  sampler: SamplerId;
  steps: number;
  /** Model evaluations (batched calls of the denoiser). */
  nfe: number;
  /** Sliced W2 to the exact reference set (data units). */
  sw2: number;
  /** Mean distance of a sample to its nearest component mean (data units). */
  nearestMode: number;
  /**
   * Deterministic samplers: the median over the samples of |x - x_ref|, x_ref the tight-tolerance
   * solution of the same ODE from the same start (data units): the typical sample's
   * discretisation error. null for stochastic samplers or without the reference.
   */
  odeError: number | null;
  /** The RMS of |x - x_ref| over the samples (dominated by the samples that changed mode); or null. */
  odeRms: number | null;
  /**
   * Fraction of the samples whose nearest component mean (data point, for an empirical mixture)
   * differs from that of x_ref: samples that a big step sent to the wrong mode; or null.
   */
  modeSwitches: number | null;
  /** Wall time of the sampler run (s). */
  seconds: number;
  /** 'dopri5': accepted and rejected steps, summed over the samples. */
  accepted?: number;
  rejected?: number;
}

/** The whole comparison, as `--json` prints it. */
export interface CompareResult {
  mixture: { name: string; dim: number; components: number; kind: string };
  n: number;
  seed: number;
  grid: { kind: 'karras'; sigmaMin: number; sigmaMax: number; rho: number };
  directions: number;
  /** Exact draws measured the same way: `sw2` is the finite-sample floor (a second exact set vs the reference). */
  exact: { sw2: number; nearestMode: number };
  /** The reference ODE solution, when computed. */
  reference: { sampler: 'dopri5'; rtol: number; atol: number; nfe: number; sw2: number } | null;
  rows: CompareRow[];
}

/** Tolerance of the reference ODE solution. */
export const REFERENCE_TOL = 1e-8;

/** Samplers whose output is a deterministic function of the start state (ODE solvers). */
export function isDeterministic(s: SamplerId): boolean {
  return DETERMINISTIC_SAMPLERS.includes(s);
}

/** Distances of samples x to the reference ODE solution: median, RMS and the share of mode switches. */
export function odeErrors(x: Float64Array, ref: Float64Array, refModes: Int32Array, dim: number, means: Float64Array):
  { median: number; rms: number; switches: number } {
  const d = rowDistances(x, ref, dim);
  let s2 = 0;
  for (const v of d) s2 += v * v;
  const modes = nearestModes(x, dim, means).index;
  let switched = 0;
  for (let i = 0; i < modes.length; i++) if (modes[i] !== refModes[i]) switched++;
  return { median: median(d), rms: Math.sqrt(s2 / d.length), switches: switched / d.length };
}

/** Sample ids lo .. lo + n - 1. */
function ids(lo: number, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + i;
  return a;
}

/** Runs one sampler from the given start states; returns the samples and the run's counters. */
export function runSampler(mix: GaussianMixture, sampler: SamplerId, grid: Float64Array, x: Float64Array, seed: number):
  { x: Float64Array; nfe: number; accepted?: number; rejected?: number } {
  const r = sampleSync({
    model: mix, sampler, sigmas: grid, x, dim: mix.dim, seed,
    ...(sampler === 'edm' ? { sChurn: 0 } : {}),
  });
  return { x: r.x as Float64Array, nfe: r.nfe, accepted: r.accepted, rejected: r.rejected };
}

/** Exact start states at sigmaMax (sample ids 0 .. n-1). */
export function startStates(mix: GaussianMixture, n: number, sigmaMax: number, seed: number): Float64Array {
  return mix.sampleNoisy(n, { alpha: 1, sigma: sigmaMax, seed, sampleIds: ids(0, n) });
}

/** The exact reference set (ids n .. 2n-1) and a second exact set for the floor (ids 2n .. 3n-1). */
export function exactSets(mix: GaussianMixture, n: number, seed: number): [Float64Array, Float64Array] {
  return [mix.sample(n, { seed, sampleIds: ids(n, n) }), mix.sample(n, { seed, sampleIds: ids(2 * n, n) })];
}

/** Runs every (sampler, steps) pair; synchronous work between awaits so a progress bar can redraw. */
export async function compare(opts: CompareOptions): Promise<CompareResult> {
  const mix = opts.mixture.mixture;
  const dim = mix.dim;
  const sigmaMin = opts.sigmaMin ?? DEFAULT_GRID.sigmaMin;
  const sigmaMax = opts.sigmaMax ?? DEFAULT_GRID.sigmaMax;
  const rho = opts.rho ?? DEFAULT_GRID.rho;
  const directions = opts.directions ?? DEFAULT_DIRECTIONS;
  for (const s of opts.samplers) if (!samplerIds.includes(s)) throw new RangeError(`unknown sampler '${s}'`);
  const start = startStates(mix, opts.n, sigmaMax, opts.seed);
  const [exactRef, second] = exactSets(mix, opts.n, opts.seed);
  const sw = new SlicedW2(exactRef, dim, { directions, seed: opts.seed });
  const means = mix.means;
  const total = opts.samplers.length * opts.steps.length + (opts.reference === false ? 0 : 1);
  let done = 0;
  let ref: Float64Array | null = null;
  let refModes: Int32Array | null = null;
  let reference: CompareResult['reference'] = null;
  if (opts.reference !== false) {
    opts.onProgress?.(done, total, 'reference ODE solution');
    await new Promise((resolve) => setImmediate(resolve));
    const r = sampleSync({
      model: mix, sampler: 'dopri5', sigmas: [sigmaMax, sigmaMin, 0], x: start, dim, rtol: REFERENCE_TOL, atol: REFERENCE_TOL,
    });
    ref = r.x as Float64Array;
    refModes = nearestModes(ref, dim, means).index;
    reference = { sampler: 'dopri5', rtol: REFERENCE_TOL, atol: REFERENCE_TOL, nfe: r.nfe, sw2: sw.distance(ref) };
    done++;
  }
  const result: CompareResult = {
    mixture: { name: opts.mixture.name, dim, components: mix.components, kind: mix.varianceKind },
    n: opts.n,
    seed: opts.seed,
    grid: { kind: 'karras', sigmaMin, sigmaMax, rho },
    directions,
    exact: { sw2: sw.distance(second), nearestMode: nearestModeDistance(second, dim, means) },
    reference,
    rows: [],
  };
  for (const sampler of opts.samplers) {
    for (const steps of opts.steps) {
      opts.onProgress?.(done, total, `${sampler} ${steps} steps`);
      await new Promise((resolve) => setImmediate(resolve));
      const grid = sigmas.karras({ n: steps, sigmaMin, sigmaMax, rho });
      const t0 = performance.now();
      const r = runSampler(mix, sampler, grid, start, opts.seed);
      const seconds = (performance.now() - t0) / 1000;
      const ode = ref && refModes && isDeterministic(sampler) ? odeErrors(r.x, ref, refModes, dim, means) : null;
      const row: CompareRow = {
        sampler, steps, nfe: r.nfe, sw2: sw.distance(r.x), nearestMode: nearestModeDistance(r.x, dim, means),
        odeError: ode?.median ?? null, odeRms: ode?.rms ?? null, modeSwitches: ode?.switches ?? null, seconds,
      };
      if (r.accepted !== undefined) row.accepted = r.accepted;
      if (r.rejected !== undefined) row.rejected = r.rejected;
      result.rows.push(row);
      done++;
    }
  }
  opts.onProgress?.(done, total, 'done');
  return result;
}

/** A number with 3 significant digits, as a table cell. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return v.toPrecision(3);
}

/**
 * Pads cells into aligned columns: `align` has one letter per column, 'l' or 'r' (default: the
 * first column left-aligned, the rest right-aligned).
 */
export function columns(rows: string[][], align?: string): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const left = (c: number): boolean => (align ? align[c] === 'l' : c === 0);
  return rows.map((r) => r.map((cell, c) => (left(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')
    .trimEnd()).join('\n');
}

/** One line describing a comparison's setup. */
export function describeSetup(r: CompareResult): string {
  const m = r.mixture;
  return `${m.name} (${m.dim}-D, ${m.components} ${m.kind === 'empirical' ? 'points' : 'components'}), ` +
    `n = ${r.n}, seed ${r.seed}, Karras grid sigma ${r.grid.sigmaMax}..${r.grid.sigmaMin} then 0 (rho ${r.grid.rho}), ` +
    `sliced W2 over ${r.directions} directions`;
}

/**
 * Observed order of convergence of a sampler: the least-squares slope of -log(error) against
 * log(NFE) over its last three step counts (or two, if it has only two); null when fewer than two
 * of them have a positive error.
 */
export function observedOrder(rows: readonly CompareRow[], value: (row: CompareRow) => number | null): number | null {
  const pts = rows.slice(-3).flatMap((r) => {
    const v = value(r);
    return v !== null && v > 0 ? [[Math.log(r.nfe), Math.log(v)]] : [];
  });
  if (pts.length < 2 || (rows.length >= 3 && pts.length < 3)) return null;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx > 0 ? -sxy / sxx : null;
}

/** The rows of one sampler, in step order. */
export function rowsOf(r: CompareResult, sampler: SamplerId): CompareRow[] {
  return r.rows.filter((x) => x.sampler === sampler).sort((a, b) => a.steps - b.steps);
}

/** Cells of a sampler x steps table, `value (NFE)`, and optionally the observed order of the last two. */
export function wideRows(r: CompareResult, value: (row: CompareRow) => number | null, order = false): string[][] {
  const steps = [...new Set(r.rows.map((x) => x.steps))];
  const samplers = [...new Set(r.rows.map((x) => x.sampler))];
  const out: string[][] = [['sampler', ...steps.map((s) => `${s} steps`), ...(order ? ['order'] : [])]];
  for (const s of samplers) {
    const rows = rowsOf(r, s);
    if (rows.every((x) => value(x) === null)) continue;
    const cells = steps.map((n) => {
      const row = rows.find((x) => x.steps === n);
      const v = row ? value(row) : null;
      return row && v !== null ? `${fmt(v)} (${row.nfe})` : '-';
    });
    if (order) {
      const p = observedOrder(rows, value);
      cells.push(p === null ? '-' : p.toFixed(2));
    }
    out.push([s, ...cells]);
  }
  return out;
}

/** The terminal tables of a comparison (sliced W2, nearest-mode distance, ODE error). */
export function formatCompare(r: CompareResult): string {
  const sw = wideRows(r, (x) => x.sw2);
  sw.push(['exact draws', ...sw[0].slice(1).map(() => fmt(r.exact.sw2))]);
  const nm = wideRows(r, (x) => x.nearestMode);
  nm.push(['exact draws', ...nm[0].slice(1).map(() => fmt(r.exact.nearestMode))]);
  const dop = r.rows.filter((x) => x.accepted !== undefined);
  const lines = [
    `tweedie compare: ${describeSetup(r)}`,
    '',
    `Sliced W2 to ${r.n} exact draws (NFE in parentheses); "exact draws" is a second exact set: ` +
      `the floor that n = ${r.n} puts under any sampler.`,
    columns(sw),
    '',
    `Mean distance to the nearest ${r.mixture.kind === 'empirical' ? 'data point' : 'component mean'} ` +
      '(NFE in parentheses):',
    columns(nm),
  ];
  if (r.reference) {
    const ode = wideRows(r, (x) => x.odeError, true);
    if (ode.length > 1) {
      lines.push('', `Median distance to the exact ODE solution from the same start (dopri5, tol ${r.reference.rtol}, ` +
        `${r.reference.nfe} NFE); order = least-squares slope vs NFE over the last three step counts:`, columns(ode));
      const sw = wideRows(r, (x) => (x.modeSwitches === null ? null : 100 * x.modeSwitches));
      lines.push('', `Samples that ended at a different ${r.mixture.kind === 'empirical' ? 'data point' : 'mode'} than the ` +
        'exact ODE solution (%):', columns(sw));
    }
  }
  if (dop.length) {
    lines.push('', 'dopri5 is adaptive (rtol = atol = 1e-4): its steps are checkpoints and NFE counts batched model calls; ' +
      `accepted/rejected steps per sample: ${dop.map((x) => `${x.steps}: ${fmt(x.accepted! / r.n)}/${fmt(x.rejected! / r.n)}`).join(', ')}`);
  }
  return lines.join('\n');
}
