#!/usr/bin/env node
// `npm run prebuilds`: the N-API prebuild for this platform, prebuilds/<platform>-<arch>/tweedie[.glibc].node,
// made by prebuildify (--napi --strip --tag-libc) and loaded by node-gyp-build wherever no build/ exists
// (an installed package). One N-API binary serves every Node version the package supports.
//
// - It compiles a copy of binding.gyp and native/{core,addon} in a temporary folder, so the
//   development build in build/ is neither wiped nor replaced.
// - It builds against the headers of the running Node when they are installed beside it (or
//   where npm's `nodedir` points), so no header download is needed.
// - It keeps a copy of what it made in .cache/prebuild-<platform>-<arch>/ with a hash of the
//   sources, and reuses that copy instead of compiling when the sources are the same; `--force`
//   compiles anyway. (The cache is not under prebuilds/, where node-gyp-build would load it.)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const force = process.argv.includes('--force');
const SOURCES = ['binding.gyp', 'native/core', 'native/addon'];
const target = `${process.platform}-${process.arch}`;
const outDir = join(root, 'prebuilds', target);
const cacheDir = join(root, '.cache', `prebuild-${target}`);
const stampFile = join(cacheDir, 'stamp.json');

function filesUnder(rel) {
  const abs = join(root, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(root, join(d.parentPath ?? d.path, d.name)))
    .sort();
}

/** Hash of everything the binary is made from: the sources, node-addon-api and the compile settings. */
function sourceHash() {
  const h = createHash('sha256');
  for (const file of SOURCES.flatMap(filesUnder)) {
    h.update(`${file}\0`);
    h.update(readFileSync(join(root, file)));
  }
  h.update(`node-addon-api ${require('node-addon-api/package.json').version}\0napi --strip --tag-libc\0${target}`);
  return h.digest('hex');
}

function builtFiles(dir = outDir) {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
}

const hash = sourceHash();
if (!force && existsSync(stampFile) && builtFiles(cacheDir).length) {
  let cached = false;
  try {
    cached = JSON.parse(readFileSync(stampFile, 'utf8')).hash === hash;
  } catch {
    // a broken stamp: compile
  }
  if (cached) {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    for (const f of builtFiles(cacheDir)) cpSync(join(cacheDir, f), join(outDir, f));
    console.log(`prebuild: prebuilds/${target}/${builtFiles().join(', ')} from the cache (same sources)`);
    process.exit(0);
  }
}

// Headers: npm's nodedir (npm sets npm_config_nodedir for its scripts), else the ones installed
// beside this Node (e.g. /usr/include/node), else node-gyp downloads them.
const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
}

const stage = mkdtempSync(join(tmpdir(), 'tweedie-prebuild-'));
let status = 1;
try {
  for (const item of [...SOURCES, 'package.json']) cpSync(join(root, item), join(stage, item), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  rmSync(outDir, { recursive: true, force: true });
  const prebuildify = require.resolve('prebuildify/bin.js');
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  // --target: the running Node, whose headers are the local ones (an N-API build runs on any
  // later Node too); --tag-libc: the file is tweedie.glibc.node on Linux, which node-gyp-build
  // (and so scripts/install.cjs) does not take for a musl system; --node-gyp: our node-gyp,
  // whatever npm put first on PATH.
  const args = [prebuildify, '--napi', '--strip', '--tag-libc', `--target=node@${process.versions.node}`, '--out', root,
    '--node-gyp', nodeGyp, '--cache', join(stage, '.node-gyp')];
  console.log(`prebuild: prebuildify ${args.slice(1).join(' ')} (in ${stage}${env.npm_config_nodedir ? `, nodedir ${env.npm_config_nodedir}` : ''})`);
  env.PREBUILD_NODE_GYP = nodeGyp;
  env.JOBS ??= 'max'; // node-gyp: make -j<cores>
  const res = spawnSync(process.execPath, args, { cwd: stage, env, stdio: 'inherit' });
  status = res.status ?? 1;
  if (res.error) console.error(res.error.message);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
if (status !== 0 || builtFiles().length === 0) {
  console.error('prebuild: failed');
  process.exit(status || 1);
}
rmSync(cacheDir, { recursive: true, force: true });
mkdirSync(cacheDir, { recursive: true });
for (const f of builtFiles()) cpSync(join(outDir, f), join(cacheDir, f));
writeFileSync(stampFile, `${JSON.stringify({ hash, files: builtFiles() })}\n`);
console.log(`prebuild: wrote prebuilds/${target}/${builtFiles().join(', ')}`);
