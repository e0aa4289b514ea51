/**
 * Noise schedules: discrete DDPM tables (float64) and continuous-time VP / VE processes.
 *
 * Every schedule describes noise levels as pairs `(alpha, sigma)` with
 * `x_t = alpha * x0 + sigma * eps`, and the log-SNR `lambda = log(alpha / sigma)`.
 *
 * Discrete tables use diffusers' indexing: `t = 0 .. steps - 1`, `betas[t]` is the variance added at
 * step `t`, `alphasCumprod[t] = prod_{j <= t} (1 - betas[j])`, `alpha(t) = sqrt(alphasCumprod[t])`,
 * `sigma(t) = sqrt(1 - alphasCumprod[t])`. The k-diffusion noise level of step `t` is
 * `sigma / alpha = sqrt((1 - alphasCumprod[t]) / alphasCumprod[t])` ({@link DiscreteSchedule.sigmas}).
 *
 * Tables are computed in float64 throughout (diffusers computes its beta tables in float32 with
 * `torch.linspace`; ours are the float64 values of the same formulas, with numpy's `linspace`
 * rule `start + i * step`, last entry exactly `stop`, so they differ from diffusers' float32 tables
 * by float32 rounding, ~1e-7 relative).
 * @module
 */
import { rangeError, typeError } from './errors.js';
import { linspace } from './numeric.js';
import { nonNegativeInt, options, positiveInt } from './validate.js';

// ---------------------------------------------------------------------------------------------
// Types

/**
 * How {@link DiscreteSchedule.timesteps} picks `n` of the `steps` training timesteps (diffusers'
 * `timestep_spacing`; Lin et al. 2023, Table 2):
 * - `'linspace'`: `round(linspace(0, T - 1, n))`, descending: includes `T - 1` and `0`.
 * - `'leading'`: `i * floor(T / n) + stepsOffset`, `i = n - 1 .. 0`: starts below `T - 1` (SD 1.x: offset 1).
 * - `'trailing'`: `round(T - i * T / n) - 1`, `i = 0 .. n - 1`: starts at `T - 1`.
 */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

const SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

/**
 * A discrete noise schedule: a float64 table of `steps` noise levels indexed `t = 0 .. steps - 1`
 * (diffusers' indexing; `t = 0` is the least noisy level).
 *
 * Methods taking a timestep `t` accept any number in `[0, steps - 1]` and throw a RangeError outside
 * it. At an integer `t` they return the table entry; at a fractional `t` they use k-diffusion's
 * interpolation (`log(sigma / alpha)` linear between the neighbouring entries), so
 * `alpha`, `sigma`, `logSnr` and {@link DiscreteSchedule.sigmaAt} agree everywhere.
 *
 * A zero-terminal-SNR table (from {@link zeroTerminalSnr} or {@link sohlDickstein}) has
 * `alphasCumprod[steps - 1] = 0`, so at the last step `alpha = 0`, `sigma = 1`,
 * `logSnr = -Infinity` and `sigma / alpha = +Infinity`.
 */
