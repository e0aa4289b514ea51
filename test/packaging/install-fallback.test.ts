// The promise to someone without a compiler: `npm install` succeeds, the package runs on the
// TypeScript backend, and tw.info().nativeError says why. Simulated by a copy of the package
// whose install step runs with a C/C++ compiler that always fails.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

describe('install without a working compiler', function () {
  this.timeout(300_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tweedie-nocc-'));
    for (const item of ['package.json', 'binding.gyp', 'native/core', 'native/addon', 'scripts', 'src', 'test', '.mocharc.json', 'tsconfig.json']) {
      cpSync(join(root, item), join(dir, item), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the install step exits 0 and records why the build failed', () => {
    const res = spawnSync(process.execPath, ['scripts/install.cjs'], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, CC: 'false', CXX: 'false' },
    });
    expect(res.status, res.stderr).to.equal(0);
    expect(res.stderr).to.match(/could not build the native addon; using the TypeScript backend/);
    expect(existsSync(join(dir, 'build', 'Release', 'tweedie.node'))).to.equal(false);
    expect(readFileSync(join(dir, 'build', 'tweedie-install-error.txt'), 'utf8')).to.match(/node-gyp rebuild failed/);
  });

  it('the package loads on the TypeScript backend and says why', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '-e',
      "import('./src/index.ts').then((tw) => console.log(JSON.stringify(tw.info())))"],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, TWEEDIE_BACKEND: '' } });
    expect(res.status, res.stderr).to.equal(0);
    const info = JSON.parse(res.stdout.trim()) as { backend: string; nativeError?: string };
    expect(info.backend).to.equal('js');
    expect(info.nativeError).to.match(/No native build was found/);
    expect(info.nativeError).to.match(/at install: node-gyp rebuild failed/);
  });

  it('TWEEDIE_BACKEND=native fails loudly when the addon is missing', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/index.ts')"],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, TWEEDIE_BACKEND: 'native' } });
    expect(res.status).to.not.equal(0);
    expect(res.stderr).to.match(/TWEEDIE_BACKEND=native but the native addon did not load/);
  });

  it('the test suite passes there', () => {
    const specs = ['test/rng.test.ts', 'test/noise.test.ts'].filter((f) => existsSync(join(dir, f)));
    const res = spawnSync(process.execPath, [join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...specs],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, TWEEDIE_BACKEND: '' } });
    expect(res.status, res.stdout + res.stderr).to.equal(0);
    expect(res.stdout).to.match(/\d+ passing/);
  });
});
