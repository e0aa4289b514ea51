/**
 * wrapModel: a network trained on a discrete VP schedule (eps, x0 or v prediction, called as
 * fn(alpha * x, t)) as a denoiser in k-diffusion's coordinates.
 */
import { expect } from 'chai';
import * as tw from '../src/index.js';
import type { DiscreteSchedule } from '../src/schedules.js';
import type { FloatArray } from '../src/types.js';
import { gaussian } from './helpers/sampler-models.js';

const S2 = 0.3;

/**
 * The exact network for Gaussian data N(0, S2 I) on a VP schedule: at timestep t (alpha, sigma
 * of the table, fractional t interpolated by the schedule), x0hat = alpha S2 x / (alpha^2 S2 + sigma^2),
 * eps = (x - alpha x0hat) / sigma, v = alpha eps - sigma x0hat.
 */
function gaussianNet(schedule: DiscreteSchedule, kind: 'eps' | 'x0' | 'v', seen?: Float64Array[]) {
  return (x: FloatArray, t: Float64Array): Float64Array => {
    seen?.push(Float64Array.from(t));
    const dim = x.length / t.length;
    const out = new Float64Array(x.length);
    for (let r = 0; r < t.length; r++) {
      const a = schedule.alpha(t[r]);
      const s = schedule.sigma(t[r]);
      for (let i = r * dim; i < (r + 1) * dim; i++) {
        const x0 = (a * S2 * x[i]) / (a * a * S2 + s * s);
        const eps = (x[i] - a * x0) / s;
        out[i] = kind === 'x0' ? x0 : kind === 'eps' ? eps : a * eps - s * x0;
      }
    }
    return out;
  };
}

