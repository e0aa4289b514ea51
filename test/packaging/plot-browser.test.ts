/**
 * A plot of the command line, opened by a real browser: Debian's headless chromium takes a
 * screenshot of the error-vs-NFE SVG, and the screenshot must not be blank (it has dark pixels
 * for axes and text, and coloured pixels for the sampler lines).
 *
 * Chromium is installed with apt-get when it is missing and this runs as root (slow, once per
 * machine; TWEEDIE_NO_APT=1 prevents it; TWEEDIE_CHROMIUM=/path picks a browser binary). Where it
 * cannot be had, the test is skipped and says why.
 * Lives in test/packaging/, which `npm test` runs once, not under every backend.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { PNG } from 'pngjs';
import { compare } from '../../src/cli/compare.js';
import { loadMixture } from '../../src/cli/mixtures.js';
import { compareSpec, renderSvg } from '../../src/cli/plots.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function findChromium(): string | null {
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Finds chromium, installing Debian's package when possible; else the reason it is not there. */
function ensureChromium(): { path: string | null; reason: string } {
  const given = process.env.TWEEDIE_CHROMIUM;
  if (given) return existsSync(given) ? { path: given, reason: '' } : { path: null, reason: `TWEEDIE_CHROMIUM=${given} does not exist` };
  const found = findChromium();
  if (found) return { path: found, reason: '' };
  if (process.env.TWEEDIE_NO_APT) return { path: null, reason: 'chromium is not installed and TWEEDIE_NO_APT is set' };
  if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { path: null, reason: 'chromium is not installed and this is not root on Linux (apt-get install chromium)' };
  }
  if (!existsSync('/usr/bin/apt-get')) return { path: null, reason: 'chromium is not installed and there is no apt-get' };
  process.stdout.write('    (installing chromium with apt-get; this takes a few minutes)\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { encoding: 'utf8', env, timeout: 300000 });
  const install = update.status === 0
    ? spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { encoding: 'utf8', env, timeout: 600000 })
    : update;
  const path = findChromium();
  if (path) return { path, reason: '' };
  const why = (install.stderr || install.stdout || String(install.error ?? '')).trim().split('\n').pop();
  return { path: null, reason: `chromium could not be installed with apt-get (${why || `exit ${install.status}`})` };
}

describe('plots in a headless browser', function () {
  this.timeout(900000);
  let chromium: { path: string | null; reason: string };
  let dir: string;

  before(() => {
    chromium = ensureChromium();
    dir = mkdtempSync(join(tmpdir(), 'tweedie-plot-'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the error-vs-NFE SVG renders to a screenshot that is not blank', async function () {
    if (!chromium.path) {
      process.stdout.write(`    SKIPPED: ${chromium.reason}\n`);
      this.skip();
    }
    const r = await compare({
      mixture: loadMixture('ring8'), samplers: ['euler', 'heun', 'dpmpp-2m'], steps: [2, 4, 8], n: 256, seed: 0,
      directions: 16, reference: false,
    });
    const svgFile = join(dir, 'compare.svg');
    const pngFile = join(dir, 'compare.png');
    writeFileSync(svgFile, await renderSvg(compareSpec(r)));
    const res = spawnSync(chromium.path!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${pngFile}`,
      '--window-size=800,600', `file://${svgFile}`,
    ], { encoding: 'utf8', timeout: 180000 });
    expect(existsSync(pngFile), `no screenshot: exit ${res.status}, ${res.stderr?.slice(-500)}`).to.equal(true);
    const png = PNG.sync.read(readFileSync(pngFile));
    expect(png.width).to.equal(800);
    expect(png.height).to.equal(600);
    let dark = 0;
    let coloured = 0;
    const total = png.width * png.height;
    for (let i = 0; i < total; i++) {
      const [red, green, blue] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2]];
      if (red + green + blue < 3 * 160) dark++;
      if (Math.max(red, green, blue) - Math.min(red, green, blue) > 60) coloured++;
    }
    // Text, axes and grid make dark pixels; the three sampler lines and their points make coloured ones.
    expect(dark / total, 'dark pixels').to.be.greaterThan(0.005);
    expect(coloured, 'coloured pixels').to.be.greaterThan(200);
  });
});
