/**
 * Benchmarks of the mixture posterior (the ideal denoiser D(x) = E[x0 | x_t], the `denoise` /
 * sampler hot path: mean only), in GFLOP/s counting 4 * batch * K * dim flops per call (the
 * cross terms x.mu_k and the weighted mean sum_k r_k m_k, two multiply-adds per (row,
 * component, dimension)), next to this machine's FMA peak measured in the same run by native
 * loops of independent FMA chains (mixtureFmaPeak) at the same thread counts: one of 256-bit
 * AVX2 FMAs and, where the CPU has AVX-512, one of 512-bit FMAs (about twice the flops).
 * - the issue's shapes (batch x K x dim): 256 x 1024 x 3072 and 64 x 10000 x 3072 (a
 *   CIFAR-sized ideal denoiser), 4096 x 64 x 16 and 16384 x 16 x 64, 1024 x 8 x 2; float32 and
 *   float64; native at 1 thread and all cores, and the TypeScript twin on the small shapes;
 * - data: K means ~ N(0, I), shared variance 0.1, x = mu_k + sqrt(0.1 + sigma^2) z at alpha = 1.
 *   At sigma = 1 the posterior of a large-dim row is concentrated on a few components (the
 *   usual case in sampling), and the kernel's float32 screen skips the rest exactly; the
 *   "spread" case (sigma = 10) keeps every component in play: every row takes the dense
 *   float64 path, which is the figure to compare with a dense GEMM's.
 * Run with `--filter mixture` for this suite alone. In the table, "elements" are flops (elements/s = FLOP/s); GB/s counts the float64 means read
 * once plus x and the output. Targets are checked on the wall-clock median against the float32
 * FMA peak, measured at the same thread count, of the SIMD level in use (info().simd: the
 * AVX-512 loop at level avx512, the AVX2 loop otherwise); the rate per CPU-second (flops per
 * second of one busy core) is shown beside it, since the machine may be shared. The PyTorch
 * figures were measured when the AVX2 loop's peak was 102 GFLOP/s per core; they are scaled by
 * this run's AVX2 peak over that before comparing (the raw ratio is printed too).
 * @module
 */
import { info, native } from '../src/backend.js';
import { GaussianMixture } from '../src/mixture.js';
import { randomNormal } from '../src/rng.js';
import type { FloatArray } from '../src/types.js';
import { type Case, type Context, fmtThreads, fmtTime, type Result, type Suite, type Target } from './harness.js';

interface Shape {
  B: number;
  K: number;
  dim: number;
  sigma: number;
  spread?: boolean;
  /** Also time the TypeScript twin (small shapes only: it runs ~1 GFLOP/s at best). */
  js?: boolean;
  /** Also time the public call, GaussianMixture.denoise(x, level, out) (validation included). */
  api?: boolean;
}

const VARIANCE = 0.1;
const SHAPES: Shape[] = [
  { B: 256, K: 1024, dim: 3072, sigma: 1 },
  { B: 256, K: 1024, dim: 3072, sigma: 10, spread: true },
  { B: 64, K: 10000, dim: 3072, sigma: 1 },
  { B: 4096, K: 64, dim: 16, sigma: 0.5, js: true, api: true },
  { B: 16384, K: 16, dim: 64, sigma: 0.5 },
  { B: 1024, K: 8, dim: 2, sigma: 0.5, js: true, api: true },
];

/**
 * PyTorch / numpy CPU (OpenBLAS GEMM formulation) on this machine, float32 (issue 3), measured
 * when one core's float32 FMA peak was EXPECTED_PEAK. The machine is a shared VM whose clock
 * and core sharing vary: the targets compare with these figures scaled by this run's measured
 * peak over the expected one (EXPECTED_PEAK per thread), and print the raw ratio too.
 * EXPECTED_PEAK is the AVX2 (256-bit) loop's figure, so the scale always takes this run's AVX2
 * peak, whatever level is in use: the AVX-512 loop's peak is about twice as high at the same
 * clock, and scaling by it would double the PyTorch figures for no change of clock.
 */
const EXPECTED_PEAK = 102e9;
const TORCH: Record<string, { t1?: number; t2?: number; any?: [number, number] }> = {
  '256 x 1024 x 3072': { t1: 70, t2: 123 },
  '64 x 10000 x 3072': { any: [58, 58] },
  '4096 x 64 x 16': { any: [6, 10] },
  '16384 x 16 x 64': { any: [6, 10] },
  '1024 x 8 x 2': { any: [0.2, 0.2] },
};

