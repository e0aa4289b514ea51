/**
 * Sigma grids for samplers, in k-diffusion's convention: a Float64Array of `n + 1` noise levels in
 * sigma/alpha units (`x / alpha = x0 + (sigma / alpha) * eps`), strictly decreasing, whose last entry
 * is 0 (the final step returns the denoiser's output).
 *
 * Computed in float64 with numpy's `linspace` rule (`start + i * step`, last entry exactly `stop`);
 * k-diffusion evaluates the same formulas in float32 with `torch.linspace`, so its grids differ from
 * these by float32 rounding (~1e-7 relative).
 * @module
 */
import { rangeError, typeError } from './errors.js';
import type { DiscreteSchedule, TimestepSpacing } from './schedules.js';
import { linspace } from './numeric.js';
import { nonNegativeInt, options, positiveInt } from './validate.js';

/** Options of {@link karras}. */
export interface KarrasOptions {
  /** Number of sampler steps n (the grid has n + 1 entries). */
  n: number;
  /** Smallest nonzero noise level (sigma/alpha units), > 0. EDM: 0.002. */
  sigmaMin: number;
  /** Largest noise level (sigma/alpha units), > sigmaMin. EDM: 80. */
  sigmaMax: number;
  /** Exponent rho > 0 (default 7, EDM). */
  rho?: number;
}

/** Options of {@link exponential}. */
export interface ExponentialOptions {
  /** Number of sampler steps n (the grid has n + 1 entries). */
  n: number;
  /** Smallest nonzero noise level (sigma/alpha units), > 0. */
  sigmaMin: number;
  /** Largest noise level (sigma/alpha units), > sigmaMin. */
  sigmaMax: number;
}

/** Options of {@link polyexponential}. */
export interface PolyexponentialOptions extends ExponentialOptions {
  /** Exponent rho > 0 of the ramp (default 1, which is {@link exponential}). */
  rho?: number;
}

/** Options of {@link vp}. */
export interface VpSigmasOptions {
  /** Number of sampler steps n (the grid has n + 1 entries). */
  n: number;
  /** beta_d = betaMax - betaMin (default 19.9), >= 0. */
  betaD?: number;
  /** beta_min (default 0.1), >= 0; not both 0. */
  betaMin?: number;
  /** Smallest time of the grid (default 1e-3), in (0, 1). */
  epsS?: number;
}

/** Options of {@link fromSchedule}. */
export interface FromScheduleOptions {
  /** Which training timesteps to use (required): `'leading'`, `'trailing'` or `'linspace'`. */
  spacing: TimestepSpacing;
  /** diffusers' `steps_offset`, added for `'leading'` spacing only (default 0). */
  stepsOffset?: number;
}

// ---------------------------------------------------------------------------------------------
// Internal helpers (not exported: this module's exports form the public `sigmas` namespace)

function num(name: string, v: unknown, expected: string, ok: (x: number) => boolean): number {
  if (typeof v !== 'number') throw typeError(name, expected, v);
  if (!ok(v)) throw rangeError(name, expected, v);
  return v;
}

function range(o: { n: unknown; sigmaMin: unknown; sigmaMax: unknown }): [number, number, number] {
  const n = positiveInt('n', o.n);
  const lo = num('sigmaMin', o.sigmaMin, 'a finite number > 0', (x) => x > 0 && x < Infinity);
  const hi = num('sigmaMax', o.sigmaMax, `a finite number > sigmaMin = ${lo}`, (x) => x > lo && x < Infinity);
  return [n, lo, hi];
}

function rhoArg(v: unknown, dflt: number): number {
  return v === undefined ? dflt : num('rho', v, 'a finite number > 0', (x) => x > 0 && x < Infinity);
}

/** Pins the end points to the exact inputs and appends the final 0 (the array has n + 1 slots). */
function finish(out: Float64Array, n: number, lo: number, hi: number): Float64Array {
  out[0] = hi;
  if (n > 1) out[n - 1] = lo;
  out[n] = 0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Grids

/**
 * The grid of Karras et al. 2022 (EDM eq. 5; k-diffusion `get_sigmas_karras`):
 * `s_i = (sigmaMax^(1/rho) + i/(n-1) (sigmaMin^(1/rho) - sigmaMax^(1/rho)))^rho`, `i = 0 .. n-1`, then 0.
 * The end points are exactly `sigmaMax` and `sigmaMin` (the formula alone can miss them by an ulp);
 * for n = 1 the grid is `[sigmaMax, 0]`. EDM uses n = 18, 0.002 → 80, rho = 7.
 * @returns Float64Array(n + 1), strictly decreasing, last entry 0 (sigma/alpha units)
 */
export function karras(opts: KarrasOptions): Float64Array {
  const o = options<KarrasOptions>('options', opts);
  const [n, lo, hi] = range(o);
  const rho = rhoArg(o.rho, 7);
  const ramp = linspace(0, 1, n);
  const minInv = lo ** (1 / rho);
  const maxInv = hi ** (1 / rho);
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) out[i] = (maxInv + ramp[i] * (minInv - maxInv)) ** rho;
  return finish(out, n, lo, hi);
}

