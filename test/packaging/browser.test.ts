/**
 * The browser entry: a page bundles the packaging example (test/packaging/fixtures/example.mjs:
 * noising, a mixture posterior, sampler runs) with esbuild for the browser (`conditions:
 * ['browser']`), importing 'tweedie' through the package's exports, and headless chromium runs it.
 * The page writes its results into the DOM (`--dump-dom`); they must match the same computation
 * in this Node process: bit for bit in tier A, within 1e-9 in tier B. The backend there is 'js',
 * and info().nativeError says it is the browser build.
 *
 * The package under test is a copy of package.json with dist/browser.js freshly built from src/
 * (scripts/build-browser.mjs), nothing else: were the "browser" condition missing, the bundler
 * would look for dist/index.js and fail.
 *
 * Chromium is installed with apt-get when it is missing and this runs as root (TWEEDIE_NO_APT=1
 * prevents it; TWEEDIE_CHROMIUM=/path picks a browser binary); where it cannot be had, the page
 * test is skipped and says why. Lives in test/packaging/, which `npm test` runs once.
 */
import { expect } from 'chai';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as tw from '../../src/index.js';
import { expectClose } from './fixtures/compare.js';
import { example, type ExampleResult } from './fixtures/example.mjs';

const root = join(import.meta.dirname, '..', '..');
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Finds chromium, installing Debian's package when possible; else the reason it is not there. */
function ensureChromium(): { path: string | null; reason: string } {
  const given = process.env.TWEEDIE_CHROMIUM;
  if (given) return existsSync(given) ? { path: given, reason: '' } : { path: null, reason: `TWEEDIE_CHROMIUM=${given} does not exist` };
  const found = (): string | null => CANDIDATES.find((p) => existsSync(p)) ?? null;
  if (found()) return { path: found(), reason: '' };
  if (process.env.TWEEDIE_NO_APT) return { path: null, reason: 'chromium is not installed and TWEEDIE_NO_APT is set' };
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    return { path: null, reason: 'chromium is not installed and cannot be installed here (needs root and apt-get: apt-get install chromium)' };
  }
  process.stdout.write('    (installing chromium with apt-get; this takes a few minutes)\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { encoding: 'utf8', env, timeout: 300_000 });
  const install = update.status === 0
    ? spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { encoding: 'utf8', env, timeout: 600_000 })
    : update;
  if (found()) return { path: found(), reason: '' };
  const why = (install.stderr || install.stdout || String(install.error ?? '')).trim().split('\n').pop();
  return { path: null, reason: `chromium could not be installed with apt-get (${why || `exit ${install.status}`})` };
}

/** The text of the page's <pre id="out">, from chromium's --dump-dom. */
function outputOf(html: string): string | null {
  const m = /<pre id="out">([\s\S]*?)<\/pre>/.exec(html);
  if (!m) return null;
  return m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

describe('the browser entry in headless chromium', function () {
  this.timeout(900_000);
  let dir = '';
  let bundle = '';
  let expected: ExampleResult;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tweedie-browser-'));
    const pkg = join(dir, 'node_modules', 'tweedie');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
    const res = spawnSync(process.execPath, [join(root, 'scripts', 'build-browser.mjs'), join(pkg, 'dist', 'browser.js')],
      { encoding: 'utf8' });
    expect(res.status, `${res.stdout}${res.stderr}`).to.equal(0);
    copyFileSync(join(import.meta.dirname, 'fixtures', 'example.mjs'), join(dir, 'example.mjs'));
    writeFileSync(join(dir, 'entry.mjs'), [
      "import * as tw from 'tweedie';",
      "import { example } from './example.mjs';",
      "const out = document.getElementById('out');",
      'example(tw).then((r) => { out.textContent = JSON.stringify(r); },',
      '  (e) => { out.textContent = JSON.stringify({ error: String((e && e.stack) || e) }); });',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'index.html'),
      '<!doctype html>\n<html><head><meta charset="utf-8"><title>tweedie</title></head>\n' +
      '<body><pre id="out">pending</pre><script src="bundle.js"></script></body></html>\n');
    expected = await example(tw);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('esbuild bundles the example for the browser from the "browser" export, with no Node module in it', async () => {
    const result = await build({
      entryPoints: [join(dir, 'entry.mjs')], outfile: join(dir, 'bundle.js'), bundle: true, format: 'iife',
      platform: 'browser', conditions: ['browser'], target: 'es2022', metafile: true, logLevel: 'silent', absWorkingDir: dir,
    });
    const inputs = Object.keys(result.metafile.inputs).map((f) => relative(dir, join(dir, f)));
    expect(inputs).to.include(join('node_modules', 'tweedie', 'dist', 'browser.js'));
    bundle = readFileSync(join(dir, 'bundle.js'), 'utf8');
    expect(bundle).to.not.match(/\bnode:[a-z_]+|node-gyp-build|worker_threads|\brequire\(/);
  });

  it('runs in chromium on the TypeScript backend, with the same results as Node', function () {
    if (!bundle) this.skip();
    const chromium = ensureChromium();
    if (!chromium.path) {
      process.stdout.write(`    SKIPPED: ${chromium.reason}\n`);
      this.skip();
    }
    // --virtual-time-budget: the page's timers (posteriorAsync yields once) run before the DOM is dumped.
    const res = spawnSync(chromium.path!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--virtual-time-budget=30000',
      '--dump-dom', `file://${join(dir, 'index.html')}`,
    ], { encoding: 'utf8', timeout: 180_000, maxBuffer: 16 << 20 });
    const text = outputOf(res.stdout ?? '');
    expect(text, `no output from the page: exit ${res.status}, ${(res.stderr ?? '').slice(-800)}`).to.not.equal(null);
    expect(text, 'the page did not finish').to.not.equal('pending');
    const got = JSON.parse(text!) as ExampleResult & { error?: string };
    expect(got.error, 'the page threw').to.equal(undefined);
    expect(got.info.backend).to.equal('js');
    expect(got.info.simd).to.equal('none');
    expect(got.info.version).to.equal(expected.info.version);
    expect(got.info.nativeError).to.match(/browser build/);
    expect(got.tierA).to.deep.equal(expected.tierA);
    expectClose(got.tierB, expected.tierB);
  });
});
