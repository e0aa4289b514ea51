/**
 * Bad input (reliability.md §4) for every public function: each case must throw the right
 * class (TypeError for a wrong type, RangeError for a wrong shape or value) with
 * code === 'ERR_TWEEDIE_INVALID_ARG' and a message that names the argument, before anything is
 * written (the caller's buffers are compared byte for byte). Buffers of other kinds
 * (SharedArrayBuffer, resizable ArrayBuffer) must work like ordinary ones; that runs in a child
 * process so that a crash fails one test instead of the whole run. The native binding's own
 * checks (the second line, reachable directly) are exercised at the end.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tw from '../src/index.js';
import type { FloatArray } from '../src/types.js';
import { ResizableArrayBuffer } from './helpers/arrays.js';
import { nativeOrSkip } from './helpers/native-config.js';

type ErrorClass = TypeErrorConstructor | RangeErrorConstructor;

interface BadCase {
  /** What is wrong. */
  what: string;
  call: () => unknown;
  error: ErrorClass;
  /** The argument the message must name (as a whole word). */
  arg: string;
  /** Buffers that must be unchanged afterwards. */
  buffers?: ArrayBufferView[];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function bytesOf(v: ArrayBufferView): Uint8Array | null {
  try {
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  } catch {
    return null; // detached
  }
}

/** Asserts that the case throws as required and leaves its buffers unchanged. */
function check(c: BadCase): void {
  const before = (c.buffers ?? []).map(bytesOf);
  let thrown: unknown;
  try {
    c.call();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'nothing was thrown').to.be.instanceOf(Error);
  const err = thrown as Error & { code?: unknown };
  expect(err.constructor.name, `error class (message: ${err.message})`).to.equal(c.error.name);
  expect(err.code, `code (message: ${err.message})`).to.equal(tw.ERR_INVALID_ARG);
  expect(err.message).to.match(new RegExp(`(^|[^\\w])${escape(c.arg)}([^\\w]|$)`), `the message names ${c.arg}`);
  (c.buffers ?? []).forEach((b, i) => {
    const after = bytesOf(b);
    if (before[i] && after) expect(Buffer.compare(after, before[i]!), `buffer ${i} was written`).to.equal(0);
  });
}

function detached<T extends ArrayBufferView>(v: T): T {
  structuredClone(v.buffer, { transfer: [v.buffer as ArrayBuffer] });
  return v;
}

/** A view made out of bounds by shrinking its resizable buffer (reads as length 0, like a detached one). */
function outOfBounds<T extends FloatArray | Uint32Array>(C: new (b: ArrayBuffer, o: number, n: number) => T, n: number): T {
  const rab = new ResizableArrayBuffer(8 * n + 8, { maxByteLength: 16 * n + 16 });
  const v = new C(rab, 8, n);
  rab.resize(0);
  return v;
}

/** Marks a buffer so that any write shows. */
function marked<T extends FloatArray>(v: T): T {
  for (let i = 0; i < v.length; i++) v[i] = 1000 + i;
  return v;
}

const TypeErr = TypeError;
const RangeErr = RangeError;

/** Bad seeds (also used for stream, offset and sample ids). */
const BAD_U64: Array<[string, unknown, ErrorClass]> = [
  ['negative', -1, RangeErr],
  ['negative zero-ish fraction', -0.5, RangeErr],
  ['fractional', 1.5, RangeErr],
  ['NaN', NaN, RangeErr],
  ['Infinity', Infinity, RangeErr],
  ['2^53 as a number', 2 ** 53, RangeErr],
  ['1e300', 1e300, RangeErr],
  ['negative bigint', -1n, RangeErr],
  ['2^64 as a bigint', 2n ** 64n, RangeErr],
  ['a string', '1', TypeErr],
  ['null', null, TypeErr],
  ['an object', { valueOf: () => 1 }, TypeErr],
  ['a boolean', true, TypeErr],
];

