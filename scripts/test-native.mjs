#!/usr/bin/env node
// `npm run test:native`: builds native/core standalone with CMake (no Node headers) and runs
// its C++ tests. Prints "core tests: N passed, N failed". Skips, saying why, without cmake or a
// C++ compiler. Pass --sanitize to build with AddressSanitizer and UndefinedBehaviorSanitizer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';

const sanitize = process.argv.includes('--sanitize');
const buildDir = sanitize ? 'native/build-sanitize' : 'native/build';
const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
if (!has('cmake') || !(has('c++') || has('g++') || has('clang++'))) {
  console.log('core tests: SKIPPED (cmake or a C++ compiler is missing)');
  process.exit(0);
}
mkdirSync(buildDir, { recursive: true });
const step = (args) => {
  const res = spawnSync('cmake', args, { stdio: 'inherit' });
  if (res.status !== 0) {
    console.log('core tests: 0 passed, 1 failed (build)');
    process.exit(1);
  }
};
step(['-S', 'native', '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release', `-DTWEEDIE_SANITIZE=${sanitize ? 'ON' : 'OFF'}`]);
step(['--build', buildDir, '-j', '2']);
const exe = `${buildDir}/tweedie_core_tests`;
if (!existsSync(exe)) {
  console.log('core tests: 0 passed, 1 failed (no test binary)');
  process.exit(1);
}
const res = spawnSync(exe, [], { stdio: 'inherit' });
process.exit(res.status ?? 1);
