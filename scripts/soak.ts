// `npm run soak [-- calls]`: calls every public kernel many times (default 1e5 each, small
// arrays), sync and async, and reports resident memory after a warm-up and at the end, so a
// leak shows as growth. Also fires 32 concurrent async calls while a 1 ms timer runs and
// reports the worst timer delay. Prints figures; asserts nothing about time.
import { performance } from 'node:perf_hooks';
import * as tw from '../src/index.js';

const calls = Number(process.argv[2] ?? 1e5);
const mb = (): number => process.memoryUsage().rss / 2 ** 20;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

const dim = 16;
const x32 = new Float32Array(8 * dim).map((_, i) => Math.sin(i));
const x64 = Float64Array.from(x32);
const eps = new Float32Array(x32.length);
const out32 = new Float32Array(x32.length);
const mix = new tw.GaussianMixture({ dim, means: new Float64Array(4 * dim).map((_, i) => Math.cos(i)), variances: 0.3 });
const sigmas = tw.sigmas.karras({ n: 3, sigmaMin: 0.1, sigmaMax: 10 });

const families: Array<[string, (i: number) => unknown]> = [
  ['randomNormal', (i) => tw.randomNormal(out32, { seed: i, stream: 3 })],
  ['addNoise seed', (i) => tw.addNoise(x32, { dim, alpha: 0.9, sigma: 0.4, seed: i, out: out32, epsOut: eps })],
  ['addNoise eps', () => tw.addNoise(x32, { dim, alpha: 0.9, sigma: 0.4, eps, out: out32 })],
  ['convertPrediction', () => tw.convertPrediction(x32, { from: 'eps', to: 'v', x: eps, dim, alpha: 0.8, sigma: 0.6, out: out32 })],
  ['posterior', () => mix.posterior(x64, { alpha: 0.8, sigma: 0.6 }, { mean: true, logDensity: true, responsibilities: true })],
  ['sampleSync', (i) => tw.sampleSync({ model: mix, sampler: 'euler-ancestral', sigmas, x: x64, dim, seed: i })],
];
const asyncFamilies: Array<[string, (i: number) => Promise<unknown>]> = [
  ['posteriorAsync', () => mix.posteriorAsync(x64, { alpha: 0.8, sigma: 0.6 }, { mean: true, variance: true })],
  ['denoiseAsync', () => mix.denoiseAsync(x32, { alpha: 0.8, sigma: 0.6 })],
  ['sample', (i) => tw.sample({ model: mix, sampler: 'dpmpp-2m', sigmas, x: x64, dim, seed: i })],
];

console.log(`tweedie soak: ${calls} calls per kernel, backend ${tw.backend()}, node ${process.version}${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for steadier figures)'}`);
for (const [name, fn] of families) {
  for (let i = 0; i < calls / 10; i++) fn(i);
  gc();
  const before = mb();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) fn(i);
  gc();
  console.log(`${name.padEnd(18)} sync   rss ${before.toFixed(1)} -> ${mb().toFixed(1)} MB (${(mb() - before >= 0 ? '+' : '')}${(mb() - before).toFixed(1)}), ${((performance.now() - t0) / calls * 1e3).toFixed(1)} us/call`);
}
for (const [name, fn] of asyncFamilies) {
  const n = Math.min(calls, 2e4); // each async call is a thread hop; keep the run to minutes
  for (let i = 0; i < n / 10; i++) await fn(i);
  gc();
  const before = mb();
  const t0 = performance.now();
  for (let i = 0; i < n; i += 32) await Promise.all(Array.from({ length: 32 }, (_, k) => fn(i + k)));
  gc();
  console.log(`${name.padEnd(18)} async  rss ${before.toFixed(1)} -> ${mb().toFixed(1)} MB (${(mb() - before >= 0 ? '+' : '')}${(mb() - before).toFixed(1)}) over ${n} calls, ${((performance.now() - t0) / n * 1e3).toFixed(1)} us/call`);
}

// 32 concurrent long async calls while a 1 ms interval measures how late the event loop is:
// the worst delay over the whole run, which includes the loop that starts the 32 calls (their
// synchronous part: validation, allocation and the copy of the inputs), and the worst once
// they all run.
const big = new Float64Array(4096 * dim).map((_, i) => Math.sin(i * 0.1));
const bigMix = new tw.GaussianMixture({ dim, means: new Float64Array(256 * dim).map((_, i) => Math.cos(i)), variances: 0.3 });
const delays: number[] = [];
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  delays.push(now - last - 1);
  last = now;
}, 1);
const t0 = performance.now();
const pending = Array.from({ length: 32 }, () => bigMix.posteriorAsync(big, { alpha: 0.7, sigma: 0.7 }, { mean: true }));
const launched = performance.now() - t0;
const results = await Promise.all(pending);
clearInterval(timer);
const ref = bigMix.posterior(big, { alpha: 0.7, sigma: 0.7 }, { mean: true }).mean!;
const allSame = results.every((r) => Buffer.compare(Buffer.from(r.mean!.buffer), Buffer.from(ref.buffer)) === 0);
const worst = Math.max(0, ...delays);
const worstRunning = Math.max(0, ...delays.slice(1));
console.log(`32 concurrent posteriorAsync calls (4096 x 256 x ${dim}): ${(performance.now() - t0).toFixed(0)} ms, results ${allSame ? 'identical to the sync call' : 'DIFFER from the sync call'}; 1 ms-timer: ${delays.length} ticks, worst delay ${worst.toFixed(1)} ms (the first tick, after the ${launched.toFixed(1)} ms loop that starts the calls), worst while they run ${worstRunning.toFixed(1)} ms`);
