/**
 * Accuracy of the float64 normals against a correctly rounded reference (BigInt fixed point,
 * test/helpers/bigfixed.ts and pbm-reference.ts): max 4 ulp for z = r cos / r sin; the log and
 * sincos inside are measured separately against the bounds reliability.md §2.4 documents
 * (log 1.38 ulp, sin 1.60, cos 1.44 from the exact value). scripts/accuracy-normals.ts runs the
 * same measurement over a larger sample.
 */
import { expect } from 'chai';
import { logU } from '../src/js/pbm.js';
import * as B from './helpers/bigfixed.js';
import {
  addressOf, edgeWords, ErrorStats, measureBlock, measureLog, measureSinCos, normalsOfWords, philoxInverse,
  refCosSin, refLog, refRadius, sinCosWords, ulpError, wordSource,
} from './helpers/pbm-reference.js';
import { ulpDistance } from './helpers/ulp.js';
import * as tw from '../src/index.js';

const RANDOM_BLOCKS = 600;

describe('normal accuracy: the reference itself', () => {
  it('rounds BigInt to the nearest double, ties to even', () => {
    expect(Number(2n ** 53n + 1n)).to.equal(2 ** 53);
    expect(Number(2n ** 53n + 3n)).to.equal(2 ** 53 + 4);
    expect(Number((2n ** 53n + 1n) * 2n ** 100n + 1n)).to.equal((2 ** 53 + 2) * 2 ** 100);
    expect(B.toDouble(B.fromDouble(0.1))).to.equal(0.1);
    expect(B.toDouble(B.ONE / 3n)).to.equal(1 / 3);
  });

  it('has pi, ln 2, sqrt and exp right', () => {
    /** |a - b| < 2^(bits - FRAC) */
    const near = (a: bigint, b: bigint, bits: number): boolean => (a > b ? a - b : b - a) < 1n << BigInt(bits);
    expect(B.toDouble(B.PI)).to.equal(Math.PI);
    expect(B.toDouble(B.LN2)).to.equal(Math.LN2);
    expect(B.toDouble(B.sqrt(2n * B.ONE))).to.equal(Math.SQRT2);
    const [c, s] = B.cosSinSmall(B.PI / 4n);
    expect(B.toDouble(c)).to.equal(Math.SQRT1_2);
    expect(near(c, s, 8), 'cos(pi/4) = sin(pi/4)').to.equal(true);
    const [c3, s6] = [B.cosSinSmall(B.PI / 3n)[0], B.cosSinSmall(B.PI / 6n)[1]];
    expect(near(s6, B.ONE / 2n, 8), 'sin(pi/6) = 1/2').to.equal(true);
    expect(near(c3, B.ONE / 2n, 8), 'cos(pi/3) = 1/2').to.equal(true);
    expect(near(B.exp(B.LN2), 2n * B.ONE, 8), 'exp(ln 2) = 2').to.equal(true);
    expect(near(B.exp(-B.LN2 * 40n), B.ONE >> 40n, 8), 'exp(-40 ln 2) = 2^-40').to.equal(true);
    expect(near(B.lnScaled(3n, -1), B.lnScaled(3n, 0) - B.LN2, 4), 'ln(3/2) = ln 3 - ln 2').to.equal(true);
  });

  it('agrees with Math.log within 1 ulp, and its cos^2 + sin^2 = 1 and r^2 = -2 ln u', () => {
    const next = wordSource(7);
    for (let i = 0; i < 200; i++) {
      const w = next();
      const u = (w + 0.5) * 2 ** -32; // exact
      expect(ulpError(Math.log(u), refLog(w)).ulps, `ln u(${w})`).to.be.at.most(1);
      const [c, s] = refCosSin(w);
      const one = B.mul(c, c) + B.mul(s, s) - B.ONE;
      expect(one < 1n << 8n && one > -(1n << 8n), `cos^2 + sin^2 at ${w}`).to.equal(true);
      // absolute error of Math.cos(2 pi u) is dominated by the rounding of 2 pi u: < 2e-15
      expect(Math.abs(Math.cos(2 * Math.PI * u) - B.toDouble(c))).to.be.below(2e-15);
      expect(Math.abs(Math.sin(2 * Math.PI * u) - B.toDouble(s))).to.be.below(2e-15);
      const r = refRadius(w);
      const d = B.mul(r, r) + 2n * refLog(w);
      expect(d < 1n << 10n && d > -(1n << 10n), `r^2 at ${w}`).to.equal(true);
    }
  });

  it('inverts Philox: the block found for given words yields them', () => {
    const words = [0, 0xffffffff, 0x40000000, 12345];
    const at = addressOf(words);
    expect(at.offset % 4n).to.equal(0n);
    expect(at.offset < 2n ** 64n).to.equal(true);
    const c = [Number((at.offset / 4n) & 0xffffffffn), Number(at.offset / 4n >> 32n),
      Number(at.stream & 0xffffffffn), Number(at.stream >> 32n)];
    const key = Uint32Array.of(Number(at.seed & 0xffffffffn), Number(at.seed >> 32n));
    expect(Array.from(tw.philox4x32(Uint32Array.from(c), key))).to.deep.equal(words);
    expect(philoxInverse(Array.from(tw.philox4x32(Uint32Array.of(1, 2, 3, 4), Uint32Array.of(5, 6))), 5, 6))
      .to.deep.equal([1, 2, 3, 4]);
  });
});

