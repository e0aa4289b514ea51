/**
 * posteriorAsync / denoiseAsync: the same bits as the synchronous calls, inputs snapshotted at
 * the call, bad input rejected like the synchronous API, and the event loop keeps serving
 * timers during a long call (native: the libuv pool; js backend: a worker thread).
 */
import { expect } from 'chai';
import * as tw from '../src/index.js';
import { jsKernels } from '../src/js/index.js';
import { mixturePosteriorInWorker } from '../src/js/mixture.js';
import type { FloatArray } from '../src/types.js';

const ALL = { responsibilities: true, mean: true, score: true, logDensity: true, entropy: true, variance: true } as const;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}

function bits(a: FloatArray): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

describe(`GaussianMixture async (${tw.backend()} backend)`, () => {
  const rand = lcg(8);
  const dim = 5;
  const K = 7;
  const means = Array.from({ length: K * dim }, () => 4 * rand() - 2);
  const mix = new tw.GaussianMixture({ dim, means, weights: Array.from({ length: K }, rand), variances: means.map(() => 0.05 + rand()) });
  const x = Float64Array.from({ length: 9 * dim }, () => 5 * rand() - 2.5);
  const level = { alpha: 0.9, sigma: Array.from({ length: 9 }, () => 0.05 + rand()) };

  it('posteriorAsync and denoiseAsync give the bits of the synchronous calls (float64, float32, given outputs)', async () => {
    for (const arr of [x, Float32Array.from(x)]) {
      const sync = mix.posterior(arr, level, ALL);
      const got = await mix.posteriorAsync(arr, level, ALL);
      for (const key of Object.keys(ALL) as Array<keyof typeof ALL>) {
        expect(got[key].constructor, key).to.equal(arr.constructor);
        expect(bits(got[key]), key).to.deep.equal(bits(sync[key]));
      }
      const mean = new (arr.constructor as new (n: number) => FloatArray)(arr.length);
      const some = await mix.posteriorAsync(arr, level, { mean, entropy: true });
      expect(Object.keys(some).sort()).to.deep.equal(['entropy', 'mean']);
      expect(some.mean).to.equal(mean);
      expect(bits(mean)).to.deep.equal(bits(sync.mean));
      const d = await mix.denoiseAsync(arr, level);
      expect(bits(d)).to.deep.equal(bits(mix.denoise(arr, level)));
      const out = new (arr.constructor as new (n: number) => FloatArray)(arr.length);
      expect(await mix.denoiseAsync(arr, level, out)).to.equal(out);
      expect(bits(out)).to.deep.equal(bits(d));
    }
    const defaults = await mix.posteriorAsync(x, level);
    expect(Object.keys(defaults).sort()).to.deep.equal(['entropy', 'logDensity', 'mean', 'score', 'variance']);
  });

  it('snapshots x when called: changing it before the promise settles changes nothing', async () => {
    const copy = Float64Array.from(x);
    const want = mix.posterior(copy, level, { mean: true }).mean;
    const promise = mix.posteriorAsync(copy, level, { mean: true });
    copy.fill(1e3);
    expect(bits((await promise).mean)).to.deep.equal(bits(want));
  });

  it('rejects bad input with the errors of the synchronous API, writing nothing', async () => {
    const out = new Float64Array(x.length).fill(7);
    for (const [call, cls, name] of [
      [() => mix.posteriorAsync(x, { alpha: 1, sigma: 0 }, { mean: out }), RangeError, 'sigma'],
      [() => mix.posteriorAsync(x, level, { bogus: true } as never), TypeError, 'want.bogus'],
      [() => mix.posteriorAsync(Float64Array.of(1, 2), level), RangeError, 'x'],
      [() => mix.denoiseAsync(x, level, new Float64Array(3)), RangeError, 'out.length'],
    ] as Array<[() => Promise<unknown>, typeof Error, string]>) {
      let caught: unknown;
      try {
        await call();
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(cls);
      expect((caught as { code?: string }).code).to.equal(tw.ERR_INVALID_ARG);
      expect((caught as Error).message).to.include(name);
    }
    expect(out.every((v) => v === 7)).to.equal(true);
  });

  it('the TypeScript twin in its worker thread gives the bits of the synchronous twin', async () => {
    const lw = Float64Array.from(mix.weights, Math.log);
    const v = mix.variances;
    const alpha = Float64Array.of(0.9);
    const sigma = Float64Array.from(level.sigma);
    const rows = x.length / dim;
    const lengths = [rows * K, x.length, x.length, rows, rows, rows];
    const got = await mixturePosteriorInWorker(x, dim, mix.means, v, lw, alpha, sigma, lengths);
    const want = lengths.map((n) => new Float64Array(n));
    jsKernels.mixturePosterior(x, dim, mix.means, v, lw, alpha, sigma, want[0], want[1], want[2], want[3], want[4], want[5]);
    want.forEach((w, i) => expect(bits(got[i]!), `output ${i}`).to.deep.equal(bits(w)));
    const partial = await mixturePosteriorInWorker(x, dim, mix.means, v, lw, alpha, sigma, [-1, x.length, -1, -1, -1, -1]);
    expect(partial[0]).to.equal(null);
    expect(bits(partial[1]!)).to.deep.equal(bits(want[1]));
  });

  it('keeps the event loop serving timers during a long call', async () => {
    // About 1e8 distance terms (two passes over batch x K x dim): far longer than one turn of
    // the event loop on any machine, on either backend.
    const bigDim = 256;
    const bigK = 2000;
    const r = lcg(1);
    const big = tw.GaussianMixture.empirical(Float64Array.from({ length: bigK * bigDim }, () => r()), bigDim);
    const xs = Float32Array.from({ length: 100 * bigDim }, () => r());
    let settled = false;
    let ticksWhilePending = 0;
    const timer = setInterval(() => {
      if (!settled) ticksWhilePending++;
    }, 1);
    try {
      const firstTick = new Promise<'tick'>((resolve) => setTimeout(() => resolve('tick'), 0));
      const call = big.posteriorAsync(xs, { alpha: 1, sigma: 0.5 }, { mean: true }).then((res) => {
        settled = true;
        return res;
      });
      // A synchronous implementation would settle before any timer runs.
      expect(await Promise.race([firstTick, call.then(() => 'done' as const)])).to.equal('tick');
      const res = await call;
      expect(ticksWhilePending).to.be.greaterThan(0);
      expect(res.mean.every(Number.isFinite)).to.equal(true);
    } finally {
      clearInterval(timer);
    }
  });
});