export interface DiscreteSchedule {
  /** Discriminant: `'discrete'`. */
  readonly kind: 'discrete';
  /** Number of training timesteps `T` (the table length). */
  readonly steps: number;
  /**
   * `betas[t]`, length `steps`: the variance added at step `t`, in `(0, 1]`. A copy handed out for
   * reading: writing to it does not change the schedule (the methods use a private copy).
   */
  readonly betas: Float64Array;
  /**
   * `alphasCumprod[t] = prod_{j <= t} (1 - betas[j])` (ᾱ_t), length `steps`, strictly decreasing, in
   * `[0, 1)`. A copy handed out for reading, like {@link DiscreteSchedule.betas}.
   */
  readonly alphasCumprod: Float64Array;
  /** Signal scale `alpha(t) = sqrt(alphasCumprod[t])` (dimensionless). */
  alpha(t: number): number;
  /** Noise scale `sigma(t) = sqrt(1 - alphasCumprod[t])` (dimensionless). */
  sigma(t: number): number;
  /** Half log-SNR `log(alpha(t) / sigma(t)) = -log(sigmaAt(t))` (nats); `-Infinity` where alpha = 0. */
  logSnr(t: number): number;
  /**
   * The k-diffusion noise levels of the table, `sigma / alpha = sqrt((1 - ᾱ_t) / ᾱ_t)` for
   * `t = 0 .. steps - 1`, ascending (a new Float64Array of length `steps` on every call). The last
   * entry is `+Infinity` for a zero-terminal-SNR table.
   */
  sigmas(): Float64Array;
  /**
   * `sigma / alpha` at a fractional timestep `t` in `[0, steps - 1]`, k-diffusion's `t_to_sigma`:
   * `exp((1 - w) log s[floor(t)] + w log s[floor(t) + 1])`, `w = t - floor(t)`; the table entry
   * itself at an integer `t`. (diffusers' Euler-family schedulers interpolate sigma itself, not its
   * log; the two differ by ~3e-6 relative between SD table entries.)
   */
  sigmaAt(t: number): number;
  /**
   * The inverse of {@link DiscreteSchedule.sigmaAt} (k-diffusion's `sigma_to_t` without
   * quantization; diffusers' `_sigma_to_t`): the fractional timestep whose interpolated
   * `log(sigma / alpha)` equals `log(sigma)`.
   *
   * Clamped outside the table: any `sigma` at or below `sigmas()[0]` (including 0) gives `0`, any
   * `sigma` at or above `sigmas()[steps - 1]` gives `steps - 1`. For a zero-terminal-SNR table the last
   * interval runs up to `+Infinity` in log sigma, so every finite `sigma` above `sigmas()[steps - 2]`
   * gives `steps - 2` and only `+Infinity` gives `steps - 1`. RangeError for a negative or NaN sigma.
   * @param sigma a noise level in sigma/alpha units, `>= 0`
   */
  timestepFromSigma(sigma: number): number;
  /**
   * `n` training timesteps for an `n`-step sampler, in descending order, exactly as diffusers'
   * `set_timesteps` picks them (DDIM/DDPM; see {@link TimestepSpacing}), rounding half to even as
   * numpy does. `stepsOffset` (diffusers' `steps_offset`) is added for `'leading'` spacing only
   * and ignored for the other two, as in diffusers.
   *
   * `1 <= n <= steps` (diffusers' limit); with `'leading'` the offset may not push the first
   * timestep past `steps - 1`. For some `(steps, n)` (e.g. `(1000, 61)`) numpy's `arange` returns
   * `n + 1` points for `'trailing'` spacing and diffusers then ends with a spurious timestep `-1`;
   * this method returns the first `n`, which equal diffusers' first `n`.
   * @returns Int32Array of length `n`, strictly descending, values in `[0, steps - 1]`
   */
  timesteps(n: number, spacing: TimestepSpacing, stepsOffset?: number): Int32Array;
}

/**
 * A continuous-time schedule on `t` in `[0, 1]` (`t = 0` is clean data). Methods throw a
 * RangeError for `t` outside `[0, 1]` and a TypeError for a non-number.
 */
export interface ContinuousSchedule {
  /** Discriminant: `'continuous'`. */
  readonly kind: 'continuous';
  /** Signal scale `alpha(t)` (dimensionless; 1 for VE). */
  alpha(t: number): number;
  /** Noise scale `sigma(t)` (data units for VE; dimensionless for VP). */
  sigma(t: number): number;
  /** Half log-SNR `log(alpha(t) / sigma(t))` (nats); `+Infinity` where sigma = 0. */
  logSnr(t: number): number;
  /**
   * The inverse of `logSnr`, in closed form: the `t` in `[0, 1]` with `logSnr(t) = lambda`.
   * RangeError for `lambda` outside `[logSnr(1), logSnr(0)]`.
   */
  tFromLogSnr(lambda: number): number;
  /** Forward-SDE drift coefficient `f(t) = d log alpha / dt` (per unit t): `dx = f(t) x dt + g(t) dW`. */
  drift(t: number): number;
  /** Forward-SDE diffusion coefficient `g(t) = sqrt(d sigma^2/dt - 2 f(t) sigma^2)` (per sqrt unit t). */
  diffusion(t: number): number;
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** Number of training timesteps T (default 1000). */
  steps?: number;
  /** First beta (default 1e-4), in (0, 1). */
  betaStart?: number;
  /** Last beta (default 0.02), in (0, 1). May be smaller than betaStart (diffusers does not forbid it). */
  betaEnd?: number;
}

