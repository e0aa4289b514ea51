/**
 * Off-thread execution of the TypeScript mixture posterior on Node.js (the js backend's
 * posteriorAsync and denoiseAsync): the twin runs in a worker_threads Worker whose entry is this
 * module, so the event loop keeps serving timers during a long call. Node-only: the browser
 * platform (browser.ts) has its own mixturePosteriorInWorker.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { mixturePosterior } from '../js/mixture.js';
import type { FloatArray } from '../types.js';

/** One job for the worker: copies of every argument, and which outputs to compute. */
interface WorkerJob {
  id: number;
  x: FloatArray;
  dim: number;
  means: Float64Array;
  variances: Float64Array;
  logWeights: Float64Array;
  alpha: Float64Array;
  sigma: Float64Array;
  /** Per output (responsibilities, mean, score, logDensity, entropy, variance): its length, or -1. */
  lengths: number[];
}

interface WorkerReply {
  id: number;
  outputs?: Array<FloatArray | null>;
  error?: string;
}

const WORKER_TAG = 'tweedie:mixture-worker';

if (!isMainThread && parentPort !== null && (workerData as { tag?: string } | null)?.tag === WORKER_TAG) {
  const port = parentPort;
  port.on('message', (job: WorkerJob) => {
    try {
      const ctor = job.x.constructor as new (n: number) => FloatArray;
      const outs = job.lengths.map((n) => (n < 0 ? null : new ctor(n)));
      mixturePosterior(job.x, job.dim, job.means, job.variances, job.logWeights, job.alpha, job.sigma,
        outs[0], outs[1], outs[2], outs[3], outs[4], outs[5]);
      const reply: WorkerReply = { id: job.id, outputs: outs };
      port.postMessage(reply, outs.filter((o): o is FloatArray => o !== null).map((o) => o.buffer as ArrayBuffer));
    } catch (err) {
      port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
    }
  });
}

let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, { resolve: (o: Array<FloatArray | null>) => void; reject: (e: Error) => void }>();

function getWorker(): Worker {
  if (worker) return worker;
  const self = import.meta.url;
  let w: Worker;
  if (self.endsWith('.ts')) {
    // Running from the TypeScript sources (tests, tsx): Node 20 workers do not inherit the
    // loader hooks of --import, so the worker registers tsx itself before loading this module.
    // (tsx registers its hooks on the main thread only; its ESM api registers them anywhere.)
    const pkgPath = createRequire(self).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
    const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(self)}); })`;
    w = new Worker(code, { eval: true, workerData: { tag: WORKER_TAG } });
  } else {
    w = new Worker(new URL(self), { workerData: { tag: WORKER_TAG } });
  }
  w.on('message', (reply: WorkerReply) => {
    const job = pending.get(reply.id);
    if (!job) return;
    pending.delete(reply.id);
    if (pending.size === 0) w.unref();
    if (reply.error !== undefined) job.reject(new Error(`mixture worker: ${reply.error}`));
    else job.resolve(reply.outputs ?? []);
  });
  const fail = (err: Error): void => {
    worker = null;
    for (const job of pending.values()) job.reject(err);
    pending.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`mixture worker exited with code ${code}`)));
  w.unref();
  worker = w;
  return w;
}

/**
 * mixturePosterior in a worker thread: the arguments are copied when it is called; resolves to
 * the outputs (new arrays of x's dtype, null where `lengths[i] < 0`). Idle, the worker does not
 * keep the process alive.
 */
export function mixturePosteriorInWorker(x: FloatArray, dim: number, means: Float64Array, variances: Float64Array,
  logWeights: Float64Array, alpha: Float64Array, sigma: Float64Array, lengths: number[]): Promise<Array<FloatArray | null>> {
  const w = getWorker();
  const id = nextId++;
  const job: WorkerJob = { id, x, dim, means, variances, logWeights, alpha, sigma, lengths };
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    w.postMessage(job);
  });
}
