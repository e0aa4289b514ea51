/**
 * Child process of test/bad-input.test.ts: calls every public sync function with inputs and
 * outputs backed by a SharedArrayBuffer and by resizable ArrayBuffers (fixed-length and
 * length-tracking views), compares the results bit for bit with ordinary buffers, and prints
 * one JSON line per case: {"start": name} before it, {"name", "ok", "detail"} after it. It runs
 * in its own process so that a crash (a native segfault) fails one test instead of killing
 * the whole mocha run. Uses the backend that TWEEDIE_BACKEND selects, like the parent.
 */
import { writeSync } from 'node:fs';
import * as tw from '../../src/index.js';
import type { FloatArray } from '../../src/types.js';
import { ResizableArrayBuffer } from './arrays.js';
import { firstBitDifference } from './ulp.js';

type Kind = 'SharedArrayBuffer' | 'resizable ArrayBuffer, fixed-length view' | 'resizable ArrayBuffer, length-tracking view';
const KINDS: Kind[] = ['SharedArrayBuffer', 'resizable ArrayBuffer, fixed-length view', 'resizable ArrayBuffer, length-tracking view'];

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor | Uint32ArrayConstructor;

/** A copy of `src` in a view of the given kind (the fixed-length view sits at an offset inside a bigger buffer). */
function inKind<T extends FloatArray | Uint32Array>(kind: Kind, src: T): T {
  const C = src.constructor as Ctor;
  const bytes = src.length * C.BYTES_PER_ELEMENT;
  let view: T;
  if (kind === 'SharedArrayBuffer') {
    view = new C(new SharedArrayBuffer(bytes + 16) as unknown as ArrayBuffer, 8, src.length) as T;
  } else if (kind === 'resizable ArrayBuffer, fixed-length view') {
    view = new C(new ResizableArrayBuffer(bytes + 16, { maxByteLength: 2 * bytes + 64 }), 8, src.length) as T;
  } else {
    view = new C(new ResizableArrayBuffer(bytes, { maxByteLength: 2 * bytes + 64 })) as T;
  }
  view.set(src as ArrayLike<number>);
  return view;
}

function line(obj: object): void {
  writeSync(1, `${JSON.stringify(obj)}\n`);
}

interface Case { name: string; run: () => string | null }
const cases: Case[] = [];

/** Compares arrays; returns null when identical, else a description. */
function same(what: string, got: ArrayLike<number>, want: ArrayLike<number>): string | null {
  if (got instanceof Uint32Array && want instanceof Uint32Array) {
    return got.length === want.length && got.every((v, i) => v === want[i]) ? null : `${what}: ${Array.from(got)} vs ${Array.from(want)}`;
  }
  const i = firstBitDifference(got as FloatArray, want as FloatArray);
  return i < 0 ? null : `${what}: element ${i}: ${got[i]} vs ${want[i]}`;
}

const rows = 3;
const dim = 5;
const data = (C: Float32ArrayConstructor | Float64ArrayConstructor, seed: number): FloatArray =>
  tw.randomNormal(new C(rows * dim), { seed });

for (const kind of KINDS) {
  cases.push({
    name: `philox4x32, counter and key (${kind})`,
    run: () => {
      const c = Uint32Array.of(1, 2, 0xffffffff, 4);
      const k = Uint32Array.of(0xdeadbeef, 7);
      return same('philox', tw.philox4x32(inKind(kind, c), inKind(kind, k)), tw.philox4x32(c, k));
    },
  });
  for (const C of [Float32Array, Float64Array]) {
    const dt = C.name;
    cases.push({
      name: `randomNormal, out (${kind}, ${dt})`,
      run: () => {
        const out = inKind(kind, new C(17));
        const ret = tw.randomNormal(out, { seed: 11n, stream: 2, offset: 3 });
        return ret !== out ? 'did not return out' : same('randomNormal', out, tw.randomNormal(new C(17), { seed: 11n, stream: 2, offset: 3 }));
      },
    });
    cases.push({
      name: `addNoise with seed: x0, out, epsOut, alpha, sigma, sampleIds (${kind}, ${dt})`,
      run: () => {
        const x0 = data(C, 1);
        const alpha = Float64Array.of(0.9, 0.5, 0.1);
        const sigma = Float64Array.of(0.4, 0.8, 1);
        const ids = Float64Array.of(4, 0, 2 ** 40);
        const epsWant = new C(x0.length);
        const want = tw.addNoise(x0, { dim, alpha, sigma, seed: 5, sampleIds: ids, epsOut: epsWant });
        const out = inKind(kind, new C(x0.length));
        const epsOut = inKind(kind, new C(x0.length));
        tw.addNoise(inKind(kind, x0), {
          dim, alpha: inKind(kind, alpha), sigma: inKind(kind, sigma), seed: 5, sampleIds: inKind(kind, ids), out, epsOut,
        });
        return same('out', out, want) ?? same('epsOut', epsOut, epsWant);
      },
    });
    cases.push({
      name: `addNoise with seed, in place (${kind}, ${dt})`,
      run: () => {
        const x0 = data(C, 2);
        const want = tw.addNoise(x0, { dim, alpha: 0.6, sigma: 0.8, seed: 6 });
        const x = inKind(kind, x0);
        tw.addNoise(x, { dim, alpha: 0.6, sigma: 0.8, seed: 6, out: x });
        return same('in place', x, want);
      },
    });
    cases.push({
      name: `addNoise with eps: x0, eps, out (${kind}, ${dt})`,
      run: () => {
        const x0 = data(C, 3);
        const eps = data(C, 4);
        const want = tw.addNoise(x0, { dim, alpha: 0.6, sigma: 0.8, eps });
        const out = inKind(kind, new C(x0.length));
        tw.addNoise(inKind(kind, x0), { dim, alpha: 0.6, sigma: 0.8, eps: inKind(kind, eps), out });
        return same('out', out, want);
      },
    });
    cases.push({
      name: `trainingTarget v: x0, eps, out (${kind}, ${dt})`,
      run: () => {
        const x0 = data(C, 5);
        const eps = data(C, 6);
        const want = tw.trainingTarget('v', { x0, eps, dim, alpha: 0.6, sigma: 0.8 });
        const out = inKind(kind, new C(x0.length));
        tw.trainingTarget('v', { x0: inKind(kind, x0), eps: inKind(kind, eps), dim, alpha: 0.6, sigma: 0.8, out });
        return same('out', out, want);
      },
    });
    cases.push({
      name: `convertPrediction eps -> x0: pred, x, out (${kind}, ${dt})`,
      run: () => {
        const pred = data(C, 7);
        const x = data(C, 8);
        const want = tw.convertPrediction(pred, { from: 'eps', to: 'x0', x, dim, alpha: 0.6, sigma: 0.8 });
        const out = inKind(kind, new C(pred.length));
        tw.convertPrediction(inKind(kind, pred), { from: 'eps', to: 'x0', x: inKind(kind, x), dim, alpha: 0.6, sigma: 0.8, out });
        return same('out', out, want);
      },
    });
  }
}

line({ cases: cases.length, backend: tw.backend() });
for (const c of cases) {
  line({ start: c.name });
  let detail: string | null;
  try {
    detail = c.run();
  } catch (err) {
    detail = `threw ${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
  line({ name: c.name, ok: detail === null, detail });
}
line({ done: true });
