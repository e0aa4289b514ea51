/**
 * The platform seam: everything the library needs from its host, behind one interface with two
 * implementations. `node.ts` (Node.js: the addon, environment variables, worker threads) is the
 * one the package's Node entry uses; the browser build (`dist/browser.js`, made by
 * scripts/build-browser.mjs) swaps `index.ts` for `browser.ts`, which touches no `node:` module.
 * Nothing outside src/platform/ imports a `node:` module or reads `process` (src/cli/ excepted,
 * which is Node-only).
 * @module
 */
import type { NativeBinding } from '../backend.js';
import type { FloatArray } from '../types.js';

/** What a platform provides; both platform modules export exactly these names. */
export interface Platform {
  /** Which platform this is. */
  platformName: 'node' | 'browser';
  /** An environment variable (TWEEDIE_BACKEND, TWEEDIE_SIMD, TWEEDIE_THREADS), or undefined. */
  env(name: string): string | undefined;
  /** A warning for the user (Node: process.emitWarning with this code). */
  warn(message: string, code: string): void;
  /** The package's version. */
  packageVersion(): string;
  /** Loads the native addon, or says why it cannot. */
  loadNative(): { binding?: NativeBinding; error?: string };
  /** Bytes of memory on this machine: an upper bound for one allocation. */
  totalmem(): number;
  /**
   * The TypeScript mixture posterior off the calling thread where the platform can (Node: a
   * worker thread). The arguments are copied when it is called; resolves to new output arrays
   * of x's dtype (null where `lengths[i] < 0`), in the order of POSTERIOR_OUTPUTS.
   */
  mixturePosteriorInWorker(x: FloatArray, dim: number, means: Float64Array, variances: Float64Array,
    logWeights: Float64Array, alpha: Float64Array, sigma: Float64Array, lengths: number[]): Promise<Array<FloatArray | null>>;
}
