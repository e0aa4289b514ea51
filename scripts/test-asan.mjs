#!/usr/bin/env node
// `npm run test:asan`: builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer in a
// temporary copy of the package and runs the whole mocha suite against it on the native
// backend (Node itself is not instrumented, so the sanitizer runtimes are preloaded), then the
// C++ core tests under both sanitizers. Exits non-zero on any finding.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gccFile = (name) => spawnSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout.trim();
const runtimes = [gccFile('libasan.so'), gccFile('libubsan.so')];
if (runtimes.some((p) => !p.startsWith('/'))) {
  console.error('test:asan needs gcc with libasan and libubsan');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'tweedie-asan-'));
const keep = process.argv.includes('--keep');
try {
  for (const item of ['package.json', 'binding.gyp', 'native/core', 'native/addon', 'scripts', 'src', 'test', '.mocharc.json', 'tsconfig.json']) {
    cpSync(join(root, item), join(dir, item), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const sanitize = '-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1';
  const build = spawnSync(process.execPath, ['scripts/install.cjs'], {
    cwd: dir, stdio: 'inherit', env: { ...process.env, CXXFLAGS: sanitize, CFLAGS: sanitize, LDFLAGS: '-fsanitize=address,undefined' },
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const mocha = join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
  // .mocharc.json names no spec (scripts/test.mjs passes them): the whole suite unless told
  const args = process.argv.slice(2).filter((a) => a !== '--keep');
  const specs = args.some((a) => a.endsWith('.ts')) ? [] : ['test/*.test.ts'];
  const res = spawnSync(process.execPath, [mocha, ...args, ...specs], {
    cwd: dir, stdio: 'inherit',
    env: {
      ...process.env,
      TWEEDIE_BACKEND: 'native',
      LD_PRELOAD: runtimes.join(':'),
      ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    },
  });
  if (res.status !== 0) {
    console.error(`test:asan: the suite failed under the sanitizers (exit ${res.status ?? res.signal})`);
    process.exit(1);
  }
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
const core = spawnSync(process.execPath, [join(root, 'scripts', 'test-native.mjs'), '--sanitize'], { cwd: root, stdio: 'inherit' });
process.exit(core.status ?? 1);
