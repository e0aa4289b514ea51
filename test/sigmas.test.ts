import { expect } from 'chai';
import * as schedules from '../src/schedules.js';
import type { DiscreteSchedule, TimestepSpacing } from '../src/schedules.js';
import * as sigmas from '../src/sigmas.js';

// Expected values marked "numpy" were computed independently in Python 3.11 / numpy 2.4.6, float64, with
// k-diffusion's get_sigmas_* formulas (torch.linspace replaced by np.linspace) and diffusers'
// ((1 - ab) / ab) ** 0.5 tables; only the numbers were pasted here. Values written with few digits are
// samplers.md §5's reference facts and are checked to exactly the digits given.

function close(actual: number, expected: number, rel = 1e-12): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).to.be.at.most(rel * Math.abs(expected));
}

function allClose(actual: ArrayLike<number>, expected: readonly number[], rel = 1e-12): void {
  expect(actual.length).to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], rel);
}

/** Each entry rounded to the significant digits written in `ref` equals it. */
function digits(actual: ArrayLike<number>, ref: readonly string[]): void {
  expect(actual.length).to.equal(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const sig = ref[i].replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').length;
    expect(Number(actual[i].toPrecision(sig)), `[${i}] ${actual[i]} to ${sig} digits vs ${ref[i]}`).to.equal(Number(ref[i]));
  }
}

/** A k-diffusion grid: Float64Array(n + 1), strictly decreasing, last entry exactly 0. */
function isGrid(g: Float64Array, n: number): void {
  expect(g).to.be.instanceOf(Float64Array);
  expect(g.length).to.equal(n + 1);
  expect(g[n]).to.equal(0);
  for (let i = 1; i <= n; i++) expect(g[i], `[${i}]`).to.be.below(g[i - 1]);
}

function expectArgError(fn: () => unknown, kind: typeof TypeError | typeof RangeError, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').to.be.instanceOf(kind);
  expect((err as { code?: string }).code).to.equal('ERR_TWEEDIE_INVALID_ARG');
  expect((err as Error).message).to.match(/^Expected .+ for .+ but received .+/);
  expect((err as Error).message).to.match(pattern);
}

const head = (g: Float64Array): number[] => Array.from(g.subarray(0, g.length - 1));

describe('sigmas.karras', () => {
  it('reproduces samplers.md §5 (n = 10, 0.0292 -> 14.6146)', () => {
    const g = sigmas.karras({ n: 10, sigmaMin: 0.0292, sigmaMax: 14.6146 });
    isGrid(g, 10);
    digits(head(g), ['14.6146', '9.1034', '5.47903', '3.1692', '1.7499', '0.91442', '0.447145', '0.201532', '0.0819809', '0.0292']);
    // numpy; end points pinned to the inputs (numpy: 14.614599999999992 and 0.029200000000000004)
    allClose(head(g), [14.614599999999992, 9.103404833829892, 5.479026736168096, 3.1692041472211496, 1.7499009612035363, 0.9144200047253521, 0.447144619920986, 0.20153187375743564, 0.08198091496087014, 0.029200000000000004]);
    expect(g[0]).to.equal(14.6146);
    expect(g[9]).to.equal(0.0292);
  });

  it('reproduces samplers.md §5 with its "SD extremes" (0.0291675, 14.614642)', () => {
    const g = sigmas.karras({ n: 10, sigmaMin: 0.0291675, sigmaMax: 14.614642 });
    digits(head(g), ['14.614642', '9.10293', '5.4784', '3.16861', '1.74942', '0.914076', '0.446921', '0.2014', '0.081911', '0.0291675']);
  });

  it('with the scaled-linear table extremes (numpy)', () => {
    const sd = schedules.scaledLinear().sigmas();
    const g = sigmas.karras({ n: 10, sigmaMin: sd[0], sigmaMax: sd[999] });
    allClose(head(g), [14.614641229333643, 9.102928134047657, 5.478391986442962, 3.168603072959619, 1.7494170492511885, 0.9140722650309667, 0.44691820937343973, 0.20139829978031268, 0.08191023832026934, 0.02916715815172038]);
  });

  it('reproduces the EDM grid (n = 18, 0.002 -> 80, rho 7)', () => {
    const g = sigmas.karras({ n: 18, sigmaMin: 0.002, sigmaMax: 80 });
    isGrid(g, 18);
    digits(head(g), ['80', '57.586', '40.7856', '28.3746', '19.3525', '12.9101', '8.40094', '5.31519', '3.25682', '1.92334', '1.08817', '0.585348', '0.296442', '0.139516', '0.0599473', '0.0229345', '0.00752802', '0.002']);
    allClose(head(g), [80.0, 57.58598472124816, 40.78557379650796, 28.374584604156844, 19.352452980325225, 12.91008238075732, 8.400935309099825, 5.315194521796382, 3.256821519765537, 1.9233398370400518, 1.088170636545279, 0.5853481231945422, 0.2964422844791578, 0.13951646873101678, 0.05994731123547159, 0.022934518372333384, 0.007528019962784078, 0.002000000000000003]);
  });

  it('handles n = 1 and other rho', () => {
    expect(Array.from(sigmas.karras({ n: 1, sigmaMin: 0.1, sigmaMax: 10 }))).to.deep.equal([10, 0]);
    expect(Array.from(sigmas.karras({ n: 2, sigmaMin: 0.1, sigmaMax: 10 }))).to.deep.equal([10, 0.1, 0]);
    // rho = 1 is linear in sigma
    const lin = sigmas.karras({ n: 5, sigmaMin: 1, sigmaMax: 5, rho: 1 });
    allClose(head(lin), [5, 4, 3, 2, 1], 1e-15);
    isGrid(sigmas.karras({ n: 1000, sigmaMin: 1e-3, sigmaMax: 1e3, rho: 3 }), 1000);
  });
});

