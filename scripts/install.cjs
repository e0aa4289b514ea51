#!/usr/bin/env node
// Install step: use a prebuilt addon if one matches, else compile from binding.gyp. A failed
// compile never fails the install: the package then runs on its TypeScript backend, and the
// reason is kept in build/tweedie-install-error.txt for tw.info().nativeError.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const errorFile = path.join(root, 'build', 'tweedie-install-error.txt');

// A binary under prebuilds/ for this platform (a stale build/ from a checkout does not count).
function prebuildFound() {
  try {
    return path.relative(root, require('node-gyp-build').path(root)).startsWith('prebuilds');
  } catch {
    return false;
  }
}

function nodeGypCommand() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return [process.execPath, [fromNpm]];
  try {
    return [process.execPath, [require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] })]];
  } catch {
    return ['node-gyp', []];
  }
}

function fail(reason) {
  fs.mkdirSync(path.dirname(errorFile), { recursive: true });
  fs.writeFileSync(errorFile, reason);
  console.warn(`tweedie: could not build the native addon; using the TypeScript backend.\n  ${reason.split('\n').join('\n  ')}`);
  process.exit(0);
}

if (process.env.TWEEDIE_SKIP_BUILD) {
  fail('native build skipped (TWEEDIE_SKIP_BUILD is set)');
}
if (prebuildFound()) {
  console.log('tweedie: using the prebuilt native addon');
  process.exit(0);
}
// Build against the headers of the running Node when they are installed beside it, so no
// header download is needed (npm passes its own nodedir setting through the environment).
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.join(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const [cmd, args] = nodeGypCommand();
const res = spawnSync(cmd, [...args, 'rebuild', ...nodedirArgs()], { cwd: root, encoding: 'utf8', env: process.env });
if (res.error || res.status !== 0) {
  const output = `${res.stdout || ''}${res.stderr || ''}`.trim().split('\n');
  const tail = output.filter((l) => /error|not found|ENOENT/i.test(l)).slice(-6);
  const why = res.error ? res.error.message : (tail.length ? tail : output.slice(-6)).join('\n');
  fail(`node-gyp rebuild failed (exit ${res.status ?? 'none'}):\n${why}`);
}
try {
  fs.rmSync(errorFile, { force: true });
} catch {
  // nothing to clean
}
console.log('tweedie: native addon built');
