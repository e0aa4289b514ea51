/**
 * The fully native sampling loop for GaussianMixture models (src/samplers/program.ts,
 * native/core/program.cc): the same bits as the JavaScript loop on the native backend for
 * every data-independent sampler (both dtypes, built-in and Brownian noise, sample ids, thread
 * counts, every kind of mixture), the same NFE, within the posterior's tolerance of the
 * TypeScript backend's loop; async runs off the main thread and cancels; what falls back to
 * the JavaScript loop; and the binding's argument checks.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tw from '../src/index.js';
import { type SampleOptions, type SamplerId, samplerIds } from '../src/samplers/index.js';
import { nativeLoopRuns, setNativeLoop } from '../src/samplers/program.js';
import type { FloatArray } from '../src/types.js';
import { THREAD_COUNTS, nativeOrSkip } from './helpers/native-config.js';
import { karras } from './helpers/sampler-models.js';

const ringMeans: number[] = [];
for (let k = 0; k < 8; k++) ringMeans.push(2 * Math.cos((2 * Math.PI * k) / 8), 2 * Math.sin((2 * Math.PI * k) / 8));

/** Mixtures of every variance kind (the kernel's isotropic, diagonal and empirical paths). */
const MIXTURES: Array<{ name: string; dim: number; make: () => tw.GaussianMixture }> = [
  { name: 'ring of 8 (shared variance)', dim: 2, make: () => new tw.GaussianMixture({ dim: 2, means: ringMeans, variances: 0.01 }) },
  {
    name: '3-D, per-component variances, weights', dim: 3,
    make: () => new tw.GaussianMixture({ dim: 3, means: [1, 0, -1, -2, 0.5, 0, 0, 2, 1], variances: [0.05, 0.2, 0.01], weights: [1, 2, 3] }),
  },
  {
    name: '2-D diagonal', dim: 2,
    make: () => new tw.GaussianMixture({ dim: 2, means: [1, 1, -1, 0.5], variances: [0.1, 0.02, 0.3, 0.05] }),
  },
  { name: 'empirical, 5 points in 2-D', dim: 2, make: () => tw.GaussianMixture.empirical([0, 0, 1, 1, -1, 2, 0.5, -1.5, 2, 0], 2) },
];

/** Samplers that take the `noise` option (built-in or Brownian). */
const NOISY: readonly SamplerId[] = ['euler-ancestral', 'dpm2-ancestral', 'dpmpp-2s-ancestral', 'dpmpp-sde', 'dpmpp-2m-sde',
  'dpmpp-3m-sde', 'ddim', 'ddpm', 'euler-maruyama'];
/** Everything but the data-dependent samplers. */
const ELIGIBLE: readonly SamplerId[] = samplerIds.filter((s) => s !== 'dopri5');

/** Extra option sets per sampler (beyond the defaults), covering each code path of the recorder. */
const VARIANTS: Partial<Record<SamplerId, Array<Partial<SampleOptions>>>> = {
  euler: [{ sChurn: 2, sTmin: 0.05, sTmax: 50 }],
  heun: [{ sChurn: 1 }],
  dpm2: [{ sChurn: 1, sNoise: 1.003 }],
  edm: [{ sChurn: 40, sTmin: 0.05, sTmax: 50, sNoise: 1.003 }],
  'euler-ancestral': [{ eta: 0.5, sNoise: 0.9 }],
  ddim: [{ eta: 0.3 }],
  lms: [{ order: 2 }, { order: 1 }],
  'dpmpp-2m-sde': [{ solverType: 'heun' }, { eta: 0 }],
  'dpmpp-3m-sde': [{ eta: 0.5 }],
  unipc: [{ order: 3, variant: 'bh1' }, { order: 1 }, { disableCorrector: true, lowerOrderFinal: false }],
  'dpm-solver-3': [{ nfe: 10 }, { nfe: 7 }],
};

