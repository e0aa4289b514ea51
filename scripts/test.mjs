#!/usr/bin/env node
// `npm test`: type-check, then the mocha suite under the TypeScript backend and under the
// native backend at every SIMD level this CPU has (info().simdLevels: scalar, sse2, avx2 and,
// where the CPU and OS have it, avx512 on x86-64), then the C++ core tests. Prints each step's
// wall time and ends with one summary line "tests: N passed, N failed".
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const mochaBin = require.resolve('mocha/bin/mocha.js');
const tscBin = require.resolve('typescript/bin/tsc');
// Spec files come from the command line, else every test/*.test.ts (.mocharc.json has no
// spec, so `npx mocha test/x.test.ts` runs just that file).
const extraArgs = process.argv.slice(2).length ? process.argv.slice(2) : ['test/*.test.ts'];
let passed = 0;
let failed = 0;
const failures = [];

const started = Date.now();
const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;

function run(label, cmd, args, env = {}) {
  console.log(`\n== ${label}`);
  const t0 = Date.now();
  const res = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(res.stdout ?? '');
  console.log(`   (${label}: ${seconds(Date.now() - t0)})`);
  return res;
}

function mocha(label, env, args = extraArgs) {
  const res = run(label, process.execPath, [mochaBin, ...args], env);
  const out = res.stdout ?? '';
  const p = Number(/(\d+) passing/.exec(out)?.[1] ?? 0);
  const f = Number(/(\d+) failing/.exec(out)?.[1] ?? 0);
  passed += p;
  failed += f;
  if (res.status !== 0 || p === 0) {
    if (f === 0) failed += 1;
    failures.push(label);
  }
}

const tsc = run('type-check (tsc --noEmit)', process.execPath, [tscBin, '-p', 'tsconfig.json', '--noEmit']);
if (tsc.status === 0) passed += 1;
else {
  failed += 1;
  failures.push('type-check');
}

mocha('mocha, TypeScript backend (TWEEDIE_BACKEND=js)', { TWEEDIE_BACKEND: 'js' });

const probe = spawnSync(process.execPath, ['--import', 'tsx', '-e',
  "import('./src/backend.ts').then((b) => { const n = b.native(); console.log(JSON.stringify(n ? n.info().simdLevels : null)); })"],
{ encoding: 'utf8', env: { ...process.env, TWEEDIE_BACKEND: 'auto' } });
let levels = null;
try {
  levels = JSON.parse(probe.stdout.trim().split('\n').pop() ?? 'null');
} catch {
  levels = null;
}
if (!levels) {
  console.log('\n== native backend: SKIPPED, the addon did not load (see tw.info().nativeError); only the TypeScript backend was tested');
} else {
  for (const level of [...levels].reverse()) {
    mocha(`mocha, native backend, TWEEDIE_SIMD=${level}`, { TWEEDIE_BACKEND: 'native', TWEEDIE_SIMD: level });
  }
}

// Packaging checks run once (they build copies of the package in temporary folders).
mocha('packaging: install without a compiler, CLI, plots in a browser', {}, ['--no-config', '--node-option', 'import=tsx', '--timeout', '300000',
  '--reporter', 'dot', 'test/packaging/*.test.ts']);

// A step that prints "<prefix>: N passed, N failed" (0/0 and exit 0 when it skips itself).
function counted(label, script, args, prefix) {
  const res = run(label, process.execPath, [script, ...args]);
  const summary = new RegExp(`${prefix}: (\\d+) passed, (\\d+) failed`).exec(res.stdout ?? '');
  if (summary) {
    passed += Number(summary[1]);
    failed += Number(summary[2]);
  }
  if (res.status !== 0) {
    if (!summary || Number(summary[2]) === 0) failed += 1;
    failures.push(label);
  }
}

counted('C++ core tests (npm run test:native)', 'scripts/test-native.mjs', [], 'core tests');
// Short fuzz runs of the native core (skipped, saying so, without clang).
counted('fuzz smoke (npm run fuzz -- --smoke)', 'scripts/fuzz.mjs', ['--smoke'], 'fuzz');

if (failures.length) console.log(`\nfailed: ${failures.join('; ')}`);
console.log(`\ntests: ${passed} passed, ${failed} failed (${seconds(Date.now() - started)})`);
process.exit(failed ? 1 : 0);
