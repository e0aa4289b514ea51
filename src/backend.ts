/**
 * Backend choice, made once at load: the native addon when it loads, else the TypeScript twin.
 * `TWEEDIE_BACKEND=js` forces the twin; `TWEEDIE_BACKEND=native` makes a missing addon an error.
 * `TWEEDIE_SIMD` (scalar, sse2, avx2, avx512 or neon; never above what the CPU has) and
 * `TWEEDIE_THREADS` configure the addon.
 * @module
 */
import { jsKernels } from './js/index.js';
import { env, loadNative, packageVersion, warn } from './platform/index.js';
import type { FloatArray, Kernels } from './types.js';

/** The raw addon: the kernels plus configuration hooks. */
export interface NativeBinding extends Kernels {
  info(): { simd: string; bestSimd: string; simdLevels: string[]; threads: number };
  setSimd(level: string): boolean;
  setThreads(n: number): void;
  /** memcpy of equal-length float arrays: the benchmarks' bandwidth yardstick. */
  copyBytes(dst: FloatArray, src: FloatArray): void;
  /**
   * The native sampling loop (src/samplers/program.ts, native/core/program.h): runs a recorded
   * program on `state` [rows, dim] in place against a mixture (mixturePosterior's means,
   * variances, logWeights). report receives [status, nfe, op, step, element, value]: status 0 ok,
   * 2 an evaluation's input was not finite (element, value), 5 out of memory in the mixture
   * kernel. Bad arguments or programs throw a TypeError/RangeError before anything runs.
   */
  programRun(state: FloatArray, dim: number, means: Float64Array, variances: Float64Array, logWeights: Float64Array,
    code: Uint32Array, consts: Float64Array, kinds: Uint8Array, seedLo: number, seedHi: number,
    streams: Uint32Array | null, report: Float64Array): void;
  /** programRun on the libuv pool: state (on success) and report are written when it resolves; status 1 = cancelled. */
  programRunAsync(token: object, state: FloatArray, dim: number, means: Float64Array, variances: Float64Array,
    logWeights: Float64Array, code: Uint32Array, consts: Float64Array, kinds: Uint8Array, seedLo: number,
    seedHi: number, streams: Uint32Array | null, report: Float64Array): Promise<void>;
  /** A cancellation token for programRunAsync. */
  programToken(): object;
  /** Makes the runs holding this token stop before their next operation. */
  programCancel(token: object): void;
}

/** Which implementation runs the kernels. */
export type BackendName = 'native' | 'js';

/** What {@link info} reports. */
export interface Info {
  /** The backend in use. */
  backend: BackendName;
  /** SIMD level of the native kernels ('scalar' | 'sse2' | 'avx2' | 'avx512' | 'neon'), or 'none' on the js backend. */
  simd: string;
  /** Threads the native kernels split big jobs over (1 on the js backend). */
  threads: number;
  /** Package version. */
  version: string;
  /** Why the native addon is not in use, when it is not. */
  nativeError?: string;
}

// Loading the addon, environment variables and warnings go through the platform seam
// (src/platform/): Node.js here, no addon in the browser build.
const version: string = packageVersion();

function configure(binding: NativeBinding): void {
  const simd = env('TWEEDIE_SIMD');
  if (simd) {
    let ok = false;
    try {
      ok = binding.setSimd(simd);
    } catch (err) {
      warn(`TWEEDIE_SIMD: ${(err as Error).message}`, 'TWEEDIE_SIMD');
    }
    if (!ok) {
      warn(`TWEEDIE_SIMD=${simd} is not available on this CPU; using ${binding.info().simd}`, 'TWEEDIE_SIMD');
    }
  }
  const threads = env('TWEEDIE_THREADS');
  if (threads) {
    const n = Number(threads);
    if (Number.isInteger(n) && n >= 1 && n <= 256) binding.setThreads(n);
    else warn(`TWEEDIE_THREADS=${threads} ignored: expected an integer from 1 to 256`, 'TWEEDIE_THREADS');
  }
}

const requested = env('TWEEDIE_BACKEND');
if (requested !== undefined && requested !== '' && requested !== 'js' && requested !== 'native' && requested !== 'auto') {
  throw new Error(`TWEEDIE_BACKEND must be 'js', 'native' or 'auto', not '${requested}'`);
}

let nativeBinding: NativeBinding | undefined;
let nativeError: string | undefined;
if (requested === 'js') {
  nativeError = 'TWEEDIE_BACKEND=js';
} else {
  const loaded = loadNative();
  nativeBinding = loaded.binding;
  nativeError = loaded.error;
  if (nativeBinding) configure(nativeBinding);
  else if (requested === 'native') throw new Error(`TWEEDIE_BACKEND=native but the native addon did not load: ${nativeError}`);
}

const active: Kernels = nativeBinding ?? jsKernels;

/** The kernels in use. */
export function kernels(): Kernels {
  return active;
}

/** The raw native addon, or undefined when it did not load (or TWEEDIE_BACKEND=js). For tests and tools. */
export function native(): NativeBinding | undefined {
  return nativeBinding;
}

/** The backend in use: 'native' when the addon loaded, else 'js'. */
export function backend(): BackendName {
  return nativeBinding ? 'native' : 'js';
}

/** The backend, SIMD level, thread count and version in use, and why the addon is not, if not. */
export function info(): Info {
  if (nativeBinding) {
    const n = nativeBinding.info();
    return { backend: 'native', simd: n.simd, threads: n.threads, version };
  }
  return { backend: 'js', simd: 'none', threads: 1, version, nativeError };
}