describe('normal accuracy: z = sqrt(-2 ln u) cos/sin 2 pi v (float64)', () => {
  it(`is within 4 ulp of the correctly rounded value on edge words and ${RANDOM_BLOCKS} random blocks`, () => {
    const stats = new ErrorStats();
    const edges = edgeWords();
    for (let i = 0; i < edges.length; i++) {
      const w = edges[i];
      const other = edges[(i * 7 + 3) % edges.length];
      // each edge word once as a radius word and once as an angle word
      const words = [w, other, other, w];
      measureBlock(words, normalsOfWords(words), stats);
    }
    const next = wordSource(2024);
    for (let i = 0; i < RANDOM_BLOCKS; i++) {
      const words = [next(), next(), next(), next()];
      measureBlock(words, normalsOfWords(words), stats);
    }
    expect(stats.count).to.equal(4 * (edges.length + RANDOM_BLOCKS));
    expect(stats.maxUlps, String(stats)).to.be.at.most(4);
  });

  it('reaches the extreme radius at w0 = 0 and the smallest at w0 = 2^32 - 1', () => {
    const big = normalsOfWords([0, 0, 0, 0x80000000]);
    const rMax = B.toDouble(refRadius(0));
    expect(rMax).to.be.closeTo(Math.sqrt(66 * Math.LN2), 1e-15);
    expect(ulpDistance(big[0], B.toDouble(B.mul(refRadius(0), refCosSin(0)[0])))).to.be.at.most(4);
    expect(Math.abs(big[0])).to.be.at.most(rMax);
    const tiny = normalsOfWords([0xffffffff, 0, 0xffffffff, 0x40000000]);
    const rMin = B.toDouble(refRadius(0xffffffff));
    expect(rMin).to.be.closeTo(2 ** -16, 1e-15);
    expect(ulpDistance(tiny[0], B.toDouble(B.mul(refRadius(0xffffffff), refCosSin(0)[0])))).to.be.at.most(4);
  });
});

describe('normal accuracy: the log and sincos inside', () => {
  it('logU is within 1.5 ulp of ln u on every edge word and 2000 random words', () => {
    const stats = new ErrorStats();
    for (const w of edgeWords()) measureLog(w, stats);
    const next = wordSource(99);
    for (let i = 0; i < 2000; i++) measureLog(next(), stats);
    expect(stats.maxFrac, String(stats)).to.be.at.most(1.5);
    expect(stats.maxUlps, String(stats)).to.be.at.most(2);
    expect(logU(0xffffffff)).to.be.below(0);
  });

  it('cos and sin of the angle are within 2 ulp on every edge word and 2000 random words', () => {
    const cos = new ErrorStats();
    const sin = new ErrorStats();
    const next = wordSource(5);
    let ambiguous = 0;
    for (const w of [...edgeWords(), ...Array.from({ length: 2000 }, next)]) {
      const words = sinCosWords(w, next);
      ambiguous += measureSinCos(words, normalsOfWords(words), cos, sin);
    }
    expect(cos.count).to.equal(edgeWords().length + 2000);
    expect(cos.maxFrac, `cos: ${cos}`).to.be.at.most(2);
    expect(sin.maxFrac, `sin: ${sin}`).to.be.at.most(2);
    // the two radii pin down all but values within ~1e-6 of a power of two (many among the edge words)
    expect(ambiguous, 'values not pinned down by the two radii').to.be.below(0.02 * (cos.count + sin.count));
  });
});