/** Options of {@link scaledLinear}. */
export interface ScaledLinearOptions {
  /** Number of training timesteps T (default 1000). */
  steps?: number;
  /** First beta (default 0.00085, Stable Diffusion), in (0, 1). */
  betaStart?: number;
  /** Last beta (default 0.012, Stable Diffusion), in (0, 1). */
  betaEnd?: number;
}

/** Options of {@link cosine}. */
export interface CosineOptions {
  /** Number of training timesteps T (default 1000). */
  steps?: number;
  /** Offset s of `ᾱ(u) = cos^2((u + s)/(1 + s) * pi/2)` (default 0.008), `>= 0`. */
  s?: number;
  /** Cap on every beta (default 0.999), in (0, 1]. */
  maxBeta?: number;
}

/** Options of {@link sigmoid}. */
export interface SigmoidOptions {
  /** Number of training timesteps T (default 1000). */
  steps?: number;
  /** Lower beta asymptote (default 1e-4), in (0, 1). */
  betaStart?: number;
  /** Upper beta asymptote (default 0.02), in (0, 1). */
  betaEnd?: number;
}

/** Options of {@link sohlDickstein}. */
export interface SohlDicksteinOptions {
  /** Number of timesteps T (default 1000). */
  steps?: number;
}

/** Options of {@link zeroTerminalSnr}. */
export interface ZeroTerminalSnrOptions {
  /**
   * Replace the final `alphasCumprod` (0 after the rescale) by this value, as diffusers' Euler,
   * Euler ancestral, DPM-Solver multistep and UniPC schedulers do with `2 ** -24` (giving
   * `sigma/alpha = sqrt(2^24 - 1) = 4095.99988` instead of `+Infinity`). Must be in
   * `(0, alphasCumprod[steps - 2])` so the table stays strictly decreasing; the last beta becomes
   * `1 - clampTerminal / alphasCumprod[steps - 2]`.
   */
  clampTerminal?: number;
}

/** Options of {@link vp}. */
export interface VpOptions {
  /** beta(0) (default 0.1), `>= 0`. */
  betaMin?: number;
  /** beta(1) (default 20), `>= 0`; may be below betaMin; not both 0. */
  betaMax?: number;
}

/** Options of {@link ve}. */
export interface VeOptions {
  /** sigma(0) > 0 (score_sde: 0.01). */
  sigmaMin: number;
  /** sigma(1) > sigmaMin (score_sde CIFAR-10: 50). */
  sigmaMax: number;
}

// ---------------------------------------------------------------------------------------------
// Internal helpers (not exported: this module's exports form the public `schedules` namespace)

/** A number satisfying `ok`; TypeError for a non-number, RangeError otherwise (NaN fails every `ok`). */
function num(name: string, v: unknown, expected: string, ok: (x: number) => boolean): number {
  if (typeof v !== 'number') throw typeError(name, expected, v);
  if (!ok(v)) throw rangeError(name, expected, v);
  return v;
}

const inUnitOpen = (x: number): boolean => x > 0 && x < 1;

/** numpy.round / rint: round half to even. Exact for |x| < 2^52. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function cumprodOneMinus(betas: Float64Array): Float64Array {
  const ab = new Float64Array(betas.length);
  let p = 1;
  for (let i = 0; i < betas.length; i++) {
    p *= 1 - betas[i];
    ab[i] = p;
  }
  return ab;
}

/**
 * Checks a table before it becomes a schedule: alphasCumprod finite, strictly decreasing, in [0, 1),
 * positive except possibly at the last step. `culprit` names the option blamed in the error.
 */