describe('sigmas.exponential / polyexponential', () => {
  const EXP = [14.614599999999996, 7.3257677560189505, 3.6721410928199845, 1.8407108517053383, 0.9226814422274406, 0.46250666857436057, 0.2318377813683435, 0.11621185276197656, 0.058252777621755646, 0.0292]; // numpy

  it('exponential reproduces samplers.md §5', () => {
    const g = sigmas.exponential({ n: 10, sigmaMin: 0.0292, sigmaMax: 14.6146 });
    isGrid(g, 10);
    digits(head(g), ['14.6146', '7.32577', '3.67214', '1.84071', '0.922681', '0.462507', '0.231838', '0.116212', '0.0582528', '0.0292']);
    allClose(head(g), EXP);
    expect(g[0]).to.equal(14.6146);
    expect(g[9]).to.equal(0.0292);
    // uniform in log sigma
    for (let i = 1; i < 10; i++) close(Math.log(g[i - 1] / g[i]), Math.log(14.6146 / 0.0292) / 9, 1e-13);
  });

  it('polyexponential with rho = 1 equals exponential; rho = 2 reproduces samplers.md §5', () => {
    const p1 = sigmas.polyexponential({ n: 10, sigmaMin: 0.0292, sigmaMax: 14.6146 });
    allClose(head(p1), EXP, 1e-14);
    const p2 = sigmas.polyexponential({ n: 10, sigmaMin: 0.0292, sigmaMax: 14.6146, rho: 2 });
    isGrid(p2, 10);
    digits(head(p2), ['14.6146', '3.96502', '1.25417', '0.462507', '0.198853', '0.0996778', '0.0582528', '0.0396905', '0.0315289', '0.0292']);
    allClose(head(p2), [14.614599999999996, 3.965019575985915, 1.2541679291751195, 0.4625066685743608, 0.19885305130582415, 0.09967780653881654, 0.05825277762175567, 0.039690517068930335, 0.031528900631069626, 0.0292]); // numpy
    expect(Array.from(sigmas.exponential({ n: 1, sigmaMin: 1, sigmaMax: 2 }))).to.deep.equal([2, 0]);
    expect(Array.from(sigmas.polyexponential({ n: 1, sigmaMin: 1, sigmaMax: 2, rho: 3 }))).to.deep.equal([2, 0]);
  });
});