/** Things that are not a Float32Array/Float64Array. */
const NOT_FLOAT: Array<[string, () => unknown]> = [
  ['an Int32Array', () => new Int32Array(6)],
  ['a Uint8Array', () => new Uint8Array(6)],
  ['a plain Array', () => [0, 0, 0, 0, 0, 0]],
  ['a DataView', () => new DataView(new ArrayBuffer(48))],
  ['a Buffer', () => Buffer.alloc(48)],
  ['a BigInt64Array', () => new BigInt64Array(6)],
  ['undefined', () => undefined],
  ['null', () => null],
  ['a number', () => 6],
];

const BAD_OPTIONS: Array<[string, unknown]> = [['undefined', undefined], ['null', null], ['a number', 5], ['a string', 'seed'], ['an array', []]];

function cases(title: string, list: BadCase[]): void {
  describe(title, () => {
    for (const c of list) it(c.what, () => check(c));
  });
}

// ---------------------------------------------------------------------------------------------
cases('bad input: philox4x32', (() => {
  const key = Uint32Array.of(1, 2);
  const counter = Uint32Array.of(1, 2, 3, 4);
  const list: BadCase[] = [];
  for (const [what, make] of [['an Int32Array', () => new Int32Array(4)], ['a plain Array', () => [1, 2, 3, 4]],
    ['a DataView', () => new DataView(new ArrayBuffer(16))], ['a Float64Array', () => new Float64Array(4)], ['undefined', () => undefined]] as Array<[string, () => unknown]>) {
    list.push({ what: `counter is ${what}`, call: () => tw.philox4x32(make() as Uint32Array, key), error: TypeErr, arg: 'counter' });
    list.push({ what: `key is ${what}`, call: () => tw.philox4x32(counter, make() as Uint32Array), error: TypeErr, arg: 'key' });
  }
  list.push(
    { what: 'counter of length 3', call: () => tw.philox4x32(new Uint32Array(3), key), error: RangeErr, arg: 'counter.length' },
    { what: 'counter of length 5', call: () => tw.philox4x32(new Uint32Array(5), key), error: RangeErr, arg: 'counter.length' },
    { what: 'key of length 1', call: () => tw.philox4x32(counter, new Uint32Array(1)), error: RangeErr, arg: 'key.length' },
    { what: 'key of length 4', call: () => tw.philox4x32(counter, new Uint32Array(4)), error: RangeErr, arg: 'key.length' },
    { what: 'counter on a detached buffer', call: () => tw.philox4x32(detached(new Uint32Array(4)), key), error: TypeErr, arg: 'counter' },
    { what: 'key on a detached buffer', call: () => tw.philox4x32(counter, detached(new Uint32Array(2))), error: TypeErr, arg: 'key' },
  );
  return list;
})());

// ---------------------------------------------------------------------------------------------
cases('bad input: randomNormal', (() => {
  const list: BadCase[] = [];
  for (const [what, make] of NOT_FLOAT) {
    list.push({ what: `out is ${what}`, call: () => tw.randomNormal(make() as Float64Array, { seed: 1 }), error: TypeErr, arg: 'out' });
  }
  list.push({ what: 'out on a detached buffer', call: () => tw.randomNormal(detached(new Float64Array(4)), { seed: 1 }), error: TypeErr, arg: 'out' });
  list.push({ what: 'out made out of bounds by shrinking its resizable buffer', call: () => tw.randomNormal(outOfBounds(Float64Array, 4), { seed: 1 }), error: TypeErr, arg: 'out' });
  for (const [what, opts] of BAD_OPTIONS) {
    const out = marked(new Float64Array(4));
    list.push({ what: `options is ${what}`, call: () => tw.randomNormal(out, opts as never), error: TypeErr, arg: 'options', buffers: [out] });
  }
  {
    const out = marked(new Float32Array(4));
    list.push({ what: 'seed missing', call: () => tw.randomNormal(out, {} as never), error: TypeErr, arg: 'seed', buffers: [out] });
  }
  for (const name of ['seed', 'stream', 'offset'] as const) {
    for (const [what, v, error] of BAD_U64) {
      if (name !== 'seed' && v === null) continue; // stream/offset null mean "not given" (the default)
      const out = marked(new Float64Array(5));
      const opts = { seed: 1, [name]: v };
      list.push({ what: `${name} is ${what}`, call: () => tw.randomNormal(out, opts as never), error, arg: name, buffers: [out] });
    }
  }
  for (const [off, len] of [[2n ** 64n - 3n, 4], [2n ** 64n - 1n, 2], [2n ** 64n - 1000n, 1001]] as Array<[bigint, number]>) {
    const out = marked(new Float64Array(len));
    list.push({ what: `offset + length > 2^64 (offset 2^64 - ${2n ** 64n - off}, length ${len})`, call: () => tw.randomNormal(out, { seed: 1, offset: off }), error: RangeErr, arg: 'offset', buffers: [out] });
  }
  return list;
})());