function checkTable(ab: Float64Array, culprit: string, culpritValue: unknown): void {
  const T = ab.length;
  for (let i = 0; i < T; i++) {
    const v = ab[i];
    const prev = i === 0 ? 1 : ab[i - 1];
    const okValue = i < T - 1 ? v > 0 : v >= 0;
    if (!(okValue && v < prev)) {
      throw rangeError(culprit,
        `values giving a strictly decreasing alphasCumprod in [0, 1), positive before the last step ` +
        `(alphasCumprod[${i}] = ${v} after ${prev})`, culpritValue);
    }
  }
}

class Discrete implements DiscreteSchedule {
  readonly kind = 'discrete' as const;
  readonly steps: number;
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly #ab: Float64Array;
  readonly #sig: Float64Array;
  readonly #logSig: Float64Array;

  /** Takes ownership of `betas` and `ab` (already checked by checkTable). */
  constructor(betas: Float64Array, ab: Float64Array) {
    this.steps = ab.length;
    this.#ab = ab;
    this.betas = betas;
    this.alphasCumprod = ab.slice();
    const T = ab.length;
    this.#sig = new Float64Array(T);
    this.#logSig = new Float64Array(T);
    for (let i = 0; i < T; i++) {
      // k-diffusion / diffusers: ((1 - ᾱ) / ᾱ) ** 0.5
      const s = Math.sqrt((1 - ab[i]) / ab[i]);
      this.#sig[i] = s;
      this.#logSig[i] = Math.log(s);
    }
  }

