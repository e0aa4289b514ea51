/**
 * The npm tarball, as a user gets it: `npm pack` in a copy of this checkout (its prepack and
 * prepare make the prebuild and the compiled JS), then `npm install <tarball>` into an empty folder with no compiler, make or
 * Python on PATH (and CC=false CXX=false), offline from npm's cache. The installed package must
 * run the example (test/packaging/fixtures/example.mjs) natively from prebuilds/, and without
 * the prebuild on the TypeScript backend, with info().nativeError saying why. The example's
 * tier-A results must equal this process's bit for bit, and its tier-B results within 1e-9.
 *
 * npm 11 does not run a dependency's install script until it is approved (`npm install-scripts
 * approve`), so the default install here runs none of ours: the prebuild is found at run time by
 * node-gyp-build, and without it the package says how to approve and rebuild. The last tests
 * approve the script and check what it does without a compiler.
 * Lives in test/packaging/, which `npm test` runs once, not under every backend.
 */
import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import * as tw from '../../src/index.js';
import { expectClose } from './fixtures/compare.js';
import { example, type ExampleResult } from './fixtures/example.mjs';

const root = join(import.meta.dirname, '..', '..');
const target = `${process.platform}-${process.arch}`;


/** npm's own JavaScript entry (npm-cli.js), found on PATH, run with this Node; else null. */
function findNpmCli(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (!dir || !existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    if (real.endsWith('.js')) return real;
  }
  return null;
}

/** The environment without npm's per-run variables (a parent `npm test` must not steer this npm) and TWEEDIE_*. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !/^npm_config_(cache|registry|userconfig|globalconfig)$/i.test(k)) continue;
    if (k.startsWith('TWEEDIE_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** The JSON value that npm --json printed last (scripts may have printed before it). */
function lastJson(stdout: string): unknown {
  const lines = stdout.split('\n');
  return JSON.parse(lines.slice(lines.lastIndexOf('[')).join('\n'));
}

function describeRun(res: SpawnSyncReturns<string>): string {
  return `exit ${res.status}${res.error ? ` (${res.error.message})` : ''}\n${res.stdout}\n${res.stderr}`;
}

