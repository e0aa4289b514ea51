/**
 * Accuracy of the float64 normals and of their log and sincos against a correctly rounded
 * BigInt reference (test/helpers/pbm-reference.ts), over the edge-case words and `count`
 * random words (default 1e6).
 *
 *   node --import tsx scripts/accuracy-normals.ts [count] [seed]
 *
 * z:   count / 4 random Philox blocks (count normals), observed through randomNormal.
 * log: logU of count random words.
 * cos, sin: count / 2 random angle words, each observed through randomNormal in a block
 *      [r1, w, r2, w] whose two radii pin the double down (see pbm-reference.ts); values still
 *      ambiguous are counted, and the larger error is reported for them.
 * Errors: "max ulp" is the distance in doubles to the correctly rounded value; "exact" is
 * |ours - exact| / ulp(exact); "mean" averages the latter.
 */
import { backend, info } from '../src/backend.js';
import {
  edgeWords, ErrorStats, measureBlock, measureLog, measureSinCos, normalsOfWords, sinCosWords, wordSource,
} from '../test/helpers/pbm-reference.js';

const count = Math.max(4, Math.floor(Number(process.argv[2] ?? 1e6)));
const seed = Number(process.argv[3] ?? 20240611) >>> 0;
const next = wordSource(seed);
const z = new ErrorStats();
const log = new ErrorStats();
const cos = new ErrorStats();
const sin = new ErrorStats();
let ambiguous = 0;
const t0 = Date.now();

const edges = edgeWords();
for (let i = 0; i < edges.length; i++) {
  const w = edges[i];
  const other = edges[(i * 7 + 3) % edges.length];
  measureLog(w, log);
  measureBlock([w, other, other, w], normalsOfWords([w, other, other, w]), z);
  const words = sinCosWords(w, next);
  ambiguous += measureSinCos(words, normalsOfWords(words), cos, sin);
}

let lastReport = Date.now();
for (let i = 0; i < count; i += 4) {
  const words = [next(), next(), next(), next()];
  for (const w of words) measureLog(w, log);
  measureBlock(words, normalsOfWords(words), z);
  for (let k = 0; k < 2; k++) {
    const angles = sinCosWords(next(), next);
    ambiguous += measureSinCos(angles, normalsOfWords(angles), cos, sin);
  }
  if (Date.now() - lastReport > 10000) {
    lastReport = Date.now();
    process.stderr.write(`  ${i + 4} / ${count} words, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
}

const row = (name: string, s: ErrorStats): string =>
  `${name.padEnd(4)} max ${String(s.maxUlps).padStart(2)} ulp   exact ${s.maxFrac.toFixed(3)} ulp   ` +
  `mean ${s.meanFrac.toFixed(4)} ulp   n = ${s.count}\n       worst: ${s.worst}`;
console.log(`PBM normal accuracy vs a correctly rounded 256-bit reference; backend ${backend()} (simd ${info().simd}), ` +
  `${count} random words (seed ${seed}) + ${edges.length} edge words`);
console.log(row('z', z));
console.log(row('log', log));
console.log(row('cos', cos));
console.log(row('sin', sin));
console.log(`sincos values with more than one candidate (upper bound reported): ${ambiguous} of ${cos.count + sin.count}`);
console.log(`time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
