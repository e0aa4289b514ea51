/**
 * SVG plots of the command line: each is a declarative Vega-Lite spec, compiled to Vega and
 * rendered headless by Vega's `View.toSVG()` (no browser, no canvas, no network).
 * @module
 */
import { contours } from 'd3-contour';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { GaussianMixture } from '../index.js';
import { type CompareResult, describeSetup } from './compare.js';
import type { PosteriorReport } from './posterior.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Axis of a log scale: labels at powers of ten only, plain from 0.001 up, as 1e-4 below. */
const LOG_AXIS = {
  labelExpr: "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) > 1e-6 ? '' : " +
    "datum.value >= 0.001 ? format(datum.value, '~g') : format(datum.value, '.0e')",
};

/** Renders a Vega-Lite spec to an SVG document (a string starting with `<svg`). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new View(parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Shared look: white background, readable fonts. */
const CONFIG = {
  background: 'white',
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' as const },
};

/**
 * The error-vs-NFE plot of a comparison: log-log, one line (with points) per sampler; the
 * left panel is the sliced W2 to exact draws with the exact-vs-exact floor as a dashed rule;
 * the right panel, when the reference ODE solution was computed, is each deterministic
 * sampler's median distance to it, or for an empirical mixture the share of samples that ended
 * at another data point than it (zeros, which a log axis cannot show, are left out).
 */
export function compareSpec(r: CompareResult, title = `Error vs NFE on ${r.mixture.name}`): TopLevelSpec {
  const samplers = [...new Set(r.rows.map((x) => x.sampler))];
  const rows = r.rows.map((x) => ({ sampler: x.sampler, steps: x.steps, nfe: x.nfe, sw2: x.sw2, odeError: x.odeError }));
  const color = { field: 'sampler', type: 'nominal' as const, title: 'sampler', sort: samplers, scale: { scheme: 'tableau10' } };
  const shape = { field: 'sampler', type: 'nominal' as const, title: 'sampler', sort: samplers };
  const x = { field: 'nfe', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'NFE (model evaluations)' };
  const sw2Panel = {
    width: 420,
    height: 320,
    title: 'Sliced W2 to exact draws',
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line' as const, point: true, strokeWidth: 1.5 },
        encoding: {
          x,
          y: {
            field: 'sw2', type: 'quantitative' as const, scale: { type: 'log' as const }, axis: LOG_AXIS,
            title: 'sliced W2 (data units)',
          },
          color,
          shape,
        },
      },
      {
        data: { values: [{ floor: r.exact.sw2, label: `exact vs exact, n = ${r.n}` }] },
        mark: { type: 'rule' as const, strokeDash: [5, 4], color: '#555' },
        encoding: { y: { field: 'floor', type: 'quantitative' as const } },
      },
      {
        data: { values: [{ floor: r.exact.sw2, label: `floor: exact vs exact, n = ${r.n}` }] },
        mark: { type: 'text' as const, align: 'right' as const, baseline: 'top' as const, dy: 3, x: 'width' as const, color: '#555' },
        encoding: { y: { field: 'floor', type: 'quantitative' as const }, text: { field: 'label', type: 'nominal' as const } },
      },
    ],
  };
  // Right panel: the distance to the exact ODE solution; for an empirical mixture, where samples
  // land exactly on data points, the share of samples that ended at another point instead.
  const empirical = r.mixture.kind === 'empirical';
  const field = empirical ? 'switches' : 'odeError';
  const odeRows = r.rows
    .map((x) => ({ sampler: x.sampler, steps: x.steps, nfe: x.nfe, odeError: x.odeError,
      switches: x.modeSwitches === null ? null : 100 * x.modeSwitches }))
    .filter((x) => x[field] !== null && x[field]! > 0);
  const panels: object[] = [sw2Panel];
  if (odeRows.length) {
    panels.push({
      width: 420,
      height: 320,
      title: empirical
        ? 'Samples at another data point than the exact ODE solution'
        : `Median distance to the exact ODE solution (dopri5, tol ${r.reference?.rtol ?? ''})`,
      data: { values: odeRows },
      mark: { type: 'line', point: true, strokeWidth: 1.5 },
      encoding: {
        x,
        y: {
          field, type: 'quantitative', scale: { type: 'log' }, axis: LOG_AXIS,
          title: empirical ? 'samples switched (%)' : 'median |x - x_ode| (data units)',
        },
        color,
        shape,
      },
    });
  }
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: describeSetup(r) },
    config: CONFIG,
    hconcat: panels,
    resolve: { scale: { color: 'shared', shape: 'shared' } },
  } as TopLevelSpec;
}