describe('bad input: randomNormal at the edge of the index space', () => {
  it('accepts offset + length = 2^64 exactly and gives the last normals of the stream', () => {
    const out = tw.randomNormal(new Float64Array(4), { seed: 9, stream: 2, offset: 2n ** 64n - 4n });
    const again = tw.randomNormal(new Float64Array(8), { seed: 9, stream: 2, offset: 2n ** 64n - 8n });
    expect(Array.from(out)).to.deep.equal(Array.from(again.subarray(4)));
    expect(out.every(Number.isFinite)).to.equal(true);
    expect(tw.randomNormal(new Float64Array(0), { seed: 9, offset: 2n ** 64n - 1n }).length).to.equal(0);
  });
});

// ---------------------------------------------------------------------------------------------
/** addNoise on a 3 x 2 batch with the options overridden; x0 and every given array are checked unchanged. */
function addNoiseCase(what: string, opts: Record<string, unknown>, error: ErrorClass, arg: string,
  ...x0Given: unknown[]): BadCase {
  const x0 = x0Given.length ? x0Given[0] : marked(new Float32Array(6));
  const base: Record<string, unknown> = { dim: 2, alpha: 0.8, sigma: 0.6, seed: 1 };
  const o = { ...base, ...opts };
  for (const k of Object.keys(o)) if (o[k] === DELETE) delete o[k];
  const buffers = [x0, ...Object.values(o)].filter((v): v is ArrayBufferView => ArrayBuffer.isView(v));
  return { what, call: () => tw.addNoise(x0 as Float32Array, o as never), error, arg, buffers };
}
const DELETE = Symbol('delete');