describe('wrapModel', () => {
  const schedule = tw.schedules.linear();
  const table = schedule.sigmas();

  it('turns an eps, x0 or v network into the exact denoiser D = s2 x / (s2 + sigma^2), per row, at fractional timesteps', () => {
    const sigma = Float64Array.of(table[0], 0.37, 1, 14.2, table[999]);
    const x = Float64Array.from({ length: 5 * 3 }, (_, i) => 3 * Math.sin(i + 2));
    const want = gaussian(S2)(x, sigma);
    for (const kind of ['eps', 'x0', 'v'] as const) {
      const seen: Float64Array[] = [];
      const D = tw.wrapModel(gaussianNet(schedule, kind, seen), { prediction: kind, schedule })(x, sigma) as Float64Array;
      for (let i = 0; i < x.length; i++) expect(D[i], kind).to.be.closeTo(want[i], 1e-11 * (1 + Math.abs(want[i])));
      expect(Array.from(seen[0], (t) => Number.isInteger(t))).to.deep.equal([true, false, false, false, true]);
      expect(seen[0][0]).to.equal(0);
      expect(seen[0][4]).to.equal(999);
    }
  });

  it('hands the network alpha * x (the VP state) and keeps x\'s dtype', () => {
    let got: FloatArray | undefined;
    const f = tw.wrapModel((x) => { got = x; return new Float32Array(x.length); }, { prediction: 'x0', schedule });
    const out = f(Float32Array.of(2, -4), Float64Array.of(0.75)) as Float32Array;
    expect(got).to.be.instanceOf(Float32Array);
    expect(Array.from(got as Float32Array)).to.deep.equal([Math.fround(2 / Math.sqrt(1 + 0.5625)), Math.fround(-4 / Math.sqrt(1 + 0.5625))]);
    expect(out).to.be.instanceOf(Float32Array);
  });

  it('DDIM through wrapModel equals the direct VP DDIM update of the same network (eta 0, leading spacing, alphaBar_{-1} = 1)', () => {
    const net = gaussianNet(schedule, 'eps');
    const ts = schedule.timesteps(10, 'leading');
    const ab = schedule.alphasCumprod;
    const sigmas = [...Array.from(ts, (t) => table[t]), 0];
    const xT = Float64Array.from({ length: 2 * 4 }, (_, i) => Math.cos(3 * i + 1));
    // direct: x_{t'} = sqrt(ab') x0 + sqrt(1 - ab') eps, x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab)
    let xv = Float64Array.from(xT);
    for (let k = 0; k < ts.length; k++) {
      const t = ts[k];
      const prev = k + 1 < ts.length ? ab[ts[k + 1]] : 1;
      const eps = net(xv, new Float64Array(2).fill(t));
      xv = xv.map((v, i) => {
        const x0 = (v - Math.sqrt(1 - ab[t]) * eps[i]) / Math.sqrt(ab[t]);
        return Math.sqrt(prev) * x0 + Math.sqrt(1 - prev) * eps[i];
      });
    }
    const wrapped = tw.sampleSync({
      model: tw.wrapModel(net, { prediction: 'eps', schedule }), sampler: 'ddim', sigmas,
      x: xT.map((v) => v / Math.sqrt(ab[ts[0]])), dim: 4,
    });
    for (let i = 0; i < xv.length; i++) expect(wrapped.x[i]).to.be.closeTo(xv[i], 1e-11 * (1 + Math.abs(xv[i])));
  });

  it('async networks: the denoiser returns a Promise, tw.sample awaits it and equals the sync run', async () => {
    const net = gaussianNet(schedule, 'v');
    const sync = tw.wrapModel(net, { prediction: 'v', schedule });
    const async = tw.wrapModel(async (x, t) => net(x, t), { prediction: 'v', schedule });
    const o = { sampler: 'dpmpp-2m' as const, sigmas: [14.6, 5, 1, 0.1, 0], x: Float64Array.of(14, -3, 7, 1), dim: 2 };
    const a = tw.sampleSync({ ...o, model: sync });
    const b = await tw.sample({ ...o, model: async });
    expect(Array.from(b.x)).to.deep.equal(Array.from(a.x));
    expect(() => tw.sampleSync({ ...o, model: async })).to.throw(TypeError, /Promise/);
  });

  it('quantize rounds each timestep to the nearest table entry in log sigma', () => {
    const seen: Float64Array[] = [];
    const f = tw.wrapModel(gaussianNet(schedule, 'eps', seen), { prediction: 'eps', schedule, quantize: true });
    const at = (w: number): number => Math.exp((1 - w) * Math.log(table[500]) + w * Math.log(table[501]));
    f(new Float64Array(5), Float64Array.of(table[500] * 1.0001, table[501] / 1.0001, at(0.4), at(0.6), 0.001));
    expect(Array.from(seen[0])).to.deep.equal([500, 501, 500, 501, 0]);
  });

  it('rejects bad options and bad network outputs with errors naming them', async () => {
    const net = gaussianNet(schedule, 'eps');
    expect(() => tw.wrapModel(3 as never, { prediction: 'eps', schedule })).to.throw(TypeError, /for fn/);
    expect(() => tw.wrapModel(net, undefined as never)).to.throw(TypeError, /options/);
    expect(() => tw.wrapModel(net, { prediction: 'score' as never, schedule })).to.throw(TypeError, /'eps', 'x0', 'v' for prediction/);
    expect(() => tw.wrapModel(net, { schedule } as never)).to.throw(TypeError, /prediction/);
    expect(() => tw.wrapModel(net, { prediction: 'eps', schedule: tw.schedules.vp() as never })).to.throw(TypeError, /DiscreteSchedule.* for schedule/);
    expect(() => tw.wrapModel(net, { prediction: 'eps' } as never)).to.throw(TypeError, /schedule/);
    expect(() => tw.wrapModel(net, { prediction: 'eps', schedule, quantize: 1 as never })).to.throw(TypeError, /boolean for quantize/);
    const short = tw.wrapModel(() => new Float64Array(1), { prediction: 'eps', schedule });
    expect(() => short(new Float64Array(4), Float64Array.of(1, 2))).to.throw(TypeError, /length 4 for the network's output/);
    expect(() => tw.sampleSync({ model: short, sampler: 'euler', sigmas: [2, 0], x: new Float64Array(4), dim: 2 }))
      .to.throw(Error, /step 0.*network's output/);
    const bad = tw.wrapModel(async () => [1, 2] as never, { prediction: 'eps', schedule });
    const err = await tw.sample({ model: bad, sampler: 'euler', sigmas: [2, 0], x: new Float64Array(2), dim: 2 }).then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/step 0.*Float32Array or Float64Array for the network's output/);
  });
});
