/**
 * Benchmarks of the rng family: randomNormal (the normalFill kernel) on every backend.
 * Bytes per call: the output only (4 B per float32 normal, 8 per float64).
 * @module
 */
import { info } from '../src/backend.js';
import { type Case, type Context, elementBytes, find, floatArray, fmtRate, fmtThreads, type Result, type Suite, type Target } from './harness.js';

/** The seed of reliability.md §2.4's known answers, as (lo, hi) words. */
const SEED_LO = 0x12345678;
const SEED_HI = 0x9abcdef0;

/** PyTorch CPU randn on this machine, one thread (project lead's measurement). */
const TORCH_RANDN = 0.18e9;

/**
 * Thread scaling of one operation in this run: time on 1 thread over time on `all`, with the CPU
 * share of the multi-thread case (below `all`, other work held the cores and the ratio says
 * little). Informational: no goal is checked.
 */
export function scaling(what: string, one: Result | undefined, many: Result | undefined, all: number): Target {
  return {
    what: `${what}, ${fmtThreads(all)} vs 1 (speed-up, same run)`,
    ours: one && many ? `${(one.medianSeconds / many.medianSeconds).toFixed(2)}x (cpu ${many.cpuShare.toFixed(2)} of ${all})` : 'not run',
    goal: `(ideal ${all}x)`,
    met: undefined,
  };
}

export const rngSuite: Suite = {
  name: 'rng',
  cases(ctx: Context): Case[] {
    const { opts } = ctx;
    const n = opts.size;
    const out = floatArray(opts, n);
    return ctx.backends.map((b) => ({
      family: 'rng', op: 'randomNormal', shape: String(n), backend: b.name, threads: b.threads,
      elements: n, bytes: n * elementBytes(opts), enter: b.enter,
      fn: () => b.kernels.normalFill(out, SEED_LO, SEED_HI, 0, 0, 0, 0),
    }));
  },
  references: [
    { what: 'PyTorch CPU torch.randn, float32, 1 thread', figure: '~0.18 G normals/s (16M in ~94 ms)', source: 'project lead, this 2-core AVX2 machine' },
    { what: 'numpy random normal', figure: '0.06-0.08 G normals/s', source: 'project lead, this machine' },
  ],
  targets(results, ctx): Target[] {
    const all = Math.max(...ctx.backends.filter((b) => b.name === 'native').map((b) => b.threads), 1);
    const one = find(results, 'randomNormal', 'native', 1);
    const many = all > 1 ? find(results, 'randomNormal', 'native', all) : one;
    const js = find(results, 'randomNormal', 'js');
    const rate = (r: Result | undefined): string => (r ? fmtRate(r.elementsPerSecond, 'normals/s') : 'not run');
    // The PyTorch figures are float32; with --dtype float64 those comparisons are not applicable.
    const f32 = ctx.opts.dtype === 'float32';
    const check = (r: Result | undefined, goal: number): boolean | undefined => (r && f32 ? r.elementsPerSecond >= goal : undefined);
    const simd = info().simd;
    const targets: Target[] = [
      { what: `native randomNormal (${simd}), 1 thread`, ours: rate(one), goal: '>= 0.3 G/s', met: check(one, 0.3e9) },
      {
        what: `native randomNormal (${simd}), ${fmtThreads(all)}, vs 2x PyTorch randn (1 thread)`, ours: rate(many),
        goal: `>= 2 x 0.18 = ${(2 * TORCH_RANDN / 1e9).toFixed(2)} G/s`, met: check(many, 2 * TORCH_RANDN),
      },
    ];
    if (all > 1) targets.push(scaling('native randomNormal', one, many, all));
    return [
      ...targets,
      {
        what: `TS randomNormal (${ctx.opts.dtype})`, ours: rate(js), goal: '>= 12 M/s (arrays >= 1M)',
        met: js && ctx.opts.size >= 1 << 20 ? js.elementsPerSecond >= 12e6 : undefined,
      },
    ];
  },
};