cases('bad input: addNoise', (() => {
  const list: BadCase[] = [];
  const f32 = (n = 6): Float32Array => marked(new Float32Array(n));
  const f64 = (n = 6): Float64Array => marked(new Float64Array(n));
  for (const [what, make] of NOT_FLOAT) list.push(addNoiseCase(`x0 is ${what}`, {}, TypeErr, 'x0', make()));
  list.push(addNoiseCase('x0 on a detached buffer', {}, TypeErr, 'x0', detached(new Float32Array(6))));
  list.push(addNoiseCase('x0 made out of bounds by shrinking its resizable buffer', {}, TypeErr, 'x0', outOfBounds(Float32Array, 6)));
  for (const [what, opts] of BAD_OPTIONS) {
    const x0 = f32();
    list.push({ what: `options is ${what}`, call: () => tw.addNoise(x0, opts as never), error: TypeErr, arg: 'options', buffers: [x0] });
  }
  // dim
  list.push(addNoiseCase('dim missing', { dim: DELETE }, TypeErr, 'dim'));
  list.push(addNoiseCase('dim is a string', { dim: '2' }, TypeErr, 'dim'));
  for (const d of [0, -2, 1.5, NaN, Infinity, 2 ** 53]) list.push(addNoiseCase(`dim is ${d}`, { dim: d }, RangeErr, 'dim'));
  list.push(addNoiseCase('x0 length 7 is not a multiple of dim 2', {}, RangeErr, 'x0', f32(7)));
  list.push(addNoiseCase('x0 length 6 is not a multiple of dim 4', { dim: 4 }, RangeErr, 'dim'));
  // alpha and sigma
  for (const name of ['alpha', 'sigma']) {
    list.push(addNoiseCase(`${name} missing`, { [name]: DELETE }, TypeErr, name));
    for (const v of [NaN, Infinity, -Infinity]) list.push(addNoiseCase(`${name} is ${v}`, { [name]: v }, RangeErr, name));
    list.push(addNoiseCase(`${name} is a string`, { [name]: '0.5' }, TypeErr, name));
    list.push(addNoiseCase(`${name} is a bigint`, { [name]: 1n }, TypeErr, name));
    list.push(addNoiseCase(`${name} per row of the wrong length (2 for 3 rows)`, { [name]: [0.5, 0.5] }, RangeErr, `${name}.length`));
    list.push(addNoiseCase(`${name} per row of the wrong length (4 for 3 rows)`, { [name]: new Float64Array(4) }, RangeErr, `${name}.length`));
    list.push(addNoiseCase(`${name} per row with a NaN`, { [name]: [0.5, NaN, 0.5] }, RangeErr, `${name}[1]`));
    list.push(addNoiseCase(`${name} per row with Infinity`, { [name]: Float64Array.of(0.5, 0.5, Infinity) }, RangeErr, `${name}[2]`));
    list.push(addNoiseCase(`${name} per row with a string`, { [name]: [0.5, '0.5', 0.5] }, TypeErr, `${name}[1]`));
    list.push(addNoiseCase(`${name} per row with a hole`, { [name]: [0.5, , 0.5] }, TypeErr, `${name}[1]`));
    list.push(addNoiseCase(`${name} per row as an Int32Array`, { [name]: new Int32Array(3) }, TypeErr, name));
    list.push(addNoiseCase(`${name} per row as a DataView`, { [name]: new DataView(new ArrayBuffer(24)) }, TypeErr, name));
    list.push(addNoiseCase(`${name} per row on a detached buffer`, { [name]: detached(new Float64Array(3)) }, TypeErr, name));
  }
  for (const v of [-1, -1e-300, -Infinity]) list.push(addNoiseCase(`sigma is ${v}`, { sigma: v }, RangeErr, 'sigma'));
  list.push(addNoiseCase('sigma per row with a negative value', { sigma: [0.5, -0.1, 0.5] }, RangeErr, 'sigma[1]'));
  // seed and eps
  list.push(addNoiseCase('neither seed nor eps', { seed: DELETE }, TypeErr, 'seed'));
  for (const [what, v, error] of BAD_U64) list.push(addNoiseCase(`seed is ${what}`, { seed: v }, error, 'seed'));
  list.push(addNoiseCase('eps is a Float64Array for a Float32Array x0', { seed: DELETE, eps: f64() }, TypeErr, 'eps'));
  list.push(addNoiseCase('eps is an Int32Array', { seed: DELETE, eps: new Int32Array(6) }, TypeErr, 'eps'));
  list.push(addNoiseCase('eps is a plain Array', { seed: DELETE, eps: [0, 0, 0, 0, 0, 0] }, TypeErr, 'eps'));
  list.push(addNoiseCase('eps of the wrong length', { seed: DELETE, eps: f32(4) }, RangeErr, 'eps.length'));
  list.push(addNoiseCase('eps on a detached buffer', { seed: DELETE, eps: detached(new Float32Array(6)) }, TypeErr, 'eps'));
  list.push(addNoiseCase('eps and seed both given', { eps: f32() }, TypeErr, 'seed'));
  list.push(addNoiseCase('eps and sampleIds both given', { seed: DELETE, eps: f32(), sampleIds: [0, 1, 2] }, TypeErr, 'sampleIds'));
  list.push(addNoiseCase('eps and epsOut both given', { seed: DELETE, eps: f32(), epsOut: f32() }, TypeErr, 'epsOut'));
  // sampleIds
  list.push(addNoiseCase('sampleIds of the wrong length', { sampleIds: [0, 1] }, RangeErr, 'sampleIds.length'));
  for (const [what, v, error] of BAD_U64) {
    list.push(addNoiseCase(`a sample id is ${what}`, { sampleIds: [0, v, 2] }, error, 'sampleIds[1]'));
  }
  list.push(addNoiseCase('sampleIds is a string', { sampleIds: 'abc' }, TypeErr, 'sampleIds'));
  list.push(addNoiseCase('sampleIds is a number', { sampleIds: 3 }, TypeErr, 'sampleIds'));
  list.push(addNoiseCase('sampleIds on a detached buffer', { sampleIds: detached(new Float64Array(3)) }, TypeErr, 'sampleIds'));
  // out
  {
    const x0 = f32(8);
    const over = new Float32Array(x0.buffer, 4, 6);
    list.push(addNoiseCase('out partially overlaps x0', { out: over }, RangeErr, 'out', x0.subarray(0, 6)));
  }
  list.push(addNoiseCase('out is a Float64Array for a Float32Array x0', { out: f64() }, TypeErr, 'out'));
  list.push(addNoiseCase('out is an Int32Array', { out: new Int32Array(6) }, TypeErr, 'out'));
  list.push(addNoiseCase('out is a plain Array', { out: [0, 0, 0, 0, 0, 0] }, TypeErr, 'out'));
  list.push(addNoiseCase('out of the wrong length', { out: f32(5) }, RangeErr, 'out.length'));
  list.push(addNoiseCase('out on a detached buffer', { out: detached(new Float32Array(6)) }, TypeErr, 'out'));
  {
    const x0 = f32(6);
    const eps = f32(8);
    list.push(addNoiseCase('out partially overlaps eps', { seed: DELETE, eps: eps.subarray(0, 6), out: eps.subarray(2, 8) }, RangeErr, 'out', x0));
  }
  // epsOut
  list.push(addNoiseCase('epsOut is a Float64Array for a Float32Array x0', { epsOut: f64() }, TypeErr, 'epsOut'));
  list.push(addNoiseCase('epsOut of the wrong length', { epsOut: f32(7) }, RangeErr, 'epsOut.length'));
  list.push(addNoiseCase('epsOut on a detached buffer', { epsOut: detached(new Float32Array(6)) }, TypeErr, 'epsOut'));
  {
    const x0 = f32();
    list.push(addNoiseCase('epsOut is x0', { epsOut: x0 }, RangeErr, 'epsOut', x0));
  }
  {
    const x0 = f32(9);
    list.push(addNoiseCase('epsOut partially overlaps x0', { epsOut: x0.subarray(3, 9) }, RangeErr, 'epsOut', x0.subarray(0, 6)));
  }
  {
    const out = f32();
    list.push(addNoiseCase('epsOut is out', { out, epsOut: out }, RangeErr, 'epsOut'));
  }
  {
    const buf = f32(10);
    list.push(addNoiseCase('epsOut partially overlaps out', { out: buf.subarray(0, 6), epsOut: buf.subarray(4, 10) }, RangeErr, 'epsOut'));
  }
  return list;
})());

