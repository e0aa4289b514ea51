import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as schedules from '../src/schedules.js';
import type { DiscreteSchedule, TimestepSpacing } from '../src/schedules.js';

// Expected values marked "numpy" were computed independently in Python 3.11 / numpy 2.4.6, float64, the
// way diffusers and k-diffusion evaluate the formulas (np.linspace for torch.linspace, np.cumprod,
// ((1 - ab) / ab) ** 0.5, math.cos for the cosine betas, diffusers' rescale_zero_terminal_snr and
// DDIMScheduler.set_timesteps rules); "mpmath" values with mpmath 1.3 at 40 digits. Only the numbers
// were pasted here. Values written with few digits are samplers.md §5's reference facts and are
// checked to exactly the digits given.

/** |actual - expected| <= rel * |expected|. */
function close(actual: number, expected: number, rel = 1e-12): void {
  const err = Math.abs(actual - expected);
  expect(err, `${actual} vs ${expected}`).to.be.at.most(rel * Math.abs(expected));
}

function allClose(actual: ArrayLike<number>, expected: readonly number[], rel = 1e-12): void {
  expect(actual.length).to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], rel);
}

/** `actual` rounded to the significant digits written in `ref` (e.g. '4.035830e-5': 7) equals ref. */
function digits(actual: number, ref: string): void {
  const mantissa = ref.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
  const sig = mantissa.length;
  expect(Number(actual.toPrecision(sig)), `${actual} to ${sig} digits vs ${ref}`).to.equal(Number(ref));
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

const IDX = [0, 1, 2, 10, 100, 250, 499, 500, 750, 900, 997, 998, 999];
const pick = (a: ArrayLike<number>): number[] => IDX.map((i) => a[i]);

// numpy, T = 1000, at the indices IDX.
const NUMPY = {
  linear: {
    betas: [0.0001, 0.00011991991991991993, 0.00013983983983983984, 0.0002991991991991992, 0.0020919919919919917, 0.00507997997997998, 0.010040040040040039, 0.010059959959959959, 0.015039939939939939, 0.018027927927927928, 0.01996016016016016, 0.01998008008008008, 0.02],
    ab: [0.9999, 0.9997800920720721, 0.9996402829841216, 0.997806572507846, 0.8951415908975365, 0.5214230306185275, 0.07858724288177824, 0.07779665836502389, 0.003300158361569426, 0.0002702445195582643, 4.202152991415678e-05, 4.118193638138445e-05, 4.035829765375676e-05],
    sig: [0.010000500037502575, 0.014830923708982587, 0.018969619362885777, 0.04688549021144125, 0.3422596990130316, 0.9580337146622314, 3.424136619044041, 3.4429671125258228, 17.378600685974273, 60.82230315302541, 154.2605746655272, 155.82519376238224, 157.40728081040757],
    logSnr: [4.60512018348798, 4.211040838259372, 3.964916560450768, 3.060047028551659, 1.0721854762435155, 0.042872308872456716, -1.230849357905236, -1.2363336323287224, -2.8552396037060515, -4.107956549881876, -5.038643215803771, -5.048734826155603, -5.058836591650517],
  },
  scaledLinear: {
    betas: [0.00085, 0.0008546986554056862, 0.0008594102617247102, 0.0008975693451570566, 0.0013839725615898781, 0.0024277610290551624, 0.004803792980550717, 0.00481495414171188, 0.00801157933797015, 0.010318081855853856, 0.011964765617080068, 0.011982376333083366, 0.012],
    ab: [0.99915, 0.9982960278384514, 0.997438081987888, 0.9904313091142859, 0.8942234775865594, 0.6737926252333215, 0.27766965045646763, 0.2763326838229746, 0.05616984800293729, 0.014151141969672475, 0.004773901585247284, 0.004716698899875748, 0.004660098513077238],
    sig: [0.029167158151720367, 0.04131441199678309, 0.0506803541242157, 0.09829107438131854, 0.3439312264488857, 0.6957989370616523, 1.612886194303876, 1.6182788260186167, 4.099164050712037, 8.346596614723834, 14.438568821704827, 14.526275689349731, 14.614641229333639],
    logSnr: [3.534711923512526, 3.186543881127216, 2.982216936098684, 2.319822055734694, 1.0673135647097327, 0.3626945439147116, -0.4780252413556506, -0.4813631313660097, -1.4107830628516211, -2.121853864723916, -2.6699030164824515, -2.67595912603112, -2.6820238501492506],
  },
  cosine: {
    betas: [4.128422482196914e-05, 4.614175273665033e-05, 5.099948119891007e-05, 8.987136245297567e-05, 0.0005318991556979569, 0.0013272239542118092, 0.0031458862304780677, 0.003155691441585007, 0.0075791226547340385, 0.01974185587243449, 0.5555537567416202, 0.7499993929011166, 0.999],
    ab: [0.999958715775178, 0.9999125759273678, 0.9998615809047513, 0.9992789037733427, 0.9715756818078386, 0.8458879864968832, 0.4938435904406382, 0.49228517244880304, 0.14317864642609812, 0.023616108794393863, 9.715044036169872e-06, 2.4287669070348544e-06, 2.4287669070348567e-09],
    sig: [0.006425412771142061, 0.009350492835615357, 0.011765978826561083, 0.026862922060926338, 0.17104355328665174, 0.4268367640785847, 1.0123895639480032, 1.0155505505195104, 2.446279154051933, 6.429928333280797, 320.83039327255483, 641.6623451182054, 20291.169610019886],
    logSnr: [5.047494405728716, 4.672326227379166, 4.44254306208585, 3.61700830523647, 1.7658370573266413, 0.8513536243735005, -0.012313441405756262, -0.015430879745221417, -0.89456815751178, -1.8609633925079117, -5.770912613626038, -6.464062223150377, -9.91794107581199],
  },
  sigmoid: {
    betas: [0.00014920520081703202, 0.00014979833041933025, 0.00015039859157556663, 0.00015546786859772479, 0.0002626288049831852, 0.0010464782947001436, 0.010020120209938985, 0.010079879790061013, 0.01906429141994593, 0.019839297327150448, 0.019949601408424434, 0.01995020166958067, 0.01995079479918297],
    ab: [0.9998507947991829, 0.9997010188194536, 0.9995506651942264, 0.9983261901423058, 0.9804917258090398, 0.9027989162246408, 0.30193105660219516, 0.29888762784675893, 0.005622918576075467, 0.00029046892731719016, 4.131383943401325e-05, 4.0489620005560006e-05, 3.968181990533219e-05],
    sig: [0.01221586944638621, 0.017293657711038253, 0.021202282855945873, 0.040946504055998895, 0.1410546666650781, 0.32812554274321837, 1.5205309519735037, 1.5315805636893283, 13.298254975871304, 58.66608077424874, 155.57623241333727, 157.15179905826315, 158.74336866656455],
    logSnr: [4.405019398222929, 4.057415450993288, 3.853646421217209, 3.195488843365251, 1.9586077568983213, 1.1143589915630465, -0.4190595843723569, -0.4263002503402515, -2.587632821797896, -4.071861719517595, -5.047135852090865, -5.057212211210267, -5.067288864721198],
  },
} as const;

const MAKERS: Record<keyof typeof NUMPY, () => DiscreteSchedule> = {
  linear: () => schedules.linear(),
  scaledLinear: () => schedules.scaledLinear(),
  cosine: () => schedules.cosine(),
  sigmoid: () => schedules.sigmoid(),
};

describe('schedules: discrete tables', () => {
  for (const name of Object.keys(NUMPY) as Array<keyof typeof NUMPY>) {
    it(`${name} matches numpy float64 (1e-12 relative)`, () => {
      const s = MAKERS[name]();
      const ref = NUMPY[name];
      expect(s.kind).to.equal('discrete');
      expect(s.steps).to.equal(1000);
      expect(s.betas).to.be.instanceOf(Float64Array);
      expect(s.alphasCumprod).to.be.instanceOf(Float64Array);
      expect(s.betas.length).to.equal(1000);
      allClose(pick(s.betas), ref.betas);
      allClose(pick(s.alphasCumprod), ref.ab);
      allClose(pick(s.sigmas()), ref.sig);
      allClose(IDX.map((t) => s.sigmaAt(t)), ref.sig);
      allClose(IDX.map((t) => s.logSnr(t)), ref.logSnr);
      allClose(IDX.map((t) => s.alpha(t)), ref.ab.map(Math.sqrt));
      allClose(IDX.map((t) => s.sigma(t)), ref.ab.map((a) => Math.sqrt(1 - a)));
    });

    it(`${name} is a valid table: alphasCumprod = cumprod(1 - betas), strictly decreasing`, () => {
      const s = MAKERS[name]();
      let p = 1;
      for (let t = 0; t < s.steps; t++) {
        p *= 1 - s.betas[t];
        expect(s.alphasCumprod[t]).to.equal(p);
        if (t > 0) expect(s.alphasCumprod[t]).to.be.below(s.alphasCumprod[t - 1]);
        close(s.alpha(t) ** 2 + s.sigma(t) ** 2, 1, 4e-16);
      }
    });
  }

  it('linear reproduces samplers.md §5', () => {
    const s = schedules.linear();
    digits(s.alphasCumprod[0], '0.9999');
    digits(s.alphasCumprod[999], '4.035830e-5');
    digits(s.sigmaAt(0), '0.0100005');
    digits(s.sigmaAt(999), '157.407');
    digits(s.logSnr(999), '-5.05884');
    digits(s.logSnr(0), '4.60512');
    digits(s.alpha(999), '0.00635282');
    // DDPM posterior variance (fixed_small) (1 - ab[t-1]) / (1 - ab[t]) * beta[t]
    const ab = s.alphasCumprod;
    const post = (t: number): number => ((1 - ab[t - 1]) / (1 - ab[t])) * s.betas[t];
    digits(post(999), '0.01999998');
    digits(post(1), '5.4532e-5');
    close(post(999), 0.01999998352656061); // numpy
    close(post(1), 5.4531876613021935e-05); // numpy
  });

  it('scaledLinear reproduces samplers.md §5', () => {
    const s = schedules.scaledLinear();
    digits(s.alphasCumprod[0], '0.99915');
    digits(s.alphasCumprod[499], '0.2776697');
    digits(s.alphasCumprod[999], '4.660099e-3');
    digits(s.sigmaAt(0), '0.0291672');
    digits(s.sigmaAt(999), '14.61464');
    digits(s.alpha(999), '0.0682649');
    digits(s.sigma(999), '0.9976672');
    digits(Math.exp(2 * s.logSnr(999)), '4.681917e-3');
    digits(s.logSnr(999), '-2.68202');
    digits(s.logSnr(0), '3.53471');
    close(Math.exp(2 * s.logSnr(999)), 0.004681916706157956); // numpy ab / (1 - ab)
  });

  it('cosine reproduces samplers.md §5 (only the last beta is capped)', () => {
    const s = schedules.cosine();
    digits(s.betas[0], '4.12842e-5');
    expect(s.betas[999]).to.equal(0.999);
    digits(s.betas[997], '0.555554');
    digits(s.betas[998], '0.749999');
    for (let t = 0; t < 999; t++) expect(s.betas[t]).to.be.below(0.999);
    digits(s.alphasCumprod[999], '2.428767e-9');
    digits(s.sigmaAt(0), '0.00642541');
    digits(s.sigmaAt(999), '20291.2');
    digits(s.logSnr(999), '-9.91794');
  });

  it('cosine options: s and maxBeta', () => {
    const capped = schedules.cosine({ maxBeta: 0.5 });
    const dflt = schedules.cosine();
    expect(capped.betas[999]).to.equal(0.5);
    for (let t = 0; t < 999; t++) expect(capped.betas[t]).to.equal(Math.min(dflt.betas[t], 0.5));
    expect(capped.betas[997]).to.equal(0.5);
    expect(capped.betas[996]).to.be.below(0.5);
    const s0 = schedules.cosine({ s: 0, steps: 10 });
    // ab(u) = cos^2(u pi/2), ab(0) = 1, so alphasCumprod[t] = cos^2((t+1) pi / 20) up to the cap
    for (let t = 0; t < 9; t++) close(s0.alphasCumprod[t], Math.cos(((t + 1) / 10) * Math.PI / 2) ** 2, 1e-13);
  });

  it('sigmoid reproduces samplers.md §5', () => {
    const s = schedules.sigmoid();
    digits(s.betas[0], '1.492052e-4');
    digits(s.betas[999], '0.0199508');
    digits(s.alphasCumprod[999], '3.968182e-5');
  });

  it('honours steps, betaStart and betaEnd (betaStart > betaEnd is allowed, as in diffusers)', () => {
    const s = schedules.linear({ steps: 5, betaStart: 0.1, betaEnd: 0.3 });
    // numpy.linspace: i * step + start, the last entry exactly stop
    expect(Array.from(s.betas)).to.deep.equal([0, 1, 2, 3].map((i) => i * ((0.3 - 0.1) / 4) + 0.1).concat([0.3]));
    const down = schedules.linear({ steps: 3, betaStart: 0.02, betaEnd: 0.01 });
    expect(down.betas[0]).to.equal(0.02);
    expect(down.betas[2]).to.equal(0.01);
    const sl = schedules.scaledLinear({ steps: 3, betaStart: 0.04, betaEnd: 0.09 });
    close(sl.betas[1], 0.25 * 0.25, 1e-15);
    const one = schedules.linear({ steps: 1 });
    expect(Array.from(one.betas)).to.deep.equal([1e-4]);
    expect(Array.from(one.timesteps(1, 'trailing'))).to.deep.equal([0]);
    expect(schedules.sigmoid({ steps: 1 }).betas[0]).to.equal((1 / (1 + Math.exp(6))) * (0.02 - 1e-4) + 1e-4);
  });

  it('exposes copies: writing to betas / alphasCumprod / sigmas() does not change the schedule', () => {
    const s = schedules.linear();
    s.betas[0] = 0.5;
    s.alphasCumprod[0] = 0.5;
    s.sigmas()[0] = 99;
    expect(s.alpha(0)).to.equal(Math.sqrt(0.9999));
    expect(s.sigmaAt(0)).to.equal(0.010000500037502575);
    expect(s.sigmas()).to.not.equal(s.sigmas());
  });
});

describe('schedules.sohlDickstein', () => {
  it('has beta_t = 1/(T - t + 1) and alphaBar_t = 1 - t/T (paper index t = index + 1)', () => {
    const s = schedules.sohlDickstein({ steps: 1000 });
    expect(s.betas[0]).to.equal(0.001); // beta_1
    expect(s.betas[999]).to.equal(1); // beta_T
    expect(s.alphasCumprod[0]).to.equal(0.999); // alphaBar_1
    expect(s.alphasCumprod[499]).to.equal(0.5); // alphaBar_500
    expect(s.alphasCumprod[999]).to.equal(0); // alphaBar_T
    for (let t = 0; t < 1000; t++) {
      expect(s.betas[t]).to.equal(1 / (1000 - t));
      expect(s.alphasCumprod[t]).to.equal((999 - t) / 1000);
    }
    // the running product agrees with the closed form
    let p = 1;
    for (let t = 0; t < 999; t++) {
      p *= 1 - s.betas[t];
      close(p, s.alphasCumprod[t], 1e-13);
    }
    expect(s.sigmaAt(999)).to.equal(Infinity);
    expect(s.alpha(999)).to.equal(0);
    expect(s.sigma(999)).to.equal(1);
    expect(s.logSnr(999)).to.equal(-Infinity);
    expect(schedules.sohlDickstein().steps).to.equal(1000);
  });
});

describe('schedules.zeroTerminalSnr', () => {
  // numpy: diffusers' rescale_zero_terminal_snr in float64, then cumprod(1 - betas) as its schedulers do.
  const ZSNR = {
    linear: [0.9999, 0.9997793254331533, 0.999638622525387, 0.9977931947008823, 0.8944904371550821, 0.5188605367916812, 0.07602875054711478, 0.07524621570432673, 0.002644105922212106, 0.00010303847211787733, 1.7007287669913226e-08, 4.213262465088073e-09, 0],
    scaledLinear: [0.99915, 0.9982334461401823, 0.9973126563362984, 0.9897937330126813, 0.8867612845015072, 0.6524570153414769, 0.24235916655614523, 0.24101878275731575, 0.03279911812874219, 0.0029603934209004134, 7.907515740174185e-07, 1.967888056621292e-07, 0],
    cosine: [0.9999587157751777, 0.9999125736533471, 0.9998615761174814, 0.9992788702738471, 0.9715742929930321, 0.8458807104529258, 0.4938230007559876, 0.492264538531666, 0.14315546294128006, 0.02360329065719435, 9.411183372804319e-06, 2.277811478992018e-06, 0],
  } as const;

  for (const name of Object.keys(ZSNR) as Array<keyof typeof ZSNR>) {
    it(`${name}: alphaBar_T-1 = 0, beta_T-1 = 1, alphaBar_0 unchanged, rest as diffusers (1e-12)`, () => {
      const base = MAKERS[name]();
      const z = schedules.zeroTerminalSnr(base);
      expect(z.steps).to.equal(1000);
      expect(z.alphasCumprod[999]).to.equal(0);
      expect(z.betas[999]).to.equal(1);
      expect(z.alphasCumprod[0]).to.equal(base.alphasCumprod[0]);
      expect(z.betas[0]).to.equal(1 - base.alphasCumprod[0]);
      const got = pick(z.alphasCumprod);
      for (let i = 0; i < IDX.length - 1; i++) close(got[i], ZSNR[name][i]);
      for (let t = 1; t < 999; t++) {
        expect(z.alphasCumprod[t]).to.be.below(z.alphasCumprod[t - 1]);
        close(z.betas[t], 1 - z.alphasCumprod[t] / z.alphasCumprod[t - 1], 1e-15);
      }
      expect(z.sigmas()[999]).to.equal(Infinity);
      expect(z.sigmaAt(999)).to.equal(Infinity);
      expect(z.logSnr(999)).to.equal(-Infinity);
      expect(z.alpha(999)).to.equal(0);
      expect(z.sigma(999)).to.equal(1);
      // sqrt(alphaBar) is affine in sqrt of the original
      const a = (t: number): number => Math.sqrt(base.alphasCumprod[t]);
      const k = a(0) / (a(0) - a(999));
      close(z.alpha(500), (a(500) - a(999)) * k, 1e-14);
    });
  }

  it('reproduces samplers.md §5', () => {
    digits(schedules.zeroTerminalSnr(schedules.scaledLinear()).alphasCumprod[998], '1.967888e-7');
    digits(schedules.zeroTerminalSnr(schedules.linear()).alphasCumprod[998], '4.213262e-9');
    expect(schedules.zeroTerminalSnr(schedules.linear()).alphasCumprod[0]).to.equal(0.9999);
    expect(schedules.zeroTerminalSnr(schedules.scaledLinear()).alphasCumprod[0]).to.equal(0.99915);
  });

  it('clampTerminal replaces the final 0 (diffusers 2^-24: sigma = 4095.99988)', () => {
    const base = schedules.zeroTerminalSnr(schedules.scaledLinear());
    const z = schedules.zeroTerminalSnr(schedules.scaledLinear(), { clampTerminal: 2 ** -24 });
    expect(z.alphasCumprod[999]).to.equal(2 ** -24);
    digits(z.sigmaAt(999), '4095.99988');
    close(z.sigmaAt(999), 4095.9998779296857); // numpy sqrt((1 - 2**-24) / 2**-24)
    for (let t = 0; t < 999; t++) expect(z.alphasCumprod[t]).to.equal(base.alphasCumprod[t]);
    expect(z.betas[999]).to.equal(1 - 2 ** -24 / z.alphasCumprod[998]);
    expect(z.timestepFromSigma(4095.9998779296857)).to.equal(999);
  });

  it('is idempotent on a zero-terminal-SNR table', () => {
    const s = schedules.sohlDickstein({ steps: 50 });
    const z = schedules.zeroTerminalSnr(s);
    for (let t = 0; t < 50; t++) close(z.alphasCumprod[t], s.alphasCumprod[t], 1e-15);
  });
});

describe('schedules: fractional timesteps and sigma <-> t', () => {
  const sd = schedules.scaledLinear();

  it('sigmaAt interpolates log sigma (k-diffusion t_to_sigma)', () => {
    digits(sd.sigmaAt(832.5), '5.948899'); // samplers.md §5 (diffusers' linear-sigma value is 5.948916)
    // numpy, k-diffusion's formula exp((1 - w) log s[lo] + w log s[hi])
    close(sd.sigmaAt(832.5), 5.948899190973973);
    close(sd.sigmaAt(0.25), 0.03181969272071707);
    close(sd.sigmaAt(998.75), 14.592499577166402);
    close(sd.sigmaAt(123.456), 0.39652771595562);
  });

  it('alpha, sigma and logSnr agree with sigmaAt at fractional t', () => {
    for (const t of [0.5, 17.25, 400.125, 998.999]) {
      const s = sd.sigmaAt(t);
      close(sd.alpha(t), 1 / Math.sqrt(1 + s * s), 1e-15);
      close(sd.sigma(t), s / Math.sqrt(1 + s * s), 1e-15);
      close(sd.logSnr(t), -Math.log(s), 1e-15);
      close(sd.alpha(t) ** 2 + sd.sigma(t) ** 2, 1, 4e-16);
    }
    // a fractional t next to a +Infinity entry is +Infinity
    const z = schedules.zeroTerminalSnr(schedules.scaledLinear());
    expect(z.sigmaAt(998.5)).to.equal(Infinity);
    expect(z.alpha(998.5)).to.equal(0);
    expect(z.sigma(998.5)).to.equal(1);
    expect(z.logSnr(998.5)).to.equal(-Infinity);
  });

  it('timestepFromSigma inverts sigmaAt (k-diffusion sigma_to_t)', () => {
    // numpy, k-diffusion's sigma_to_t
    close(sd.timestepFromSigma(1.0), 353.89041059493974);
    close(sd.timestepFromSigma(5.0), 795.1730776322231);
    close(sd.timestepFromSigma(0.05), 1.9338543555603032);
    close(sd.timestepFromSigma(14.0), 991.8844178888767);
    for (let t = 0; t <= 999; t++) expect(sd.timestepFromSigma(sd.sigmaAt(t))).to.equal(t);
    const [lo, hi] = [sd.sigmaAt(0), sd.sigmaAt(999)];
    for (let i = 0; i < 2000; i++) {
      const t = (i * 999) / 1999;
      close(sd.timestepFromSigma(sd.sigmaAt(t)), t, 1e-12);
      const s = lo * (hi / lo) ** (i / 1999);
      close(sd.sigmaAt(sd.timestepFromSigma(s)), s, 1e-12);
    }
  });

  it('timestepFromSigma clamps outside the table', () => {
    expect(sd.timestepFromSigma(0)).to.equal(0);
    expect(sd.timestepFromSigma(1e-9)).to.equal(0);
    expect(sd.timestepFromSigma(100)).to.equal(999);
    expect(sd.timestepFromSigma(Infinity)).to.equal(999);
    const z = schedules.zeroTerminalSnr(schedules.scaledLinear());
    expect(z.timestepFromSigma(Infinity)).to.equal(999);
    expect(z.timestepFromSigma(1e6)).to.equal(998);
    expect(z.timestepFromSigma(z.sigmaAt(998))).to.equal(998);
  });
});

describe('schedules: DiscreteSchedule.timesteps (diffusers set_timesteps)', () => {
  const s = schedules.linear();
  const ts = (n: number, sp: TimestepSpacing, off?: number): number[] => Array.from(s.timesteps(n, sp, off));

  it('reproduces samplers.md §5', () => {
    expect(s.timesteps(10, 'linspace')).to.be.instanceOf(Int32Array);
    expect(ts(10, 'linspace')).to.deep.equal([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    expect(ts(10, 'leading')).to.deep.equal([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(ts(10, 'leading', 1)).to.deep.equal([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    expect(ts(10, 'trailing')).to.deep.equal([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    expect(ts(50, 'leading')).to.deep.equal(Array.from({ length: 50 }, (_, i) => 980 - 20 * i));
    expect(ts(50, 'leading', 1)).to.deep.equal(Array.from({ length: 50 }, (_, i) => 981 - 20 * i));
    expect(ts(50, 'trailing')).to.deep.equal(Array.from({ length: 50 }, (_, i) => 999 - 20 * i));
    expect(ts(50, 'linspace')).to.deep.equal([999, 979, 958, 938, 917, 897, 877, 856, 836, 816, 795, 775, 754, 734, 714, 693, 673, 652, 632, 612, 591, 571, 550, 530, 510, 489, 469, 449, 428, 408, 387, 367, 347, 326, 306, 285, 265, 245, 224, 204, 183, 163, 143, 122, 102, 82, 61, 41, 20, 0]);
    expect(ts(4, 'trailing')).to.deep.equal([999, 749, 499, 249]);
    // numpy / diffusers (13 trailing as in diffusers issue #9261)
    expect(ts(13, 'trailing')).to.deep.equal([999, 922, 845, 768, 691, 614, 537, 461, 384, 307, 230, 153, 76]);
    expect(ts(7, 'linspace')).to.deep.equal([999, 832, 666, 500, 333, 166, 0]);
    expect(ts(7, 'leading')).to.deep.equal([852, 710, 568, 426, 284, 142, 0]);
    expect(ts(1, 'linspace')).to.deep.equal([0]);
    expect(ts(1, 'trailing')).to.deep.equal([999]);
    expect(ts(1000, 'trailing')).to.deep.equal(Array.from({ length: 1000 }, (_, i) => 999 - i));
  });

  it('stepsOffset applies to leading spacing only (as in diffusers)', () => {
    expect(ts(10, 'linspace', 1)).to.deep.equal(ts(10, 'linspace'));
    expect(ts(10, 'trailing', 1)).to.deep.equal(ts(10, 'trailing'));
    expect(ts(10, 'leading', 99)[0]).to.equal(999);
  });

  it('drops the spurious last point numpy.arange yields for some n (diffusers would end with -1)', () => {
    // numpy: len(np.arange(1000, 0, -1000/61)) == 62; diffusers' trailing timesteps end [..., 16, -1]
    const t = ts(61, 'trailing');
    expect(t.length).to.equal(61);
    expect(t[60]).to.be.at.least(0);
  });

  // numpy: sha256 over N = 1..T (1..T-1 for offset 1) of diffusers' int64 timesteps as int32 LE,
  // trailing truncated to its first N points.
  const HASHES: Record<number, Record<string, string>> = {
    1000: {
      linspace: '9f24ccae39c809781bcd0185850be16bf6b3d807e001b3447e416e595cbd3665',
      leading: 'e956826e08a21cfeebf5110fb2f2d36e1957700c08ac89d7102c8f9c40daf305',
      leading1: '955a8af183cce834967e32a5601c390e534ffacb5c39a0a3a0b6001bef2dd6aa',
      trailing: '47e19a164f0c7e545c15d5d1a2b9faec24718d21b96f3ca4b1427f869a36ba57',
    },
    999: {
      linspace: '69c93bc2b54d9aa0592b810f947493e66b04d37c975cb72eb99ab4ae9cffa702',
      leading: '38344c72f6c68456219fa75404a0170c744156ef966c95a7fb436bdd8987e30c',
      leading1: 'f4eaf685e61625528eb5e168b28bf126ccb26894d1d474e5deb446cf3a6ece5c',
      trailing: '6a0e011d2a5f6d7c2c5b2067c00a244f743f2db35b5feb53a783987b10e956d3',
    },
    1024: {
      linspace: '9dc7a7cbc0fc26cfd52d9f6ac2f71a9a3c71a4edda1c17a3c33f6a76ac01b1e8',
      leading: '189e66603bbcc26e0b1869cbb79db35885aafb85f9cd5170a6fbf34d93d4b1dc',
      leading1: 'd38a2e84ff55ba9533b78c22586cb9e8addde13e8c5740af38898b9b5586a00b',
      trailing: 'b586c499a105c1a3bc3547ad32c1e857a00ccc721788da8860c3e90b1cdcfb11',
    },
    100: {
      linspace: 'cd1361706ad2dfde3bf1accb00835ed27184d6759c31b994dcdb129d2081bdf3',
      leading: '8aa2a28f42196a49da34fc07054befe95dc272ea722da819b5bf3b39efe49063',
      leading1: 'ad7b371f1b8da49ab2f77638be4ce1a6b2cae4cbdfc90b4efa0e6963e8169413',
      trailing: '7e2477bf668203cebcbf0aaf26059042950f16184770ad8ebb82d1f070addd95',
    },
    7: {
      linspace: 'c3a0be46e4a38be8b32191bbae6177f62fdbdb4f378bde300b7f844d4fcec124',
      leading: '17a60d5580eb541267d38fb5b9923999e7cf4c5070e184862c2c5278d0858e54',
      leading1: 'eb0efa09b5177a28fbdbf948c004aa2aac4fc1059cacf12a5d05852698782947',
      trailing: 'a3068d51993e171d5bfb4f48dc2e82435147897a9b5d5c11f43d640b54c213b6',
    },
  };
  for (const T of Object.keys(HASHES).map(Number)) {
    it(`matches numpy/diffusers for every n = 1..${T} with T = ${T}`, () => {
      const sched = schedules.linear({ steps: T });
      for (const key of ['linspace', 'leading', 'leading1', 'trailing']) {
        const sp = (key === 'leading1' ? 'leading' : key) as TimestepSpacing;
        const off = key === 'leading1' ? 1 : 0;
        const h = createHash('sha256');
        const bad: string[] = [];
        for (let n = 1; n <= (off ? T - 1 : T); n++) {
          const t = sched.timesteps(n, sp, off);
          let ok = t.length === n && t[n - 1] >= 0 && t[0] <= T - 1;
          for (let i = 1; i < n; i++) ok &&= t[i] < t[i - 1];
          if (!ok) bad.push(`n = ${n}`);
          h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
        }
        expect(bad, `${key}: not n strictly descending timesteps in [0, T - 1]`).to.deep.equal([]);
        expect(h.digest('hex'), key).to.equal(HASHES[T][key]);
      }
    });
  }
});

describe('schedules.vp / schedules.ve (continuous)', () => {
  const vp = schedules.vp();

  it('vp reproduces samplers.md §5', () => {
    expect(vp.kind).to.equal('continuous');
    digits(vp.alpha(1), '0.00657159');
    digits(vp.sigma(1), '0.99997841');
    digits(vp.sigma(1) / vp.alpha(1), '152.16697');
    digits(vp.logSnr(1), '-5.024978');
    digits(vp.alpha(1e-3), '0.99994503');
    digits(vp.sigma(1e-3) / vp.alpha(1e-3), '0.01048599');
    digits(vp.logSnr(1e-3), '4.557715');
    digits(vp.logSnr(0.5), '-1.227568');
    expect(vp.tFromLogSnr(vp.logSnr(0.3))).to.equal(0.3);
  });

  it('vp matches 40-digit values (mpmath), including sigma at small t (expm1)', () => {
    // t: [alpha, sigma, logSnr]
    const REF: Array<[number, number, number, number]> = [
      [1, 0.0065715864949296150141, 0.99997840689233868011, -5.0249784066592041748],
      [0.5, 0.28118288079675237585, 0.95965420206803624666, -1.2275677344107872734],
      [0.3, 0.62955000033644884594, 0.77695997134754455635, -0.21038355313124079949],
      [0.001, 0.99994502651109762151, 0.010485416335094896179, 4.5577149327298977269],
      [0.00001, 0.99999949950262524885, 0.0010004971259352383737, 6.9072577760755594117],
    ];
    for (const [t, a, s, l] of REF) {
      close(vp.alpha(t), a);
      close(vp.sigma(t), s);
      close(vp.logSnr(t), l);
    }
    expect(vp.alpha(0)).to.equal(1);
    expect(vp.sigma(0)).to.equal(0);
    expect(vp.logSnr(0)).to.equal(Infinity);
  });

  it('vp tFromLogSnr inverts logSnr in closed form', () => {
    for (let i = 0; i <= 1000; i++) {
      const t = i / 1000;
      const back = vp.tFromLogSnr(vp.logSnr(t));
      expect(Math.abs(back - t)).to.be.at.most(1e-12 * Math.max(t, 1e-3));
    }
    expect(vp.tFromLogSnr(Infinity)).to.equal(0);
    close(vp.tFromLogSnr(vp.logSnr(1)), 1, 1e-15); // numpy's float64 evaluation gives 0.9999999999999998 too
    // other betas, including betaMax < betaMin and betaMin = 0
    for (const [b0, b1] of [[0.1, 20], [1, 0.5], [0, 12], [3, 3]]) {
      const v = schedules.vp({ betaMin: b0, betaMax: b1 });
      for (const t of [1e-4, 0.2, 0.7, 1]) close(v.tFromLogSnr(v.logSnr(t)), t, 1e-12);
      close(v.alpha(0.4), Math.exp(-0.25 * 0.16 * (b1 - b0) - 0.2 * b0), 1e-15);
    }
  });

  it('vp drift and diffusion are -beta(t)/2 and sqrt(beta(t))', () => {
    expect(vp.drift(0.5)).to.equal(-0.5 * (0.1 + 0.5 * 19.9));
    expect(vp.diffusion(1)).to.equal(Math.sqrt(20));
    // g^2 = d sigma^2/dt - 2 f sigma^2 by central differences
    const h = 1e-5;
    for (const t of [0.1, 0.5, 0.9]) {
      const ds2 = (vp.sigma(t + h) ** 2 - vp.sigma(t - h) ** 2) / (2 * h);
      close(vp.diffusion(t) ** 2, ds2 - 2 * vp.drift(t) * vp.sigma(t) ** 2, 1e-8);
    }
  });

  it('ve reproduces samplers.md §5 (0.01 -> 50)', () => {
    const ve = schedules.ve({ sigmaMin: 0.01, sigmaMax: 50 });
    expect(ve.kind).to.equal('continuous');
    digits(ve.sigma(0.5), '0.70710678');
    digits(ve.diffusion(0), '0.0412727');
    digits(ve.diffusion(0.5), '2.918423');
    digits(ve.diffusion(1), '206.3637');
    // numpy / math: score_sde's sigma_min * (sigma_max / sigma_min) ** t and g(t)
    close(ve.sigma(0.5), 0.7071067811865476);
    close(ve.diffusion(0.5), 2.918423065872431);
    close(ve.diffusion(1), 206.363674024963);
    expect(ve.sigma(0)).to.equal(0.01);
    close(ve.sigma(1), 50, 1e-15);
    expect(ve.alpha(0.3)).to.equal(1);
    expect(ve.drift(0.3)).to.equal(0);
    close(ve.logSnr(0.5), 0.3465735902799726);
    close(ve.logSnr(1), -3.912023005428146);
    for (let i = 1; i <= 100; i++) close(ve.tFromLogSnr(ve.logSnr(i / 100)), i / 100, 1e-13);
    expect(ve.tFromLogSnr(ve.logSnr(0))).to.equal(0);
    expect(ve.tFromLogSnr(ve.logSnr(1))).to.equal(1);
  });
});

describe('schedules: bad input', () => {
  const T = TypeError;
  const R = RangeError;

  it('rejects bad steps, betas and options objects', () => {
    expectArgError(() => schedules.linear({ steps: 0 }), R, /positive integer for steps but received number 0/);
    expectArgError(() => schedules.linear({ steps: 2.5 }), R, /for steps/);
    expectArgError(() => schedules.scaledLinear({ steps: '10' as unknown as number }), T, /for steps but received string "10"/);
    expectArgError(() => schedules.cosine({ steps: -1 }), R, /for steps/);
    expectArgError(() => schedules.sigmoid({ steps: NaN }), R, /for steps/);
    expectArgError(() => schedules.sohlDickstein({ steps: 0 }), R, /for steps/);
    expectArgError(() => schedules.linear({ betaStart: -1e-4 }), R, /a beta in \(0, 1\) for betaStart but received number -0.0001/);
    expectArgError(() => schedules.linear({ betaEnd: NaN }), R, /for betaEnd but received number NaN/);
    expectArgError(() => schedules.linear({ betaEnd: Infinity }), R, /for betaEnd/);
    expectArgError(() => schedules.linear({ betaStart: 0 }), R, /for betaStart/);
    expectArgError(() => schedules.scaledLinear({ betaEnd: 1 }), R, /for betaEnd/);
    expectArgError(() => schedules.sigmoid({ betaStart: '0.1' as unknown as number }), T, /for betaStart/);
    expectArgError(() => schedules.cosine({ s: -0.1 }), R, /for s but/);
    expectArgError(() => schedules.cosine({ maxBeta: 0 }), R, /number in \(0, 1\] for maxBeta/);
    expectArgError(() => schedules.cosine({ maxBeta: 1.5 }), R, /for maxBeta/);
    expectArgError(() => schedules.linear(null as unknown as undefined), T, /options object for options/);
    expectArgError(() => schedules.linear(5 as unknown as undefined), T, /options object for options/);
    // a table whose alphasCumprod underflows to 0 before the last step
    expectArgError(() => schedules.linear({ steps: 200000, betaStart: 0.5, betaEnd: 0.9 }), R, /strictly decreasing alphasCumprod.* for betaEnd/);
  });

  it('rejects bad timesteps arguments', () => {
    const s = schedules.linear({ steps: 100 });
    expectArgError(() => s.timesteps(0, 'linspace'), R, /for n but received number 0/);
    expectArgError(() => s.timesteps(1.5, 'linspace'), R, /for n/);
    expectArgError(() => s.timesteps(101, 'trailing'), R, /from 1 to 100 .* for n but received number 101/);
    expectArgError(() => s.timesteps(10, 'uniform' as TimestepSpacing), T, /one of 'leading', 'trailing', 'linspace' for spacing but received string "uniform"/);
    expectArgError(() => s.timesteps(10, undefined as unknown as TimestepSpacing), T, /for spacing but received undefined/);
    expectArgError(() => s.timesteps(10, 'leading', -1), R, /for stepsOffset/);
    expectArgError(() => s.timesteps(10, 'leading', 10), R, /integer from 0 to 9 .* for stepsOffset but received number 10/);
    expectArgError(() => s.timesteps(100, 'leading', 1), R, /from 0 to 0 .* for stepsOffset/);
  });

  it('rejects t outside the table and bad sigmas', () => {
    const s = schedules.linear({ steps: 100 });
    for (const f of [s.alpha, s.sigma, s.logSnr, s.sigmaAt] as Array<(t: number) => number>) {
      expectArgError(() => f.call(s, -0.5), R, /a timestep from 0 to 99 for t but received number -0.5/);
      expectArgError(() => f.call(s, 99.01), R, /for t/);
      expectArgError(() => f.call(s, NaN), R, /for t/);
      expectArgError(() => f.call(s, '3' as unknown as number), T, /for t but received string "3"/);
    }
    expectArgError(() => s.timestepFromSigma(-1), R, /sigma\/alpha >= 0 for sigma but received number -1/);
    expectArgError(() => s.timestepFromSigma(NaN), R, /for sigma/);
    expectArgError(() => s.timestepFromSigma(null as unknown as number), T, /for sigma but received null/);
  });

  it('rejects bad zeroTerminalSnr and fromBetas input', () => {
    expectArgError(() => schedules.zeroTerminalSnr({} as DiscreteSchedule), T, /a DiscreteSchedule for s/);
    expectArgError(() => schedules.zeroTerminalSnr(schedules.linear({ steps: 1 })), R, /at least 2 steps for s.steps but received number 1/);
    expectArgError(() => schedules.zeroTerminalSnr(schedules.linear(), { clampTerminal: 0 }), R, /for clampTerminal/);
    // linear's rescaled alphasCumprod[998] = 4.2e-9 < 2^-24: the clamp would break monotonicity
    expectArgError(() => schedules.zeroTerminalSnr(schedules.linear(), { clampTerminal: 2 ** -24 }), R, /below alphasCumprod\[998\]\) for clampTerminal/);
    expectArgError(() => schedules.fromBetas([0.1, 0, 0.2]), R, /a beta in \(0, 1\] for betas\[1\] but received number 0/);
    expectArgError(() => schedules.fromBetas([0.1, 1, 0.2]), R, /strictly decreasing alphasCumprod/);
    expectArgError(() => schedules.fromBetas([]), R, /for betas.length/);
    expectArgError(() => schedules.fromBetas(3 as unknown as number[]), T, /array of numbers for betas/);
    const fb = schedules.fromBetas([0.1, 0.2, 1]);
    expect(Array.from(fb.alphasCumprod)).to.deep.equal([0.9, 0.9 * 0.8, 0]);
  });

  it('rejects bad continuous-schedule input', () => {
    expectArgError(() => schedules.vp({ betaMin: -0.1 }), R, /for betaMin/);
    expectArgError(() => schedules.vp({ betaMax: Infinity }), R, /for betaMax/);
    expectArgError(() => schedules.vp({ betaMin: 0, betaMax: 0 }), R, /for betaMax/);
    const vp = schedules.vp();
    expectArgError(() => vp.alpha(1.5), R, /a time t in \[0, 1\] for t but received number 1.5/);
    expectArgError(() => vp.sigma(-1e-9), R, /for t/);
    expectArgError(() => vp.drift(NaN), R, /for t/);
    expectArgError(() => vp.tFromLogSnr(-6), R, /log-SNR from logSnr\(1\) = -5.02.* for lambda but received number -6/);
    expectArgError(() => vp.tFromLogSnr(NaN), R, /for lambda/);
    expectArgError(() => schedules.ve({ sigmaMin: 0, sigmaMax: 50 }), R, /finite number > 0 for sigmaMin but received number 0/);
    expectArgError(() => schedules.ve({ sigmaMin: 1, sigmaMax: 1 }), R, /> sigmaMin = 1 for sigmaMax but received number 1/);
    expectArgError(() => schedules.ve({ sigmaMin: 1 } as schedules.VeOptions), T, /for sigmaMax but received undefined/);
    expectArgError(() => schedules.ve(undefined as unknown as schedules.VeOptions), T, /options object for options/);
    const ve = schedules.ve({ sigmaMin: 0.01, sigmaMax: 50 });
    expectArgError(() => ve.tFromLogSnr(5), R, /for lambda/);
    expectArgError(() => ve.sigma(2), R, /for t/);
  });
});
