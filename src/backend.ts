/**
 * Backend choice, made once at load: the native addon when it loads, else the TypeScript twin.
 * `TWEEDIE_BACKEND=js` forces the twin; `TWEEDIE_BACKEND=native` makes a missing addon an error.
 * `TWEEDIE_SIMD` and `TWEEDIE_THREADS` configure the addon.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsKernels } from './js/index.js';
import type { FloatArray, Kernels } from './types.js';

/** The raw addon: the kernels plus configuration hooks. */
export interface NativeBinding extends Kernels {
  info(): { simd: string; bestSimd: string; simdLevels: string[]; threads: number };
  setSimd(level: string): boolean;
  setThreads(n: number): void;
  /** memcpy of equal-length float arrays: the benchmarks' bandwidth yardstick. */
  copyBytes(dst: FloatArray, src: FloatArray): void;
}

/** Which implementation runs the kernels. */
export type BackendName = 'native' | 'js';

/** What {@link info} reports. */
export interface Info {
  /** The backend in use. */
  backend: BackendName;
  /** SIMD level of the native kernels ('scalar' | 'sse2' | 'avx2' | 'neon'), or 'none' on the js backend. */
  simd: string;
  /** Threads the native kernels split big jobs over (1 on the js backend). */
  threads: number;
  /** Package version. */
  version: string;
  /** Why the native addon is not in use, when it is not. */
  nativeError?: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const requireHere = createRequire(import.meta.url);
const version: string = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

function loadNative(): { binding?: NativeBinding; error?: string } {
  try {
    const load = requireHere('node-gyp-build') as (dir: string) => NativeBinding;
    return { binding: load(root) };
  } catch (err) {
    let reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const installError = join(root, 'build', 'tweedie-install-error.txt');
    if (existsSync(installError)) reason += `; at install: ${readFileSync(installError, 'utf8').trim()}`;
    return { error: reason };
  }
}

function configure(binding: NativeBinding): void {
  const simd = process.env.TWEEDIE_SIMD;
  if (simd) {
    let ok = false;
    try {
      ok = binding.setSimd(simd);
    } catch (err) {
      process.emitWarning(`TWEEDIE_SIMD: ${(err as Error).message}`, { code: 'TWEEDIE_SIMD' });
    }
    if (!ok) {
      process.emitWarning(`TWEEDIE_SIMD=${simd} is not available on this CPU; using ${binding.info().simd}`,
        { code: 'TWEEDIE_SIMD' });
    }
  }
  const threads = process.env.TWEEDIE_THREADS;
  if (threads) {
    const n = Number(threads);
    if (Number.isInteger(n) && n >= 1 && n <= 256) binding.setThreads(n);
    else process.emitWarning(`TWEEDIE_THREADS=${threads} ignored: expected an integer from 1 to 256`, { code: 'TWEEDIE_THREADS' });
  }
}

const requested = process.env.TWEEDIE_BACKEND;
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