// ---------------------------------------------------------------------------------------------
function targetCase(what: string, kind: unknown, opts: Record<string, unknown>, error: ErrorClass, arg: string): BadCase {
  const o: Record<string, unknown> = { x0: marked(new Float64Array(6)), eps: marked(new Float64Array(6)), dim: 3, alpha: 0.8, sigma: 0.6, ...opts };
  for (const k of Object.keys(o)) if (o[k] === DELETE) delete o[k];
  const buffers = Object.values(o).filter((v): v is ArrayBufferView => ArrayBuffer.isView(v));
  return { what, call: () => tw.trainingTarget(kind as 'v', o as never), error, arg, buffers };
}

cases('bad input: trainingTarget', (() => {
  const list: BadCase[] = [];
  for (const k of ['epsilon', 'X0', '', 'sample', undefined, 5, null]) list.push(targetCase(`kind is ${JSON.stringify(k) ?? 'undefined'}`, k, {}, TypeErr, 'kind'));
  for (const [what, opts] of BAD_OPTIONS) list.push({ what: `options is ${what}`, call: () => tw.trainingTarget('v', opts as never), error: TypeErr, arg: 'options' });
  for (const [what, make] of NOT_FLOAT) {
    list.push(targetCase(`x0 is ${what}`, 'v', { x0: make() }, TypeErr, 'x0'));
    list.push(targetCase(`eps is ${what}`, 'v', { eps: make() }, TypeErr, 'eps'));
  }
  list.push(targetCase('eps is a Float32Array for a Float64Array x0', 'v', { eps: new Float32Array(6) }, TypeErr, 'eps'));
  list.push(targetCase('eps of the wrong length', 'v', { eps: new Float64Array(3) }, RangeErr, 'eps.length'));
  list.push(targetCase('x0 on a detached buffer', 'v', { x0: detached(new Float64Array(6)) }, TypeErr, 'x0'));
  list.push(targetCase('eps on a detached buffer', 'eps', { eps: detached(new Float64Array(6)) }, TypeErr, 'eps'));
  list.push(targetCase('length 6 is not a multiple of dim 4', 'v', { dim: 4 }, RangeErr, 'dim'));
  list.push(targetCase('dim missing', 'v', { dim: DELETE }, TypeErr, 'dim'));
  list.push(targetCase('dim 0', 'v', { dim: 0 }, RangeErr, 'dim'));
  list.push(targetCase('dim 1.5', 'x0', { dim: 1.5 }, RangeErr, 'dim'));
  for (const v of [NaN, Infinity]) list.push(targetCase(`alpha is ${v}`, 'v', { alpha: v }, RangeErr, 'alpha'));
  for (const v of [NaN, -Infinity, -0.5]) list.push(targetCase(`sigma is ${v}`, 'v', { sigma: v }, RangeErr, 'sigma'));
  list.push(targetCase('sigma = 0 for the score target', 'score', { sigma: 0 }, RangeErr, 'sigma'));
  list.push(targetCase('sigma per row with a 0 for the score target', 'score', { sigma: [0.5, 0] }, RangeErr, 'sigma[1]'));
  list.push(targetCase('alpha per row of the wrong length', 'v', { alpha: [1, 1, 1] }, RangeErr, 'alpha.length'));
  list.push(targetCase('out is a Float32Array for Float64Array inputs', 'v', { out: new Float32Array(6) }, TypeErr, 'out'));
  list.push(targetCase('out of the wrong length', 'v', { out: new Float64Array(7) }, RangeErr, 'out.length'));
  {
    const buf = marked(new Float64Array(8));
    list.push(targetCase('out partially overlaps x0', 'v', { x0: buf.subarray(0, 6), out: buf.subarray(2, 8) }, RangeErr, 'out'));
  }
  {
    const buf = marked(new Float64Array(7));
    list.push(targetCase('out partially overlaps eps', 'score', { eps: buf.subarray(1, 7), out: buf.subarray(0, 6) }, RangeErr, 'out'));
  }
  return list;
})());