describe('sigmas.vp', () => {
  it('reproduces samplers.md §5 (k-diffusion get_sigmas_vp, n = 10)', () => {
    const g = sigmas.vp({ n: 10 });
    isGrid(g, 10);
    digits(head(g), ['152.167', '53.3098', '21.0956', '9.4032', '4.68064', '2.54943', '1.46197', '0.822899', '0.381702', '0.010486']);
    // numpy with expm1 (k-diffusion's exp(x) - 1 differs only in the last entry, by 3.3e-13 relative:
    // 0.010485992786706403)
    allClose(head(g), [152.1669702839464, 53.309847477391756, 21.0956240704022, 9.4031965545555, 4.680639867003466, 2.5494299327452903, 1.4619718278116114, 0.8228990153877649, 0.38170218550193613, 0.010485992786702987]);
  });

  it('agrees with schedules.vp: sigma/alpha at the same times', () => {
    const c = schedules.vp({ betaMin: 0.5, betaMax: 0.5 + 12 });
    const g = sigmas.vp({ n: 7, betaD: 12, betaMin: 0.5, epsS: 0.01 });
    for (let i = 0; i < 7; i++) {
      const t = i === 6 ? 0.01 : i * ((0.01 - 1) / 6) + 1;
      close(g[i], c.sigma(t) / c.alpha(t), 1e-13);
    }
    expect(Array.from(sigmas.vp({ n: 1 }))).to.deep.equal([sigmas.vp({ n: 10 })[0], 0]);
  });
});

describe('sigmas.fromSchedule', () => {
  const sd = schedules.scaledLinear();

  it('gives the SD Euler grid for N = 10 linspace (samplers.md §5)', () => {
    const g = sigmas.fromSchedule(sd, 10, { spacing: 'linspace' });
    isGrid(g, 10);
    digits(head(g), ['14.6146', '7.83988', '4.60917', '2.91831', '1.95016', '1.34493', '0.932358', '0.624977', '0.368658', '0.0291672']);
    // numpy: the table at [999, 888, ..., 111, 0]
    allClose(head(g), [14.614641229333639, 7.839882872819808, 4.609174133893039, 2.9183071154268285, 1.9501614706273922, 1.3449277833514826, 0.9323579668348474, 0.6249769180115957, 0.36865774541485086, 0.029167158151720367]);
  });

  it('leading spacing with steps offset 1 (samplers.md §5: 8.39068 / 13.12041 and init_noise_sigma)', () => {
    const g10 = sigmas.fromSchedule(sd, 10, { spacing: 'leading', stepsOffset: 1 });
    isGrid(g10, 10);
    digits([g10[0], Math.sqrt(g10[0] ** 2 + 1)], ['8.39068', '8.45006']);
    close(g10[0], 8.390684770218579); // numpy sigma(901)
    const g50 = sigmas.fromSchedule(sd, 50, { spacing: 'leading', stepsOffset: 1 });
    isGrid(g50, 50);
    digits([g50[0], Math.sqrt(g50[0] ** 2 + 1)], ['13.12041', '13.15846']);
    close(g50[0], 13.120410742553977); // numpy sigma(981)
    expect(g50[49]).to.equal(sd.sigmaAt(1));
  });

  it('is the table at s.timesteps(n, spacing), then 0', () => {
    for (const spacing of ['leading', 'trailing', 'linspace'] as TimestepSpacing[]) {
      for (const n of [1, 3, 25, 1000]) {
        const g = sigmas.fromSchedule(sd, n, { spacing });
        const ts = sd.timesteps(n, spacing);
        isGrid(g, n);
        for (let i = 0; i < n; i++) expect(g[i]).to.equal(sd.sigmaAt(ts[i]));
      }
    }
    allClose(head(sigmas.fromSchedule(sd, 4, { spacing: 'trailing' })), [14.614641229333639, 4.081729363724308, 1.612886194303876, 0.6932048996386885]); // numpy
  });

  it('zero terminal SNR: +Infinity first with trailing spacing, 4095.99988 with the 2^-24 clamp', () => {
    const z = schedules.zeroTerminalSnr(sd);
    const g = sigmas.fromSchedule(z, 10, { spacing: 'trailing' });
    expect(g[0]).to.equal(Infinity);
    expect(g[10]).to.equal(0);
    const zc = schedules.zeroTerminalSnr(sd, { clampTerminal: 2 ** -24 });
    const gc = sigmas.fromSchedule(zc, 10, { spacing: 'trailing' });
    isGrid(gc, 10);
    digits([gc[0]], ['4095.99988']);
  });
});