  #t(t: unknown): number {
    return num('t', t, `a timestep from 0 to ${this.steps - 1}`, (x) => x >= 0 && x <= this.steps - 1);
  }

  /** log(sigma/alpha) at a validated fractional t (not an integer). */
  #logSigmaFrac(t: number): number {
    const lo = Math.floor(t);
    const w = t - lo;
    const a = this.#logSig[lo];
    const b = this.#logSig[lo + 1];
    if (b === Infinity) return Infinity;
    return (1 - w) * a + w * b;
  }

  alpha(t: number): number {
    const x = this.#t(t);
    if (Number.isInteger(x)) return Math.sqrt(this.#ab[x]);
    const s = Math.exp(this.#logSigmaFrac(x));
    return s === Infinity ? 0 : 1 / Math.hypot(1, s);
  }

  sigma(t: number): number {
    const x = this.#t(t);
    if (Number.isInteger(x)) return Math.sqrt(1 - this.#ab[x]);
    const s = Math.exp(this.#logSigmaFrac(x));
    return s === Infinity ? 1 : s / Math.hypot(1, s);
  }

  logSnr(t: number): number {
    const x = this.#t(t);
    return -(Number.isInteger(x) ? this.#logSig[x] : this.#logSigmaFrac(x));
  }

  sigmas(): Float64Array {
    return this.#sig.slice();
  }

  sigmaAt(t: number): number {
    const x = this.#t(t);
    return Number.isInteger(x) ? this.#sig[x] : Math.exp(this.#logSigmaFrac(x));
  }

  timestepFromSigma(sigma: number): number {
    const s = num('sigma', sigma, 'a noise level sigma/alpha >= 0', (v) => v >= 0);
    const T = this.steps;
    const sig = this.#sig;
    if (T === 1 || s <= sig[0]) return 0;
    if (s >= sig[T - 1]) return T - 1;
    // largest lo with sig[lo] <= s (binary search; sig is strictly increasing), lo in [0, T - 2]
    let lo = 0;
    let hi = T - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (sig[mid] <= s) lo = mid;
      else hi = mid;
    }
    const a = this.#logSig[lo];
    const b = this.#logSig[lo + 1];
    const w = (a - Math.log(s)) / (a - b); // in [0, 1); +0 when b = +Infinity
    return lo + Math.min(Math.max(w, 0), 1);
  }

  timesteps(n: number, spacing: TimestepSpacing, stepsOffset = 0): Int32Array {
    const T = this.steps;
    positiveInt('n', n);
    if (n > T) throw rangeError('n', `an integer from 1 to ${T} (the schedule's steps)`, n);
    const sp = spacingArg(spacing);
    nonNegativeInt('stepsOffset', stepsOffset);
    const out = new Int32Array(n);
    if (sp === 'linspace') {
      const y = linspace(0, T - 1, n);
      for (let i = 0; i < n; i++) out[n - 1 - i] = roundHalfEven(y[i]);
    } else if (sp === 'leading') {
      const ratio = Math.floor(T / n);
      const maxOffset = T - 1 - (n - 1) * ratio;
      if (stepsOffset > maxOffset) {
        throw rangeError('stepsOffset', `an integer from 0 to ${maxOffset} (timestep ${(n - 1) * ratio} + stepsOffset must stay below steps = ${T})`, stepsOffset);
      }
      for (let i = 0; i < n; i++) out[n - 1 - i] = i * ratio + stepsOffset;
    } else {
      // numpy.arange(T, 0, -T / n): [T, T + step, T + i * ((T + step) - T) for i >= 2]
      const step = -T / n;
      const next = T + step;
      const delta = next - T;
      for (let i = 0; i < n; i++) {
        const v = i === 0 ? T : i === 1 ? next : T + i * delta;
        out[i] = roundHalfEven(v) - 1;
      }
    }
    return out;
  }
}

function spacingArg(v: unknown): TimestepSpacing {
  if (typeof v !== 'string' || !(SPACINGS as readonly string[]).includes(v)) {
    throw typeError('spacing', `one of ${SPACINGS.map((p) => `'${p}'`).join(', ')}`, v);
  }
  return v as TimestepSpacing;
}

function stepsArg(v: unknown): number {
  return v === undefined ? 1000 : positiveInt('steps', v);
}

function betaArg(name: string, v: unknown, dflt: number): number {
  return v === undefined ? dflt : num(name, v, 'a beta in (0, 1)', inUnitOpen);
}

function fromTable(betas: Float64Array, culprit: string, culpritValue: unknown): Discrete {
  const ab = cumprodOneMinus(betas);
  checkTable(ab, culprit, culpritValue);
  return new Discrete(betas, ab);
}

// ---------------------------------------------------------------------------------------------
// Discrete schedules

/**
 * DDPM's linear schedule (Ho et al. 2020; diffusers `beta_schedule='linear'`):
 * `betas = linspace(betaStart, betaEnd, steps)` (numpy's float64 linspace).
 * Defaults 1e-4 → 0.02, 1000 steps: `alphasCumprod[999] = 4.035830e-5`, `sigmas()[999] = 157.407`.
 */
export function linear(opts?: LinearOptions): DiscreteSchedule {
  const o = options<LinearOptions>('options', opts, true);
  const T = stepsArg(o.steps);
  const b0 = betaArg('betaStart', o.betaStart, 1e-4);
  const b1 = betaArg('betaEnd', o.betaEnd, 0.02);
  return fromTable(linspace(b0, b1, T), 'betaEnd', b1);
}

/**
 * Latent/Stable Diffusion's "scaled linear" schedule (diffusers `'scaled_linear'`): linear in
 * sqrt(beta), `betas = linspace(sqrt(betaStart), sqrt(betaEnd), steps) ** 2`.
 * Defaults 0.00085 → 0.012, 1000 steps: `alphasCumprod[999] = 4.660099e-3`, `sigmas()[999] = 14.61464`.
 */
export function scaledLinear(opts?: ScaledLinearOptions): DiscreteSchedule {
  const o = options<ScaledLinearOptions>('options', opts, true);
  const T = stepsArg(o.steps);
  const b0 = betaArg('betaStart', o.betaStart, 0.00085);
  const b1 = betaArg('betaEnd', o.betaEnd, 0.012);
  const r = linspace(Math.sqrt(b0), Math.sqrt(b1), T);
  for (let i = 0; i < T; i++) r[i] *= r[i];
  return fromTable(r, 'betaEnd', b1);
}

/**
 * Nichol & Dhariwal's cosine schedule (arXiv 2102.09672; diffusers `'squaredcos_cap_v2'`):
 * `ᾱ(u) = cos^2((u + s)/(1 + s) * pi/2)`, `betas[i] = min(1 - ᾱ((i+1)/T) / ᾱ(i/T), maxBeta)`,
 * evaluated in float64 in diffusers' order of operations. At T = 1000 only the last beta reaches the
 * 0.999 cap; `alphasCumprod[999] = 2.428767e-9`, `sigmas()[999] = 20291.2`.
 */
export function cosine(opts?: CosineOptions): DiscreteSchedule {
  const o = options<CosineOptions>('options', opts, true);
  const T = stepsArg(o.steps);
  const s = o.s === undefined ? 0.008 : num('s', o.s, 'a finite number >= 0', (x) => x >= 0 && x < Infinity);
  const maxBeta = o.maxBeta === undefined ? 0.999 : num('maxBeta', o.maxBeta, 'a number in (0, 1]', (x) => x > 0 && x <= 1);
  const one = 1 + s;
  const f = (u: number): number => Math.cos(((u + s) / one) * Math.PI / 2) ** 2;
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    betas[i] = Math.min(1 - f((i + 1) / T) / f(i / T), maxBeta);
  }
  return fromTable(betas, 's', s);
}

/**
 * GeoDiff's sigmoid schedule (Xu et al. 2022): `betas = sigmoid(linspace(-6, 6, steps)) *
 * (betaEnd - betaStart) + betaStart`, with `sigmoid(x) = 1 / (1 + exp(-x))`.
 * Defaults 1e-4 → 0.02: `betas[0] = 1.492052e-4`, `alphasCumprod[999] = 3.968182e-5`.
 */
export function sigmoid(opts?: SigmoidOptions): DiscreteSchedule {
  const o = options<SigmoidOptions>('options', opts, true);
  const T = stepsArg(o.steps);
  const b0 = betaArg('betaStart', o.betaStart, 1e-4);
  const b1 = betaArg('betaEnd', o.betaEnd, 0.02);
  const x = linspace(-6, 6, T);
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) betas[i] = (1 / (1 + Math.exp(-x[i]))) * (b1 - b0) + b0;
  return fromTable(betas, 'betaEnd', b1);
}

/**
 * Sohl-Dickstein et al. 2015's schedule "erase a constant fraction 1/T of the signal per step":
 * `beta = 1/(T - tau + 1)` for `tau = 1 .. T`, so `ᾱ = 1 - tau/T`. In this package's indexing
 * (`t = tau - 1`): `betas[t] = 1/(T - t)`, `alphasCumprod[t] = (T - 1 - t)/T` (computed in closed form,
 * not as a product). The last level is pure noise (`betas[T-1] = 1`, zero terminal SNR; see
 * {@link DiscreteSchedule}). `steps` defaults to 1000.
 */
export function sohlDickstein(opts?: SohlDicksteinOptions): DiscreteSchedule {
  const o = options<SohlDicksteinOptions>('options', opts, true);
  const T = stepsArg(o.steps);
  const betas = new Float64Array(T);
  const ab = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    betas[t] = 1 / (T - t);
    ab[t] = (T - 1 - t) / T;
  }
  checkTable(ab, 'steps', T);
  return new Discrete(betas, ab);
}