// ---------------------------------------------------------------------------------------------
function convertCase(what: string, opts: Record<string, unknown>, error: ErrorClass, arg: string,
  ...predGiven: unknown[]): BadCase {
  const pred = predGiven.length ? predGiven[0] : marked(new Float32Array(6));
  const o: Record<string, unknown> = { from: 'eps', to: 'x0', x: marked(new Float32Array(6)), dim: 3, alpha: 0.8, sigma: 0.6, ...opts };
  for (const k of Object.keys(o)) if (o[k] === DELETE) delete o[k];
  const buffers = [pred, ...Object.values(o)].filter((v): v is ArrayBufferView => ArrayBuffer.isView(v));
  return { what, call: () => tw.convertPrediction(pred as Float32Array, o as never), error, arg, buffers };
}

cases('bad input: convertPrediction', (() => {
  const list: BadCase[] = [];
  for (const [what, make] of NOT_FLOAT) {
    list.push(convertCase(`pred is ${what}`, {}, TypeErr, 'pred', make()));
    list.push(convertCase(`x is ${what}`, { x: make() }, TypeErr, 'x'));
  }
  for (const [what, opts] of BAD_OPTIONS) list.push({ what: `options is ${what}`, call: () => tw.convertPrediction(new Float32Array(6), opts as never), error: TypeErr, arg: 'options' });
  for (const k of ['epsilon', 'noise', 'V', undefined, 1]) {
    list.push(convertCase(`from is ${JSON.stringify(k) ?? 'undefined'}`, { from: k }, TypeErr, 'from'));
    list.push(convertCase(`to is ${JSON.stringify(k) ?? 'undefined'}`, { to: k }, TypeErr, 'to'));
  }
  list.push(convertCase('pred on a detached buffer', {}, TypeErr, 'pred', detached(new Float32Array(6))));
  list.push(convertCase('x is a Float64Array for a Float32Array pred', { x: new Float64Array(6) }, TypeErr, 'x'));
  list.push(convertCase('x of the wrong length', { x: new Float32Array(9) }, RangeErr, 'x.length'));
  list.push(convertCase('x on a detached buffer', { x: detached(new Float32Array(6)) }, TypeErr, 'x'));
  list.push(convertCase('length 6 is not a multiple of dim 4', { dim: 4 }, RangeErr, 'dim'));
  list.push(convertCase('dim missing', { dim: DELETE }, TypeErr, 'dim'));
  for (const v of [NaN, Infinity]) list.push(convertCase(`alpha is ${v}`, { alpha: v }, RangeErr, 'alpha'));
  for (const v of [NaN, -1]) list.push(convertCase(`sigma is ${v}`, { sigma: v }, RangeErr, 'sigma'));
  list.push(convertCase('sigma per row of the wrong length', { sigma: [1] }, RangeErr, 'sigma.length'));
  list.push(convertCase('alpha = 0 for eps -> x0 (divides by alpha)', { alpha: 0 }, RangeErr, 'alpha[0]'));
  list.push(convertCase('alpha = 0 in row 1 for score -> v', { from: 'score', to: 'v', alpha: [1, 0] }, RangeErr, 'alpha[1]'));
  list.push(convertCase('sigma = 0 for x0 -> eps (divides by sigma)', { from: 'x0', to: 'eps', sigma: 0 }, RangeErr, 'sigma[0]'));
  list.push(convertCase('sigma = 0 for eps -> score', { to: 'score', sigma: 0 }, RangeErr, 'sigma[0]'));
  list.push(convertCase('alpha = sigma = 0 for v -> x0', { from: 'v', alpha: 0, sigma: 0 }, RangeErr, 'alpha[0]'));
  list.push(convertCase('out is a Float64Array for Float32Array inputs', { out: new Float64Array(6) }, TypeErr, 'out'));
  list.push(convertCase('out of the wrong length', { out: new Float32Array(3) }, RangeErr, 'out.length'));
  {
    const buf = marked(new Float32Array(8));
    list.push(convertCase('out partially overlaps pred', { out: buf.subarray(1, 7) }, RangeErr, 'out', buf.subarray(0, 6)));
  }
  {
    const buf = marked(new Float32Array(8));
    list.push(convertCase('out partially overlaps x', { x: buf.subarray(2, 8), out: buf.subarray(0, 6) }, RangeErr, 'out'));
  }
  return list;
})());

