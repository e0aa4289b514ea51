/**
 * Shared benchmark harness: command line, machine description, backends and thread settings,
 * timing through benchmark.js, the memcpy bandwidth yardstick, and the report (a table, or
 * JSON with --json). Each kernel family has its own file (bench/rng.ts, bench/noise.ts, ...)
 * exporting a {@link Suite}; bench/index.ts runs them. Benchmarks measure, never assert.
 * @module
 */
import Benchmark from 'benchmark';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { info, native, type NativeBinding } from '../src/backend.js';
import { jsKernels } from '../src/js/index.js';
import type { FloatArray, Kernels } from '../src/types.js';

// ---------------------------------------------------------------------------------------------
// Command line

/** Parsed command line. */
export interface Options {
  /** Elements per array for the big cases (default 16M = 2^24). */
  size: number;
  /** Element type of the arrays. */
  dtype: 'float32' | 'float64';
  /** Emit JSON on stdout instead of the table. */
  json: boolean;
  /** Only cases whose "op backend threads" label matches this (case-insensitive regex). */
  filter?: RegExp;
  /** benchmark.js maxTime per case, seconds. */
  maxTime: number;
  /** benchmark.js minSamples per case. */
  minSamples: number;
  /** Skip the TypeScript backend (it takes most of the run time). */
  noJs: boolean;
}

const USAGE = `usage: npm run bench -- [options]
  --size N         elements per array (default 16777216 = 16M; e.g. --size 1e6 for a quick run)
  --dtype T        float32 (default) or float64
  --filter RE      only cases whose "operation backend threads" matches RE
  --max-time S     seconds per case for benchmark.js (default 3)
  --min-samples N  samples per case at least (default 5)
  --no-js          skip the TypeScript backend
  --json           print machine-readable results (JSON) instead of the table`;

/** Parses process.argv (exits with usage on --help or a bad flag). */
export function parseArgs(argv: readonly string[] = process.argv.slice(2)): Options {
  const o: Options = { size: 1 << 24, dtype: 'float32', json: false, maxTime: 3, minSamples: 5, noJs: false };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) fail(`${flag} needs a number >= ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--size': o.size = Math.floor(num(flag, value(), 1024)); break;
      case '--dtype': {
        const v = value();
        if (v !== 'float32' && v !== 'float64') fail(`--dtype must be float32 or float64, got ${v}`);
        o.dtype = v;
        break;
      }
      case '--filter': o.filter = new RegExp(value() ?? '', 'i'); break;
      case '--max-time': o.maxTime = num(flag, value(), 0.1); break;
      case '--min-samples': o.minSamples = Math.floor(num(flag, value(), 1)); break;
      case '--no-js': o.noJs = true; break;
      case '--json': o.json = true; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: fail(`unknown option ${a}`);
    }
  }
  return o;
}

function fail(msg: string): never {
  console.error(`${msg}\n${USAGE}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Machine and backends

/** What the figures were measured on. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  v8: string;
  platform: string;
  /** tw.info(): backend in use, SIMD level and threads of the native addon. */
  backend: string;
  simd: string;
  defaultThreads: number;
  nativeError?: string;
  /** Load average over the last minute at the start: the figures are wall-clock times. */
  loadAverage1m: number;
}

/** Describes this machine. */
export function machine(): Machine {
  const i = info();
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    backend: i.backend,
    simd: i.simd,
    defaultThreads: i.threads,
    nativeError: i.nativeError,
    loadAverage1m: loadavg()[0],
  };
}

/**
 * One way to run a kernel: the native addon at a thread count, or the TypeScript twin.
 * Both are called through the same low-level kernel signatures (no validation layer on
 * either), so the comparison is like for like.
 */
export interface Backend {
  name: 'native' | 'js';
  /** Threads the kernel may use (1 for js). */
  threads: number;
  kernels: Kernels;
  /** Raw addon (native only), for copyBytes and the like. */
  binding?: NativeBinding;
  /** Sets the backend up before a case (thread count); returns the undo. */
  enter(): () => void;
}

