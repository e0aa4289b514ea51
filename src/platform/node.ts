/**
 * The Node.js platform (see types.ts): loads the addon with node-gyp-build (a build/ of this
 * checkout first, then prebuilds/<platform>-<arch>/), reads process.env, warns through
 * process.emitWarning, and runs the TypeScript mixture posterior in a worker thread.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { totalmem as osTotalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from '../backend.js';
import { mixturePosteriorInWorker } from './mixture-worker.js';
import type { Platform } from './types.js';

export { mixturePosteriorInWorker };

/** The package root: this file is src/platform/node.ts or dist/platform/node.js. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Which platform this is. */
export const platformName = 'node';

/** process.env[name]. */
export function env(name: string): string | undefined {
  return process.env[name];
}

/** process.emitWarning with a code. */
export function warn(message: string, code: string): void {
  process.emitWarning(message, { code });
}

let version: string | undefined;

/** The version in the package's package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/** os.totalmem(). */
export function totalmem(): number {
  return osTotalmem();
}

/**
 * The addon through node-gyp-build, or why it did not load: node-gyp-build's first line, what
 * the install step recorded when its build failed, or, when no build was attempted, the likely
 * reason (npm 11 does not run a dependency's install script until it is approved).
 */
export function loadNative(): { binding?: NativeBinding; error?: string } {
  try {
    const load = createRequire(import.meta.url)('node-gyp-build') as (dir: string) => NativeBinding;
    return { binding: load(root) };
  } catch (err) {
    let reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const installError = join(root, 'build', 'tweedie-install-error.txt');
    if (existsSync(installError)) reason += `; at install: ${readFileSync(installError, 'utf8').trim()}`;
    else if (/No native build was found/.test(reason) && !existsSync(join(root, 'build'))) {
      reason += `; there is no prebuilt addon for ${process.platform}-${process.arch} in this package and it was ` +
        'not compiled at install (npm 11 runs a dependency\'s install script only once approved: ' +
        '`npm install-scripts approve tweedie`, then `npm rebuild tweedie`, with a C++ compiler and Python)';
    }
    return { error: reason };
  }
}

// Type check: this module implements the platform interface.
({ platformName, env, warn, packageVersion, loadNative, totalmem, mixturePosteriorInWorker }) satisfies Platform;
