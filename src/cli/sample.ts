/**
 * `tweedie sample`: run one sampler on a mixture's exact denoiser and write the samples.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { type SamplerId, sampleSync, sigmas } from '../index.js';
import { exactSets, startStates } from './compare.js';
import { nearestModeDistance, SlicedW2 } from './metrics.js';
import type { NamedMixture } from './mixtures.js';

/** What to sample. */
export interface SampleRunOptions {
  mixture: NamedMixture;
  sampler: SamplerId;
  steps: number;
  n: number;
  seed: number;
  sigmaMin: number;
  sigmaMax: number;
  rho: number;
  /** Also measure the sliced W2 to n exact draws (default true). */
  measure?: boolean;
  onStep?: (i: number, steps: number) => void;
}

/** The samples and a summary. */
export interface SampleRun {
  samples: Float64Array;
  summary: {
    mixture: string;
    dim: number;
    sampler: SamplerId;
    steps: number;
    n: number;
    seed: number;
    grid: { kind: 'karras'; sigmaMin: number; sigmaMax: number; rho: number };
    nfe: number;
    seconds: number;
    /** Sliced W2 to n exact draws (same definition and streams as `compare`). */
    sw2: number | null;
    /** The same for a second exact set: the floor. */
    sw2Floor: number | null;
    nearestMode: number;
  };
}

/** Runs the sampler from exact start states at sigmaMax (the streams of `compare`). */
export function runSample(o: SampleRunOptions): SampleRun {
  const mix = o.mixture.mixture;
  const grid = sigmas.karras({ n: o.steps, sigmaMin: o.sigmaMin, sigmaMax: o.sigmaMax, rho: o.rho });
  const x = startStates(mix, o.n, o.sigmaMax, o.seed);
  const t0 = performance.now();
  const r = sampleSync({
    model: mix, sampler: o.sampler, sigmas: grid, x, dim: mix.dim, seed: o.seed,
    ...(o.sampler === 'edm' ? { sChurn: 0 } : {}),
    onStep: o.onStep ? (info) => o.onStep!(info.i + 1, o.steps) : undefined,
  });
  const seconds = (performance.now() - t0) / 1000;
  const samples = r.x as Float64Array;
  let sw2: number | null = null;
  let sw2Floor: number | null = null;
  if (o.measure !== false) {
    const [reference, second] = exactSets(mix, o.n, o.seed);
    const sw = new SlicedW2(reference, mix.dim, { seed: o.seed });
    sw2 = sw.distance(samples);
    sw2Floor = sw.distance(second);
  }
  return {
    samples,
    summary: {
      mixture: o.mixture.name, dim: mix.dim, sampler: o.sampler, steps: o.steps, n: o.n, seed: o.seed,
      grid: { kind: 'karras', sigmaMin: o.sigmaMin, sigmaMax: o.sigmaMax, rho: o.rho },
      nfe: r.nfe, seconds, sw2, sw2Floor, nearestMode: nearestModeDistance(samples, mix.dim, mix.means),
    },
  };
}

/** Samples as CSV: a header `x0,x1,...` and one row per sample, full float64 precision. */
export function samplesCsv(samples: Float64Array, dim: number): string {
  const lines = [Array.from({ length: dim }, (_, j) => `x${j}`).join(',')];
  for (let i = 0; i < samples.length; i += dim) lines.push(Array.from(samples.subarray(i, i + dim)).join(','));
  return `${lines.join('\n')}\n`;
}

/** Writes samples to a .csv or .json file (the format follows the extension; '-' is CSV on stdout). */
export function writeSamples(path: string, run: SampleRun): void {
  const dim = run.summary.dim;
  if (path === '-') {
    process.stdout.write(samplesCsv(run.samples, dim));
    return;
  }
  if (/\.json$/i.test(path)) {
    const rows: number[][] = [];
    for (let i = 0; i < run.samples.length; i += dim) rows.push(Array.from(run.samples.subarray(i, i + dim)));
    writeFileSync(path, `${JSON.stringify({ ...run.summary, samples: rows })}\n`);
  } else {
    writeFileSync(path, samplesCsv(run.samples, dim));
  }
}