/**
 * Rescales a schedule to zero terminal SNR (Lin et al. 2023, arXiv 2305.08891, Alg. 1; diffusers
 * `rescale_betas_zero_snr`): with `a = sqrt(alphasCumprod)`,
 * `a' = (a - a[T-1]) * a[0] / (a[0] - a[T-1])`, `alphasCumprod' = a'^2`, betas recovered by ratios.
 *
 * The result has `alphasCumprod'[T-1] = 0` and `betas'[T-1] = 1` exactly and `alphasCumprod'[0]`
 * equal to the input's (set exactly, not recomputed). Its `alphasCumprod` is the rescaled table
 * itself, not re-multiplied from the betas (diffusers re-multiplies; in float64 the two agree to
 * ~1e-15 relative). Because diffusers' float64 rescale moves `alphasCumprod[0]` by an ulp (0.9999 becomes
 * 0.9999000000000002) and this function does not, `betas[0]` and `betas[1]` (which divide small
 * differences) differ from diffusers' float64 values by up to ~1e-11 relative; the other betas agree to ~1e-12.
 * Its last noise level `sigma/alpha` is `+Infinity`: samplers in sigma/alpha units need either
 * trailing spacing with a v- or x0-predicting model and a first step from `+Infinity` handled
 * specially, or a finite terminal level via `opts.clampTerminal` (diffusers uses `2 ** -24`).
 * Pair with v-prediction: eps-prediction is undefined at SNR 0.
 * @param s a schedule with at least 2 steps (its `alphasCumprod` is read)
 */
