/**
 * The browser platform (see types.ts), used by the browser build `dist/browser.js` (the
 * package's "browser" export condition) in place of node.ts. It touches no `node:` module and no
 * addon: the backend is always the TypeScript twin ('js'), and info().nativeError says so.
 * Environment variables are read from `globalThis.process.env` when a bundler or page provides
 * one, else they are unset. The asynchronous mixture posterior (posteriorAsync, denoiseAsync)
 * runs the twin on the calling thread after yielding once to the event loop: it does not block
 * the caller synchronously, but a long call still occupies the page's thread (run the whole
 * computation in a Web Worker to keep a page responsive).
 * @module
 */
import type { NativeBinding } from '../backend.js';
import { mixturePosterior } from '../js/mixture.js';
import type { FloatArray } from '../types.js';
import type { Platform } from './types.js';

/** The package version, written into the bundle by scripts/build-browser.mjs. */
declare const __TWEEDIE_VERSION__: string | undefined;

/** Which platform this is. */
export const platformName = 'browser';

/** `globalThis.process.env[name]` when the page has such an object, else undefined. */
export function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** console.warn, with the code first. */
export function warn(message: string, code: string): void {
  console.warn(`(${code}) ${message}`);
}

/** The version the bundle was built from. */
export function packageVersion(): string {
  return typeof __TWEEDIE_VERSION__ === 'string' ? __TWEEDIE_VERSION__ : '0.0.0-unknown';
}

/** Always the reason: browsers cannot load Node addons. */
export function loadNative(): { binding?: NativeBinding; error?: string } {
  return {
    error: 'this is the browser build of tweedie: the native addon needs Node.js, so the TypeScript kernels run ' +
      '(same results: bit-identical for noising, the normals and sampler steps)',
  };
}

/**
 * The device's memory as the browser reports it (navigator.deviceMemory, in GiB, capped at 8 by
 * Chromium), else 8 GiB: a quick bound before large allocations, which are also caught.
 */
export function totalmem(): number {
  const gib = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  return (typeof gib === 'number' && gib > 0 ? gib : 8) * 2 ** 30;
}

/** Resolves after the current task, letting the page's event loop run first. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * mixturePosterior on the calling thread, after one yield to the event loop (no Web Worker):
 * x and the levels are copied when it is called, as with Node's worker thread; resolves to new
 * output arrays of x's dtype (null where `lengths[i] < 0`).
 */
export async function mixturePosteriorInWorker(x: FloatArray, dim: number, means: Float64Array, variances: Float64Array,
  logWeights: Float64Array, alpha: Float64Array, sigma: Float64Array, lengths: number[]): Promise<Array<FloatArray | null>> {
  const args = [x.slice(), means.slice(), variances.slice(), logWeights.slice(), alpha.slice(), sigma.slice()] as const;
  await yieldToEventLoop();
  const ctor = x.constructor as new (n: number) => FloatArray;
  const outs = lengths.map((n) => (n < 0 ? null : new ctor(n)));
  mixturePosterior(args[0], dim, args[1], args[2], args[3], args[4], args[5], outs[0], outs[1], outs[2], outs[3],
    outs[4], outs[5]);
  return outs;
}

// Type check: this module implements the platform interface.
({ platformName, env, warn, packageVersion, loadNative, totalmem, mixturePosteriorInWorker }) satisfies Platform;
