/**
 * Bad input to GaussianMixture: the right error class, a message naming the argument, code
 * 'ERR_TWEEDIE_INVALID_ARG', and nothing written; and the native binding's own second line of
 * checks when it is called directly.
 */
import { expect } from 'chai';
import * as tw from '../src/index.js';
import { native } from '../src/backend.js';

function expectArgError(fn: () => unknown, cls: typeof TypeError | typeof RangeError, name: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an error').to.be.instanceOf(cls);
  const err = caught as Error & { code?: string };
  expect(err.code).to.equal(tw.ERR_INVALID_ARG);
  if (typeof name === 'string') expect(err.message).to.include(name);
  else expect(err.message).to.match(name);
}

describe('GaussianMixture bad input', () => {
  describe('construction', () => {
    it('dim, means and their shapes', () => {
      expectArgError(() => new tw.GaussianMixture({ dim: 0, means: [1], variances: 1 }), RangeError, 'dim');
      expectArgError(() => new tw.GaussianMixture({ dim: 1.5, means: [1], variances: 1 }), RangeError, 'dim');
      expectArgError(() => new tw.GaussianMixture({ dim: 3, means: [1, 2, 3, 4], variances: 1 }), RangeError, 'means.length');
      expectArgError(() => new tw.GaussianMixture({ dim: 3, means: [], variances: 1 }), RangeError, 'means.length');
      expectArgError(() => new tw.GaussianMixture({ dim: 1, means: Int32Array.of(1) as never, variances: 1 }), TypeError, 'means');
      expectArgError(() => new tw.GaussianMixture({ dim: 1, means: 'abc' as never, variances: 1 }), TypeError, 'means');
      expectArgError(() => new tw.GaussianMixture({ dim: 2, means: [1, NaN], variances: 1 }), RangeError, 'means[1]');
      expectArgError(() => new tw.GaussianMixture({ dim: 2, means: Float32Array.of(1, Infinity), variances: 1 }), RangeError, 'means[1]');
      expectArgError(() => new tw.GaussianMixture({ dim: 1, means: ['1'] as never, variances: 1 }), TypeError, 'means[0]');
      expectArgError(() => new tw.GaussianMixture(undefined as never), TypeError, 'options');
    });

    it('variances', () => {
      const base = { dim: 2, means: [0, 0, 1, 1] };
      expectArgError(() => new tw.GaussianMixture({ ...base, variances: 0 }), RangeError, 'variances');
      expectArgError(() => new tw.GaussianMixture({ ...base, variances: -1 }), RangeError, 'variances');
      expectArgError(() => new tw.GaussianMixture({ ...base, variances: NaN }), RangeError, 'variances');
      expectArgError(() => new tw.GaussianMixture({ ...base, variances: [1, 0] }), RangeError, 'variances[1]');
      expectArgError(() => new tw.GaussianMixture({ ...base, variances: [1, 2, 3] }), RangeError, 'variances.length');
      expectArgError(() => new tw.GaussianMixture({ ...base, variances: [1, 2, 3, Infinity] }), RangeError, 'variances[3]');
      expectArgError(() => new tw.GaussianMixture({ ...base } as never), TypeError, 'variances');
    });

    it('weights: length, negative, NaN, all zero', () => {
      const base = { dim: 1, means: [0, 1, 2], variances: 1 };
      expectArgError(() => new tw.GaussianMixture({ ...base, weights: [1, 2] }), RangeError, 'weights.length');
      expectArgError(() => new tw.GaussianMixture({ ...base, weights: [1, -2, 1] }), RangeError, 'weights[1]');
      expectArgError(() => new tw.GaussianMixture({ ...base, weights: [1, NaN, 1] }), RangeError, 'weights[1]');
      expectArgError(() => new tw.GaussianMixture({ ...base, weights: [0, 0, 0] }), RangeError, 'weights');
      expectArgError(() => tw.GaussianMixture.empirical([0, 1], 1, [0, 0]), RangeError, 'weights');
      expectArgError(() => tw.GaussianMixture.empirical([0, 1, 2], 2), RangeError, 'points.length');
      expectArgError(() => tw.GaussianMixture.empirical([0, NaN], 1), RangeError, 'points[1]');
    });

    it('fromJSON validates like the constructor', () => {
      const good = new tw.GaussianMixture({ dim: 2, means: [0, 0, 1, 1], variances: [1, 2] }).toJSON();
      expectArgError(() => tw.GaussianMixture.fromJSON(null), TypeError, 'json');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, format: 'other' }), TypeError, 'json.format');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, version: 2 }), RangeError, 'json.version');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, kind: 'weird' }), TypeError, 'json.kind');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, kind: 'diagonal' }), RangeError, 'json.variances.length');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, kind: 'shared' }), TypeError, 'json.variances');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, means: [0, 0, 1] }), RangeError, 'json.means.length');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, variances: [1, -2] }), RangeError, 'variances[1]');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, weights: [0, 0] }), RangeError, 'weights');
      expectArgError(() => tw.GaussianMixture.fromJSON({ ...good, kind: 'empirical' }), TypeError, 'json.variances');
    });
  });

  describe('posterior and denoise', () => {
    const mix = new tw.GaussianMixture({ dim: 2, means: [0, 0, 1, 1, 2, -1], variances: [0.5, 1, 2] });
    const x = Float64Array.of(0.1, 0.2, 0.3, 0.4);
    const level = { alpha: 1, sigma: 0.5 };

    /** Output arrays filled with a sentinel, to check that a failing call writes nothing. */
    function sentinels(ctor: Float64ArrayConstructor | Float32ArrayConstructor = Float64Array) {
      return {
        responsibilities: new ctor(6).fill(7), mean: new ctor(4).fill(7), score: new ctor(4).fill(7),
        logDensity: new ctor(2).fill(7), entropy: new ctor(2).fill(7), variance: new ctor(2).fill(7),
      };
    }
    function untouched(outs: ReturnType<typeof sentinels>): void {
      for (const [key, arr] of Object.entries(outs)) expect(Array.from(arr).every((v) => v === 7), key).to.equal(true);
    }

    it('x: type, dim, non-finite values', () => {
      const outs = sentinels();
      expectArgError(() => mix.posterior([0.1, 0.2] as never, level, outs), TypeError, 'x');
      expectArgError(() => mix.posterior(Float64Array.of(0.1, 0.2, 0.3), level, outs), RangeError, 'x');
      expectArgError(() => mix.posterior(Float64Array.of(0.1, NaN, 0.3, 0.4), level, outs), RangeError, 'x[1]');
      expectArgError(() => mix.posterior(Float32Array.of(0.1, 0.2, -Infinity, 0.4), level, sentinels(Float32Array)), RangeError, 'x[2]');
      expectArgError(() => mix.denoise(Float64Array.of(1, 2, 3), level), RangeError, 'x');
      untouched(outs);
    });

    it('sigma <= 0, non-finite or too small; alpha < 0 or non-finite; per-row lengths', () => {
      const outs = sentinels();
      for (const sigma of [0, -1, NaN, Infinity, -Infinity]) {
        expectArgError(() => mix.posterior(x, { alpha: 1, sigma }, outs), RangeError, 'sigma');
        expectArgError(() => mix.denoise(x, { alpha: 1, sigma }), RangeError, 'sigma');
      }
      expectArgError(() => mix.posterior(x, { alpha: 1, sigma: [0.5, 0] }, outs), RangeError, 'sigma[1]');
      expectArgError(() => mix.posterior(x, { alpha: 1, sigma: 1e-200 }, outs), RangeError, 'sigma');
      expectArgError(() => mix.posterior(x, { alpha: 1, sigma: 1e200 }, outs), RangeError, 'sigma');
      expectArgError(() => mix.posterior(x, { alpha: 1e200, sigma: 1 }, outs), RangeError, 'alpha');
      expectArgError(() => mix.posterior(x, { alpha: 1, sigma: [0.5, 0.5, 0.5] }, outs), RangeError, 'sigma.length');
      for (const alpha of [-0.1, NaN, Infinity]) expectArgError(() => mix.posterior(x, { alpha, sigma: 1 }, outs), RangeError, 'alpha');
      expectArgError(() => mix.posterior(x, { alpha: 1 } as never, outs), TypeError, 'sigma');
      expectArgError(() => mix.posterior(x, { alpha: '1', sigma: 1 } as never, outs), TypeError, 'alpha');
      expectArgError(() => mix.posterior(x, undefined as never, outs), TypeError, 'level');
      untouched(outs);
    });

    it('want: unknown keys list the valid ones; wrong values', () => {
      const outs = sentinels();
      let message = '';
      try {
        mix.posterior(x, level, { ...outs, means: true } as never);
      } catch (err) {
        expect(err).to.be.instanceOf(TypeError);
        expect((err as { code?: string }).code).to.equal(tw.ERR_INVALID_ARG);
        message = (err as Error).message;
      }
      expect(message).to.include('want.means');
      for (const key of tw.POSTERIOR_OUTPUTS) expect(message).to.include(key);
      expectArgError(() => mix.posterior(x, level, { mean: 1 } as never), TypeError, 'want.mean');
      expectArgError(() => mix.posterior(x, level, { mean: [0, 0, 0, 0] } as never), TypeError, 'want.mean');
      expectArgError(() => mix.posterior(x, level, 'mean' as never), TypeError, 'want');
      untouched(outs);
    });

    it('out arrays of the wrong size, dtype or overlapping: nothing written', () => {
      const outs = sentinels();
      expectArgError(() => mix.posterior(x, level, { ...outs, responsibilities: new Float64Array(4) }), RangeError, 'want.responsibilities.length');
      expectArgError(() => mix.posterior(x, level, { ...outs, variance: new Float64Array(3) }), RangeError, 'want.variance.length');
      expectArgError(() => mix.posterior(x, level, { ...outs, score: new Float32Array(4) }), TypeError, 'want.score');
      expectArgError(() => mix.posterior(x, level, { ...outs, mean: x }), RangeError, 'want.mean');
      const shared = new Float64Array(8);
      expectArgError(() => mix.posterior(x, level, { ...outs, mean: shared.subarray(0, 4), score: shared.subarray(2, 6) }), RangeError, 'want.score');
      expectArgError(() => mix.denoise(x, level, new Float64Array(5)), RangeError, 'out.length');
      expectArgError(() => mix.denoise(x, level, new Float32Array(4) as never), TypeError, 'out');
      expectArgError(() => mix.denoise(x, level, x), RangeError, 'out');
      untouched(outs);
    });

    it('absurd sizes: a RangeError before allocating', () => {
      const K = 1 << 17;
      const big = tw.GaussianMixture.empirical(new Float64Array(K), 1);
      const xs = new Float64Array(1 << 17);
      // responsibilities would be 2^34 float64 values (128 GiB)
      expectArgError(() => big.posterior(xs, { alpha: 1, sigma: 1 }, { responsibilities: true }), RangeError, 'want');
      expectArgError(() => big.sample(2 ** 40, { seed: 1 }), RangeError, 'n');
    });
  });

  describe('sampling', () => {
    const mix = new tw.GaussianMixture({ dim: 2, means: [0, 0, 1, 1], variances: 1 });
    const x = Float64Array.of(0.1, 0.2, 0.3, 0.4);
    it('sample / sampleNoisy arguments', () => {
      expectArgError(() => mix.sample(-1, { seed: 1 }), RangeError, 'n');
      expectArgError(() => mix.sample(1.5, { seed: 1 }), RangeError, 'n');
      expectArgError(() => mix.sample(2, {} as never), TypeError, 'seed');
      expectArgError(() => mix.sample(2, { seed: -1 }), RangeError, 'seed');
      expectArgError(() => mix.sample(2, { seed: 1, sampleIds: [1] }), RangeError, 'sampleIds.length');
      expectArgError(() => mix.sampleNoisy(2, { seed: 1, alpha: 1, sigma: -1 }), RangeError, 'sigma');
      expectArgError(() => mix.sampleNoisy(2, { seed: 1, alpha: NaN, sigma: 1 }), RangeError, 'alpha');
    });

    it('transition: levels, out, seed', () => {
      const from = { alpha: 0.8, sigma: 0.6 };
      const to = { alpha: 0.9, sigma: 0.3 };
      const out = new Float64Array(4).fill(7);
      expectArgError(() => mix.transition(x, { from, to: { alpha: 0.5, sigma: 0.5 } }, { seed: 1, out }), RangeError, 'less noise');
      expectArgError(() => mix.transition(x, { from, to: from }, { seed: 1, out }), RangeError, 'less noise');
      expectArgError(() => mix.transition(x, { from, to: { alpha: 0, sigma: 0 } }, { seed: 1, out }), RangeError, 'to.alpha');
      expectArgError(() => mix.transition(x, { from, to: { alpha: 1, sigma: -0.1 } }, { seed: 1, out }), RangeError, 'to.sigma');
      expectArgError(() => mix.transition(x, { from: { alpha: 1, sigma: 0 }, to }, { seed: 1, out }), RangeError, 'from.sigma');
      expectArgError(() => mix.transition(x, { from, to: { alpha: 0.9, sigma: [0.1, 0.7] } }, { seed: 1, out }), RangeError, 'row 1');
      expectArgError(() => mix.transition(x, { from, to }, { seed: 1, out: new Float64Array(3) }), RangeError, 'out.length');
      expectArgError(() => mix.transition(x, { from, to }, {} as never), TypeError, 'seed');
      expectArgError(() => mix.transition(Float64Array.of(1, 2, 3), { from, to }, { seed: 1 }), RangeError, 'x');
      expect(Array.from(out).every((v) => v === 7)).to.equal(true);
    });
  });

  describe('native binding, called directly', () => {
    const n = native();
    const f64 = (...v: number[]): Float64Array => Float64Array.from(v);
    const call = (over: Partial<Record<number, unknown>>): void => {
      const args: unknown[] = [f64(0.1, 0.2, 0.3, 0.4), 2, f64(0, 0, 1, 1), f64(1), f64(Math.log(0.5), Math.log(0.5)), f64(1), f64(0.5),
        null, new Float64Array(4), null, null, null, null];
      for (const [i, v] of Object.entries(over)) args[Number(i)] = v;
      (n!.mixturePosterior as unknown as (...a: unknown[]) => void)(...args);
    };
    const expectThrow = (over: Partial<Record<number, unknown>>, cls: typeof Error): void => {
      expect(() => call(over)).to.throw(cls);
    };

    it('rejects bad shapes and values without crashing', function () {
      if (!n) this.skip();
      call({}); // the baseline call is valid
      expectThrow({ 0: [0.1, 0.2] }, TypeError);
      expectThrow({ 0: f64(0.1, 0.2, 0.3) }, RangeError);
      expectThrow({ 0: f64(0.1, NaN, 0.3, 0.4) }, RangeError);
      expectThrow({ 1: 0 }, RangeError);
      expectThrow({ 2: f64(0, 0, 1) }, RangeError);
      expectThrow({ 2: new Float32Array(4) }, TypeError);
      expectThrow({ 3: f64(1, 2, 3) }, RangeError);
      expectThrow({ 3: f64(-1) }, RangeError);
      expectThrow({ 4: new Float64Array(0) }, RangeError);
      expectThrow({ 4: f64(-Infinity, -Infinity) }, RangeError);
      expectThrow({ 4: f64(NaN, 0) }, RangeError);
      expectThrow({ 5: f64(-1) }, RangeError);
      expectThrow({ 5: f64(1, 1, 1) }, RangeError);
      expectThrow({ 6: f64(0) }, RangeError);
      expectThrow({ 6: f64(Infinity) }, RangeError);
      expectThrow({ 6: f64(1e-200) }, RangeError);
      expectThrow({ 8: new Float64Array(3) }, RangeError);
      expectThrow({ 8: new Float32Array(4) }, TypeError);
      const shared = new Float64Array(8);
      expectThrow({ 8: shared.subarray(0, 4), 9: shared.subarray(2, 6) }, RangeError);
      const xs = f64(0.1, 0.2, 0.3, 0.4);
      expectThrow({ 0: xs, 8: xs }, RangeError);
      expectThrow({ 7: new Float64Array(3) }, RangeError);
    });

    it('a mean that is not finite: a RangeError naming the means before any output is written, also when a later argument is bad', function () {
      if (!n) this.skip();
      for (const bad of [NaN, Infinity, -Infinity]) {
        const out = new Float64Array(4).fill(7);
        expect(() => call({ 2: f64(0, 0, 1, bad), 8: out })).to.throw(RangeError, 'means must be finite');
        expect(Array.from(out)).to.deep.equal([7, 7, 7, 7]);
        // the means are checked before the variances, weights and levels (their errors come second)
        expect(() => call({ 2: f64(bad, 0, 1, 1), 3: f64(-1) })).to.throw(RangeError, 'means must be finite');
        expect(() => call({ 2: f64(bad, 0, 1, 1), 6: f64(0) })).to.throw(RangeError, 'means must be finite');
        expect(() => call({ 0: new Float64Array(0), 2: f64(bad, 0, 1, 1), 8: new Float64Array(0) })).to.throw(RangeError, 'means must be finite');
      }
    });
  });
});
