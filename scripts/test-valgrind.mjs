#!/usr/bin/env node
// `npm run test:valgrind [-- spec...]`: a short run of the mocha suite under valgrind memcheck
// against the plain (uninstrumented) addon, native backend. Exits non-zero when memcheck reports
// any error. Default specs: the kernel-level tests (they call every native entry point).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
if (spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.log('test:valgrind: SKIPPED (valgrind is not installed)');
  process.exit(0);
}
const specs = process.argv.slice(2);
const files = specs.length ? specs : ['test/rng.test.ts', 'test/step.test.ts', 'test/noise.test.ts', 'test/mixture.test.ts'];
// --trace-children: mocha runs the tests in a child node (it re-spawns itself for --node-option),
// so without it memcheck watched only the launcher (the suite ran at full speed, unchecked)
const suppressions = fileURLToPath(new URL('valgrind-node.supp', import.meta.url));
const res = spawnSync('valgrind', ['--tool=memcheck', '--trace-children=yes', `--suppressions=${suppressions}`, '--error-exitcode=9',
  '--leak-check=no', '--track-origins=no',
  process.execPath, require.resolve('mocha/bin/mocha.js'), '--no-config', '--node-option', 'import=tsx',
  '--timeout', '600000', '--reporter', 'dot', ...files],
{ stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8', env: { ...process.env, TWEEDIE_BACKEND: 'native' } });
// one summary per process (the launcher and the child that runs the suite)
const summaries = [...(res.stderr ?? '').matchAll(/ERROR SUMMARY: (\d+) errors/g)].map((m) => Number(m[1]));
process.stderr.write((res.stderr ?? '').split('\n').filter((l) => !/^==\d+== ?$/.test(l)).slice(-40).join('\n'));
console.log(`\nvalgrind memcheck: ${summaries.length ? summaries.reduce((a, b) => a + b, 0) : '?'} errors in ${summaries.length} processes (exit ${res.status})`);
process.exit(res.status === 0 ? 0 : 1);
