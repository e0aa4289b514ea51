/**
 * The `tweedie` command line, run as a child process from the sources (`node --import tsx
 * src/cli/main.ts`, no build needed): every command with small sizes, --json, --help, the plots
 * (well-formed SVG with the expected marks), exit codes 0 / 1 / 2 and one-line errors.
 * All processes run in `before`, three at a time, so the file stays fast.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { GaussianMixture } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: readonly string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A parsed XML node of fast-xml-parser's preserveOrder form. */
type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/** Parses an SVG document, failing the test unless it is well-formed XML with an <svg> root. */
function parseSvg(text: string): XmlNode[] {
  const valid = XMLValidator.validate(text);
  expect(valid, `SVG is not well-formed: ${JSON.stringify(valid)}`).to.equal(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true }).parse(text) as XmlNode[];
  const root = doc.find((n) => 'svg' in n);
  expect(root, 'no <svg> root element').to.not.equal(undefined);
  return doc;
}

/** Every element as [tag, attributes, children]. */
function* elements(nodes: XmlNode[]): Generator<[string, Record<string, string>, XmlNode[]]> {
  for (const n of nodes) {
    for (const tag of Object.keys(n)) {
      if (tag === ':@' || tag === '#text') continue;
      const children = n[tag] as XmlNode[];
      yield [tag, n[':@'] ?? {}, children];
      if (Array.isArray(children)) yield* elements(children);
    }
  }
}

/** The <g> mark groups whose class starts with `prefix`, with their child element count. */
function markGroups(doc: XmlNode[], prefix: string): Array<{ cls: string; children: XmlNode[] }> {
  const out: Array<{ cls: string; children: XmlNode[] }> = [];
  for (const [tag, attrs, children] of elements(doc)) {
    if (tag === 'g' && typeof attrs.class === 'string' && attrs.class.startsWith(prefix)) {
      out.push({ cls: attrs.class, children: children.filter((c) => Object.keys(c).some((k) => k !== ':@' && k !== '#text')) });
    }
  }
  return out;
}

/** A one-line error: exactly one line on stderr, prefixed, and no stack trace. */
function expectOneLineError(r: Result): void {
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^tweedie: \S/);
  expect(r.stderr).to.not.match(/\n\s+at |Error:|\.ts:\d+/);
}