describe('sigmas: bad input', () => {
  const T = TypeError;
  const R = RangeError;

  it('rejects bad n, sigmaMin, sigmaMax and rho', () => {
    for (const f of [sigmas.karras, sigmas.exponential, sigmas.polyexponential]) {
      expectArgError(() => f({ n: 0, sigmaMin: 0.1, sigmaMax: 10 }), R, /positive integer for n but received number 0/);
      expectArgError(() => f({ n: 2.5, sigmaMin: 0.1, sigmaMax: 10 }), R, /for n/);
      expectArgError(() => f({ sigmaMin: 0.1, sigmaMax: 10 } as sigmas.KarrasOptions), T, /for n but received undefined/);
      expectArgError(() => f({ n: 5, sigmaMin: 0, sigmaMax: 10 }), R, /finite number > 0 for sigmaMin but received number 0/);
      expectArgError(() => f({ n: 5, sigmaMin: -1, sigmaMax: 10 }), R, /for sigmaMin/);
      expectArgError(() => f({ n: 5, sigmaMin: NaN, sigmaMax: 10 }), R, /for sigmaMin/);
      expectArgError(() => f({ n: 5, sigmaMin: 10, sigmaMax: 10 }), R, /> sigmaMin = 10 for sigmaMax but received number 10/);
      expectArgError(() => f({ n: 5, sigmaMin: 1, sigmaMax: 0.5 }), R, /for sigmaMax/);
      expectArgError(() => f({ n: 5, sigmaMin: 1, sigmaMax: Infinity }), R, /for sigmaMax/);
      expectArgError(() => f({ n: 5, sigmaMin: '1' as unknown as number, sigmaMax: 2 }), T, /for sigmaMin but received string "1"/);
      expectArgError(() => f(undefined as unknown as sigmas.KarrasOptions), T, /options object for options/);
    }
    expectArgError(() => sigmas.karras({ n: 5, sigmaMin: 1, sigmaMax: 2, rho: 0 }), R, /finite number > 0 for rho but received number 0/);
    expectArgError(() => sigmas.polyexponential({ n: 5, sigmaMin: 1, sigmaMax: 2, rho: -1 }), R, /for rho/);
  });

  it('rejects bad vp options', () => {
    expectArgError(() => sigmas.vp({ n: 0 }), R, /for n/);
    expectArgError(() => sigmas.vp({ n: 5, betaD: -1 }), R, /for betaD/);
    expectArgError(() => sigmas.vp({ n: 5, betaMin: NaN }), R, /for betaMin/);
    expectArgError(() => sigmas.vp({ n: 5, betaD: 0, betaMin: 0 }), R, /for betaD/);
    expectArgError(() => sigmas.vp({ n: 5, epsS: 0 }), R, /number in \(0, 1\) for epsS but received number 0/);
    expectArgError(() => sigmas.vp({ n: 5, epsS: 1 }), R, /for epsS/);
  });

  it('rejects bad fromSchedule input', () => {
    const s = schedules.linear({ steps: 100 });
    expectArgError(() => sigmas.fromSchedule({} as DiscreteSchedule, 10, { spacing: 'linspace' }), T, /a DiscreteSchedule for s/);
    expectArgError(() => sigmas.fromSchedule(s, 0, { spacing: 'linspace' }), R, /for n/);
    expectArgError(() => sigmas.fromSchedule(s, 101, { spacing: 'linspace' }), R, /from 1 to 100 .* for n but received number 101/);
    expectArgError(() => sigmas.fromSchedule(s, 10, { spacing: 'karras' as TimestepSpacing }), T, /one of 'leading', 'trailing', 'linspace' for spacing but received string "karras"/);
    expectArgError(() => sigmas.fromSchedule(s, 10, {} as sigmas.FromScheduleOptions), T, /for spacing but received undefined/);
    expectArgError(() => sigmas.fromSchedule(s, 10, undefined as unknown as sigmas.FromScheduleOptions), T, /options object for options/);
    expectArgError(() => sigmas.fromSchedule(s, 10, { spacing: 'leading', stepsOffset: -1 }), R, /for stepsOffset/);
    expectArgError(() => sigmas.fromSchedule(s, 10, { spacing: 'leading', stepsOffset: 20 }), R, /for stepsOffset/);
  });
});