/** What the scatter plot of `tweedie sample` shows. */
export interface ScatterInput {
  samples: Float64Array;
  mixture: GaussianMixture;
  title: string;
  subtitle?: string;
  /** At most this many samples are drawn (the first ones; default 3000). */
  maxPoints?: number;
}

/** The first two coordinates of a mixture, as a 2-D mixture (the exact marginal). */
function marginal2d(mix: GaussianMixture): GaussianMixture {
  const { dim, components: K } = mix;
  const m = mix.means;
  const v = mix.variances;
  const means = new Float64Array(2 * K);
  const vars = new Float64Array(2 * K);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < 2; j++) {
      means[2 * k + j] = m[k * dim + j];
      vars[2 * k + j] = v[k * dim + j];
    }
  }
  return mix.varianceKind === 'empirical'
    ? GaussianMixture.empirical(means, 2, mix.weights)
    : new GaussianMixture({ dim: 2, means, variances: vars, weights: mix.weights });
}

/** The q-quantile of the values (sorted copy). */
function quantile(values: Float64Array, q: number): number {
  const s = Float64Array.from(values).sort();
  if (!s.length) return 0;
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/** Contour lines {x, y, ring, order, level} of the 2-D mixture's density at fractions of its peak. */
function densityContours(mix2: GaussianMixture, lo: number, hi: number, fractions: readonly number[]): object[] {
  const N = 160;
  const step = (hi - lo) / (N - 1);
  const grid = new Float64Array(N * N * 2);
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      grid[2 * (j * N + i)] = lo + i * step;
      grid[2 * (j * N + i) + 1] = lo + j * step;
    }
  }
  const minStd = Math.sqrt(Math.min(...mix2.variances));
  const { logDensity } = mix2.posterior(grid, { alpha: 1, sigma: Math.max(1e-6, 1e-4 * minStd) }, { logDensity: true });
  let peak = -Infinity;
  for (const v of logDensity) peak = Math.max(peak, v);
  const values = Array.from(logDensity, (v) => Math.exp(v - peak));
  const out: object[] = [];
  let ring = 0;
  for (const c of contours().size([N, N]).thresholds(fractions.slice())(values)) {
    for (const polygon of c.coordinates) {
      for (const r of polygon) {
        r.forEach(([gx, gy], order) => {
          out.push({ x: lo + (gx - 0.5) * step, y: lo + (gy - 0.5) * step, ring, order, level: `${c.value} x peak` });
        });
        ring++;
      }
    }
  }
  return out;
}

/**
 * Scatter plot of samples (first two coordinates) over the exact density: contour lines at
 * 50%, 10% and 1% of the peak of the exact (marginal) density and the component means, or, for
 * an empirical mixture, its data points. A 1-D mixture gets a histogram over the exact density.
 */
