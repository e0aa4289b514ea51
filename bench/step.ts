/**
 * Benchmarks of the step family on the big size, every backend:
 * - lincomb, 2 terms (an Euler / DDIM step x = a x + c D): reads 2 arrays, writes 1;
 * - lincomb, 2 terms + inline noise (an ancestral step): the same bytes, plus the normals;
 * - copyFinite (the check and copy of a JavaScript model's output): reads 1 array, writes 1.
 * @module
 */
import { type Case, type Context, elementBytes, fillPattern, floatArray, type Suite } from './harness.js';

export const stepSuite: Suite = {
  name: 'step',
  cases(ctx: Context): Case[] {
    const { opts } = ctx;
    const n = opts.size;
    const eb = elementBytes(opts);
    const dim = Math.min(4096, n);
    const rows = Math.max(1, Math.floor(n / dim));
    const m = rows * dim;
    const x = fillPattern(floatArray(opts, m));
    const d = fillPattern(floatArray(opts, m)).reverse();
    const out = floatArray(opts, m);
    const coef = Float64Array.of(0.97, 0.03);
    const noisyCoef = Float64Array.of(0.97, 0.03, 0.2);
    const noise = Uint32Array.of(0x12345678, 0x9abcdef0, 0x10000004);
    const shape = `${rows} x ${dim}`;
    const cases: Case[] = [];
    for (const b of ctx.backends) {
      const k = b.kernels;
      const base = { family: 'step', shape, backend: b.name, threads: b.threads, elements: m, enter: b.enter };
      cases.push({ ...base, op: 'lincomb (2 terms)', bytes: 3 * eb * m, fn: () => k.lincomb(out, dim, [x, d], coef, false, null, null) });
      cases.push({ ...base, op: 'lincomb (2 terms + noise)', bytes: 3 * eb * m, fn: () => k.lincomb(out, dim, [x, d], noisyCoef, false, noise, null) });
      cases.push({ ...base, op: 'copyFinite', bytes: 2 * eb * m, fn: () => k.copyFinite(out, d) });
    }
    return cases;
  },
};
