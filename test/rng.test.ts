import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tw from '../src/index.js';
import { backends } from './helpers/backends.js';

interface KatVector { rounds: number; counter: string[]; key: string[]; expected: string[] }
const kat = JSON.parse(readFileSync(new URL('./fixtures/philox4x32_kat.json', import.meta.url), 'utf8')) as { vectors: KatVector[] };
const words = (hex: string[]): Uint32Array => Uint32Array.from(hex.map((h) => Number.parseInt(h, 16)));

describe('philox4x32', () => {
  for (const { name, kernels } of backends()) {
    it(`reproduces the Random123 10-round known answers (${name})`, () => {
      const tenRound = kat.vectors.filter((v) => v.rounds === 10);
      expect(tenRound.length).to.equal(3);
      for (const v of tenRound) {
        const out = new Uint32Array(4);
        kernels.philox4x32(words(v.counter), words(v.key), out);
        expect(Array.from(out)).to.deep.equal(Array.from(words(v.expected)));
      }
    });
  }
});

describe('randomNormal', () => {
  const sha = (a: ArrayBufferView): string => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
  // reliability.md §2.4: key (0x12345678, 0x9ABCDEF0), counter [j, 0, 0, 0], 2^20 normals.
  const seed = 0x9abcdef012345678n;
  it('gives the reference first float32 normals', () => {
    const out = tw.randomNormal(new Float32Array(4), { seed });
    expect(Array.from(new Uint32Array(out.buffer))).to.deep.equal([0x402d7ebd, 0xbfb1c487, 0xbd644915, 0x3eeae646]);
  });
  for (const { name, kernels } of backends()) {
    it(`matches the reference hashes (${name})`, () => {
      const f64 = new Float64Array(1 << 20);
      kernels.normalFill(f64, 0x12345678, 0x9abcdef0, 0, 0, 0, 0);
      expect(sha(f64)).to.equal('3d703ddd693319a0d781226c388b78e3607115b8f16f4e6a3cfda81973f82758');
      const f32 = new Float32Array(1 << 20);
      kernels.normalFill(f32, 0x12345678, 0x9abcdef0, 0, 0, 0, 0);
      expect(sha(f32)).to.equal('fdfd8db46408cdd013984fa3f4e3f93d0ef513763cc585c62b344652a177ed36');
      expect(sha(f32.subarray(0, 1 << 16))).to.equal('74828ba47bec9c364450cdd4da963fc8f0d7ff428fe9a96ff2db8d6e664f334d');
    });
  }
});
