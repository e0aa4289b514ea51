/**
 * Benchmarks of the samplers:
 * - the issue's case: the 2-D ring of 8 Gaussians (radius 2, std 0.1), 100,000 points, a
 *   50-step Karras grid (sigma 0.002..80, rho 7), 'euler' (50 NFE) and 'heun' (99 NFE), by
 *   tw.sampleSync with the GaussianMixture as model: the fully native loop (src/samplers/program.ts)
 *   and the JavaScript loop (one JS round trip per step, the same kernels), at 1 thread and all
 *   cores. "elements" = posterior evaluations of one point (points x NFE), so elements/s is the
 *   denoiser's throughput; bytes are not counted (the work is exp-bound, not memory-bound).
 * - the per-step overhead of a JavaScript model on a 1M-element batch (1024 x 1024): 'euler'
 *   over 50 steps with a model that returns its input (the engine then checks the output for
 *   NaN and copies it, as for any model), against the step arithmetic alone (the 50 fused
 *   lincomb calls the sampler makes); the difference per step is the cost of calling a JS model.
 * The samplers' backend is the one loaded (native unless TWEEDIE_BACKEND=js); the 'js' backend
 * rows of the other suites are not repeated here (the TS twin of the ring case takes ~10 s a run).
 * @module
 */
import { native } from '../src/backend.js';
import { GaussianMixture } from '../src/mixture.js';
import { randomNormal } from '../src/rng.js';
import { sampleSync } from '../src/samplers/index.js';
import { setNativeLoop } from '../src/samplers/program.js';
import { karras } from '../src/sigmas.js';
import type { FloatArray } from '../src/types.js';
import { type Case, type Context, fastest, floatArray, fmtThreads, fmtTime, type Result, type Suite, type Target } from './harness.js';

const RING_POINTS = 100_000;
const RING_STEPS = 50;
const OVERHEAD_SHAPE: [number, number] = [1024, 1024];
/** numpy / PyTorch CPU on this machine (project lead): Euler 1.0-1.3 s, Heun 2.0-2.3 s; the faster of them. */
const REFERENCE_SECONDS: Record<string, number> = { euler: 1.0, heun: 2.0 };
const NFE: Record<string, number> = { euler: RING_STEPS, heun: 2 * RING_STEPS - 1 };

const NATIVE_LOOP = 'native loop';
const JS_LOOP = 'JS loop';
const opName = (sampler: string, loop: string): string => `sampleSync ${sampler}, ring of 8, ${loop}`;
const OVERHEAD_MODEL = 'euler 50 steps, JS model returning its input';
const OVERHEAD_ARITH = 'euler 50 steps, step arithmetic alone';

/** The ring: 8 components of std 0.1 on the circle of radius 2. */
export function ring(): GaussianMixture {
  const means: number[] = [];
  for (let k = 0; k < 8; k++) means.push(2 * Math.cos((2 * Math.PI * k) / 8), 2 * Math.sin((2 * Math.PI * k) / 8));
  return new GaussianMixture({ dim: 2, means, variances: 0.01 });
}

/** x_T = sigma_max * z, z standard normal (seed 1). */
function start(x: FloatArray, sigmaMax: number): FloatArray {
  randomNormal(x, { seed: 1 });
  for (let i = 0; i < x.length; i++) x[i] *= sigmaMax;
  return x;
}

/** Runs fn with the native loop on or off, restoring the setting. */
function withLoop(on: boolean, fn: () => void): () => void {
  return () => {
    const before = setNativeLoop(on);
    try {
      fn();
    } finally {
      setNativeLoop(before);
    }
  };
}