const PEAK = 'mixture: FMA peak loop';
/** The FMA loops of mixtureFmaPeak: float32 flops per round (half that for float64). */
const PEAK_LEVELS = [
  { level: 'avx2', flops: 320 },
  { level: 'avx512', flops: 768 },
] as const;
type PeakLevel = (typeof PEAK_LEVELS)[number]['level'];
/** The peak to judge "% of peak" by: that of the SIMD level in use (AVX2's below AVX-512). */
const peakLevelOf = (simd: string): PeakLevel => (simd === 'avx512' ? 'avx512' : 'avx2');
const DENOISE = 'mixture denoise';
const API = 'mixture GaussianMixture.denoise';
const SPREAD = 'mixture denoise (spread posterior)';
/** FMA rounds per peak call (PEAK_LEVELS' flops each for float32, half for float64): ~20-40 ms. */
const PEAK_ITERS = 4_000_000;

const shapeKey = (s: Shape): string => `${s.B} x ${s.K} x ${s.dim}`;
const flops = (s: Shape): number => 4 * s.B * s.K * s.dim;

type Binding = { mixtureFmaPeak?: (iterations: number, dtype: string, threads: number, level?: string) => number };

function data(s: Shape, f32: boolean): { x: FloatArray; means: Float64Array; out: FloatArray } {
  const means = new Float64Array(s.K * s.dim);
  randomNormal(means, { seed: 12345, stream: 1 });
  const z = new Float64Array(s.B * s.dim);
  randomNormal(z, { seed: 12345, stream: 2 });
  const x = f32 ? new Float32Array(s.B * s.dim) : new Float64Array(s.B * s.dim);
  const spread = Math.sqrt(VARIANCE + s.sigma * s.sigma);
  for (let b = 0; b < s.B; b++) {
    const k = (Math.imul(b, 0x9e3779b1) >>> 0) % s.K;
    for (let j = 0; j < s.dim; j++) x[b * s.dim + j] = means[k * s.dim + j] + spread * z[b * s.dim + j];
  }
  return { x, means, out: f32 ? new Float32Array(s.B * s.dim) : new Float64Array(s.B * s.dim) };
}

function shapeCases(ctx: Context, s: Shape): Case[] {
  const cases: Case[] = [];
  const logWeights = new Float64Array(s.K).fill(-Math.log(s.K));
  const variances = Float64Array.of(VARIANCE);
  const alpha = Float64Array.of(1);
  const sigma = Float64Array.of(s.sigma);
  for (const f32 of [true, false]) {
    const { x, means, out } = data(s, f32);
    const eb = f32 ? 4 : 8;
    for (const b of ctx.backends) {
      if (b.name === 'js' && !s.js) continue;
      const k = b.kernels;
      cases.push({
        family: 'mixture', op: s.spread ? SPREAD : DENOISE, shape: `${shapeKey(s)} ${f32 ? 'float32' : 'float64'}`,
        backend: b.name, threads: b.threads, elements: flops(s), bytes: 8 * s.K * s.dim + 2 * eb * s.B * s.dim,
        enter: b.enter,
        fn: () => k.mixturePosterior(x, s.dim, means, variances, logWeights, alpha, sigma, null, out, null, null, null, null),
      });
      // the public call (the backend loaded: native unless TWEEDIE_BACKEND=js)
      if (s.api && b.name === 'native') {
        const mix = new GaussianMixture({ dim: s.dim, means, variances: VARIANCE });
        const level = { alpha: 1, sigma: s.sigma };
        cases.push({
          family: 'mixture', op: API, shape: `${shapeKey(s)} ${f32 ? 'float32' : 'float64'}`, backend: b.name,
          threads: b.threads, elements: flops(s), bytes: 8 * s.K * s.dim + 2 * eb * s.B * s.dim, enter: b.enter,
          fn: () => mix.denoise(x, level, out),
        });
      }
    }
  }
  return cases;
}

