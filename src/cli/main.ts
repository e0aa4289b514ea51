#!/usr/bin/env node
/**
 * Entry of the `tweedie` command (package.json "bin"). It loads the program, and the library
 * with it, inside a try so that even a failure to load (e.g. TWEEDIE_BACKEND=native without the
 * addon) is one line on stderr and exit code 1, never a stack trace. See program.ts.
 * @module
 */
try {
  const { main } = await import('./program.js');
  process.exitCode = await main(process.argv);
} catch (e) {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ').trim();
  process.stderr.write(`tweedie: cannot start: ${msg}\n`);
  process.exitCode = 1;
}