/**
 * Uniform in log sigma (k-diffusion `get_sigmas_exponential`; diffusers `use_exponential_sigmas`,
 * Lu et al.'s lambda-uniform grid): `s = exp(linspace(log sigmaMax, log sigmaMin, n))`, then 0.
 * End points exactly `sigmaMax` and `sigmaMin`.
 * @returns Float64Array(n + 1), strictly decreasing, last entry 0 (sigma/alpha units)
 */
export function exponential(opts: ExponentialOptions): Float64Array {
  const o = options<ExponentialOptions>('options', opts);
  const [n, lo, hi] = range(o);
  const l = linspace(Math.log(hi), Math.log(lo), n);
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) out[i] = Math.exp(l[i]);
  return finish(out, n, lo, hi);
}

/**
 * Polynomial in log sigma (k-diffusion `get_sigmas_polyexponential`):
 * `s = exp(u^rho (log sigmaMax - log sigmaMin) + log sigmaMin)`, `u = linspace(1, 0, n)`, then 0.
 * rho = 1 is {@link exponential}; rho > 1 spends more steps at low noise. End points exactly
 * `sigmaMax` and `sigmaMin`.
 * @returns Float64Array(n + 1), strictly decreasing, last entry 0 (sigma/alpha units)
 */
export function polyexponential(opts: PolyexponentialOptions): Float64Array {
  const o = options<PolyexponentialOptions>('options', opts);
  const [n, lo, hi] = range(o);
  const rho = rhoArg(o.rho, 1);
  const ramp = linspace(1, 0, n);
  const lnLo = Math.log(lo);
  const span = Math.log(hi) - lnLo;
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) out[i] = Math.exp(ramp[i] ** rho * span + lnLo);
  return finish(out, n, lo, hi);
}

/**
 * The continuous VP process sampled uniformly in time (k-diffusion `get_sigmas_vp`):
 * `t = linspace(1, epsS, n)`, `s = sqrt(exp(betaD t^2/2 + betaMin t) - 1)`, then 0 — the
 * sigma/alpha of `schedules.vp({ betaMin, betaMax: betaMin + betaD })` at those times.
 * `exp(x) - 1` is evaluated as `expm1(x)` (k-diffusion subtracts, losing ~1e-12 relative at t = 1e-3).
 * @returns Float64Array(n + 1), strictly decreasing, last entry 0 (sigma/alpha units)
 */
export function vp(opts: VpSigmasOptions): Float64Array {
  const o = options<VpSigmasOptions>('options', opts);
  const n = positiveInt('n', o.n);
  const nonNeg = (x: number): boolean => x >= 0 && x < Infinity;
  const betaD = o.betaD === undefined ? 19.9 : num('betaD', o.betaD, 'a finite number >= 0', nonNeg);
  const betaMin = o.betaMin === undefined ? 0.1 : num('betaMin', o.betaMin, 'a finite number >= 0', nonNeg);
  if (betaD === 0 && betaMin === 0) throw rangeError('betaD', 'a number > 0 when betaMin is 0', betaD);
  const epsS = o.epsS === undefined ? 1e-3 : num('epsS', o.epsS, 'a number in (0, 1)', (x) => x > 0 && x < 1);
  const t = linspace(1, epsS, n);
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const ti = t[i];
    out[i] = Math.sqrt(Math.expm1((betaD * (ti * ti)) / 2 + betaMin * ti));
  }
  out[n] = 0;
  return out;
}

/**
 * The sigma/alpha levels of a discrete schedule at its `n` timesteps
 * `s.timesteps(n, spacing, stepsOffset)` (diffusers' rules, descending), then 0: what diffusers'
 * Euler-family schedulers use with integer timesteps (their `'linspace'` spacing keeps fractional
 * timesteps instead; for n = 10 of 1000 they coincide). For k-diffusion's `get_sigmas` (fractional
 * `linspace(T - 1, 0, n)` with log-sigma interpolation) use `s.sigmaAt` on your own times.
 *
 * For a zero-terminal-SNR schedule with `'trailing'` spacing the first entry is `+Infinity`; build
 * the schedule with `zeroTerminalSnr(base, { clampTerminal: 2 ** -24 })` for diffusers' finite 4096.
 * @param s a DiscreteSchedule
 * @param n number of sampler steps, `1 <= n <= s.steps`
 * @returns Float64Array(n + 1), strictly decreasing, last entry 0 (sigma/alpha units)
 */
export function fromSchedule(s: DiscreteSchedule, n: number, opts: FromScheduleOptions): Float64Array {
  if (s === null || typeof s !== 'object' || typeof (s as Partial<DiscreteSchedule>).timesteps !== 'function' ||
      typeof (s as Partial<DiscreteSchedule>).sigmas !== 'function') {
    throw typeError('s', 'a DiscreteSchedule', s);
  }
  positiveInt('n', n);
  const o = options<FromScheduleOptions>('options', opts);
  if (o.stepsOffset !== undefined) nonNegativeInt('stepsOffset', o.stepsOffset);
  const ts = s.timesteps(n, o.spacing, o.stepsOffset ?? 0);
  const table = s.sigmas();
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) out[i] = table[ts[i]];
  out[n] = 0;
  return out;
}