export function scatterSpec(s: ScatterInput): TopLevelSpec {
  const mix = s.mixture;
  const dim = mix.dim;
  const n = s.samples.length / dim;
  const shown = Math.min(n, s.maxPoints ?? 3000);
  const title = { text: s.title, subtitle: `${s.subtitle ? `${s.subtitle}; ` : ''}${shown < n ? `${shown} of ${n}` : n} samples shown` };
  if (dim === 1) return histogramSpec(s, title);
  const mix2 = marginal2d(mix);
  const means = mix2.means;
  const stdMax = Math.sqrt(Math.max(...mix2.variances));
  const xs = new Float64Array(shown);
  const ys = new Float64Array(shown);
  for (let i = 0; i < shown; i++) {
    xs[i] = s.samples[i * dim];
    ys[i] = s.samples[i * dim + 1];
  }
  let lo = Math.min(...means) - 3 * stdMax;
  let hi = Math.max(...means) + 3 * stdMax;
  lo = Math.min(lo, quantile(xs, 0.005), quantile(ys, 0.005));
  hi = Math.max(hi, quantile(xs, 0.995), quantile(ys, 0.995));
  const pad = 0.05 * (hi - lo || 1);
  lo -= pad;
  hi += pad;
  const scale = { domain: [lo, hi], nice: false, zero: false };
  const empirical = mix.varianceKind === 'empirical';
  const what = { samples: 'samples', means: empirical ? 'data points' : 'component means', contours: 'exact density (50/10/1% of peak)' };
  const domain = empirical ? [what.samples, what.means] : [what.samples, what.means, what.contours];
  const color = {
    field: 'what', type: 'nominal', title: null,
    scale: { domain, range: ['#4c78a8', '#e45756', '#888888'].slice(0, domain.length) },
  };
  const points = Array.from(xs, (x, i) => ({ x, y: ys[i], what: what.samples }));
  const modeData = Array.from({ length: means.length / 2 }, (_, k) => ({ x: means[2 * k], y: means[2 * k + 1], what: what.means }));
  const layers: object[] = [];
  if (!empirical) {
    const lines = densityContours(mix2, lo, hi, [0.5, 0.1, 0.01]).map((p) => ({ ...p, what: what.contours }));
    layers.push({
      data: { values: lines },
      mark: { type: 'line', strokeWidth: 1, clip: true, interpolate: 'linear' },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale, title: 'x[0]' },
        y: { field: 'y', type: 'quantitative', scale, title: 'x[1]' },
        detail: { field: 'ring', type: 'nominal' },
        order: { field: 'order', type: 'quantitative' },
        color,
      },
    });
  }
  const xy = {
    x: { field: 'x', type: 'quantitative', scale, title: 'x[0]' },
    y: { field: 'y', type: 'quantitative', scale, title: 'x[1]' },
  };
  const modes = {
    data: { values: modeData },
    mark: empirical
      ? { type: 'point', shape: 'cross', size: 20, filled: true, opacity: 0.6, clip: true }
      : { type: 'point', shape: 'cross', size: 90, filled: true, clip: true },
    encoding: { ...xy, color },
  };
  // Data points of an empirical mixture go under the samples (which land on them); means go on top.
  if (empirical) layers.push(modes);
  layers.push({
    data: { values: points },
    mark: { type: 'circle', size: empirical ? 16 : 6, opacity: 0.45, clip: true },
    encoding: { ...xy, color },
  });
  if (!empirical) layers.push(modes);
  return { $schema: SCHEMA, title, config: CONFIG, width: 420, height: 420, layer: layers } as TopLevelSpec;
}

/** 1-D data: a density histogram of the samples under the exact density curve. */
function histogramSpec(s: ScatterInput, title: object): TopLevelSpec {
  const v = s.samples;
  const mix = s.mixture;
  const lo = quantile(v, 0.001);
  const hi = quantile(v, 0.999);
  const bins = 60;
  const w = (hi - lo) / bins || 1;
  const counts = new Float64Array(bins);
  for (const x of v) {
    const b = Math.floor((x - lo) / w);
    if (b >= 0 && b < bins) counts[b]++;
  }
  const bars = Array.from(counts, (c, b) => ({ x0: lo + b * w, x1: lo + (b + 1) * w, density: c / (v.length * w) }));
  const layers: object[] = [{
    data: { values: bars },
    mark: { type: 'rect', color: '#4c78a8', opacity: 0.6 },
    encoding: {
      x: { field: 'x0', type: 'quantitative', title: 'x[0]' }, x2: { field: 'x1' },
      y: { field: 'density', type: 'quantitative', title: 'density' },
    },
  }];
  if (mix.varianceKind !== 'empirical') {
    const grid = Float64Array.from({ length: 400 }, (_, i) => lo + ((hi - lo) * i) / 399);
    const minStd = Math.sqrt(Math.min(...mix.variances));
    const { logDensity } = mix.posterior(grid, { alpha: 1, sigma: Math.max(1e-6, 1e-4 * minStd) }, { logDensity: true });
    layers.push({
      data: { values: Array.from(grid, (x, i) => ({ x, density: Math.exp(logDensity[i]) })) },
      mark: { type: 'line', color: '#e45756' },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'density', type: 'quantitative' } },
    });
  }
  return { $schema: SCHEMA, title, config: CONFIG, width: 480, height: 300, layer: layers } as TopLevelSpec;
}

