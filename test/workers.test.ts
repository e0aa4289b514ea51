import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { native } from '../src/backend.js';

const entry = new URL('./helpers/ts-worker.mjs', import.meta.url);
const body = new URL('./helpers/kernel-worker.ts', import.meta.url).href;
const start = (seed: number, rounds: number): Worker => new Worker(entry, { workerData: { module: body, seed, rounds } });

describe('worker threads', function () {
  this.timeout(120_000);

  it('the addon loads in the main thread and in 4 workers at once, each matching the TypeScript twin', async function () {
    if (!native()) this.skip();
    const results = await Promise.all([1, 2, 3, 4].map((seed) => new Promise<{ ok: boolean; checked?: number; error?: string }>(
      (resolve, reject) => {
        const w = start(seed, 6);
        w.once('message', resolve);
        w.once('error', reject);
      })));
    for (const r of results) {
      expect(r.error ?? '').to.equal('');
      expect(r.ok).to.equal(true);
      expect(r.checked).to.equal(36);
    }
    // the main thread's addon is still fine
    const out = new Float64Array(8);
    native()!.normalFill(out, 1, 0, 0, 0, 0, 0);
    expect(out.every(Number.isFinite)).to.equal(true);
  });

  it('terminating a worker in the middle of its work does not crash the process', async function () {
    if (!native()) this.skip();
    for (let k = 0; k < 4; k++) {
      const w = start(10 + k, 1000);
      await new Promise((r) => setTimeout(r, 150 + 50 * k));
      const code = await w.terminate();
      expect(code).to.equal(1);
    }
    const survivor = await new Promise<{ ok: boolean }>((resolve, reject) => {
      const w = start(20, 2);
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(survivor.ok).to.equal(true);
  });
});
