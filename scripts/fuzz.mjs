#!/usr/bin/env node
// `npm run fuzz -- [seconds] [harness...]`: builds the libFuzzer harnesses of native/fuzz with
// clang (AddressSanitizer + UndefinedBehaviorSanitizer), replays the saved regression inputs,
// then fuzzes each harness for `seconds` (default 60) from its seed corpus. Prints executions
// and findings per harness; exits non-zero on a finding. `--smoke` is the short run npm test
// uses; without clang it says so and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const seconds = Number(args.find((a) => /^\d+$/.test(a)) ?? (smoke ? 5 : 60));
const only = args.filter((a) => !/^\d+$/.test(a) && !a.startsWith('--'));
const clang = ['clang++', 'clang++-14', 'clang++-15', 'clang++-16'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!clang) {
  console.log('fuzz: SKIPPED (no clang++ with libFuzzer; apt-get install clang-14 libclang-rt-14-dev)');
  process.exit(0);
}
const x86 = process.arch === 'x64' && existsSync('native/core/simd/avx2.cc') && existsSync('native/core/simd/sse2.cc');
const buildDir = join('native', 'build-fuzz');
mkdirSync(buildDir, { recursive: true });
const common = ['-std=c++17', '-O1', '-g', '-ffp-contract=off', '-fno-omit-frame-pointer', '-fsanitize=address,undefined',
  '-fno-sanitize-recover=undefined', ...(x86 ? ['-DTWEEDIE_X86_SIMD'] : [])];
const sh = (cmd, cmdArgs) => {
  const res = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
};

// The core once, instrumented for coverage; vector files with their own target flags.
const objects = [];
const sources = readdirSync('native/core').filter((f) => f.endsWith('.cc')).map((f) => [join('native/core', f), []]);
if (x86) {
  sources.push(['native/core/simd/sse2.cc', []], ['native/core/simd/avx2.cc', ['-mavx2', '-mfma']],
    ['native/core/simd/mixture_sse2.cc', []], ['native/core/simd/mixture_avx2.cc', ['-mavx2', '-mfma']]);
}
for (const [src, extra] of sources) {
  const obj = join(buildDir, src.replaceAll('/', '_').replace(/\.cc$/, '.o'));
  sh(clang, [...common, '-fsanitize=fuzzer-no-link', ...extra, '-c', src, '-o', obj]);
  objects.push(obj);
}

const harnesses = readdirSync('native/fuzz').filter((f) => /^fuzz_.*\.cc$/.test(f)).map((f) => f.replace(/\.cc$/, ''))
  .filter((h) => only.length === 0 || only.includes(h));
let findings = 0;
for (const h of harnesses) {
  const exe = join(buildDir, h);
  sh(clang, [...common, '-fsanitize=fuzzer', join('native/fuzz', `${h}.cc`), ...objects, '-o', exe, '-lpthread']);
  const regressions = join('native/fuzz/regressions', h);
  if (existsSync(regressions) && readdirSync(regressions).length) {
    const files = readdirSync(regressions).map((f) => join(regressions, f));
    const replay = spawnSync(exe, files, { encoding: 'utf8' });
    if (replay.status !== 0) {
      console.log(`${h}: a saved regression input fails again\n${replay.stderr}`);
      findings++;
      continue;
    }
  }
  const seeds = join('native/fuzz/corpus', h);
  mkdirSync(seeds, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), `${h}-`));
  const res = spawnSync(exe, [`-max_total_time=${seconds}`, '-print_final_stats=1', '-rss_limit_mb=4096',
    `-artifact_prefix=${join(buildDir, `${h}-`)}`, work, seeds], { encoding: 'utf8' });
  rmSync(work, { recursive: true, force: true });
  const execs = /stat::number_of_executed_units:\s*(\d+)/.exec(res.stderr)?.[1] ?? '?';
  const crashed = res.status !== 0;
  if (crashed) {
    findings++;
    console.log(res.stderr.split('\n').filter((l) => /ERROR|SUMMARY|==\d+==|artifact|Test unit/.test(l)).slice(0, 20).join('\n'));
  }
  console.log(`${h}: ${execs} executions in ${seconds} s, ${crashed ? 'FINDING (input saved under native/build-fuzz; add it to native/fuzz/regressions/' + h + '/)' : 'no finding'}`);
}
console.log(`fuzz: ${harnesses.length - findings} passed, ${findings} failed`);
process.exit(findings ? 1 : 0);