function peakCases(ctx: Context): Case[] {
  const n = native() as (Binding & object) | undefined;
  if (!n?.mixtureFmaPeak) return [];
  const peak = n.mixtureFmaPeak.bind(n);
  const cases: Case[] = [];
  for (const { level, flops: f32flops } of PEAK_LEVELS) {
    try {
      peak(1, 'float32', 1, level);
    } catch {
      continue; // the CPU (or the build) lacks this level
    }
    for (const b of ctx.backends) {
      if (b.name !== 'native') continue;
      for (const dtype of ['float32', 'float64']) {
        const per = dtype === 'float32' ? f32flops : f32flops / 2;
        cases.push({
          family: 'mixture', op: PEAK, shape: `${dtype} ${level}`, backend: 'native', threads: b.threads,
          elements: per * PEAK_ITERS * b.threads, bytes: 0, fn: () => peak(PEAK_ITERS, dtype, b.threads, level),
        });
      }
    }
  }
  return cases;
}

/** flops per CPU-second (per busy core: the rate a whole core gives, whatever the machine's load). */
function cpuRate(r: Result): number {
  return r.elements / r.cpuSecondsPerCall;
}

const gf = (x: number): string => (Number.isFinite(x) ? (x / 1e9).toFixed(x >= 1e10 ? 0 : x >= 1e9 ? 1 : 2) : '-');