/**
 * The posterior plot: entropy of p(component | x_t) and posterior variance against the noise
 * level, and the error of one Gaussian reverse step against the exact transition as the step grows.
 */
export function posteriorSpec(p: PosteriorReport): TopLevelSpec {
  const levels = p.levels.map((l) => ({ sigma: l.sigma, entropy: l.entropy, variance: l.variance }));
  const steps = p.steps.flatMap((s) => [
    { from: s.from, method: 'Gaussian, matched variance', sw2: s.gaussian },
    { from: s.from, method: 'Gaussian, DDPM variance', sw2: s.ddpm },
    { from: s.from, method: 'DDIM (deterministic)', sw2: s.ddim },
    { from: s.from, method: 'exact vs exact (floor)', sw2: s.floor },
  ]).filter((d) => d.sw2 > 0);
  const sigmaAxis = { field: 'sigma', type: 'quantitative', scale: { type: 'log' }, title: 'noise level sigma (alpha = 1)' };
  return {
    $schema: SCHEMA,
    title: {
      text: `Why big steps fail: the posterior p(x0 | x_t) on ${p.mixture.name}`,
      subtitle: `${p.mixture.dim}-D, ${p.mixture.components} components; n = ${p.n} exact draws per level, seed ${p.seed}`,
    },
    config: CONFIG,
    hconcat: [
      {
        width: 300,
        height: 260,
        title: 'Entropy of p(component | x_t)',
        layer: [
          {
            data: { values: levels },
            mark: { type: 'line', point: { filled: true, color: '#4c78a8' }, color: '#4c78a8' },
            encoding: { x: sigmaAxis, y: { field: 'entropy', type: 'quantitative', title: 'mean entropy (nats)' } },
          },
          {
            data: { values: [{ max: Math.log(p.mixture.components), label: `log K = ${Math.log(p.mixture.components).toFixed(2)}` }] },
            mark: { type: 'rule', strokeDash: [5, 4], color: '#555' },
            encoding: { y: { field: 'max', type: 'quantitative' } },
          },
        ],
      },
      {
        width: 300,
        height: 260,
        title: 'Posterior variance tr Cov[x0 | x_t] / dim',
        data: { values: levels.filter((l) => l.variance > 0) },
        mark: { type: 'line', point: { filled: true, color: '#f58518' }, color: '#f58518' },
        encoding: {
          x: sigmaAxis,
          y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, axis: LOG_AXIS, title: 'mean variance (data units^2)' },
        },
      },
      {
        width: 340,
        height: 260,
        title: `One reverse step sigma_t -> ${p.to}: sliced W2 to the exact p(x_s)`,
        data: { values: steps },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'from', type: 'quantitative', scale: { type: 'log' }, title: `step start sigma_t (target s = ${p.to})` },
          y: { field: 'sw2', type: 'quantitative', scale: { type: 'log' }, axis: LOG_AXIS, title: 'sliced W2 (data units)' },
          color: {
            field: 'method', type: 'nominal', title: 'one step by',
            sort: ['Gaussian, matched variance', 'Gaussian, DDPM variance', 'DDIM (deterministic)', 'exact vs exact (floor)'],
          },
          strokeDash: {
            field: 'method', type: 'nominal', legend: null,
            scale: {
              domain: ['Gaussian, matched variance', 'Gaussian, DDPM variance', 'DDIM (deterministic)', 'exact vs exact (floor)'],
              range: [[1, 0], [1, 0], [1, 0], [4, 3]],
            },
          },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
