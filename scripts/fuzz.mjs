#!/usr/bin/env node
// `npm run fuzz -- [seconds] [harness...] [options]`: builds the libFuzzer harnesses of
// native/fuzz with clang (AddressSanitizer + UndefinedBehaviorSanitizer), replays the saved
// regression inputs (native/fuzz/regressions/<harness>/), then fuzzes each harness from its seed
// corpus (native/fuzz/corpus/<harness>/). Prints executions, rates and findings per harness and
// exits non-zero on a finding; a crashing input is minimised and saved as a regression. Without
// clang (or cmake) it says so and exits 0. docs/fuzzing.md describes the harnesses and campaigns.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const usage = `usage: npm run fuzz -- [seconds] [harness...] [options]
  seconds             fuzzing time per harness (default 60; 5 with --smoke)
  harness             fuzz_rng_noise, fuzz_step, fuzz_mixture (default: all)
  --smoke             the npm test run: replay the regressions, fuzz 5 s per harness
  --runs N            stop each fuzzing process after N executions (no time limit unless seconds is given)
  --jobs N            N fuzzing processes per harness at once (libFuzzer -jobs=N -workers=N)
  --keep-going        do not stop at a finding: libFuzzer's fork mode (-fork=<jobs> -ignore_crashes=1 ...),
                      every failing input is collected (about half the exec/s of a plain run on fuzz_mixture)
  --merge             add the new units that bring coverage to native/fuzz/corpus/<harness> (-merge=1)
  --minimize-corpus   rewrite native/fuzz/corpus/<harness> as a minimal set with the same coverage
  --replay            only build, replay the regressions and run the corpus once (no fuzzing)
  --nice              build and fuzz at nice 19 (long campaigns on a shared machine)
  --include-open      also fuzz inputs that would hit an open finding (regressions/<harness>/open/);
                      by default they are skipped (TWEEDIE_FUZZ_SKIP_OPEN=1), so runs look for others
  --max-len N         largest input (default 4096 bytes)
  -flag=value         passed to libFuzzer as is (e.g. -seed=1; -entropic=1 restores the scheduler left off by default)
  --help`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(usage);
  process.exit(0);
}
const valueOf = (name) => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (!/^\d+$/.test(v ?? '')) {
    console.error(`${name} needs a number\n${usage}`);
    process.exit(2);
  }
  argv.splice(i, 2);
  return Number(v);
};
const runs = valueOf('--runs');
const jobs = valueOf('--jobs') ?? 1;
const maxLen = valueOf('--max-len') ?? 4096;
const passthrough = argv.filter((a) => /^-[a-z_]+=/.test(a));
const flags = new Set(argv.filter((a) => a.startsWith('--')));
for (const f of flags) {
  if (!['--smoke', '--merge', '--minimize-corpus', '--replay', '--nice', '--include-open', '--keep-going'].includes(f)) {
    console.error(`unknown option ${f}\n${usage}`);
    process.exit(2);
  }
}
const smoke = flags.has('--smoke');
const positional = argv.filter((a) => !a.startsWith('-'));
const secondsArg = positional.find((a) => /^\d+$/.test(a));
const seconds = secondsArg !== undefined ? Number(secondsArg) : runs !== undefined ? 0 : smoke ? 5 : 60;
const only = positional.filter((a) => !/^\d+$/.test(a));
const nice = flags.has('--nice') ? ['nice', '-n', '19'] : [];

const works = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const clang = ['clang++', 'clang++-14', 'clang++-15', 'clang++-16', 'clang++-17', 'clang++-18'].find((c) => works(c, ['--version']));
if (!clang) {
  console.log('fuzz: SKIPPED (no clang++ with libFuzzer; apt-get install clang-14 libclang-rt-14-dev)');
  process.exit(0);
}
if (!works('cmake', ['--version'])) {
  console.log('fuzz: SKIPPED (no cmake: the core is built by native/CMakeLists.txt)');
  process.exit(0);
}

const sh = (cmd, args, opts = {}) => {
  const full = [...nice, cmd, ...args];
  const res = spawnSync(full[0], full.slice(1), { stdio: 'inherit', ...opts });
  if (res.status !== 0) {
    console.error(`fuzz: failed: ${full.join(' ')}`);
    process.exit(res.status ?? 1);
  }
};

// ---- build -----------------------------------------------------------------------------------
// The core is the CMake library of the C++ tests (same sources and per-file SIMD flags, -O3),
// instrumented for ASan + UBSan and libFuzzer's edge coverage. The smoke run of npm test builds
// it at -O0, in directories of its own: instrumented, the vector kernels' templates compile
// slowly when optimised (mixture_sse2.cc with clang 14: 9.5 s at -O0, 75 s at -O1, 104 s at
// -O2, more at -O3), and a smoke run executes too few inputs for the slower code to matter.
// Comparison tracing (trace-cmp) is left out of the core: its hot loops compare counters, not
// input bytes, and the hooks cost 55-60% of the run time; the harnesses, which decode the
// input, keep it.
const sanitize = ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer', '-g'];
const buildDir = join(root, 'native', 'build-fuzz');
const opt = smoke ? '-O0' : '-O3';
const exeDir = smoke ? join(buildDir, 'smoke') : buildDir;
const coreDir = join(buildDir, `core-${clang}${smoke ? '-O0' : ''}`);
mkdirSync(exeDir, { recursive: true });
const jobsBuild = String(Math.max(1, cpus().length));
const cmakeFlags = [...sanitize, '-fsanitize=fuzzer-no-link', '-fno-sanitize-coverage=trace-cmp'].join(' ');
const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };
sh('cmake', ['-S', 'native', '-B', coreDir, `-DCMAKE_CXX_COMPILER=${clang}`, `-DCMAKE_CXX_FLAGS=${cmakeFlags}`,
  '-DCMAKE_BUILD_TYPE=', '-DTWEEDIE_SANITIZE=OFF', `-DTWEEDIE_OPT=${opt}`], quiet);
sh('cmake', ['--build', coreDir, '--target', 'tweedie_core', '-j', jobsBuild], quiet);
const coreLib = join(coreDir, 'libtweedie_core.a');

const mtime = (f) => statSync(f).mtimeMs;
const headers = (dir) => readdirSync(dir, { recursive: true }).filter((f) => /\.h$/.test(f)).map((f) => join(dir, f));
const deps = [coreLib, fileURLToPath(import.meta.url), ...headers('native/core'), ...headers('native/fuzz'), ...headers('native/test')];
const depTime = Math.max(...deps.map(mtime));
const allHarnesses = readdirSync('native/fuzz').filter((f) => /^fuzz_.*\.cc$/.test(f)).map((f) => f.replace(/\.cc$/, '')).sort();
for (const h of only) {
  if (!allHarnesses.includes(h)) {
    console.error(`fuzz: no harness ${h} (have ${allHarnesses.join(', ')})`);
    process.exit(2);
  }
}
const harnesses = allHarnesses.filter((h) => only.length === 0 || only.includes(h));
for (const h of harnesses) {
  const src = join('native/fuzz', `${h}.cc`);
  const exe = join(exeDir, h);
  if (existsSync(exe) && mtime(exe) > Math.max(depTime, mtime(src))) continue;
  sh(clang, ['-std=c++17', smoke ? '-O0' : '-O2', '-ffp-contract=off', ...sanitize, '-fsanitize=fuzzer', src, coreLib, '-lpthread', '-o', exe]);
}

// ---- running -----------------------------------------------------------------------------------
// Replays never skip anything; fuzzing skips the inputs that would hit an open finding (each
// harness knows its own) unless --include-open: the open inputs are replayed instead.
const env = { ...process.env, UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' };
delete env.TWEEDIE_FUZZ_SKIP_OPEN;
const fuzzEnv = flags.has('--include-open') ? env : { ...env, TWEEDIE_FUZZ_SKIP_OPEN: '1' };
// CPU seconds of waited-for children (Linux: utime + stime of children in /proc/self/stat).
const childCpu = () => {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;  // cutime, cstime (clock ticks, USER_HZ = 100)
  } catch {
    return NaN;
  }
};
const run = (exe, args, opts = {}) => {
  const full = [...nice, exe, ...args];
  return spawnSync(full[0], full.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 28, ...opts });
};
const dirSize = (d) => (existsSync(d) ? readdirSync(d).reduce((s, f) => s + statSync(join(d, f)).size, 0) : 0);
const fileCount = (d) => (existsSync(d) ? readdirSync(d).length : 0);
const kb = (b) => `${(b / 1024).toFixed(0)} KB`;
const sumStat = (text, name) => [...text.matchAll(new RegExp(`stat::${name}:\\s*(\\d+)`, 'g'))].reduce((s, m) => s + Number(m[1]), 0);
const excerpt = (text) => text.split('\n').filter((l) => /ERROR|SUMMARY|runtime error|fuzz_\w+:|==\d+==|^\s+#\d+ /.test(l)).slice(0, 40).join('\n');

const files = (d) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)).filter((f) => statSync(f).isFile()) : []);

// The harnesses' rare expensive cases (Input::rare in native/fuzz/fuzz_input.h, `in.rare(N)` in
// each harness): the same input hash here keeps such inputs out of the committed corpus, where
// each would cost 0.1-0.3 s whenever a run loads the corpus (the smoke run of npm test too).
const M64 = (1n << 64n) - 1n;
const mix64 = (z) => {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
};
const inputHash = (bytes) => {
  let x = 0xcbf29ce484222325n ^ BigInt(bytes.length);
  for (const b of bytes) x = ((x ^ BigInt(b)) * 0x100000001b3n) & M64;
  return mix64(x);
};
const dropRare = (h, dir) => {
  const n = BigInt(/\brare\((\d+)\)/.exec(readFileSync(join('native/fuzz', `${h}.cc`), 'utf8'))?.[1] ?? 0);
  if (n === 0n) return 0;
  let dropped = 0;
  for (const f of files(dir)) {
    if ((inputHash(readFileSync(f)) >> 7n) % n === 0n) {
      rmSync(f);
      dropped++;
    }
  }
  return dropped;
};

// What a failing input reports: the harness's own message or the sanitizer's summary, without
// the numbers (two inputs that fail the same way have the same signature).
const signature = (exe, input) => {
  const res = run(exe, ['-timeout=60', '-rss_limit_mb=4096', input], { env: fuzzEnv });
  const line = res.stderr.split('\n').find((l) => /^fuzz_\w+: /.test(l) || /^SUMMARY: /.test(l)) ?? `exit ${res.status}`;
  return line.replace(/ at [^,]*, element \d+: .*$/, '').replace(/0x[0-9a-f]+|\d+/g, '#');
};

// Minimises a crashing input and saves it as a regression; returns the saved paths. libFuzzer's
// minimiser keeps any crash, not the same one: when the smallest input fails another way, both
// inputs are saved (two findings).
const saveFinding = (h, exe, artifact) => {
  const kind = basename(artifact).replace(/-.*$/, '');
  const dir = join('native/fuzz/regressions', h);
  mkdirSync(dir, { recursive: true });
  const save = (input) => {
    const bytes = readFileSync(input);
    const dest = join(dir, `${kind}-${createHash('sha1').update(bytes).digest('hex').slice(0, 12)}`);
    copyFileSync(input, dest);
    return dest;
  };
  if (kind !== 'crash') return [save(artifact)];
  const min = `${artifact}.min`;
  run(exe, ['-minimize_crash=1', '-max_total_time=60', `-exact_artifact_path=${min}`, `-max_len=${maxLen}`, artifact], { env: fuzzEnv });
  if (!existsSync(min)) return [save(artifact)];
  if (signature(exe, min) === signature(exe, artifact)) return [save(min)];
  return [save(artifact), save(min)];
};

const failedHarnesses = new Set();
const rows = [];
for (const h of harnesses) {
  const exe = join(exeDir, h);
  const regressions = join('native/fuzz/regressions', h);
  const corpus = join('native/fuzz/corpus', h);
  mkdirSync(corpus, { recursive: true });

  // 1. the saved regressions, each run once; open findings (regressions/<harness>/open/: inputs
  // that fail on the current core, each waiting for its fix) must still fail, and one that
  // passes has to be moved up a level, where it guards against the bug coming back
  const replayOpts = ['-timeout=60', '-rss_limit_mb=4096'];
  const saved = files(regressions);
  if (saved.length) {
    const replay = run(exe, [...replayOpts, ...saved]);
    if (replay.status !== 0) {
      console.log(`${h}: a saved regression input fails again\n${excerpt(replay.stderr)}`);
      failedHarnesses.add(h);
      rows.push({ h, note: 'REGRESSION FAILS' });
      continue;
    }
  }
  for (const f of files(join(regressions, 'open'))) {
    const replay = run(exe, [...replayOpts, f]);
    if (replay.status === 0) {
      console.log(`${h}: the open finding ${f} now passes: move it to ${regressions}/ (and drop its skip condition in the harness)`);
      failedHarnesses.add(h);
    } else {
      const message = replay.stderr.split('\n').find((l) => l.startsWith(`${h}:`) || /ERROR|runtime error/.test(l)) ?? 'fails';
      console.log(`${h}: open finding ${basename(f)} still fails (${message.trim()})`);
    }
  }
  if (flags.has('--replay')) {
    const res = run(exe, ['-runs=0', `-max_len=${maxLen}`, corpus]);
    const ok = res.status === 0;
    if (!ok) failedHarnesses.add(h);
    console.log(`${h}: ${saved.length} regressions and ${fileCount(corpus)} corpus inputs replayed, ${ok ? 'pass' : `FAIL\n${excerpt(res.stderr)}`}`);
    continue;
  }

  // 2. fuzzing: new units go to a scratch directory first, the committed corpus is read-only seeds;
  // the fuzzer's output goes to native/build-fuzz/logs/<harness>/ (tail -f it during a campaign;
  // the smoke run writes to native/build-fuzz/smoke/logs/, so it cannot clobber a campaign's log)
  const work = mkdtempSync(join(tmpdir(), `${h}-`));
  const logDir = join(exeDir, 'logs', h);
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const newUnits = join(work, 'new');
  const artifacts = join(work, 'artifacts');
  mkdirSync(newUnits);
  mkdirSync(artifacts);
  // -entropic=0: libFuzzer's default (entropic) scheduler updates a list of rare features on
  // every execution, which costs most of fuzz_mixture's time (its ~90,000 features): 3.3x the
  // exec/s without it (docs/fuzzing.md). A later -entropic=1 on the command line overrides it.
  const opts = ['-print_final_stats=1', '-rss_limit_mb=4096', '-timeout=60', `-max_len=${maxLen}`, `-artifact_prefix=${artifacts}/`,
    '-entropic=0'];
  if (seconds > 0) opts.push(`-max_total_time=${seconds}`);
  if (runs !== undefined) opts.push(`-runs=${runs}`);
  const keepGoing = flags.has('--keep-going');
  if (keepGoing) opts.push(`-fork=${jobs}`, '-ignore_crashes=1', '-ignore_timeouts=1', '-ignore_ooms=1');
  else if (jobs > 1) opts.push(`-jobs=${jobs}`, `-workers=${jobs}`);
  opts.push(...passthrough);
  const fuzzArgs = [...opts, newUnits, resolve(corpus)];
  const perJobLogs = jobs > 1 && !keepGoing;
  const logFile = join(logDir, perJobLogs ? 'fuzz-<n>.log' : 'fuzz.log');
  console.log(`${h}: ${[...nice, exe, ...fuzzArgs].join(' ')}\n${h}: output in ${logFile}`);
  const out = openSync(join(logDir, perJobLogs ? 'jobs.log' : 'fuzz.log'), 'w');
  const cpu0 = childCpu();
  const t0 = performance.now();
  // with -jobs each process writes its own log, fuzz-<n>.log, in the working directory
  const res = run(exe, fuzzArgs, { cwd: logDir, stdio: ['ignore', out, out], env: fuzzEnv });
  const wall = (performance.now() - t0) / 1000;
  const cpu = childCpu() - cpu0;
  closeSync(out);
  // (with -jobs, libFuzzer also copies every job's log into its own output, jobs.log: reading
  // that too counted every execution twice)
  const ownLogs = (f) => (perJobLogs ? /^fuzz-\d+\.log$/.test(f) : f === 'fuzz.log');
  const logs = readdirSync(logDir).filter(ownLogs).map((f) => readFileSync(join(logDir, f), 'utf8')).join('\n');
  // fork mode: the parent's last "#<executions>: cov: ..." line
  const execs = keepGoing ? Number([...logs.matchAll(/^#(\d+): cov:/gm)].pop()?.[1] ?? 0) : sumStat(logs, 'number_of_executed_units');
  const found = readdirSync(artifacts).map((f) => join(artifacts, f));
  // one input per way of failing (--keep-going can collect many of the same)
  const kinds = new Map();
  for (const a of found) {
    const sig = signature(exe, a);
    if (!kinds.has(sig)) kinds.set(sig, a);
  }
  const savedFindings = [...kinds.values()].flatMap((a) => saveFinding(h, exe, a));
  if (kinds.size) console.log(`${h}: ${found.length} failing inputs, ${kinds.size} way(s) of failing:\n  ${[...kinds.keys()].join('\n  ')}`);
  if ((res.status !== 0 && !keepGoing) || found.length) {
    failedHarnesses.add(h);
    console.log(excerpt(logs));
    if (res.status !== 0 && !found.length) console.log(`${h}: the fuzzer exited with status ${res.status} and saved no input\n${logs.slice(-4000)}`);
  }

  // 3. corpus upkeep (without the rare large inputs). Merging runs without skipping: an input
  // that only reached an open finding's skip (new coverage in the decoder) crashes there and is
  // left out (its crash report goes to the scratch directory).
  dropRare(h, newUnits);
  const mergeOpts = ['-merge=1', `-max_len=${maxLen}`, `-artifact_prefix=${join(work, 'merge-')}`];
  if (flags.has('--minimize-corpus')) {
    const fresh = join(work, 'minimized');
    mkdirSync(fresh);
    const m = run(exe, [...mergeOpts, fresh, resolve(corpus), newUnits], { cwd: work });
    if (m.status === 0 && fileCount(fresh) > 0) {
      const old = `${corpus}.old`;
      renameSync(corpus, old);
      renameSync(fresh, corpus);
      rmSync(old, { recursive: true, force: true });
    } else {
      console.log(`${h}: corpus minimisation failed\n${excerpt(m.stderr)}`);
      failedHarnesses.add(h);
    }
  } else if (flags.has('--merge')) {
    const m = run(exe, [...mergeOpts, resolve(corpus), newUnits], { cwd: work });
    if (m.status !== 0) {
      console.log(`${h}: merge failed\n${excerpt(m.stderr)}`);
      failedHarnesses.add(h);
    }
  }
  if (flags.has('--minimize-corpus') || flags.has('--merge')) dropRare(h, corpus);
  rmSync(work, { recursive: true, force: true });

  const row = {
    h, execs, wall, cpu, findings: found.length, saved: savedFindings, corpusFiles: fileCount(corpus), corpusBytes: dirSize(corpus),
  };
  rows.push(row);
  const rate = (execs / wall).toFixed(0);
  const cpuNote = Number.isFinite(cpu) && cpu > 0 ? `; ${cpu.toFixed(0)} CPU s, ${(execs / cpu).toFixed(0)} exec per CPU s` : '';
  console.log(`${h}: ${execs} executions in ${wall.toFixed(0)} s (${rate} exec/s${cpuNote}), ` +
    `${found.length ? `${found.length} FINDING(S), saved: ${savedFindings.join(' ')}` : 'no finding'}; ` +
    `corpus ${row.corpusFiles} inputs, ${kb(row.corpusBytes)}`);
}
if (rows.length > 1 && !flags.has('--replay')) {
  const total = rows.reduce((s, r) => s + (r.execs ?? 0), 0);
  console.log(`fuzz: ${total} executions in all`);
}
console.log(`fuzz: ${harnesses.length - failedHarnesses.size} passed, ${failedHarnesses.size} failed`);
process.exit(failedHarnesses.size ? 1 : 0);