export function zeroTerminalSnr(s: DiscreteSchedule, opts?: ZeroTerminalSnrOptions): DiscreteSchedule {
  if (s === null || typeof s !== 'object' || !((s as { alphasCumprod?: unknown }).alphasCumprod instanceof Float64Array)) {
    throw typeError('s', 'a DiscreteSchedule', s);
  }
  const o = options<ZeroTerminalSnrOptions>('options', opts, true);
  const src = s.alphasCumprod;
  const T = src.length;
  if (T < 2) throw rangeError('s.steps', 'a schedule with at least 2 steps', T);
  checkTable(src, 's.alphasCumprod', src);
  const a0 = Math.sqrt(src[0]);
  const aT = Math.sqrt(src[T - 1]);
  const k = a0 / (a0 - aT);
  const ab = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const a = (Math.sqrt(src[i]) - aT) * k;
    ab[i] = a * a;
  }
  ab[0] = src[0];
  ab[T - 1] = 0;
  if (o.clampTerminal !== undefined) {
    const hi = ab[T - 2];
    ab[T - 1] = num('clampTerminal', o.clampTerminal, `a number in (0, ${hi}) (below alphasCumprod[${T - 2}])`, (x) => x > 0 && x < hi);
  }
  const betas = new Float64Array(T);
  betas[0] = 1 - ab[0];
  for (let i = 1; i < T; i++) betas[i] = 1 - ab[i] / ab[i - 1];
  checkTable(ab, 's', s);
  return new Discrete(betas, ab);
}

/**
 * A schedule from an explicit beta table (diffusers' `trained_betas`), `alphasCumprod` its running
 * product. Each beta in `(0, 1]`; the resulting `alphasCumprod` must be strictly decreasing and
 * positive before the last step (so only the last beta may be 1).
 * @param betas length `steps >= 1`; copied
 */
export function fromBetas(betas: ArrayLike<number>): DiscreteSchedule {
  if (betas === null || typeof betas !== 'object' || typeof (betas as ArrayLike<number>).length !== 'number') {
    throw typeError('betas', 'an array of numbers', betas);
  }
  const T = betas.length;
  if (T < 1) throw rangeError('betas.length', 'at least 1', T);
  const b = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    b[i] = num(`betas[${i}]`, betas[i], 'a beta in (0, 1]', (x) => x > 0 && x <= 1);
  }
  return fromTable(b, 'betas', betas);
}

// ---------------------------------------------------------------------------------------------
// Continuous schedules

function tArg(v: unknown): number {
  return num('t', v, 'a time t in [0, 1]', (x) => x >= 0 && x <= 1);
}

function lambdaArg(v: unknown, lo: number, hi: number): number {
  return num('lambda', v, `a log-SNR from logSnr(1) = ${lo} to logSnr(0) = ${hi}`, (x) => x >= lo && x <= hi);
}