/** Native at 1 thread and at all cores (when the addon loaded), then js (unless --no-js). */
export function backends(opts: Options): Backend[] {
  const list: Backend[] = [];
  const n = native();
  if (n) {
    const all = availableParallelism();
    for (const threads of all > 1 ? [1, all] : [1]) {
      list.push({
        name: 'native', threads, kernels: n, binding: n,
        enter: () => {
          const before = n.info().threads;
          n.setThreads(threads);
          return () => n.setThreads(before);
        },
      });
    }
  }
  if (!opts.noJs) list.push({ name: 'js', threads: 1, kernels: jsKernels, enter: () => () => {} });
  return list;
}

/** A new array of the bench dtype. */
export function floatArray(opts: Options, n: number): FloatArray {
  return opts.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** Bytes per element of the bench dtype. */
export function elementBytes(opts: Options): number {
  return opts.dtype === 'float32' ? 4 : 8;
}

/** Fills a with a deterministic pattern in [-2, 2) (cheap, not random: only the values' range matters). */
export function fillPattern(a: FloatArray): FloatArray {
  for (let i = 0; i < a.length; i++) a[i] = (Math.imul(i, 0x9e3779b1) >>> 20) / 1024 - 2;
  return a;
}

// ---------------------------------------------------------------------------------------------
// Cases and results

/** One timed operation. */
export interface Case {
  /** Family, e.g. 'rng', 'noise', 'memory'. */
  family: string;
  /** Operation, e.g. 'randomNormal', 'addNoise (eps given)'. */
  op: string;
  /** Shape, e.g. '16777216' or '256 x 12288'. */
  shape: string;
  backend: 'native' | 'js';
  threads: number;
  /** Elements produced per call (for elements/s). */
  elements: number;
  /** Bytes read plus bytes written per call (for GB/s), as documented by the suite. */
  bytes: number;
  /** Sets up (thread count, ...) and returns the undo; optional. */
  enter?: () => () => void;
  /** The call to time. */
  fn: () => void;
}

/** A measured case. */
export interface Result {
  family: string;
  op: string;
  shape: string;
  backend: 'native' | 'js';
  threads: number;
  elements: number;
  bytes: number;
  /** Median seconds per call over the benchmark.js samples. */
  medianSeconds: number;
  /** Fastest and slowest sample, seconds per call. */
  minSeconds: number;
  maxSeconds: number;
  /** benchmark.js relative margin of error of the mean, percent. */
  rmePercent: number;
  samples: number;
  /**
   * Process CPU time over wall time while the case ran (1 = one core busy all along). Below
   * the case's thread count, the machine was busy with other work and the times are inflated.
   */
  cpuShare: number;
  /**
   * Process CPU seconds per call (all threads). For a 1-thread case on a busy machine, a
   * better estimate of the idle-machine time per call than the wall clock.
   */
  cpuSecondsPerCall: number;
  elementsPerSecond: number;
  gigabytesPerSecond: number;
  /** GB/s over the memcpy GB/s of the same run (when measured). */
  ofCopyBandwidth?: number;
  error?: string;
}

/** Label used by --filter and progress lines. */
export function label(c: Pick<Case, 'op' | 'backend' | 'threads' | 'shape'>): string {
  return `${c.op} ${c.backend} ${c.threads}t ${c.shape}`;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Times each case with benchmark.js (synchronously, one case at a time, its thread setting
 * applied around the run). The figure kept is the median seconds per call over the samples:
 * the machine may be shared, and the median ignores the slow outliers that skew the mean.
 */
export function runCases(cases: readonly Case[], opts: Options, progress: (msg: string) => void): Result[] {
  const results: Result[] = [];
  for (const c of cases) {
    const undo = c.enter ? c.enter() : () => {};
    let r: Result;
    try {
      // Warm-up outside the samples: JIT tiers for the js backend, page faults, thread pool start.
      for (let i = 0; i < (c.backend === 'js' ? 3 : 2); i++) c.fn();
      // The fn is passed as a closure without setup/teardown, so benchmark.js calls it as is
      // (it only inlines a test's source text when given strings or setup/teardown).
      let calls = 0;
      const fn = c.fn;
      const counted = (): void => {
        calls++;
        fn();
      };
      const b = new Benchmark(label(c), counted, { async: false, maxTime: opts.maxTime, minSamples: opts.minSamples, initCount: 1 });
      const cpu0 = process.cpuUsage();
      const wall0 = process.hrtime.bigint();
      b.run({ async: false });
      const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const sample = b.stats.sample;
      if (b.error || sample.length === 0) throw b.error ?? new Error('no samples');
      const med = median(sample);
      r = {
        family: c.family, op: c.op, shape: c.shape, backend: c.backend, threads: c.threads,
        elements: c.elements, bytes: c.bytes, medianSeconds: med,
        minSeconds: Math.min(...sample), maxSeconds: Math.max(...sample), rmePercent: b.stats.rme,
        samples: sample.length, cpuShare: cpuSeconds / wall, cpuSecondsPerCall: cpuSeconds / Math.max(calls, 1),
        elementsPerSecond: c.elements / med, gigabytesPerSecond: c.bytes / med / 1e9,
      };
    } catch (err) {
      r = {
        family: c.family, op: c.op, shape: c.shape, backend: c.backend, threads: c.threads,
        elements: c.elements, bytes: c.bytes, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN,
        rmePercent: NaN, samples: 0, cpuShare: NaN, cpuSecondsPerCall: NaN, elementsPerSecond: NaN, gigabytesPerSecond: NaN,
        error: err instanceof Error ? err.message : String(err),
      };
    } finally {
      undo();
    }
    results.push(r);
    progress(`${label(c).padEnd(60)} ${r.error ? `error: ${r.error}` : `${fmtTime(r.medianSeconds)} (${r.samples} samples)`}`);
  }
  return results;
}

/**
 * The bandwidth yardstick: a native memcpy (addon copyBytes) of `elements` elements of the
 * bench dtype. It moves 2x its size (read + write); single-threaded, as std::memcpy is.
 */
export function copyCase(opts: Options, elements: number): Case | undefined {
  const n = native();
  if (!n) return undefined;
  const src = fillPattern(floatArray(opts, elements));
  const dst = floatArray(opts, elements);
  const size = elements * elementBytes(opts);
  return {
    family: 'memory', op: 'memcpy (copyBytes)', shape: String(elements), backend: 'native', threads: 1,
    elements, bytes: 2 * size, fn: () => n.copyBytes(dst, src),
  };
}

// ---------------------------------------------------------------------------------------------
// Suites, reference figures, targets

/** A published figure to print beside ours (measured elsewhere; not by this harness). */
export interface Reference {
  what: string;
  figure: string;
  source: string;
}

/** A goal checked against this run's results. */
export interface Target {
  what: string;
  /** Our figure, formatted. */
  ours: string;
  /** The goal, formatted. */
  goal: string;
  /** undefined when the needed cases did not run. */
  met: boolean | undefined;
}

/** Everything a suite sees. */
export interface Context {
  opts: Options;
  backends: Backend[];
  /** The memcpy result of this run, if measured. */
  copy?: Result;
}

/** A kernel family's benchmarks. */
export interface Suite {
  name: string;
  /** The cases to time, for the given options and backends. */
  cases(ctx: Context): Case[];
  /** Published figures to print beside ours. */
  references?: Reference[];
  /** Goals, checked against the results of the run. */
  targets?(results: readonly Result[], ctx: Context): Target[];
}

/** The result of a case, if it ran without error. */
export function find(results: readonly Result[], op: string, backend: 'native' | 'js', threads?: number,
  shape?: string): Result | undefined {
  return results.find((r) => !r.error && r.op === op && r.backend === backend &&
    (threads === undefined || r.threads === threads) && (shape === undefined || r.shape === shape));
}

/** The fastest successful result among several. */
export function fastest(rs: readonly (Result | undefined)[]): Result | undefined {
  let best: Result | undefined;
  for (const r of rs) if (r && (!best || r.medianSeconds < best.medianSeconds)) best = r;
  return best;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** Seconds as a short human string. */
export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '-';
  if (s >= 1) return `${s.toFixed(2)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(s >= 0.1 ? 0 : s >= 0.01 ? 1 : 2)} ms`;
  return `${(s * 1e6).toFixed(1)} us`;
}

/** A rate with an SI prefix. */
export function fmtRate(x: number, unit = ''): string {
  if (!Number.isFinite(x)) return '-';
  const u = unit ? ` ${unit}` : '';
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G${u}`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)} M${u}`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k${u}`;
  return `${x.toFixed(1)}${u}`;
}

/** "1 thread", "2 threads". */
export function fmtThreads(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`;
}

function table(rows: string[][], rightAlign: boolean[]): string {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const line = (r: string[]): string => r.map((cell, j) => (rightAlign[j] ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The human-readable report. */
export function formatReport(m: Machine, opts: Options, results: readonly Result[], refs: readonly Reference[],
  targets: readonly Target[]): string {
  const out: string[] = [];
  out.push(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}`);
  out.push(`node ${m.node} (V8 ${m.v8}); tweedie backend ${m.backend}, SIMD ${m.simd}, default threads ${m.defaultThreads}` +
    (m.nativeError ? ` (native not loaded: ${m.nativeError})` : ''));
  out.push(`arrays: ${opts.size} x ${opts.dtype}; figures are medians of benchmark.js samples (wall clock); ` +
    `load average at start ${m.loadAverage1m.toFixed(2)}`);
  const arrayMiB = (opts.size * (opts.dtype === 'float32' ? 4 : 8)) / 2 ** 20;
  if (arrayMiB < 64) {
    out.push(`note: ${arrayMiB.toFixed(1)} MiB per array, which may fit in the CPU caches: GB/s and "of copy" are then ` +
      'cache figures, not memory bandwidth (use the default --size for those).');
  }
  out.push('GB/s counts bytes read + written per call; "of copy" = GB/s over the memcpy GB/s of this run;');
  out.push('"cpu" = process CPU time / wall time during the case (well below the thread count: other load);');
  out.push('"cpu time/call" = process CPU time per call, all threads (for 1 thread: the time an idle core would take).');
  out.push('');
  const rows = [['operation', 'shape', 'backend', 'threads', 'time/call', 'elements/s', 'GB/s', 'of copy', 'samples', 'cpu', 'cpu time/call']];
  for (const r of results) {
    rows.push([
      r.op, r.shape, r.backend, String(r.threads),
      r.error ? `error: ${r.error}` : fmtTime(r.medianSeconds),
      fmtRate(r.elementsPerSecond, ''), Number.isFinite(r.gigabytesPerSecond) ? r.gigabytesPerSecond.toFixed(2) : '-',
      r.ofCopyBandwidth === undefined || !Number.isFinite(r.ofCopyBandwidth) ? '-' : `${(r.ofCopyBandwidth * 100).toFixed(0)} %`,
      String(r.samples), Number.isFinite(r.cpuShare) ? r.cpuShare.toFixed(2) : '-', fmtTime(r.cpuSecondsPerCall),
    ]);
  }
  out.push(table(rows, [false, false, false, true, true, true, true, true, true, true, true]));
  const starved = results.filter((r) => r.cpuShare < 0.8 * r.threads);
  if (starved.length) {
    out.push('');
    out.push(`WARNING: ${starved.length} of ${results.length} cases got less than 80 % of the CPU time their threads could use ` +
      '(column "cpu"): the machine was busy with other work and those times are inflated. Rerun on an idle machine ' +
      'for figures to quote.');
  }
  if (refs.length) {
    out.push('');
    out.push('reference figures (measured elsewhere, not by this run):');
    for (const r of refs) out.push(`  ${r.what}: ${r.figure}  [${r.source}]`);
  }
  if (targets.length) {
    out.push('');
    out.push('targets:');
    const trows = [['target', 'ours', 'goal', 'met']];
    for (const t of targets) trows.push([t.what, t.ours, t.goal, t.met === undefined ? 'n/a' : t.met ? 'yes' : 'no']);
    out.push(table(trows, [false, true, true, false]).split('\n').map((l) => `  ${l}`).join('\n'));
  }
  return out.join('\n');
}
