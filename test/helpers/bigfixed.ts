/**
 * Arbitrary-precision fixed-point arithmetic on BigInt, for correctly rounded references
 * (no Python, no MPFR): a value v is the BigInt V = round-ish(v * 2^FRAC). Every operation
 * truncates, so each carries an error of a few units of 2^-FRAC; with FRAC = 256 that is far
 * below anything a double can resolve (a double near 1e-10 has ulp 2^-86).
 * @module
 */

/** Fractional bits. */
export const FRAC = 256;
const FRAC_N = BigInt(FRAC);
/** 1 in fixed point. */
export const ONE = 1n << FRAC_N;

/** pi to 100 decimal digits. */
const PI_DIGITS = '31415926535897932384626433832795028841971693993751' +
  '05820974944592307816406286208998628034825342117067';
/** pi in fixed point (error < 2^-300 before the final truncation). */
export const PI = (BigInt(PI_DIGITS) << FRAC_N) / 10n ** BigInt(PI_DIGITS.length - 1);

/** a * b, truncated toward zero (so that series terms of either sign shrink to 0). */
export function mul(a: bigint, b: bigint): bigint {
  const p = a * b;
  return p >= 0n ? p >> FRAC_N : -(-p >> FRAC_N);
}

/** a / b */
export function div(a: bigint, b: bigint): bigint {
  return (a << FRAC_N) / b;
}

/** floor(sqrt(n)) of a non-negative BigInt, by integer Newton iteration. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  // Start above the root: 2^ceil(bits / 2).
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** sqrt(a) in fixed point, a >= 0. */
export function sqrt(a: bigint): bigint {
  return isqrt(a << FRAC_N);
}

/** 2 atanh(s) = log((1 + s) / (1 - s)) by its series, |s| <= 1/3. */
function twoAtanh(s: bigint): bigint {
  const s2 = mul(s, s);
  let term = s; // s^(2k+1)
  let sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += term / k;
    term = mul(term, s2);
  }
  return 2n * sum;
}

/** ln 2 = 2 atanh(1/3). */
export const LN2 = twoAtanh(ONE / 3n);

/**
 * ln(m * 2^e) for a positive integer m and an integer e, with exact reduction:
 * m = f * 2^k with f in [2^-0.5, 2^0.5), ln = (k + e) ln 2 + 2 atanh((f - 1) / (f + 1)).
 */
export function lnScaled(m: bigint, e: number): bigint {
  if (m <= 0n) throw new RangeError('lnScaled needs m > 0');
  let k = m.toString(2).length - 1; // 2^k <= m < 2^(k+1)
  // f = m / 2^k in [1, 2); fold to [1/sqrt2, sqrt2): f > sqrt2 <=> m^2 > 2^(2k+1)
  if (m * m > 1n << BigInt(2 * k + 1)) k += 1;
  const kn = BigInt(k);
  // f = m / 2^k exactly in fixed point (FRAC >= k + 1 here: m < 2^64)
  const f = kn <= FRAC_N ? m << (FRAC_N - kn) : m >> (kn - FRAC_N);
  const s = div(f - ONE, f + ONE);
  return BigInt(k + e) * LN2 + twoAtanh(s);
}

/** cos and sin of x (fixed point), |x| <= 1, by their Taylor series. */
export function cosSinSmall(x: bigint): [bigint, bigint] {
  const x2 = mul(x, x);
  let c = 0n;
  let s = 0n;
  let term = ONE; // x^n / n!
  for (let n = 0n; term !== 0n; n += 2n) {
    c += (n / 2n) % 2n === 0n ? term : -term;
    const odd = mul(term, x) / (n + 1n);
    s += (n / 2n) % 2n === 0n ? odd : -odd;
    term = mul(odd, x) / (n + 2n);
  }
  return [c, s];
}

/** exp(x) for x in fixed point (any sign, |x| < 1000): x = n ln2 + r, |r| <= ln2 / 2. */
export function exp(x: bigint): bigint {
  const n = (x + LN2 / 2n) / LN2 - (x + LN2 / 2n < 0n ? 1n : 0n);
  const r = x - n * LN2;
  let sum = 0n;
  let term = ONE;
  for (let k = 1n; term !== 0n; k++) {
    sum += term;
    term = mul(term, r) / k;
  }
  return n >= 0n ? sum << n : sum >> -n;
}

const TWO_POW_FRAC = 2 ** -FRAC;
const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** The exact value of a finite double in fixed point (exact when |x| >= 2^(52 - FRAC)). */
export function fromDouble(x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`fromDouble(${x})`);
  if (x === 0) return 0n;
  F64[0] = x;
  const bits = U64[0];
  const biased = Number((bits >> 52n) & 0x7ffn);
  const mant = (bits & ((1n << 52n) - 1n)) | (biased === 0 ? 0n : 1n << 52n);
  const shift = BigInt((biased === 0 ? 1 : biased) - 1075) + FRAC_N; // x = mant * 2^(biased - 1075)
  const v = shift >= 0n ? mant << shift : mant >> -shift;
  if (shift < 0n && (v << -shift) !== mant) throw new RangeError(`fromDouble(${x}) is not exact at ${FRAC} bits`);
  return x < 0 ? -v : v;
}

/** The double nearest to a fixed-point value (ties to even), valid while the result is a normal double. */
export function toDouble(v: bigint): number {
  // Number(bigint) rounds to nearest, ties to even (ECMA-262 ToNumber of a BigInt: the Number value
  // for the mathematical value); scaling by 2^-FRAC is exact for normal results.
  return Number(v) * TWO_POW_FRAC;
}

/** The exponent e with 2^e <= |x| < 2^(e+1), for a finite non-zero double. */
export function exponentOf(x: number): number {
  F64[0] = x;
  const biased = Number((U64[0] >> 52n) & 0x7ffn);
  if (biased === 0) throw new RangeError('subnormal');
  return biased - 1023;
}

/** ulp of the binade of a normal double, in fixed point. */
export function ulpFixed(x: number): bigint {
  const e = exponentOf(x) - 52 + FRAC;
  if (e < 0) throw new RangeError(`ulp of ${x} is below 2^-${FRAC}`);
  return 1n << BigInt(e);
}

/** sqrt(2 pi) in fixed point. */
const SQRT_2PI = sqrt(2n * PI);

/**
 * The standard normal upper tail Q(x) = P(Z > x) for a double x >= 0, in fixed point:
 * Q(x) = 1/2 - phi(x) sum_n x^(2n+1) / (1 * 3 * ... * (2n + 1)), every term positive.
 * Absolute error ~2^-250; for x <= 9 that is < 1e-50 relative.
 */
export function normalUpperTail(x: number): bigint {
  if (!(x >= 0)) throw new RangeError('normalUpperTail needs x >= 0');
  const X = fromDouble(x);
  const X2 = mul(X, X);
  let term = X;
  let sum = 0n;
  for (let k = 3n; term !== 0n; k += 2n) {
    sum += term;
    term = mul(term, X2) / k;
  }
  const phi = div(exp(-X2 / 2n), SQRT_2PI);
  return ONE / 2n - mul(phi, sum);
}

/** The standard normal density at a double x, in fixed point. */
export function normalDensity(x: number): bigint {
  const X = fromDouble(x);
  return div(exp(-mul(X, X) / 2n), SQRT_2PI);
}
