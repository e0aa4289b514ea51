/**
 * Running a check against the native addon at every SIMD level and thread count, and skipping
 * visibly when the addon is not loaded.
 * @module
 */
import { info, native, type NativeBinding } from '../../src/backend.js';

/** The thread counts the native comparisons run at (1: no split; 2, 3: even and odd splits). */
export const THREAD_COUNTS = [1, 2, 3];

/**
 * The native binding, or skips the current test with the reason in its title and on stderr
 * (mocha's this.skip() takes no message).
 */
export function nativeOrSkip(ctx: Mocha.Context): NativeBinding {
  const n = native();
  if (n) return n;
  const reason = `native addon not loaded: ${info().nativeError ?? 'unknown reason'}`;
  if (ctx.test) ctx.test.title += ` [skipped: ${reason}]`;
  process.stderr.write(`  skipping native comparison: ${reason}\n`);
  ctx.skip();
  throw new Error('unreachable');
}

/**
 * Calls fn(label) with the addon switched to each SIMD level of info().simdLevels and each of
 * THREAD_COUNTS; restores the original level and thread count afterwards, also on failure.
 */
export function forEachNativeConfig(n: NativeBinding, fn: (label: string) => void): void {
  const original = n.info();
  try {
    for (const level of original.simdLevels) {
      if (!n.setSimd(level)) throw new Error(`setSimd('${level}') failed although info().simdLevels lists it`);
      for (const threads of THREAD_COUNTS) {
        n.setThreads(threads);
        fn(`simd ${level}, ${threads} thread${threads > 1 ? 's' : ''}`);
      }
    }
  } finally {
    n.setSimd(original.simd);
    n.setThreads(original.threads);
  }
}
