/**
 * 'unipc', 'dpm-solver-3', 'euler-maruyama' and 'dopri5': identities, NFE, per-sample
 * independence, option validation and pinned hashes of their option variants.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as tw from '../src/index.js';
import { fastOrders } from '../src/samplers/dpmsolver.js';
import type { SampleOptions, SamplerId, StepInfo } from '../src/samplers/index.js';
import { exponential, gaussian, gaussianFlow, karras, mixture1d } from './helpers/sampler-models.js';

const mix = mixture1d([0.3, 0.7], [-1, 1.5], [0.09, 0.25]);
const X3 = Float64Array.from({ length: 4 * 3 }, (_, i) => 80 * Math.sin(i + 1));

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1e-300, Math.abs(b[i])));
  return m;
}

describe('unipc', () => {
  it('UniP-2 bh2 (corrector off) equals DPM-Solver++(2M) to float64 rounding, on grids ending in 0', () => {
    // samplers.md §2.14: UniP-2 with B(h) = e^{-h} - 1 is DPM-Solver++(2M) (midpoint). On a grid
    // ending in 0 both end with x = D (UniPC's lower-order final step is first order there).
    for (const grid of [karras(18, 0.002, 80), karras(10, 0.0292, 14.6146), karras(5, 0.1, 10)]) {
      for (const model of [gaussian(0.3), mix]) {
        const a = tw.sampleSync({ model, sampler: 'unipc', sigmas: grid, x: X3, dim: 3, disableCorrector: true });
        const b = tw.sampleSync({ model, sampler: 'dpmpp-2m', sigmas: grid, x: X3, dim: 3 });
        expect(maxRel(a.x, b.x)).to.be.below(1e-12);
        expect(a.nfe).to.equal(b.nfe);
      }
    }
  });

  it('... and without the final 0 when lowerOrderFinal is false (else UniPC takes a first-order last step, DPM-Solver++(2M) does not)', () => {
    const grid = karras(12, 0.002, 80, false);
    const a = tw.sampleSync({ model: mix, sampler: 'unipc', sigmas: grid, x: X3, dim: 3, disableCorrector: true, lowerOrderFinal: false });
    const b = tw.sampleSync({ model: mix, sampler: 'dpmpp-2m', sigmas: grid, x: X3, dim: 3 });
    expect(maxRel(a.x, b.x)).to.be.below(1e-12);
    const c = tw.sampleSync({ model: mix, sampler: 'unipc', sigmas: grid, x: X3, dim: 3, disableCorrector: true });
    expect(maxRel(c.x, b.x)).to.be.above(1e-6);
  });

  it('UniP-1 is DDIM (= Euler in these coordinates)', () => {
    const grid = karras(10, 0.01, 80);
    const a = tw.sampleSync({ model: mix, sampler: 'unipc', sigmas: grid, x: X3, dim: 3, order: 1, disableCorrector: true });
    const b = tw.sampleSync({ model: mix, sampler: 'euler', sigmas: grid, x: X3, dim: 3 });
    expect(maxRel(a.x, b.x)).to.be.below(1e-12);
  });

  it('the corrector costs no evaluation: NFE N and onStep once per step, for every order and variant', () => {
    const grid = karras(9, 0.01, 80);
    for (const order of [1, 2, 3]) {
      for (const variant of ['bh1', 'bh2'] as const) {
        const seen: number[] = [];
        const r = tw.sampleSync({ model: mix, sampler: 'unipc', sigmas: grid, x: X3, dim: 3, order, variant, onStep: (s) => seen.push(s.i) });
        expect(r.nfe).to.equal(9);
        expect(seen).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8]);
        expect(Array.from(r.x).every(Number.isFinite)).to.equal(true);
      }
    }
  });

  it('the corrector improves the result at equal NFE (Gaussian, 40 steps)', () => {
    const grid = karras(40, 0.002, 80);
    const exact = (0.25 / (0.25 + 0.002 ** 2)) * gaussianFlow(80, 80, 0.002, 0.25);
    const on = tw.sampleSync({ model: gaussian(0.25), sampler: 'unipc', sigmas: grid, x: Float64Array.of(80), dim: 1 });
    const off = tw.sampleSync({ model: gaussian(0.25), sampler: 'unipc', sigmas: grid, x: Float64Array.of(80), dim: 1, disableCorrector: true });
    expect(Math.abs(on.x[0] - exact)).to.be.below(Math.abs(off.x[0] - exact));
  });
});

describe('dpm-solver-3', () => {
  it('fastOrders: samplers.md §5 (n = 10 -> [3, 3, 3, 1], n = 12 -> [3, 3, 3, 2, 1]) and every budget sums to n', () => {
    expect(fastOrders(10)).to.deep.equal([3, 3, 3, 1]);
    expect(fastOrders(12)).to.deep.equal([3, 3, 3, 2, 1]);
    expect(fastOrders(1)).to.deep.equal([1]);
    expect(fastOrders(2)).to.deep.equal([2]);
    expect(fastOrders(3)).to.deep.equal([2, 1]);
    for (let n = 1; n <= 40; n++) {
      const o = fastOrders(n);
      expect(o.reduce((a, b) => a + b, 0)).to.equal(n);
      expect(o.length).to.equal(Math.floor(n / 3) + 1);
    }
  });

  it('NFE 3 per interval and 1 for the final step to 0, onStep once per interval', () => {
    const grid = karras(10, 0.002, 80);
    const seen: StepInfo[] = [];
    const r = tw.sampleSync({ model: mix, sampler: 'dpm-solver-3', sigmas: grid, x: X3, dim: 3, onStep: (s) => seen.push({ ...s }) });
    expect(r.nfe).to.equal(3 * 9 + 1);
    expect(seen.map((s) => s.sigma)).to.deep.equal(Array.from(grid.subarray(0, 10)));
    expect(seen[9].sigmaNext).to.equal(0);
  });

  it('with an nfe budget: K steps uniform in log sigma between sigmas[0] and the last positive sigma, NFE = budget (+1 for a final 0)', () => {
    for (const [nfe, grid, extra] of [[10, [80, 5, 0.002, 0], 1], [12, [80, 0.002], 0], [7, [14.6, 3, 1, 0.03, 0], 1]] as const) {
      const seen: number[] = [];
      const r = tw.sampleSync({ model: mix, sampler: 'dpm-solver-3', sigmas: grid, x: X3, dim: 3, nfe, onStep: (s) => seen.push(s.sigma) });
      expect(r.nfe).to.equal(nfe + extra);
      const K = Math.floor(nfe / 3) + 1;
      expect(seen.length).to.equal(K + extra);
      const last = grid[grid.length - 1] === 0 ? grid[grid.length - 2] : grid[grid.length - 1];
      for (let k = 0; k < K; k++) {
        expect(Math.log(seen[k])).to.be.closeTo(Math.log(grid[0]) + (k / K) * (Math.log(last) - Math.log(grid[0])), 1e-12);
      }
    }
  });

  it('the fast allocation converges on the mixture as the budget grows', () => {
    const ref = tw.sampleSync({ model: mix, sampler: 'dopri5', sigmas: [80, 0.01], x: X3, dim: 3, rtol: 1e-12, atol: 1e-12 }).x;
    const err = (nfe: number): number => {
      const r = tw.sampleSync({ model: mix, sampler: 'dpm-solver-3', sigmas: [80, 0.01], x: X3, dim: 3, nfe });
      return Math.max(...Array.from(r.x, (v, i) => Math.abs(v - ref[i])));
    };
    expect(err(40)).to.be.below(err(20) / 3);
    expect(err(80)).to.be.below(err(40) / 3);
  });
});

describe('euler-maruyama', () => {
  const tag = (step: number, stage: number): bigint => BigInt(0x10000000 + 8 * step + stage) << 32n;
  const normals = (n: number, seed: number, stream: number, index: bigint): Float64Array =>
    tw.randomNormal(new Float64Array(n), { seed, stream, offset: index });

  it('one predictor step is x + 2 (s1 - s)/s (x - D) + sqrt(2 s (s - s1)) z with z the documented normals; x = D on a step to 0', () => {
    const model = gaussian(0.3);
    const x = Float64Array.of(1.5, -2, 0.25, 3, -1, 0.5);
    const r = tw.sampleSync({ model, sampler: 'euler-maruyama', sigmas: [2, 1.25], x, dim: 3, seed: 7 });
    const D = model(x, Float64Array.of(2, 2));
    for (let row = 0; row < 2; row++) {
      const z = normals(3, 7, row, tag(0, 0));
      for (let e = 0; e < 3; e++) {
        const i = row * 3 + e;
        const want = x[i] + ((2 * (1.25 - 2)) / 2) * (x[i] - D[i]) + Math.sqrt(2 * 2 * (2 - 1.25)) * z[e];
        expect(r.x[i]).to.be.closeTo(want, 1e-14 * (1 + Math.abs(want)));
      }
    }
    const d = tw.sampleSync({ model, sampler: 'euler-maruyama', sigmas: [2, 0], x, dim: 3, seed: 7 });
    expect(Array.from(d.x)).to.deep.equal(Array.from(model(x, Float64Array.of(2, 2))));
  });

  it('the Langevin corrector step uses per-sample norms: eps = 2 (snr |z| / |g|)^2, x + eps g + sqrt(2 eps) z (stage 1 + k normals)', () => {
    const model = gaussian(0.3);
    const dim = 4;
    const x = Float64Array.of(1.5, -2, 0.25, 3, -1, 0.5, 2, -0.7);
    const s = 2;
    const r = tw.sampleSync({ model, sampler: 'euler-maruyama', sigmas: [s, 1], x, dim, seed: 3, correctorSteps: 1, snr: 0.2 });
    expect(r.nfe).to.equal(2);
    for (let row = 0; row < 2; row++) {
      const xr = x.slice(row * dim, row * dim + dim);
      const D = model(xr, Float64Array.of(s));
      const g = Array.from(xr, (v, e) => (D[e] - v) / (s * s));
      const z = normals(dim, 3, row, tag(0, 1));
      const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((a, b) => a + b * b, 0));
      const eps = 2 * ((0.2 * norm(z)) / norm(g)) ** 2;
      const xc = Float64Array.from(xr, (v, e) => v + eps * g[e] + Math.sqrt(2 * eps) * z[e]);
      const D2 = model(xc, Float64Array.of(s));
      const z0 = normals(dim, 3, row, tag(0, 0));
      for (let e = 0; e < dim; e++) {
        const want = xc[e] + ((2 * (1 - s)) / s) * (xc[e] - D2[e]) + Math.sqrt(2 * s * (s - 1)) * z0[e];
        expect(r.x[row * dim + e]).to.be.closeTo(want, 1e-12 * (1 + Math.abs(want)));
      }
    }
  });

  it('a sample does not depend on the rest of the batch (corrector on, independent and Brownian noise)', () => {
    const dim = 8;
    const x = Float64Array.from({ length: 3 * dim }, (_, i) => 10 * Math.sin(3 * i + 1));
    for (const noise of ['independent', 'brownian'] as const) {
      const opts = { model: gaussian(0.4), sampler: 'euler-maruyama' as const, sigmas: karras(6, 0.01, 10), dim, seed: 12, correctorSteps: 2, noise };
      const all = tw.sampleSync({ ...opts, x, sampleIds: [5, 6, 7] });
      const one = tw.sampleSync({ ...opts, x: x.slice(dim, 2 * dim), sampleIds: [6] });
      expect(Array.from(one.x)).to.deep.equal(Array.from(all.x.slice(dim, 2 * dim)));
    }
  });

  it('NFE N (1 + correctorSteps) and onStep once per step', () => {
    let calls = 0;
    const r = tw.sampleSync({ model: mix, sampler: 'euler-maruyama', sigmas: karras(7, 0.01, 10), x: X3, dim: 3, correctorSteps: 3, onStep: () => calls++ });
    expect(r.nfe).to.equal(7 * 4);
    expect(calls).to.equal(7);
  });

  it('samples Gaussian data with the variance of the Euler-Maruyama chain, which tends to the data variance at order 1', () => {
    // For D = s2 x / (s2 + sigma^2) each step is linear: x' = a x + c z, so the output law is
    // N(0, V_N) with V_N from the recursion V' = a^2 V + c^2 (x = D on the last step). The
    // sample variance of n = 20000 samples has standard error V sqrt(2 / n); 5.5 of them.
    const s2 = 0.25;
    const sMax = 80;
    const n = 20000;
    const xT = tw.randomNormal(new Float64Array(n), { seed: 3 }).map((v) => v * Math.sqrt(s2 + sMax * sMax));
    const chain = (grid: Float64Array): number => {
      let V = s2 + sMax * sMax;
      for (let i = 0; i + 1 < grid.length; i++) {
        const s = grid[i];
        const s1 = grid[i + 1];
        const d = s2 / (s2 + s * s);
        if (s1 === 0) V *= d * d;
        else {
          const k = (2 * (s1 - s)) / s;
          V = (1 + k - k * d) ** 2 * V + 2 * s * (s - s1);
        }
      }
      return V;
    };
    const grid = karras(100, 0.002, sMax);
    const r = tw.sampleSync({ model: gaussian(s2), sampler: 'euler-maruyama', sigmas: grid, x: xT, dim: 1, seed: 11 });
    let m = 0;
    let v = 0;
    for (const q of r.x) { m += q; v += q * q; }
    m /= n;
    v = v / n - m * m;
    const V = chain(grid);
    expect(Math.abs(m) / Math.sqrt(V / n)).to.be.below(5.5);
    expect(Math.abs(v - V) / (V * Math.sqrt(2 / n))).to.be.below(5.5);
    // bias of the chain: first order in 1/N
    const bias = [50, 100, 200, 400].map((N) => chain(karras(N, 0.002, sMax)) - s2);
    for (let j = 1; j < bias.length; j++) expect(Math.log2(bias[j - 1] / bias[j])).to.be.within(0.7, 1.6);
  });
});

describe('dopri5', () => {
  const s2 = 0.25;
  const xs = Float64Array.of(-80, -30, 10, 55, 80, 120);

  it('meets its tolerance on the Gaussian (closed form), and the error falls with the tolerance', () => {
    const err = (tol: number): number => {
      const r = tw.sampleSync({ model: gaussian(s2), sampler: 'dopri5', sigmas: [80, 0.002], x: xs, dim: 1, rtol: tol, atol: tol });
      return Math.max(...Array.from(r.x, (v, i) => Math.abs(v - gaussianFlow(xs[i], 80, 0.002, s2))));
    };
    const e6 = err(1e-6);
    const e10 = err(1e-10);
    expect(e6).to.be.below(1e-5);
    expect(e10).to.be.below(1e-9);
    expect(e10).to.be.below(e6 / 1000);
    const def = tw.sampleSync({ model: gaussian(s2), sampler: 'dopri5', sigmas: [80, 0.002], x: xs, dim: 1 });
    expect(Math.max(...Array.from(def.x, (v, i) => Math.abs(v - gaussianFlow(xs[i], 80, 0.002, s2))))).to.be.below(1e-3);
  });

  it('every sample keeps its own step size: a row alone gives the same bits, counts add up over rows, NFE = 2 + 6 rounds', () => {
    const grid = [80, 3, 0.2, 0.002, 0];
    const all = tw.sampleSync({ model: mix, sampler: 'dopri5', sigmas: grid, x: xs, dim: 1, rtol: 1e-6, atol: 1e-6 });
    let accepted = 0;
    let rejected = 0;
    let maxNfe = 0;
    for (let i = 0; i < xs.length; i++) {
      const one = tw.sampleSync({ model: mix, sampler: 'dopri5', sigmas: grid, x: xs.slice(i, i + 1), dim: 1, rtol: 1e-6, atol: 1e-6 });
      expect(one.x[0]).to.equal(all.x[i]);
      accepted += one.accepted ?? NaN;
      rejected += one.rejected ?? NaN;
      maxNfe = Math.max(maxNfe, one.nfe);
      expect((one.nfe - 2) % 6).to.equal(0);
    }
    expect(all.accepted).to.equal(accepted);
    expect(all.rejected).to.equal(rejected);
    expect(all.nfe).to.be.at.least(maxNfe);
    expect((all.nfe - 2) % 6).to.equal(0);
    expect(all.accepted).to.be.at.least(3 * xs.length);
  });

  it('interior grid nodes are checkpoints: onStep fires there, the answer does not depend on them beyond the tolerance', () => {
    const seen: number[] = [];
    const denoised: number[] = [];
    const a = tw.sampleSync({ model: mix, sampler: 'dopri5', sigmas: [80, 10, 1, 0.05, 0], x: xs, dim: 1, rtol: 1e-9, atol: 1e-9,
      onStep: (s) => { seen.push(s.sigma); denoised.push(s.denoised[0]); } });
    const b = tw.sampleSync({ model: mix, sampler: 'dopri5', sigmas: [80, 0.05, 0], x: xs, dim: 1, rtol: 1e-9, atol: 1e-9 });
    expect(seen).to.deep.equal([80, 10, 1, 0.05]);
    expect(Math.max(...Array.from(a.x, (v, i) => Math.abs(v - b.x[i])))).to.be.below(1e-7);
    // the final step to 0 returns D at the last positive sigma
    expect(a.x[0]).to.be.closeTo(denoised[3], 1e-14);
  });

  it('works in float32 (within float32 rounding of the float64 run) and with async models', async () => {
    const x32 = Float32Array.from(xs);
    const a = tw.sampleSync({ model: mix, sampler: 'dopri5', sigmas: [80, 0.01, 0], x: x32, dim: 1, rtol: 1e-5, atol: 1e-5 });
    const b = tw.sampleSync({ model: mix, sampler: 'dopri5', sigmas: [80, 0.01, 0], x: xs, dim: 1, rtol: 1e-5, atol: 1e-5 });
    expect(a.x).to.be.instanceOf(Float32Array);
    expect(Math.max(...Array.from(a.x, (v, i) => Math.abs(v - b.x[i])))).to.be.below(1e-3);
    const c = await tw.sample({ model: async (x, s) => mix(x, s), sampler: 'dopri5', sigmas: [80, 0.01, 0], x: xs, dim: 1, rtol: 1e-5, atol: 1e-5 });
    expect(Array.from(c.x)).to.deep.equal(Array.from(b.x));
    expect([c.nfe, c.accepted, c.rejected]).to.deep.equal([b.nfe, b.accepted, b.rejected]);
  });

  it('hands the model one sigma per row', () => {
    const seenRows = new Set<string>();
    tw.sampleSync({
      model: (x, sigma) => { seenRows.add(Array.from(sigma).join(',')); return mix(x, sigma); },
      sampler: 'dopri5', sigmas: [80, 0.01], x: Float64Array.of(-80, 80), dim: 1, rtol: 1e-6, atol: 1e-6,
    });
    expect([...seenRows].some((s) => { const [a, b] = s.split(',').map(Number); return a !== b; })).to.equal(true);
  });
});

describe('new samplers: common behaviour', () => {
  const ids: SamplerId[] = ['unipc', 'dpm-solver-3', 'euler-maruyama', 'dopri5'];
  it('a single step to 0 returns D exactly (no log(0), no division by zero)', () => {
    const model = gaussian(0.3);
    const x = Float64Array.of(3, -4, 0.5);
    for (const sampler of ids) {
      const r = tw.sampleSync({ model, sampler, sigmas: [2.5, 0], x, dim: 3 });
      expect(Array.from(r.x), sampler).to.deep.equal(Array.from(model(x, Float64Array.of(2.5))));
      expect(r.nfe, sampler).to.equal(1);
    }
  });

  it('sample (async) equals sampleSync', async () => {
    for (const sampler of ids) {
      const o = { sampler, sigmas: karras(6, 0.01, 40), x: X3, dim: 3, seed: 2 };
      const a = tw.sampleSync({ ...o, model: mix });
      const b = await tw.sample({ ...o, model: async (x, s) => mix(x, s) });
      expect(Array.from(b.x), sampler).to.deep.equal(Array.from(a.x));
    }
  });

  it('exponential grids: every new deterministic sampler lands near the mixture reference', () => {
    const grid = Float64Array.from([...exponential(120, 0.01, 80), 0]);
    const ref = tw.sampleSync({ model: mix, sampler: 'dopri5', sigmas: [80, 0.01, 0], x: X3, dim: 3, rtol: 1e-11, atol: 1e-11 }).x;
    for (const sampler of ['unipc', 'dpm-solver-3'] as const) {
      const r = tw.sampleSync({ model: mix, sampler, sigmas: grid, x: X3, dim: 3 });
      expect(Math.max(...Array.from(r.x, (v, i) => Math.abs(v - ref[i]))), sampler).to.be.below(1e-3);
    }
  });

  it('give the same bits on every backend and SIMD level for their option variants (pinned hash)', () => {
    const dim = 3;
    const x = new Float32Array(4 * dim).map((_, i) => 80 * Math.sin(i + 1));
    const variants: Array<[string, Partial<SampleOptions>]> = [
      ['unipc bh1 order 3', { sampler: 'unipc', variant: 'bh1', order: 3 }],
      ['unipc order 1', { sampler: 'unipc', order: 1 }],
      ['unipc no corrector', { sampler: 'unipc', disableCorrector: true, lowerOrderFinal: false }],
      ['dpm-solver-3 nfe 10', { sampler: 'dpm-solver-3', nfe: 10 }],
      ['euler-maruyama corrector', { sampler: 'euler-maruyama', correctorSteps: 2, snr: 0.2 }],
      ['euler-maruyama brownian', { sampler: 'euler-maruyama', noise: 'brownian' }],
      ['euler-ancestral brownian', { sampler: 'euler-ancestral', noise: 'brownian' }],
      ['dpmpp-sde brownian', { sampler: 'dpmpp-sde', noise: 'brownian' }],
      ['dpmpp-2m-sde brownian', { sampler: 'dpmpp-2m-sde', noise: 'brownian', sampleIds: [9, 3, 1, 0] }],
      ['dopri5 1e-7', { sampler: 'dopri5', rtol: 1e-7, atol: 1e-7 }],
      ['dpmpp-3m thirdOrder', { sampler: 'dpmpp-3m', thirdOrder: true }],
      ['dpmpp-3m-sde thirdOrder', { sampler: 'dpmpp-3m-sde', thirdOrder: true }],
    ];
    const hashes: Record<string, string> = {};
    for (const [name, v] of variants) {
      const r = tw.sampleSync({ model: gaussian(0.3), sampler: 'euler', sigmas: karras(6, 0.01, 80), x, dim, seed: 5, ...v });
      hashes[name] = createHash('sha256').update(new Uint8Array(r.x.buffer)).digest('hex').slice(0, 16);
    }
    expect(hashes).to.deep.equal(GOLDEN_VARIANTS);
  });
});

describe('new samplers: bad options', () => {
  const base = { model: gaussian(1), sigmas: karras(5, 0.01, 10), x: Float64Array.of(1, 2), dim: 1 };
  it('name the option and what was expected', () => {
    expect(() => tw.sampleSync({ ...base, sampler: 'nope' as SamplerId })).to.throw(TypeError, /'unipc', 'dpm-solver-3', 'euler-maruyama', 'dopri5' for sampler/);
    expect(() => tw.sampleSync({ ...base, sampler: 'unipc', order: 4 })).to.throw(RangeError, /integer from 1 to 3 for order/);
    expect(() => tw.sampleSync({ ...base, sampler: 'unipc', order: 0 })).to.throw(RangeError, /order/);
    expect(() => tw.sampleSync({ ...base, sampler: 'lms', order: 4 })).to.not.throw();
    expect(() => tw.sampleSync({ ...base, sampler: 'unipc', variant: 'bh3' as never })).to.throw(TypeError, /'bh1' or 'bh2' for variant/);
    expect(() => tw.sampleSync({ ...base, sampler: 'unipc', disableCorrector: 1 as never })).to.throw(TypeError, /boolean for disableCorrector/);
    expect(() => tw.sampleSync({ ...base, sampler: 'unipc', lowerOrderFinal: 'no' as never })).to.throw(TypeError, /boolean for lowerOrderFinal/);
    expect(() => tw.sampleSync({ ...base, sampler: 'euler', variant: 'bh1' })).to.throw(TypeError, /sampler 'euler'.* for variant/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dpmpp-3m', thirdOrder: 1 as never })).to.throw(TypeError, /boolean for thirdOrder/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dpmpp-2m', thirdOrder: true })).to.throw(TypeError, /sampler 'dpmpp-2m'.* for thirdOrder/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dpm-solver-3', nfe: 0 })).to.throw(RangeError, /integer >= 1 for nfe/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dpm-solver-3', nfe: 2.5 })).to.throw(RangeError, /nfe/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dpm-solver-3', nfe: '6' as never })).to.throw(RangeError, /nfe/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dpm-solver-3', nfe: 6, sigmas: [10, 0] })).to.throw(RangeError, /two positive sigmas.* for sigmas/);
    expect(() => tw.sampleSync({ ...base, sampler: 'unipc', nfe: 6 })).to.throw(TypeError, /sampler 'unipc'.* for nfe/);
    expect(() => tw.sampleSync({ ...base, sampler: 'euler-maruyama', correctorSteps: 8 })).to.throw(RangeError, /from 0 to 7 for correctorSteps/);
    expect(() => tw.sampleSync({ ...base, sampler: 'euler-maruyama', correctorSteps: -1 })).to.throw(RangeError, /correctorSteps/);
    expect(() => tw.sampleSync({ ...base, sampler: 'euler-maruyama', correctorSteps: 1.5 })).to.throw(RangeError, /correctorSteps/);
    expect(() => tw.sampleSync({ ...base, sampler: 'euler-maruyama', snr: 0 })).to.throw(RangeError, /> 0 for snr/);
    expect(() => tw.sampleSync({ ...base, sampler: 'euler-maruyama', snr: NaN })).to.throw(RangeError, /snr/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dopri5', rtol: 0 })).to.throw(RangeError, /rtol/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dopri5', rtol: 1e-14 })).to.throw(RangeError, /1e-13 for rtol/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dopri5', rtol: Infinity })).to.throw(RangeError, /rtol/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dopri5', atol: -1 })).to.throw(RangeError, /> 0 for atol/);
    expect(() => tw.sampleSync({ ...base, sampler: 'heun', rtol: 1e-3 })).to.throw(TypeError, /sampler 'heun'.* for rtol/);
    expect(() => tw.sampleSync({ ...base, sampler: 'euler-ancestral', noise: 'pink' as never })).to.throw(TypeError, /'independent' or 'brownian' for noise/);
    expect(() => tw.sampleSync({ ...base, sampler: 'euler', noise: 'brownian' })).to.throw(TypeError, /sampler 'euler'.* for noise/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dpmpp-2m-sde', noise: 'brownian', noiseSampler: () => new Float64Array(2) }))
      .to.throw(TypeError, /noiseSampler.* for noise/);
    expect(() => tw.sampleSync({ ...base, sampler: 'dpmpp-2m-sde', noise: 'independent', noiseSampler: () => new Float64Array(2) })).to.not.throw();
  });
});

const GOLDEN_VARIANTS: Record<string, string> = {
  'unipc bh1 order 3': 'cb58ecb1671b3118', 'unipc order 1': '92764e2ca9f92ddf',
  'unipc no corrector': 'c89621ff875b6e19', // the bits of 'dpmpp-2m' (GOLDEN in samplers.test.ts)
  'dpm-solver-3 nfe 10': '526e075f70f8844d', 'euler-maruyama corrector': 'a90a4ad5c6caa1dd',
  'euler-maruyama brownian': '1bbd850fa31f3812', 'euler-ancestral brownian': 'e7cb9d5253c4eb3f',
  'dpmpp-sde brownian': '7f8a69123d8f1314', 'dpmpp-2m-sde brownian': '6ca150d081bd0f6c', 'dopri5 1e-7': '0e088298f3eaf919',
  'dpmpp-3m thirdOrder': 'c4661e296d1ef7e3', 'dpmpp-3m-sde thirdOrder': 'a65e939262a2e81e',
};