// ---------------------------------------------------------------------------------------------
describe('bad input: buffers of other kinds', function () {
  it('SharedArrayBuffer and resizable ArrayBuffer inputs and outputs give the same results as ordinary buffers (child process)', function () {
    this.timeout(120000);
    const child = fileURLToPath(new URL('./helpers/buffer-kinds-child.ts', import.meta.url));
    const root = fileURLToPath(new URL('..', import.meta.url));
    const res = spawnSync(process.execPath, ['--import', 'tsx', child], { cwd: root, encoding: 'utf8', env: process.env, timeout: 110000 });
    const lines = res.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const header = lines[0] ?? {};
    const results = lines.filter((l) => 'ok' in l);
    const started = lines.filter((l) => 'start' in l);
    if (res.status !== 0 || res.signal !== null || !lines.some((l) => l.done)) {
      const last = started[started.length - 1]?.start;
      expect.fail(`the child process (${String(header.backend)} backend) died (exit ${res.status}, signal ${res.signal}) ` +
        `after ${results.length} of ${String(header.cases)} cases, in: ${String(last)}\n${res.stderr.slice(0, 2000)}`);
    }
    const failed = results.filter((r) => !r.ok).map((r) => `${String(r.name)}: ${String(r.detail)}`);
    expect(failed, failed.join('\n')).to.deep.equal([]);
    expect(results.length).to.equal(header.cases);
  });
});