const bytes = (a: FloatArray): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function startX(ctor: typeof Float32Array | typeof Float64Array, rows: number, dim: number, scale: number): FloatArray {
  const x = new ctor(rows * dim);
  tw.randomNormal(x, { seed: 42 });
  for (let i = 0; i < x.length; i++) x[i] *= scale;
  return x;
}

/** Runs opts through the native loop (checking that it was taken) and through the JavaScript loop. */
function both(opts: SampleOptions): { nat: tw.SampleResult; js: tw.SampleResult } {
  const before = nativeLoopRuns().sync;
  const nat = tw.sampleSync(opts);
  expect(nativeLoopRuns().sync, 'took the native loop').to.equal(before + 1);
  const was = setNativeLoop(false);
  try {
    const js = tw.sampleSync(opts);
    expect(nativeLoopRuns().sync, 'took the JavaScript loop').to.equal(before + 1);
    return { nat, js };
  } finally {
    setNativeLoop(was);
  }
}

describe('samplers: the native loop for mixture models', () => {
  it('gives the JavaScript loop\'s bits and NFE for every eligible sampler, dtype, noise, mixture and thread count', function () {
    const n = nativeOrSkip(this);
    const threadsBefore = n.info().threads;
    const grid = karras(8, 0.01, 80);
    let compared = 0;
    try {
      for (const threads of THREAD_COUNTS) {
        n.setThreads(threads);
        for (const ctor of [Float32Array, Float64Array]) {
          for (const m of MIXTURES) {
            const model = m.make();
            // 150 rows: enough for the kernels to split over threads.
            const x = startX(ctor, 150, m.dim, grid[0]);
            for (const sampler of ELIGIBLE) {
              const sets: Array<Partial<SampleOptions>> = [{}, ...(VARIANTS[sampler] ?? [])];
              if (NOISY.includes(sampler)) sets.push({ noise: 'brownian' });
              for (const extra of sets) {
                const opts: SampleOptions = { model, sampler, sigmas: grid, x, dim: m.dim, seed: 7, ...extra };
                const { nat, js } = both(opts);
                const what = `${sampler} ${JSON.stringify(extra)} ${ctor.name} ${m.name} ${threads} thread(s)`;
                expect(nat.x.constructor, what).to.equal(ctor);
                expect(nat.nfe, what).to.equal(js.nfe);
                expect(bytes(nat.x).equals(bytes(js.x)), what).to.equal(true);
                compared++;
              }
            }
          }
        }
      }
    } finally {
      n.setThreads(threadsBefore);
    }
    expect(compared).to.be.greaterThan(400);
  });

  it('the same bits with sample ids, grids without a final 0, and a float32 state with Brownian noise at every thread count', function () {
    const n = nativeOrSkip(this);
    const threadsBefore = n.info().threads;
    const model = MIXTURES[0].make();
    const sampleIds = Array.from({ length: 300 }, (_, i) => BigInt(i) * 0x100000001n + 5n);
    const results: Record<string, Buffer> = {};
    try {
      for (const threads of THREAD_COUNTS) {
        n.setThreads(threads);
        for (const sigmas of [karras(12, 0.002, 80), karras(5, 0.05, 20, false)]) {
          for (const sampler of ['euler-ancestral', 'dpmpp-sde', 'dpmpp-2m-sde', 'euler-maruyama', 'dpm-solver-3', 'unipc'] as SamplerId[]) {
            for (const noise of NOISY.includes(sampler) ? (['independent', 'brownian'] as const) : [undefined]) {
              const x = startX(Float32Array, 300, 2, sigmas[0]);
              const { nat, js } = both({ model, sampler, sigmas, x, dim: 2, seed: 2n ** 60n + 3n, sampleIds, noise });
              const what = `${sampler} ${noise} ${sigmas.length} ${threads}`;
              expect(bytes(nat.x).equals(bytes(js.x)), what).to.equal(true);
              const key = `${sampler} ${noise} ${sigmas.length}`;
              results[key] ??= bytes(nat.x);
              expect(bytes(nat.x).equals(results[key]), `${what}: same bits as at 1 thread`).to.equal(true);
            }
          }
        }
      }
    } finally {
      n.setThreads(threadsBefore);
    }
  });

  it('stays within the posterior\'s tolerance of the TypeScript backend\'s loop', function () {
    nativeOrSkip(this);
    this.timeout(120000);
    const grid = Array.from(karras(10, 0.01, 80));
    const cases = [
      { sampler: 'euler' }, { sampler: 'heun' }, { sampler: 'dpmpp-2m' }, { sampler: 'unipc', order: 3 },
      { sampler: 'dpm-solver-3' }, { sampler: 'dpmpp-2m-sde', seed: 3 }, { sampler: 'dpmpp-sde', seed: 4, noise: 'brownian' },
      { sampler: 'euler-ancestral', seed: 5 },
    ];
    const dtypes = ['Float32Array', 'Float64Array'] as const;
    // The run on the TypeScript backend, in a child process (the backend is chosen at load).
    const root = fileURLToPath(new URL('..', import.meta.url));
    const code = `
      const tw = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)});
      if (tw.backend() !== 'js') throw new Error('expected the js backend');
      const means = ${JSON.stringify(ringMeans)};
      const model = new tw.GaussianMixture({ dim: 2, means, variances: 0.01 });
      const out = [];
      for (const dtype of ${JSON.stringify(dtypes)}) {
        const x = new globalThis[dtype](2 * 64);
        tw.randomNormal(x, { seed: 42 });
        for (let i = 0; i < x.length; i++) x[i] *= 80;
        for (const c of ${JSON.stringify(cases)}) {
          const r = tw.sampleSync({ model, sigmas: ${JSON.stringify(grid)}, x, dim: 2, ...c });
          out.push({ x: Array.from(r.x), nfe: r.nfe });
        }
      }
      process.stdout.write(JSON.stringify(out));`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: root, encoding: 'utf8', env: { ...process.env, TWEEDIE_BACKEND: 'js' }, timeout: 110000, maxBuffer: 1 << 26,
    });
    expect(res.status, res.stderr).to.equal(0);
    const ts = JSON.parse(res.stdout) as Array<{ x: number[]; nfe: number }>;
    const model = MIXTURES[0].make();
    let k = 0;
    for (const dtype of dtypes) {
      const ctor = dtype === 'Float32Array' ? Float32Array : Float64Array;
      const x = startX(ctor, 64, 2, 80);
      for (const c of cases) {
        const before = nativeLoopRuns().sync;
        const r = tw.sampleSync({ model, sigmas: grid, x, dim: 2, ...(c as Partial<SampleOptions>) } as SampleOptions);
        expect(nativeLoopRuns().sync).to.equal(before + 1);
        const want = ts[k++];
        expect(r.nfe, c.sampler).to.equal(want.nfe);
        // The posterior's tolerance tier (DESIGN.md): float64 ~1e-12 relative, float32 ~1e-5 (measured
        // here: below 1e-14 and 0).
        const tol = dtype === 'Float64Array' ? 1e-12 : 1e-5;
        let worst = 0;
        for (let i = 0; i < r.x.length; i++) worst = Math.max(worst, Math.abs(r.x[i] - want.x[i]) / Math.max(1, Math.abs(want.x[i])));
        expect(worst, `${c.sampler} ${dtype}`).to.be.below(tol);
      }
    }
  });

  it('sample (async) runs it on the thread pool with the same bits, and leaves the caller\'s x alone', async function () {
    nativeOrSkip(this);
    const model = MIXTURES[1].make();
    const grid = karras(10, 0.01, 80);
    for (const sampler of ['heun', 'dpmpp-sde', 'dpmpp-3m-sde', 'unipc'] as SamplerId[]) {
      for (const ctor of [Float32Array, Float64Array]) {
        const x = startX(ctor, 200, 3, 80);
        const copy = x.slice();
        const opts: SampleOptions = { model, sampler, sigmas: grid, x, dim: 3, seed: 11, sampleIds: Array.from({ length: 200 }, (_, i) => 3 * i) };
        const before = nativeLoopRuns();
        const a = await tw.sample(opts);
        expect(nativeLoopRuns().async).to.equal(before.async + 1);
        const b = tw.sampleSync(opts);
        expect(bytes(a.x).equals(bytes(b.x)), sampler).to.equal(true);
        expect(a.nfe).to.equal(b.nfe);
        expect(a.x).to.not.equal(x);
        expect(bytes(x).equals(bytes(copy))).to.equal(true);
      }
    }
    // Runs at once do not disturb each other.
    const x = startX(Float64Array, 500, 3, 80);
    const runs = await Promise.all([1, 2, 3, 4].map((seed) => tw.sample({ model, sampler: 'euler-ancestral', sigmas: grid, x, dim: 3, seed })));
    runs.forEach((r, i) => {
      const s = tw.sampleSync({ model, sampler: 'euler-ancestral', sigmas: grid, x, dim: 3, seed: i + 1 });
      expect(bytes(r.x).equals(bytes(s.x))).to.equal(true);
    });
  });

  it('an AbortSignal stops the async native loop between operations with an AbortError', async function () {
    nativeOrSkip(this);
    const model = MIXTURES[0].make();
    // Long enough (tens of thousands of rows, 400 steps) that it cannot finish before abort() below.
    const grid = karras(400, 0.002, 80);
    const x = startX(Float32Array, 40000, 2, 80);
    const ac = new AbortController();
    const before = nativeLoopRuns().async;
    const p = tw.sample({ model, sampler: 'heun', sigmas: grid, x, dim: 2, signal: ac.signal });
    expect(nativeLoopRuns().async).to.equal(before + 1);
    const reason = new Error('stop');
    ac.abort(reason);
    const err = await p.then(() => null, (e: unknown) => e as Error & { code?: string });
    expect(err).to.be.instanceOf(Error);
    expect(err?.name).to.equal('AbortError');
    expect(err?.code).to.equal('ABORT_ERR');
    expect(err?.cause).to.equal(reason);
    // Already aborted: rejects at once, nothing runs.
    const after = nativeLoopRuns().async;
    const e2 = await tw.sample({ model, sampler: 'euler', sigmas: grid, x, dim: 2, signal: ac.signal }).then(() => null, (e: Error) => e);
    expect(e2?.name).to.equal('AbortError');
    expect(nativeLoopRuns().async).to.equal(after);
    expect(() => tw.sampleSync({ model, sampler: 'euler', sigmas: grid, x, dim: 2, signal: ac.signal })).to.throw().with.property('name', 'AbortError');
    // A signal that never aborts changes nothing.
    const small = startX(Float32Array, 50, 2, 80);
    const g = karras(6, 0.01, 80);
    const r = await tw.sample({ model, sampler: 'dpmpp-2m', sigmas: g, x: small, dim: 2, signal: new AbortController().signal });
    expect(bytes(r.x).equals(bytes(tw.sampleSync({ model, sampler: 'dpmpp-2m', sigmas: g, x: small, dim: 2 }).x))).to.equal(true);
  });

  it('falls back to the JavaScript loop for onStep, a noiseSampler, dopri5, the Langevin corrector and function models', function () {
    nativeOrSkip(this);
    const model = MIXTURES[0].make();
    const grid = karras(6, 0.01, 80);
    const x = startX(Float64Array, 20, 2, 80);
    const ref = tw.sampleSync({ model, sampler: 'euler-ancestral', sigmas: grid, x, dim: 2, seed: 1 });
    const fallbacks: SampleOptions[] = [
      { model, sampler: 'euler-ancestral', sigmas: grid, x, dim: 2, seed: 1, onStep: () => undefined },
      { model, sampler: 'euler-ancestral', sigmas: grid, x, dim: 2, seed: 1, noiseSampler: () => new Float64Array(x.length) },
      { model, sampler: 'dopri5', sigmas: grid, x, dim: 2 },
      { model, sampler: 'euler-maruyama', sigmas: grid, x, dim: 2, correctorSteps: 1 },
      { model: (xs: FloatArray) => xs.slice(), sampler: 'euler', sigmas: grid, x, dim: 2 },
    ];
    const before = nativeLoopRuns().sync;
    let steps = 0;
    const withStep = tw.sampleSync({ ...fallbacks[0], onStep: () => { steps++; } });
    expect(steps).to.equal(6);
    expect(bytes(withStep.x).equals(bytes(ref.x))).to.equal(true);
    for (const o of fallbacks) tw.sampleSync(o);
    expect(nativeLoopRuns().sync).to.equal(before);
  });

  it('throws the JavaScript loop\'s errors: a non-finite start, a noise level beyond the mixture\'s range', async function () {
    nativeOrSkip(this);
    const model = MIXTURES[0].make();
    const grid = karras(6, 0.01, 80);
    for (const bad of [NaN, Infinity]) {
      const x = startX(Float32Array, 20, 2, 80);
      x[7] = bad;
      const errors: Error[] = [];
      for (const on of [true, false]) {
        const was = setNativeLoop(on);
        try {
          expect(() => tw.sampleSync({ model, sampler: 'heun', sigmas: grid, x, dim: 2 })).to.throw(RangeError);
          try {
            tw.sampleSync({ model, sampler: 'heun', sigmas: grid, x, dim: 2 });
          } catch (e) {
            errors.push(e as Error);
          }
        } finally {
          setNativeLoop(was);
        }
      }
      expect(errors[0].message).to.equal(errors[1].message);
      expect(errors[0].message).to.contain('x[7]');
      const async = await tw.sample({ model, sampler: 'heun', sigmas: grid, x, dim: 2 }).then(() => null, (e: Error) => e);
      expect(async).to.be.instanceOf(RangeError);
      expect(async?.message).to.equal(errors[0].message);
    }
    // A noise level outside the mixture's range (alpha^2 v + sigma^2 > 1e300) keeps the JavaScript
    // loop, which throws the mixture's error at that step.
    const huge = new tw.GaussianMixture({ dim: 1, means: [0], variances: 1e299 });
    const before = nativeLoopRuns().sync;
    const msgs: string[] = [];
    for (const on of [true, false]) {
      const was = setNativeLoop(on);
      try {
        tw.sampleSync({ model: huge, sampler: 'euler', sigmas: [1e150, 1], x: Float64Array.of(1), dim: 1 });
      } catch (e) {
        expect(e).to.be.instanceOf(RangeError);
        msgs.push((e as Error).message);
      } finally {
        setNativeLoop(was);
      }
    }
    expect(msgs).to.have.length(2);
    expect(msgs[0]).to.equal(msgs[1]);
    expect(nativeLoopRuns().sync, 'out-of-range levels keep the JavaScript loop').to.equal(before);
  });

  describe('the binding', () => {
    const dim = 2;
    const means = Float64Array.of(1, 0, -1, 0);
    const variances = Float64Array.of(0.1);
    const logWeights = Float64Array.of(Math.log(0.5), Math.log(0.5));
    // buffer 1 = D; eval(0 -> 1, sigma 2), lincomb(0 <- 0.5 x + 0.5 D)
    const code = Uint32Array.of(1, 0, 1, 0, 5, 0, 2, 0, 2, 0, 0, 0, 1);
    const consts = Float64Array.of(2, 0.5, 0.5);
    const kinds = Uint8Array.of(0, 0);

    it('runs a hand-written program as the kernels would', function () {
      const n = nativeOrSkip(this);
      const state = Float64Array.of(0.5, 0.2, -3, 1);
      const report = new Float64Array(6);
      n.programRun(state, dim, means, variances, logWeights, code, consts, kinds, 0, 0, null, report);
      expect(Array.from(report.subarray(0, 2))).to.deep.equal([0, 1]);
      const x0 = Float64Array.of(0.5, 0.2, -3, 1);
      const D = new Float64Array(4);
      n.mixturePosterior(x0, dim, means, variances, logWeights, Float64Array.of(1), Float64Array.of(2), null, D, null, null, null, null);
      const want = new Float64Array(4);
      n.lincomb(want, dim, [x0, D], Float64Array.of(0.5, 0.5), false, null, null);
      expect(Array.from(state)).to.deep.equal(Array.from(want));
    });

    it('throws TypeError/RangeError before anything runs for bad arguments and programs', function () {
      const n = nativeOrSkip(this);
      const state = Float32Array.of(0.5, 0.2, -3, 1);
      const orig = state.slice();
      const report = new Float64Array(6);
      type Args = Parameters<typeof n.programRun>;
      const good: Args = [state, dim, means, variances, logWeights, code, consts, kinds, 0, 0, null, report];
      const bad: Array<[number, unknown, typeof TypeError | typeof RangeError]> = [
        [0, new Int32Array(4), TypeError],
        [0, new Float32Array(3), RangeError],
        [1, 0, RangeError],
        [2, Float64Array.of(1, 0, -1), RangeError],
        [3, Float64Array.of(0.1, 0.2, 0.3), RangeError],
        [3, Float64Array.of(-0.1), RangeError],
        [4, Float64Array.of(-Infinity, -Infinity), RangeError],
        [5, Uint32Array.of(9), RangeError],
        [5, Uint32Array.of(1, 0, 7, 0), RangeError],
        [5, Uint32Array.of(1, 0, 0, 0), RangeError],
        [5, Uint32Array.of(2, 0, 9, 0, 0), RangeError],
        [5, code.subarray(0, 6), RangeError],
        [6, consts.subarray(0, 2), RangeError],
        [6, Float64Array.of(0, 0.5, 0.5), RangeError],
        [6, Float64Array.of(2, NaN, 0.5), RangeError],
        [7, Uint8Array.of(1, 0), RangeError],
        [7, Uint8Array.of(0, 1), RangeError],
        [8, -1, RangeError],
        [10, Uint32Array.of(1, 2, 3), RangeError],
        [11, new Float64Array(5), RangeError],
        [11, new Float32Array(6), TypeError],
      ];
      for (const [i, v, E] of bad) {
        const args = [...good] as unknown[];
        args[i] = v;
        expect(() => (n.programRun as (...a: unknown[]) => void)(...args), `argument ${i}`).to.throw(E);
        expect(Array.from(state), `argument ${i}`).to.deep.equal(Array.from(orig));
      }
      // state overlapping another argument
      const shared = new Float64Array(10);
      expect(() => n.programRun(shared.subarray(0, 4), dim, means, variances, logWeights, code, consts, kinds, 0, 0, null,
        shared.subarray(2, 8))).to.throw(RangeError);
      // async: the same checks throw at the call, and a token is required
      const token = n.programToken();
      expect(() => n.programRunAsync({}, state, dim, means, variances, logWeights, code, consts, kinds, 0, 0, null, report)).to.throw(TypeError);
      expect(() => n.programRunAsync(token, state, dim, means, variances, logWeights, Uint32Array.of(9), consts, kinds, 0, 0, null, report))
        .to.throw(RangeError);
      expect(() => n.programCancel({})).to.throw(TypeError);
      expect(Array.from(state)).to.deep.equal(Array.from(orig));
    });

    it('async: a cancelled token stops the run; state is left alone and the report says so', async function () {
      const n = nativeOrSkip(this);
      const state = Float64Array.of(0.5, 0.2, -3, 1);
      const report = new Float64Array(6);
      const token = n.programToken();
      n.programCancel(token);
      await n.programRunAsync(token, state, dim, means, variances, logWeights, code, consts, kinds, 0, 0, null, report);
      expect(report[0]).to.equal(1);
      expect(Array.from(state)).to.deep.equal([0.5, 0.2, -3, 1]);
      const fresh = n.programToken();
      await n.programRunAsync(fresh, state, dim, means, variances, logWeights, code, consts, kinds, 0, 0, null, report);
      expect(Array.from(report.subarray(0, 2))).to.deep.equal([0, 1]);
      expect(Array.from(state)).to.not.deep.equal([0.5, 0.2, -3, 1]);
    });
  });
});