describe('the npm tarball', function () {
  this.timeout(600_000);
  const npmCli = findNpmCli();
  let work = '';
  let app = '';
  let tarball = '';
  let files: string[] = [];
  let bin = '';
  let expected: ExampleResult;
  /** Whether npm skipped our install script at install (npm 11's default). */
  let gated = false;

  /** npm with the restricted PATH (node, sh, env only) and a failing CC/CXX. */
  const npm = (args: string[]): SpawnSyncReturns<string> => spawnSync(process.execPath, [npmCli!, ...args], {
    cwd: app, encoding: 'utf8', timeout: 300_000,
    env: cleanEnv({ PATH: bin, CC: 'false', CXX: 'false' }),
  });

  /** Runs the example against the installed package. */
  const runExample = (): ExampleResult => {
    const res = spawnSync(process.execPath, ['run.mjs'], { cwd: app, encoding: 'utf8', env: cleanEnv({ PATH: bin }) });
    expect(res.status, describeRun(res)).to.equal(0);
    return JSON.parse(res.stdout) as ExampleResult;
  };

  const installed = (...p: string[]): string => join(app, 'node_modules', 'tweedie', ...p);

  before(async function () {
    if (!npmCli) {
      process.stdout.write('    SKIPPED: npm (npm-cli.js) is not on PATH\n');
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), 'tweedie-tarball-'));
    // The release step, `npm pack`: prepack (clean dist/, prebuild) and prepare (tsc, browser
    // bundle), then the tarball. Run in a copy of the checkout, so that this checkout's dist/ and
    // prebuilds/ stay as they are; the prebuild cache (.cache/prebuild-<target>/) goes there and
    // back, so that the compile happens only when the native sources changed.
    const stage = join(work, 'package');
    const cache = `.cache/prebuild-${target}`;
    for (const item of ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'native/core', 'native/addon', 'scripts', 'src',
      'tsconfig.json', 'tsconfig.build.json', cache]) {
      if (existsSync(join(root, item))) cpSync(join(root, item), join(stage, item), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
    const pack = spawnSync(process.execPath, [npmCli!, 'pack', '--json', '--pack-destination', work], {
      cwd: stage, encoding: 'utf8', env: cleanEnv(), timeout: 540_000, maxBuffer: 64 << 20,
    });
    expect(pack.status, describeRun(pack)).to.equal(0);
    if (existsSync(join(stage, cache))) cpSync(join(stage, cache), join(root, cache), { recursive: true });
    const [info] = lastJson(pack.stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
    tarball = join(work, info.filename);
    files = info.files.map((f) => f.path);
    process.stdout.write(`    (${info.filename}: ${(info.size / 1024).toFixed(0)} KiB, ${files.length} files)\n`);

    // A PATH with node and a shell only: no cc, c++, make or python.
    bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    if (existsSync('/usr/bin/env')) symlinkSync('/usr/bin/env', join(bin, 'env'));

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' })}\n`);
    copyFileSync(join(import.meta.dirname, 'fixtures', 'example.mjs'), join(app, 'example.mjs'));
    writeFileSync(join(app, 'run.mjs'),
      "import * as tw from 'tweedie';\nimport { example } from './example.mjs';\nconsole.log(JSON.stringify(await example(tw)));\n");
    expected = await example(tw);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the compiled JS, the types, the native sources, binding.gyp, the install script and the prebuild', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'scripts/install.cjs', 'dist/index.js', 'dist/index.d.ts',
      'dist/browser.js', 'dist/backend.js', 'dist/platform/node.js', 'dist/cli/main.js']) {
      expect(files, f).to.include(f);
    }
    // The N-API prebuild: tweedie.node, or tweedie.glibc.node on Linux (never taken for musl).
    const prebuilds = files.filter((f) => f.startsWith(`prebuilds/${target}/`));
    expect(prebuilds).to.have.length(1);
    expect(prebuilds[0]).to.match(/\/tweedie(\.glibc)?\.node$/);
    // Every native source, so that a build from source works.
    for (const dir of ['native/core', 'native/addon']) {
      const sources = readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile()).map((d) => relative(root, join(d.parentPath, d.name)));
      for (const f of sources) expect(files, f).to.include(f);
    }
    const stray = files.filter((f) => /^(src|test|bench|build|docs|native\/(test|fuzz|bench|build))\/|\.map$|\.tgz$/.test(f));
    expect(stray, 'files that should not ship').to.deep.equal([]);
  });

  it('installs offline into an empty folder with no compiler on PATH', () => {
    const res = npm(['install', tarball, '--prefer-offline', '--no-audit', '--no-fund']);
    expect(res.status, describeRun(res)).to.equal(0);
    expect(readdirSync(installed('prebuilds', target)).filter((f) => f.endsWith('.node'))).to.have.length(1);
    // Whether npm ran our install script (npm < 11) or gated it (npm 11), nothing was compiled.
    expect(existsSync(installed('build')), 'a build/ folder').to.equal(false);
    gated = /install-scripts[^\n]*tweedie|tweedie@[^\n]*install:/.test(res.stdout + res.stderr);
    process.stdout.write(`    (npm ${gated ? 'did not run the install script: npm 11 gates it until approved' : 'ran the install script'})\n`);
  });

  it('runs the example natively from the prebuild, with the same bits as this checkout', () => {
    const got = runExample();
    expect(got.info.backend, got.info.nativeError).to.equal('native');
    expect(got.info.nativeError).to.equal(undefined);
    expect(got.tierA).to.deep.equal(expected.tierA);
    expectClose(got.tierB, expected.tierB);
  });

  it('gives the types to a TypeScript consumer (NodeNext, lib dom, no @types/node)', () => {
    writeFileSync(join(app, 'check.ts'), [
      "import * as tw from 'tweedie';",
      "const info: tw.Info = tw.info();",
      "const backend: 'native' | 'js' = info.backend;",
      "const mix = new tw.GaussianMixture({ dim: 1, means: [0, 1], variances: 0.5 });",
      "const mean: Float64Array = mix.denoise(Float64Array.of(0.5), { alpha: 1, sigma: 0.5 });",
      "const r: Promise<tw.SampleResult> = tw.sample({ model: mix, sampler: 'euler', sigmas: tw.sigmas.karras({ n: 2, sigmaMin: 0.1, sigmaMax: 1 }), x: mean, dim: 1 });",
      'export { backend, r };',
      '',
    ].join('\n'));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const res = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--lib', 'es2023,dom', 'check.ts'], { cwd: app, encoding: 'utf8' });
    expect(res.status, describeRun(res)).to.equal(0);
  });

  it('runs the installed command line', () => {
    const res = spawnSync(process.execPath, [installed('dist', 'cli', 'main.js'), '--version'],
      { cwd: app, encoding: 'utf8', env: cleanEnv({ PATH: bin }) });
    expect(res.status, describeRun(res)).to.equal(0);
    expect(res.stdout.trim()).to.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it('without the prebuild, falls back to the TypeScript backend and says why and what to do', () => {
    renameSync(installed('prebuilds'), join(work, 'prebuilds-aside'));
    const got = runExample();
    expect(got.info.backend).to.equal('js');
    expect(got.info.nativeError).to.match(/No native build was found/);
    expect(got.info.nativeError).to.match(/not compiled at install/);
    expect(got.info.nativeError).to.match(/npm install-scripts approve tweedie/);
    expect(got.tierA).to.deep.equal(expected.tierA);
    expectClose(got.tierB, expected.tierB);
  });

  it('with its install script approved and no compiler, the rebuild succeeds on the TypeScript backend and records why', () => {
    if (gated) {
      const approve = npm(['install-scripts', 'approve', 'tweedie']);
      expect(approve.status, describeRun(approve)).to.equal(0);
    }
    const res = npm(['rebuild', 'tweedie', '--foreground-scripts']);
    expect(res.status, describeRun(res)).to.equal(0);
    expect(res.stdout + res.stderr).to.match(/could not build the native addon; using the TypeScript backend/);
    expect(readFileSync(installed('build', 'tweedie-install-error.txt'), 'utf8')).to.match(/node-gyp rebuild failed/);
    const got = runExample();
    expect(got.info.backend).to.equal('js');
    expect(got.info.nativeError).to.match(/at install: node-gyp rebuild failed/);
    expect(got.tierA).to.deep.equal(expected.tierA);
  });

  it('with the prebuild back, the approved install script uses it and the backend is native again', () => {
    renameSync(join(work, 'prebuilds-aside'), installed('prebuilds'));
    const res = npm(['rebuild', 'tweedie', '--foreground-scripts']);
    expect(res.status, describeRun(res)).to.equal(0);
    expect(res.stdout + res.stderr).to.match(/using the prebuilt native addon/);
    expect(runExample().info.backend).to.equal('native');
  });
});