// ---------------------------------------------------------------------------------------------
describe('bad input: the native binding checks its arguments itself', function () {
  const a1 = Float64Array.of(1);
  const expectThrow = (f: () => unknown, cls: ErrorClass): void => {
    expect(f).to.throw(cls);
  };

  it('rejects wrong array types, lengths, overlaps and detached buffers with TypeError / RangeError', function () {
    const n = nativeOrSkip(this);
    const f64 = (k: number): Float64Array => new Float64Array(k);
    // philox4x32
    expectThrow(() => n.philox4x32(new Int32Array(4) as never, new Uint32Array(2), new Uint32Array(4)), TypeError);
    expectThrow(() => n.philox4x32(new Uint32Array(3), new Uint32Array(2), new Uint32Array(4)), RangeError);
    expectThrow(() => n.philox4x32(new Uint32Array(4), new Uint32Array(2), new Uint32Array(3)), RangeError);
    // normalFill
    expectThrow(() => n.normalFill(new Int32Array(4) as never, 0, 0, 0, 0, 0, 0), TypeError);
    expectThrow(() => n.normalFill([0, 0] as never, 0, 0, 0, 0, 0, 0), TypeError);
    expectThrow(() => n.normalFill(detached(f64(4)), 0, 0, 0, 0, 0, 0), TypeError);
    expectThrow(() => n.normalFill(f64(4), -1, 0, 0, 0, 0, 0), RangeError);
    expectThrow(() => n.normalFill(f64(4), 0, 2 ** 32, 0, 0, 0, 0), RangeError);
    expectThrow(() => n.normalFill(f64(4), 0, 0, 0.5, 0, 0, 0), RangeError);
    expectThrow(() => n.normalFill(f64(4), 0, 0, 0, 0, '1' as never, 0), TypeError);
    expectThrow(() => n.normalFill(f64(4), 0, 0, 0, 0, 0xfffffffe, 0xffffffff), RangeError); // offset + 4 > 2^64
    // combine2
    expectThrow(() => n.combine2(f64(4), new Float32Array(4) as never, f64(4), 2, a1, a1), TypeError);
    expectThrow(() => n.combine2(f64(4), f64(3), f64(4), 2, a1, a1), RangeError);
    expectThrow(() => n.combine2(f64(5), f64(5), f64(5), 2, a1, a1), RangeError);
    expectThrow(() => n.combine2(f64(4), f64(4), f64(4), 0, a1, a1), RangeError);
    expectThrow(() => n.combine2(f64(4), f64(4), f64(4), 2, f64(3), a1), RangeError);
    expectThrow(() => n.combine2(f64(4), f64(4), f64(4), 2, new Float32Array(1) as never, a1), TypeError);
    const buf = f64(6);
    expectThrow(() => n.combine2(buf.subarray(0, 4), buf.subarray(2, 6), f64(4), 2, a1, a1), RangeError);
    // addNoise
    expectThrow(() => n.addNoise(f64(4), null, f64(4), 2, a1, a1, 0, 0, new Uint32Array(2)), RangeError);
    expectThrow(() => n.addNoise(f64(4), null, f64(4), 2, a1, a1, 0, 0, new Int32Array(4) as never), TypeError);
    expectThrow(() => n.addNoise(f64(4), buf.subarray(0, 4), buf.subarray(2, 6), 2, a1, a1, 0, 0, null), RangeError);
    const out = f64(4);
    expectThrow(() => n.addNoise(out, out, f64(4), 2, a1, a1, 0, 0, null), RangeError);
    expectThrow(() => n.addNoise(f64(4), f64(3), f64(4), 2, a1, a1, 0, 0, null), RangeError);
    expectThrow(() => n.addNoise(f64(4), null, f64(4), 2, a1, a1, 1.5, 0, null), RangeError);
  });
});