export const mixtureSuite: Suite = {
  name: 'mixture',
  cases(ctx: Context): Case[] {
    return [...peakCases(ctx), ...SHAPES.flatMap((s) => shapeCases(ctx, s))];
  },
  references: [
    { what: 'PyTorch/numpy CPU (OpenBLAS GEMM form), 256 x 1024 x 3072 float32', figure: '~70 GFLOP/s 1 thread, ~123 GFLOP/s 2 threads', source: 'issue 3, this machine' },
    { what: 'PyTorch/numpy CPU, 64 x 10000 x 3072 float32', figure: '~58 GFLOP/s', source: 'issue 3, this machine' },
    { what: 'PyTorch/numpy CPU, 4096 x 64 x 16 and 16384 x 16 x 64 float32', figure: '6-10 GFLOP/s', source: 'issue 3, this machine' },
    { what: 'PyTorch/numpy CPU, 1024 x 8 x 2 float32', figure: '~0.2 GFLOP/s (~330 us a call: per-call overhead)', source: 'issue 3, this machine' },
    { what: 'FMA peak, float32, one core, AVX2 (256-bit) loop', figure: '~102 GFLOP/s expected (measured above: "FMA peak loop", float32 avx2; the avx512 loop is ~2x)', source: 'issue 3' },
  ],
  targets(results: readonly Result[]): Target[] {
    const t: Target[] = [];
    const get = (op: string, shape: string, threads: number, backend: 'native' | 'js' = 'native'): Result | undefined =>
      results.find((r) => !r.error && r.op === op && r.shape === shape && r.threads === threads && r.backend === backend);
    const threadCounts = [...new Set(results.filter((r) => r.family === 'mixture' && r.backend === 'native').map((r) => r.threads))].sort();
    // "% of peak" takes the peak of the SIMD level in use; the PyTorch scale takes the AVX2 one
    const simd = info().simd;
    const yard = peakLevelOf(simd);
    for (const th of threadCounts) {
      const a2 = get(PEAK, 'float32 avx2', th), a5 = get(PEAK, 'float32 avx512', th);
      if (!a2 && !a5) continue;
      t.push({
        what: `FMA peak float32, ${fmtThreads(th)}`,
        ours: `AVX2 ${a2 ? gf(a2.elementsPerSecond) : '-'} GFLOP/s, AVX-512 ${a5 ? gf(a5.elementsPerSecond) : '-'} GFLOP/s`,
        goal: `report ("% of peak" below: the ${yard} peak, SIMD level in use ${simd})`,
        met: undefined,
      });
    }
    // One line per shape, dtype and thread count: GFLOP/s (wall, and per CPU-second), share of the peak.
    for (const s of SHAPES) {
      const op = s.spread ? SPREAD : DENOISE;
      for (const dtype of ['float32', 'float64']) {
        for (const th of threadCounts) {
          const r = get(op, `${shapeKey(s)} ${dtype}`, th);
          const p32 = get(PEAK, `float32 ${yard}`, th);
          const peak1 = get(PEAK, `float32 ${yard}`, 1);
          const avx2 = get(PEAK, 'float32 avx2', th);
          if (!r) continue;
          const wall = r.elementsPerSecond;
          const share = p32 ? wall / p32.elementsPerSecond : NaN;
          const torch = TORCH[shapeKey(s)];
          // the reference scaled to this run's clock: measured AVX2 peak / expected (AVX2) peak at
          // th threads (EXPECTED_PEAK is an AVX2 figure: never the AVX-512 peak here)
          const scale = avx2 ? Math.min(1, avx2.elementsPerSecond / (EXPECTED_PEAK * th)) : 1;
          let goal = 'report';
          let met: boolean | undefined;
          if (dtype === 'float32' && torch && !s.spread) {
            const ref = (th === 1 ? torch.t1 ?? torch.any?.[0] : torch.t2 ?? torch.any?.[0]) ?? 0;
            const refs = `PyTorch ${ref}, x ${scale.toFixed(2)} for this run's clock = ${(ref * scale).toFixed(ref < 1 ? 3 : 1)}`;
            if (s.dim === 3072) {
              goal = `>= 60 % of ${yard} peak and >= ${refs}`;
              met = p32 ? share >= 0.6 && wall / 1e9 >= ref * scale : undefined;
            } else if (shapeKey(s) === '1024 x 8 x 2') {
              goal = `>= 10x (${refs}), i.e. >= ${(10 * ref * scale).toFixed(2)} (raw: <= 33 us)`;
              met = wall / 1e9 >= 10 * ref * scale;
            } else if (shapeKey(s) === '4096 x 64 x 16') {
              const hi = torch.any?.[1] ?? 0;
              goal = `>= 3x PyTorch ${ref}-${hi}, x ${scale.toFixed(2)} = ${(3 * ref * scale).toFixed(1)}-${(3 * hi * scale).toFixed(1)}`;
              met = wall / 1e9 >= 3 * hi * scale;
            } else {
              goal = `report (PyTorch ${torch.any?.[0]}-${torch.any?.[1]})`;
            }
            if (ref > 0) goal += `; raw ratio ${(wall / 1e9 / ref).toFixed(2)}x`;
          } else if (dtype === 'float64') {
            const r32 = get(op, `${shapeKey(s)} float32`, th);
            goal = r32 ? `>= 1/2 the float32 rate (${gf(r32.elementsPerSecond / 2)})` : 'report';
            met = r32 ? wall >= 0.5 * r32.elementsPerSecond : undefined;
          }
          t.push({
            what: `${op} ${shapeKey(s)} ${dtype}, ${fmtThreads(th)}`,
            ours: `${gf(wall)} GFLOP/s (${fmtTime(r.medianSeconds)}; ${p32 ? `${(share * 100).toFixed(0)} % of ${yard} peak ${gf(p32.elementsPerSecond)}` : 'no peak'}` +
              `; per CPU-second ${gf(cpuRate(r))}${peak1 ? ` = ${((cpuRate(r) / cpuRate(peak1)) * 100).toFixed(0)} % of a core's` : ''}; cpu ${r.cpuShare.toFixed(2)})`,
            goal,
            met,
          });
        }
      }
    }
    for (const s of SHAPES.filter((x) => x.api)) {
      for (const th of threadCounts) {
        const r = get(API, `${shapeKey(s)} float32`, th);
        if (!r) continue;
        const torch = TORCH[shapeKey(s)];
        const ref = torch?.any?.[0] ?? 0;
        const small = shapeKey(s) === '1024 x 8 x 2';
        t.push({
          what: `${API} ${shapeKey(s)} float32, ${fmtThreads(th)} (validation and the call included)`,
          ours: `${fmtTime(r.medianSeconds)} = ${gf(r.elementsPerSecond)} GFLOP/s (cpu ${r.cpuShare.toFixed(2)})`,
          goal: small ? `>= 10x PyTorch (~330 us a call): <= 33 us` : `report (PyTorch ${ref}-${torch?.any?.[1]} GFLOP/s)`,
          met: small ? r.medianSeconds <= 33e-6 : undefined,
        });
      }
    }
    for (const s of SHAPES.filter((x) => x.js)) {
      const js = get(DENOISE, `${shapeKey(s)} float32`, 1, 'js');
      const nat = get(DENOISE, `${shapeKey(s)} float32`, 1);
      if (js && nat) {
        t.push({ what: `${DENOISE} ${shapeKey(s)} float32, native 1 thread vs the TypeScript twin`, ours: `${(nat.elementsPerSecond / js.elementsPerSecond).toFixed(1)}x (${gf(js.elementsPerSecond)} GFLOP/s js)`, goal: 'report', met: undefined });
      }
    }
    return t;
  },
};