export const samplersSuite: Suite = {
  name: 'samplers',
  cases(ctx: Context): Case[] {
    const { opts } = ctx;
    const n = native();
    const threadCounts = ctx.backends.filter((b) => b.name === 'native');
    if (!n || threadCounts.length === 0) return [];
    const cases: Case[] = [];
    const mix = ring();
    const sigmas = karras({ n: RING_STEPS, sigmaMin: 0.002, sigmaMax: 80, rho: 7 });
    const x = start(floatArray(opts, 2 * RING_POINTS), sigmas[0]);
    for (const sampler of ['euler', 'heun'] as const) {
      for (const b of threadCounts) {
        for (const loop of [NATIVE_LOOP, JS_LOOP]) {
          cases.push({
            family: 'samplers', op: opName(sampler, loop), shape: `${RING_POINTS} x 2`, backend: 'native',
            threads: b.threads, elements: RING_POINTS * NFE[sampler], bytes: 0, enter: b.enter,
            fn: withLoop(loop === NATIVE_LOOP, () => {
              sampleSync({ model: mix, sampler, sigmas, x, dim: 2 });
            }),
          });
        }
      }
    }
    // Per-step overhead of a JS model, 1M elements.
    const [rows, dim] = OVERHEAD_SHAPE;
    const big = start(floatArray(opts, rows * dim), sigmas[0]);
    const identity = (xs: FloatArray): FloatArray => xs;
    const state = floatArray(opts, rows * dim);
    const D = floatArray(opts, rows * dim);
    const coefs: Float64Array[] = [];
    for (let i = 0; i < RING_STEPS; i++) {
      const k = (sigmas[i + 1] - sigmas[i]) / sigmas[i];
      coefs.push(Float64Array.of(1 + k, -k));
    }
    for (const b of threadCounts) {
      const base = { family: 'samplers', shape: `${rows} x ${dim}`, backend: 'native' as const, threads: b.threads,
        elements: rows * dim * RING_STEPS, bytes: 0, enter: b.enter };
      cases.push({ ...base, op: OVERHEAD_MODEL, fn: () => { sampleSync({ model: identity, sampler: 'euler', sigmas, x: big, dim }); } });
      cases.push({
        ...base, op: OVERHEAD_ARITH,
        fn: () => {
          state.set(big);
          for (let i = 0; i < RING_STEPS; i++) b.kernels.lincomb(state, dim, [state, D], coefs[i], false, null, null);
        },
      });
    }
    return cases;
  },
  references: [
    { what: `numpy CPU, ring of 8, ${RING_POINTS} points, Euler ${RING_STEPS} steps, float32`, figure: '1.0-1.3 s per run', source: 'project lead, this machine' },
    { what: `numpy / PyTorch CPU, same, Heun (${NFE.heun} NFE)`, figure: '2.0-2.3 s per run', source: 'project lead, this machine' },
  ],
  targets(results, ctx): Target[] {
    const t: Target[] = [];
    const f32 = ctx.opts.dtype === 'float32';
    const ok = (r: Result): boolean => !r.error;
    for (const sampler of ['euler', 'heun']) {
      const ref = REFERENCE_SECONDS[sampler];
      const nat = fastest(results.filter((r) => ok(r) && r.op === opName(sampler, NATIVE_LOOP)));
      const js = fastest(results.filter((r) => ok(r) && r.op === opName(sampler, JS_LOOP)));
      t.push({
        what: `${sampler} on the ring, native loop${nat ? `, ${fmtThreads(nat.threads)}` : ''}, vs numpy/PyTorch (${ref} s)`,
        ours: nat ? `${fmtTime(nat.medianSeconds)} = ${(ref / nat.medianSeconds).toFixed(1)}x` : 'not run',
        goal: `>= 10x (<= ${fmtTime(ref / 10)})`,
        met: nat && f32 ? nat.medianSeconds <= ref / 10 : undefined,
      });
      if (nat && js) {
        t.push({
          what: `${sampler} on the ring, native loop vs JS loop (best of each)`,
          ours: `${fmtTime(nat.medianSeconds)} vs ${fmtTime(js.medianSeconds)} (${(js.medianSeconds / nat.medianSeconds).toFixed(2)}x)`,
          goal: 'report', met: undefined,
        });
      }
    }
    const threads = [...new Set(results.filter((r) => r.op === OVERHEAD_MODEL).map((r) => r.threads))];
    for (const th of threads) {
      const model = results.find((r) => ok(r) && r.op === OVERHEAD_MODEL && r.threads === th);
      const arith = results.find((r) => ok(r) && r.op === OVERHEAD_ARITH && r.threads === th);
      t.push({
        what: `JS model overhead per step, ${OVERHEAD_SHAPE.join(' x ')} ${ctx.opts.dtype}, ${fmtThreads(th)}`,
        ours: model && arith
          ? `${fmtTime((model.medianSeconds - arith.medianSeconds) / RING_STEPS)} (${fmtTime(model.medianSeconds / RING_STEPS)} vs ${fmtTime(arith.medianSeconds / RING_STEPS)} per step)`
          : 'not run',
        goal: 'report', met: undefined,
      });
    }
    return t;
  },
};
