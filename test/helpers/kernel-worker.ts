// Runs every native kernel on its own data inside a worker thread and compares it with the
// TypeScript twin; posts { ok, checked } or { ok: false, error }.
import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../../src/backend.js';
import { jsKernels } from '../../src/js/index.js';
import type { FloatArray, Kernels } from '../../src/types.js';

const { seed, rounds } = workerData as { seed: number; rounds: number };
const same = (a: FloatArray, b: FloatArray): boolean => Buffer.compare(
  Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

function run(k: Kernels, r: number): FloatArray[] {
  const dim = 7 + (r % 5);
  const rows = 50 + seed;
  const x = new Float64Array(rows * dim).map((_, i) => Math.sin(i + seed + r));
  const y = new Float32Array(rows * dim).map((_, i) => Math.cos(i * 0.3 + seed));
  const a = Float64Array.of(0.8);
  const c = Float64Array.from({ length: rows }, (_, i) => 0.1 + i / rows);
  const normals = new Float32Array(10_000 + r);
  k.normalFill(normals, seed, 0, r, 0, 3, 0);
  const comb = new Float64Array(x.length);
  k.combine2(comb, x, x.slice(), dim, a, c);
  const noisy = new Float32Array(y.length);
  const eps = new Float32Array(y.length);
  k.addNoise(noisy, eps, y, dim, a, c, seed, r, null);
  const step = new Float64Array(x.length);
  k.lincomb(step, dim, [x, comb], Float64Array.of(0.5, -2, 0.25), false, Uint32Array.of(seed, 0, 0x10000001), null);
  const block = new Uint32Array(4);
  k.philox4x32(Uint32Array.of(r, seed, 1, 2), Uint32Array.of(seed, 9), block);
  return [normals, comb, noisy, eps, step, new Float64Array(block)];
}

try {
  const nat = native();
  if (!nat) throw new Error('the addon did not load in the worker');
  let checked = 0;
  for (let r = 0; r < rounds; r++) {
    const want = run(jsKernels, r);
    const got = run(nat, r);
    want.forEach((w, i) => {
      if (!same(w, got[i])) throw new Error(`round ${r}: output ${i} differs from the TypeScript twin`);
      checked++;
    });
  }
  parentPort?.postMessage({ ok: true, checked });
} catch (err) {
  parentPort?.postMessage({ ok: false, error: String((err as Error).stack ?? err) });
}