describe('tweedie command line', function () {
  this.timeout(120000);
  const dir = mkdtempSync(join(tmpdir(), 'tweedie-cli-'));
  const file = (name: string): string => join(dir, name);
  const cases: Record<string, readonly string[]> = {};
  const results: Record<string, Result> = {};
  const mixtureJson = file('ring8.json');

  // Every case by name; they all run in `before`.
  Object.assign(cases, {
    help: ['--help'],
    noCommand: [],
    version: ['--version'],
    helpCompare: ['compare', '--help'],
    helpSample: ['sample', '--help'],
    helpPosterior: ['posterior', '--help'],
    helpBench: ['bench', '--help'],
    helpMixtures: ['mixtures', '--help'],
    mixtures: ['mixtures'],
    mixturesJson: ['mixtures', '--json'],
    compareJson: ['compare', '--n', '256', '--steps', '2,4', '--samplers', 'euler,heun', '--directions', '16', '--json',
      '--plot', file('compare.svg')],
    compareText: ['compare', '--mixture', mixtureJson, '--n', '64', '--steps', '3', '--samplers', 'dpmpp-2m,euler-ancestral',
      '--directions', '8', '--no-reference'],
    sampleCsv: ['sample', '--n', '200', '--steps', '3', '--sampler', 'euler', '--out', file('s.csv'), '--plot', file('s.svg')],
    sampleJson: ['sample', '--mixture', 'gauss16', '--n', '50', '--steps', '2', '--out', file('s.json'), '--json'],
    sampleStdout: ['sample', '--mixture', 'cube64', '--n', '5', '--steps', '2', '--out', '-'],
    posteriorJson: ['posterior', '--n', '128', '--levels', '3', '--step-count', '3', '--directions', '8', '--json',
      '--plot', file('p.svg')],
    badFlag: ['compare', '--bogus'],
    badValue: ['compare', '--n', 'abc'],
    badSampler: ['sample', '--sampler', 'nope'],
    badCommand: ['frobnicate'],
    missingFile: ['compare', '--mixture', file('missing.json')],
    badJson: ['compare', '--mixture', file('bad.json')],
    unwritable: ['sample', '--n', '10', '--steps', '2', '--no-measure', '--out', join(dir, 'no-such-dir', 'x.csv')],
  });

  before(async function () {
    writeFileSync(mixtureJson, JSON.stringify(new GaussianMixture({
      dim: 2, means: [-1, 0, 1, 0], variances: 0.04,
    }).toJSON()));
    writeFileSync(file('bad.json'), '{"format": ');
    const names = Object.keys(cases);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const name = names[next++];
        results[name] = await runCli(cases[name]);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('help and version', () => {
    it('--help lists every command and the exit codes (exit 0)', () => {
      const r = results.help;
      expect(r.code).to.equal(0);
      for (const c of ['compare', 'sample', 'posterior', 'bench', 'mixtures']) expect(r.stdout).to.include(c);
      expect(r.stdout).to.include('Exit codes');
    });

    it('every command has --help (exit 0)', () => {
      for (const c of ['Compare', 'Sample', 'Posterior', 'Bench', 'Mixtures']) {
        const r = results[`help${c}`];
        expect(r.code, c).to.equal(0);
        expect(r.stdout).to.include(`Usage: tweedie ${c.toLowerCase()}`);
      }
      expect(results.helpCompare.stdout).to.include('--plot');
      expect(results.helpCompare.stdout).to.include('Sliced W2');
    });

    it('no command prints the help on stderr with exit 2; --version prints the version', () => {
      expect(results.noCommand.code).to.equal(2);
      expect(results.noCommand.stderr).to.include('Usage: tweedie');
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(results.version.code).to.equal(0);
      expect(results.version.stdout.trim()).to.equal(pkg.version);
    });
  });

  describe('mixtures', () => {
    it('lists the built-ins', () => {
      const r = results.mixtures;
      expect(r.code).to.equal(0);
      for (const m of ['ring8', 'grid25', 'spiral', 'gauss16', 'cube64']) expect(r.stdout).to.match(new RegExp(`^${m}\\s`, 'm'));
    });

    it('--json gives each as GaussianMixture JSON that loads back', () => {
      const list = JSON.parse(results.mixturesJson.stdout) as Array<{ name: string; mixture: unknown }>;
      expect(list.map((m) => m.name)).to.deep.equal(['ring8', 'grid25', 'spiral', 'gauss16', 'cube64']);
      const dims = list.map((m) => GaussianMixture.fromJSON(m.mixture)).map((m) => [m.dim, m.components]);
      expect(dims).to.deep.equal([[2, 8], [2, 25], [2, 200], [16, 4], [3, 64]]);
    });
  });

  describe('compare', () => {
    it('--json: one row per sampler and step count, with NFE, sliced W2 and the floor', () => {
      const r = results.compareJson;
      expect(r.code, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout) as {
        n: number; exact: { sw2: number }; rows: Array<{ sampler: string; steps: number; nfe: number; sw2: number;
          nearestMode: number; odeError: number | null }>;
      };
      expect(j.n).to.equal(256);
      expect(j.rows.map((x) => [x.sampler, x.steps, x.nfe])).to.deep.equal([['euler', 2, 2], ['euler', 4, 4], ['heun', 2, 3], ['heun', 4, 7]]);
      for (const row of j.rows) {
        expect(row.sw2).to.be.a('number').and.be.greaterThan(0);
        expect(Number.isFinite(row.sw2)).to.equal(true);
        expect(row.nearestMode).to.be.greaterThan(0);
        expect(row.odeError).to.be.a('number').and.be.greaterThan(0);
      }
      expect(j.exact.sw2).to.be.greaterThan(0);
      // More steps bring Euler closer to the ODE solution.
      expect(j.rows[1].odeError!).to.be.lessThan(j.rows[0].odeError!);
    });

    it('--plot: a log-log SVG with one line per sampler and one point per run', () => {
      const doc = parseSvg(readFileSync(file('compare.svg'), 'utf8'));
      const sw2Lines = markGroups(doc, 'mark-line role-mark concat_0_');
      expect(sw2Lines).to.have.length(2);
      for (const g of sw2Lines) expect(g.children).to.have.length(1);
      const points = markGroups(doc, 'mark-symbol role-mark concat_0_');
      expect(points).to.have.length(1);
      expect(points[0].children).to.have.length(4);
      expect(markGroups(doc, 'mark-line role-mark concat_1_')).to.have.length(2);
      expect(markGroups(doc, 'mark-rule role-mark concat_0_')).to.have.length(1);
      const text = readFileSync(file('compare.svg'), 'utf8');
      for (const s of ['euler', 'heun', 'NFE (model evaluations)', 'Sliced W2 to exact draws']) expect(text).to.include(s);
      expect(markGroups(doc, 'mark-group role-legend').filter((g) => g.cls === 'mark-group role-legend')).to.have.length(1);
    });

    it('prints tables for a mixture loaded from a JSON file', () => {
      const r = results.compareText;
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include(`tweedie compare: ${mixtureJson} (2-D, 2 components)`);
      expect(r.stdout).to.match(/^dpmpp-2m\s+\S+ \(3\)/m);
      expect(r.stdout).to.match(/^euler-ancestral\s+\S+ \(3\)/m);
      expect(r.stdout).to.match(/^exact draws\s+\d/m);
      expect(r.stdout).to.include('nearest component mean');
      expect(r.stdout).to.not.include('exact ODE solution');
    });
  });

  describe('sample', () => {
    it('writes CSV and a scatter plot with the samples, the means and the density contours', () => {
      const r = results.sampleCsv;
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/NFE 3/);
      expect(r.stdout).to.match(/sliced W2 to 200 exact draws: \S+/);
      const lines = readFileSync(file('s.csv'), 'utf8').trimEnd().split('\n');
      expect(lines[0]).to.equal('x0,x1');
      expect(lines).to.have.length(201);
      for (const l of lines.slice(1)) expect(l.split(',').map(Number).every(Number.isFinite)).to.equal(true);
      const doc = parseSvg(readFileSync(file('s.svg'), 'utf8'));
      const circles = markGroups(doc, 'mark-symbol role-mark layer_1');
      expect(circles).to.have.length(1);
      expect(circles[0].children).to.have.length(200);
      const means = markGroups(doc, 'mark-symbol role-mark layer_2');
      expect(means[0].children).to.have.length(8);
      // Contour rings: 3 levels around each of the 8 modes.
      expect(markGroups(doc, 'mark-line role-mark layer_0').length).to.be.at.least(8);
    });

    it('--json summary and .json samples', () => {
      const r = results.sampleJson;
      expect(r.code, r.stderr).to.equal(0);
      const s = JSON.parse(r.stdout) as { sampler: string; nfe: number; dim: number; sw2: number };
      expect(s).to.include({ sampler: 'dpmpp-2m', nfe: 2, dim: 16 });
      const f = JSON.parse(readFileSync(file('s.json'), 'utf8')) as { samples: number[][] };
      expect(f.samples).to.have.length(50);
      expect(f.samples[0]).to.have.length(16);
    });

    it("--out - writes CSV on stdout only", () => {
      const r = results.sampleStdout;
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).to.equal('x0,x1,x2');
      expect(lines).to.have.length(6);
    });
  });

  describe('posterior', () => {
    it('--json: entropy and variance per level, one-step errors per step size; --plot', () => {
      const r = results.posteriorJson;
      expect(r.code, r.stderr).to.equal(0);
      const p = JSON.parse(r.stdout) as {
        levels: Array<{ sigma: number; entropy: number; variance: number }>;
        steps: Array<{ from: number; gaussian: number; ddpm: number; ddim: number; floor: number }>;
      };
      expect(p.levels).to.have.length(3);
      for (const l of p.levels) {
        expect(l.entropy).to.be.at.least(0).and.at.most(Math.log(8) + 1e-9);
        expect(l.variance).to.be.greaterThan(0);
      }
      // Noise makes the posterior spread out over the components.
      expect(p.levels[2].entropy).to.be.greaterThan(p.levels[0].entropy);
      expect(p.steps).to.have.length(3);
      for (const s of p.steps) for (const v of [s.gaussian, s.ddpm, s.ddim, s.floor]) expect(v).to.be.greaterThan(0);
      // The thesis: one Gaussian step from far away is much worse than from close by.
      expect(p.steps[2].gaussian).to.be.greaterThan(p.steps[0].gaussian * 3);
      const doc = parseSvg(readFileSync(file('p.svg'), 'utf8'));
      expect(markGroups(doc, 'mark-line role-mark concat_2_')).to.have.length(4);
      expect(markGroups(doc, 'mark-line role-mark concat_0_')).to.have.length(1);
    });
  });

  describe('errors', () => {
    it('usage errors exit 2 with one line and no stack trace', () => {
      for (const name of ['badFlag', 'badValue', 'badSampler', 'badCommand', 'missingFile', 'badJson']) {
        const r = results[name];
        expect(r.code, `${name}: ${r.stderr}`).to.equal(2);
        expectOneLineError(r);
        expect(r.stdout, name).to.equal('');
      }
      expect(results.badFlag.stderr).to.include("unknown option '--bogus'");
      expect(results.badSampler.stderr).to.include('dpmpp-2m');
      expect(results.missingFile.stderr).to.include('ENOENT');
    });

    it('a run failure (unwritable --out) exits 1 with one line', () => {
      const r = results.unwritable;
      expect(r.code).to.equal(1);
      expectOneLineError(r);
      expect(r.stderr).to.include('cannot write');
    });
  });
});
