/**
 * Errors of the command line: a {@link UsageError} exits with code 2 (bad flag, value or input
 * file), anything else that escapes a command with code 1 (the run failed). Either prints one line.
 * @module
 */

/** A mistake in what the user asked for: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit codes of the `tweedie` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The message of anything thrown, on one line (no stack). */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s*\n\s*/g, ' ').trim() || (e instanceof Error ? e.name : 'unknown error');
}