/**
 * The continuous variance-preserving process of score_sde (Song et al. 2021) and DPM-Solver's
 * `'linear'` noise schedule: `beta(t) = betaMin + t (betaMax - betaMin)`,
 * `log alpha(t) = -t^2 (betaMax - betaMin)/4 - t betaMin/2`, `sigma(t) = sqrt(1 - alpha^2)`
 * (computed as `sqrt(-expm1(2 log alpha))`), `f(t) = -beta(t)/2`, `g(t) = sqrt(beta(t))`.
 * `tFromLogSnr` is the closed-form root `t = 2L / (betaMin + sqrt(betaMin^2 + 2 (betaMax - betaMin) L))`,
 * `L = log(1 + exp(-2 lambda))` (DPM-Solver's formula with the common factor cancelled).
 * Defaults 0.1 → 20: `alpha(1) = 0.00657159`, `logSnr(1) = -5.024978`.
 */
export function vp(opts?: VpOptions): ContinuousSchedule {
  const o = options<VpOptions>('options', opts, true);
  const nonNeg = (x: number): boolean => x >= 0 && x < Infinity;
  const b0 = o.betaMin === undefined ? 0.1 : num('betaMin', o.betaMin, 'a finite number >= 0', nonNeg);
  const b1 = o.betaMax === undefined ? 20 : num('betaMax', o.betaMax, 'a finite number >= 0', nonNeg);
  if (b0 === 0 && b1 === 0) throw rangeError('betaMax', 'a number > 0 when betaMin is 0', b1);
  const d = b1 - b0;
  const logAlpha = (t: number): number => -0.25 * t * t * d - 0.5 * t * b0;
  const lam = (t: number): number => {
    const la = logAlpha(t);
    return la - 0.5 * Math.log(-Math.expm1(2 * la));
  };
  const lambda1 = lam(1);
  return {
    kind: 'continuous',
    alpha: (t) => Math.exp(logAlpha(tArg(t))),
    sigma: (t) => Math.sqrt(-Math.expm1(2 * logAlpha(tArg(t)))),
    logSnr: (t) => lam(tArg(t)),
    tFromLogSnr: (lambda) => {
      const l = lambdaArg(lambda, lambda1, Infinity);
      if (l === Infinity) return 0;
      const L = softplus(-2 * l);
      const t = (2 * L) / (b0 + Math.sqrt(b0 * b0 + 2 * d * L));
      return Math.min(t, 1);
    },
    drift: (t) => -0.5 * (b0 + tArg(t) * d),
    diffusion: (t) => Math.sqrt(b0 + tArg(t) * d),
  };
}

/**
 * The continuous variance-exploding process of score_sde (Song et al. 2021):
 * `sigma(t) = sigmaMin * (sigmaMax / sigmaMin)^t`, `alpha = 1`, `logSnr = -log sigma(t)`,
 * `f = 0`, `g(t) = sigma(t) sqrt(2 log(sigmaMax / sigmaMin))`. score_sde uses 0.01 → 50 for CIFAR-10.
 */
export function ve(opts: VeOptions): ContinuousSchedule {
  const o = options<VeOptions>('options', opts);
  const lo = num('sigmaMin', o.sigmaMin, 'a finite number > 0', (x) => x > 0 && x < Infinity);
  const hi = num('sigmaMax', o.sigmaMax, `a finite number > sigmaMin = ${lo}`, (x) => x > lo && x < Infinity);
  const ratio = hi / lo;
  const lnLo = Math.log(lo);
  const lnRatio = Math.log(ratio);
  const gScale = Math.sqrt(2 * lnRatio);
  const sig = (t: number): number => lo * ratio ** t;
  const lam = (t: number): number => -(lnLo + t * lnRatio);
  const lam0 = lam(0);
  const lam1 = lam(1);
  return {
    kind: 'continuous',
    alpha: (t) => {
      tArg(t);
      return 1;
    },
    sigma: (t) => sig(tArg(t)),
    logSnr: (t) => lam(tArg(t)),
    tFromLogSnr: (lambda) => {
      const l = lambdaArg(lambda, lam1, lam0);
      return Math.min(Math.max((-l - lnLo) / lnRatio, 0), 1);
    },
    drift: (t) => {
      tArg(t);
      return 0;
    },
    diffusion: (t) => sig(tArg(t)) * gScale,
  };
}
