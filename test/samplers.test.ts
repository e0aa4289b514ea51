import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as tw from '../src/index.js';
import { type SamplerId, samplerIds } from '../src/samplers/index.js';
import { gaussian, karras } from './helpers/sampler-models.js';


describe('samplers', () => {
  const grid = karras(18, 0.002, 80);

  it('reproduce the single-Gaussian reference values of samplers.md §5 (s = 0.5, x_T = 80, EDM 18 steps)', () => {
    // Recomputed independently there from the update rules; given to 7 digits.
    const expected: Partial<Record<SamplerId, [number, number]>> = {
      euler: [0.4230314, 18], ddim: [0.4230314, 18], heun: [0.5276246, 35], 'dpmpp-2m': [0.5311401, 18],
    };
    for (const [sampler, [value, nfe]] of Object.entries(expected)) {
      const r = tw.sampleSync({ model: gaussian(0.25), sampler: sampler as SamplerId, sigmas: grid, x: Float64Array.of(80), dim: 1 });
      expect(r.x[0], sampler).to.be.closeTo(value, 5e-8);
      expect(r.nfe, sampler).to.equal(nfe);
    }
  });

  it('point-mass data: Euler is exact in one step, and every sampler lands on the point', () => {
    const y = 0.7;
    const point = (x: Float32Array | Float64Array): Float64Array => new Float64Array(x.length).fill(y);
    const one = tw.sampleSync({ model: point, sampler: 'euler', sigmas: [10, 0.5], x: Float64Array.of(3), dim: 1 });
    expect(one.x[0]).to.be.closeTo(y + (0.5 / 10) * (3 - y), 1e-15);
    for (const sampler of samplerIds) {
      const r = tw.sampleSync({ model: point, sampler, sigmas: grid, x: Float64Array.of(80, -80), dim: 1, seed: 1 });
      expect(r.x[0], sampler).to.be.closeTo(y, 1e-12);
    }
  });

  it('give the same bits on every backend, SIMD level and thread count (pinned hash)', () => {
    // The suite runs once per backend and SIMD level; all must reproduce these hashes.
    const dim = 3;
    const x = new Float32Array(4 * dim).map((_, i) => 80 * Math.sin(i + 1));
    const hashes: Record<string, string> = {};
    for (const sampler of samplerIds) {
      const r = tw.sampleSync({ model: gaussian(0.3), sampler, sigmas: karras(6, 0.01, 80), x, dim, seed: 5 });
      hashes[sampler] = createHash('sha256').update(new Uint8Array(r.x.buffer)).digest('hex').slice(0, 16);
    }
    expect(hashes).to.deep.equal(GOLDEN);
  });

  it('call onStep once per step with k-diffusion fields, never write the caller\'s x, and count NFE', () => {
    const x = Float64Array.of(80, 40);
    const seen: number[] = [];
    const r = tw.sampleSync({
      model: gaussian(1), sampler: 'heun', sigmas: grid, x, dim: 1,
      onStep: (s) => { seen.push(s.i); expect(s.sigma).to.equal(grid[s.i]); expect(s.sigmaNext).to.equal(grid[s.i + 1]); expect(s.denoised.length).to.equal(2); },
    });
    expect(seen).to.deep.equal(Array.from({ length: 18 }, (_, i) => i));
    expect(Array.from(x)).to.deep.equal([80, 40]);
    expect(r.x).to.not.equal(x);
    expect(r.nfe).to.equal(35);
  });

  it('sample (async) equals sampleSync, with async models too', async () => {
    const model = gaussian(0.5);
    const a = tw.sampleSync({ model, sampler: 'dpmpp-2m-sde', sigmas: grid, x: Float64Array.of(80, 1), dim: 1, seed: 9 });
    const b = await tw.sample({ model: async (x, s) => model(x, s), sampler: 'dpmpp-2m-sde', sigmas: grid, x: Float64Array.of(80, 1), dim: 1, seed: 9 });
    expect(Array.from(b.x)).to.deep.equal(Array.from(a.x));
    expect(b.nfe).to.equal(a.nfe);
  });

  it('noiseSampler replaces the built-in noise and is called where k-diffusion calls it', () => {
    const calls: Array<[number, number]> = [];
    const zeros = (s: number, sn: number): Float64Array => { calls.push([s, sn]); return new Float64Array(2); };
    const r = tw.sampleSync({ model: gaussian(1), sampler: 'euler-ancestral', sigmas: grid, x: Float64Array.of(80, 1), dim: 1, noiseSampler: zeros });
    expect(calls.length).to.equal(17); // not on the final step to 0
    expect(calls[0]).to.deep.equal([grid[0], grid[1]]);
    expect(Number.isFinite(r.x[0])).to.equal(true);
  });

  it('an aborted signal rejects with an AbortError between steps', async () => {
    const ac = new AbortController();
    let steps = 0;
    const p = tw.sample({ model: gaussian(1), sampler: 'euler', sigmas: grid, x: Float64Array.of(80), dim: 1, signal: ac.signal,
      onStep: () => { if (++steps === 3) ac.abort(new Error('stop')); } });
    const err = await p.then(() => null, (e: unknown) => e as Error & { code?: string });
    expect(err?.name).to.equal('AbortError');
    expect(err?.code).to.equal('ABORT_ERR');
    expect(steps).to.equal(3);
  });

  describe('bad input and failing models', () => {
    const base = { model: gaussian(1), sampler: 'euler' as SamplerId, sigmas: grid, x: Float64Array.of(80), dim: 1 };
    it('reject bad grids, ids and shapes with errors naming the argument', () => {
      expect(() => tw.sampleSync({ ...base, sampler: 'nope' as SamplerId })).to.throw(TypeError, /Expected one of 'euler'.*'edm'.* for sampler/);
      expect(() => tw.sampleSync({ ...base, sigmas: [1] })).to.throw(RangeError, /sigmas\.length/);
      expect(() => tw.sampleSync({ ...base, sigmas: [1, 2] })).to.throw(RangeError, /strictly decreasing.* for sigmas\[1\]/);
      expect(() => tw.sampleSync({ ...base, sigmas: [1, 0, 0] })).to.throw(RangeError, /sigmas\[1\]/);
      expect(() => tw.sampleSync({ ...base, sigmas: [NaN, 0] })).to.throw(RangeError, /sigmas\[0\]/);
      expect(() => tw.sampleSync({ ...base, sigmas: [1, -1] })).to.throw(RangeError, /sigmas\[1\]/);
      expect(() => tw.sampleSync({ ...base, x: Float64Array.of(1, 2, 3), dim: 2 })).to.throw(RangeError, /multiple of dim/);
      expect(() => tw.sampleSync({ ...base, sampler: 'ddim', eta: -1 })).to.throw(RangeError, /eta/);
      expect(() => tw.sampleSync({ ...base, eta: 1 })).to.throw(TypeError, /sampler 'euler'.* for eta/);
      expect(() => tw.sampleSync({ ...base, model: 3 as never })).to.throw(TypeError, /model/);
    });
    it('name the step when the model throws, returns the wrong length or type, NaN, or a Promise in sync mode', async () => {
      let n = 0;
      const throwsAt2 = (x: Float32Array | Float64Array, s: Float64Array) => { if (n++ === 2) throw new Error('boom'); return gaussian(1)(x, s); };
      expect(() => tw.sampleSync({ ...base, model: throwsAt2 })).to.throw(Error, /step 2.*boom/);
      expect(() => tw.sampleSync({ ...base, model: () => new Float64Array(2) })).to.throw(TypeError, /length 1 for the model's output at step 0/);
      expect(() => tw.sampleSync({ ...base, model: () => [1] as never })).to.throw(TypeError, /step 0/);
      expect(() => tw.sampleSync({ ...base, model: () => Float64Array.of(NaN) })).to.throw(RangeError, /finite.*step 0/);
      expect(() => tw.sampleSync({ ...base, model: async () => Float64Array.of(0) })).to.throw(TypeError, /Promise/);
      const err = await tw.sample({ ...base, model: async () => { throw new Error('nope'); } }).then(() => null, (e: Error) => e);
      expect(err?.message).to.match(/step 0.*nope/);
    });
  });
});

const GOLDEN: Record<string, string> = {
  ddim: '6c2c295c6814344c', ddpm: '362b54122d035698', dpm2: 'b37408332fd32681', 'dpm2-ancestral': '9051e14058944727',
  'dpmpp-2m': 'c89621ff875b6e19', 'dpmpp-2m-sde': '2e2c6c00f56d301e', 'dpmpp-2s-ancestral': '178fe3058c6423df',
  'dpmpp-3m': 'ce90ee1b96ca6a25', 'dpmpp-3m-sde': '956d2ec36a54c98c', 'dpmpp-sde': '2080b395069911d6', edm: 'cdd21f43b5896e65',
  euler: '6c2c295c6814344c', 'euler-ancestral': '362b54122d035698', heun: 'cdd21f43b5896e65', lms: 'f4cf579437ba9be2',
  unipc: '6a7d5d9fd8927f7e', 'dpm-solver-3': '9c9b1b6412c42365', 'euler-maruyama': '20c45c6a5de0c5b2',
  dopri5: '55ea6332af88da83',
};
