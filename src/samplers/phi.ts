/**
 * Scalar helpers for exponential-integrator coefficients, in float64: the phi functions
 * phi_k(z) (series near 0, where the textbook recurrence cancels) and a small dense solver.
 * @module
 */

const FACT = [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800, 39916800];

/** k! for k = 0 .. 11. */
export function factorial(k: number): number {
  return FACT[k];
}

/**
 * phi_k(z) = sum_{n >= 0} z^n / (n + k)!  (phi_0 = exp, phi_1(z) = (e^z - 1) / z,
 * phi_{k+1}(z) = (phi_k(z) - 1/k!) / z), for k = 0 .. 6. The series is summed for |z| < 1
 * (no cancellation), the recurrence from expm1 otherwise.
 */
export function phi(k: number, z: number): number {
  if (k === 0) return Math.exp(z);
  if (Math.abs(z) < 1) {
    // terms decrease at least like 1/(n + k + 1); 30 terms reach float64 rounding for |z| < 1
    let term = 1 / FACT[k];
    let sum = term;
    for (let n = 1; n < 30; n++) {
      term *= z / (n + k);
      const next = sum + term;
      if (next === sum) break;
      sum = next;
    }
    return sum;
  }
  let p = Math.expm1(z) / z;
  for (let j = 1; j < k; j++) p = (p - 1 / FACT[j]) / z;
  return p;
}

/**
 * Solves the n x n system A x = b (A row-major, n <= 4) by Gaussian elimination with partial
 * pivoting, in float64. A and b are not modified. Throws when A is singular.
 */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (m[p][c] === 0) throw new RangeError('singular coefficient system (repeated noise levels?)');
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}
