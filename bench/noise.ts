/**
 * Benchmarks of the noise family: forward noising x_t = alpha x0 + sigma eps with per-row
 * alpha, sigma (as in training, one noise level per sample), on every backend:
 * - eps given (the combine2 kernel that addNoise({ eps }) calls): reads x0 and eps, writes out
 *   (3 arrays' worth of bytes per element);
 * - eps drawn inline (addNoise({ seed })): reads x0, writes out (2 arrays), plus epsOut when the
 *   drawn noise is kept (3 arrays), as a training step needs it for the loss.
 * On the big size (rows of 4096) and on the 256 x 12288 batch of the PyTorch comparison.
 *
 * Cases run one after the other, each for --max-time seconds, so on a shared machine two cases
 * see different load: compare them by the "cpu" and "cpu time/call" columns, not by wall time
 * alone. (An earlier run timed "inline eps" slower than "inline eps + epsOut", which does
 * strictly more; alternating the two calls on the same arrays gives inline <= inline + epsOut
 * in CPU time, by about 3 %. It was not page faults: every case runs twice before timing, and
 * no array is allocated per call.)
 * @module
 */
import { info } from '../src/backend.js';
import { type Backend, type Case, type Context, elementBytes, fastest, find, fillPattern, floatArray, fmtThreads, fmtTime,
  type Options, type Result, type Suite, type Target } from './harness.js';
import { scaling } from './rng.js';

const SEED_LO = 0x12345678;
const SEED_HI = 0x9abcdef0;
const ROW = 4096;
/** The batch of the PyTorch randn + addcmul reference. */
const TORCH_SHAPE: [number, number] = [256, 12288];
/** PyTorch randn + addcmul on TORCH_SHAPE, float32, on this machine (best of the lead's 20-23 ms). */
const TORCH_NOISING_SECONDS = 20e-3;

const EPS_GIVEN = 'addNoise (eps given)';
const INLINE = 'addNoise (inline eps)';
const INLINE_EPS_OUT = 'addNoise (inline eps + epsOut)';

/** Per-row noise levels of a VP schedule at spread-out times. */
function levels(rows: number): { a: Float64Array; c: Float64Array } {
  const a = new Float64Array(rows);
  const c = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const abar = Math.cos(((r + 0.5) / rows) * (Math.PI / 2)) ** 2;
    a[r] = Math.sqrt(abar);
    c[r] = Math.sqrt(1 - abar);
  }
  return { a, c };
}

function shapeCases(opts: Options, backends: readonly Backend[], rows: number, dim: number, ops: readonly string[]): Case[] {
  const n = rows * dim;
  const eb = elementBytes(opts);
  const x0 = fillPattern(floatArray(opts, n));
  const eps = ops.includes(EPS_GIVEN) ? fillPattern(floatArray(opts, n)).reverse() : null;
  const out = floatArray(opts, n);
  const epsOut = ops.includes(INLINE_EPS_OUT) ? floatArray(opts, n) : null;
  const { a, c } = levels(rows);
  const shape = `${rows} x ${dim}`;
  const cases: Case[] = [];
  for (const op of ops) {
    for (const b of backends) {
      const k = b.kernels;
      const base = { family: 'noise', op, shape, backend: b.name, threads: b.threads, elements: n, enter: b.enter };
      if (op === EPS_GIVEN && eps) cases.push({ ...base, bytes: 3 * eb * n, fn: () => k.combine2(out, x0, eps, dim, a, c) });
      else if (op === INLINE) cases.push({ ...base, bytes: 2 * eb * n, fn: () => k.addNoise(out, null, x0, dim, a, c, SEED_LO, SEED_HI, null) });
      else if (op === INLINE_EPS_OUT) cases.push({ ...base, bytes: 3 * eb * n, fn: () => k.addNoise(out, epsOut, x0, dim, a, c, SEED_LO, SEED_HI, null) });
    }
  }
  return cases;
}

export const noiseSuite: Suite = {
  name: 'noise',
  cases(ctx: Context): Case[] {
    const { opts } = ctx;
    const dim = Math.min(ROW, opts.size);
    const rows = Math.max(1, Math.floor(opts.size / dim));
    return [
      ...shapeCases(opts, ctx.backends, rows, dim, [EPS_GIVEN, INLINE, INLINE_EPS_OUT]),
      ...shapeCases(opts, ctx.backends, TORCH_SHAPE[0], TORCH_SHAPE[1], [INLINE, INLINE_EPS_OUT]),
    ];
  },
  references: [
    { what: `PyTorch CPU randn + addcmul, ${TORCH_SHAPE[0]} x ${TORCH_SHAPE[1]} float32`, figure: '20-23 ms per call', source: 'project lead, this machine' },
  ],
  targets(results, ctx): Target[] {
    const t: Target[] = [];
    const copy = ctx.copy;
    const dim = Math.min(ROW, ctx.opts.size);
    const bigShape = `${Math.max(1, Math.floor(ctx.opts.size / dim))} x ${dim}`;
    // Only meaningful when the arrays are far bigger than the caches (the 16M default).
    const dram = ctx.opts.size >= 1 << 24;
    const given = fastest(results.filter((r) => !r.error && r.op === EPS_GIVEN && r.backend === 'native' && r.shape === bigShape));
    t.push({
      what: `native addNoise (eps given)${given ? `, ${fmtThreads(given.threads)}` : ''}, vs memcpy`,
      ours: given && copy ? `${given.gigabytesPerSecond.toFixed(2)} GB/s = ${((given.gigabytesPerSecond / copy.gigabytesPerSecond) * 100).toFixed(0)} %` : 'not run',
      goal: `>= 80 % of ${copy ? `${copy.gigabytesPerSecond.toFixed(2)} GB/s` : 'memcpy'}${dram ? '' : ' (needs --size >= 16M)'}`,
      met: given && copy && dram ? given.gigabytesPerSecond >= 0.8 * copy.gigabytesPerSecond : undefined,
    });
    const torchShape = `${TORCH_SHAPE[0]} x ${TORCH_SHAPE[1]}`;
    const simd = info().simd;
    for (const op of [INLINE_EPS_OUT, INLINE]) {
      const best: Result | undefined = fastest(results.filter((r) => !r.error && r.op === op && r.backend === 'native' && r.shape === torchShape));
      t.push({
        what: `native ${op} (${simd}), ${torchShape}${best ? `, ${fmtThreads(best.threads)}` : ''}, vs PyTorch randn + addcmul`,
        ours: best ? `${fmtTime(best.medianSeconds)} = ${(TORCH_NOISING_SECONDS / best.medianSeconds).toFixed(2)}x` : 'not run',
        goal: `>= 3x (<= ${fmtTime(TORCH_NOISING_SECONDS / 3)})`,
        met: best && ctx.opts.dtype === 'float32' ? best.medianSeconds <= TORCH_NOISING_SECONDS / 3 : undefined,
      });
    }
    const all = Math.max(...ctx.backends.filter((b) => b.name === 'native').map((b) => b.threads), 1);
    if (all > 1) {
      t.push(scaling(`native ${INLINE}, ${torchShape}`, find(results, INLINE, 'native', 1, torchShape),
        find(results, INLINE, 'native', all, torchShape), all));
    }
    return t;
  },
};
