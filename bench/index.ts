/**
 * `npm run bench`: runs every suite (one file per kernel family) and prints a table of
 * median time per call, elements/s, GB/s and the fraction of this machine's memcpy
 * bandwidth, the reference figures, and whether each target is met. `--json` for machines,
 * `--size 1e6` for a quick run, `--help` for the rest.
 * @module
 */
import { type Case, type Context, backends, copyCase, formatReport, label, machine, parseArgs, type Reference, type Result,
  runCases, type Suite, type Target } from './harness.js';
import { mixtureSuite } from './mixture.js';
import { noiseSuite } from './noise.js';
import { rngSuite } from './rng.js';
import { samplersSuite } from './samplers.js';
import { stepSuite } from './step.js';

/** Suites in report order; new kernel families add theirs here. */
const suites: Suite[] = [rngSuite, noiseSuite, stepSuite, mixtureSuite, samplersSuite];

const opts = parseArgs();
const m = machine();
const ctx: Context = { opts, backends: backends(opts) };
const progress = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};
if (!opts.json) progress(`tweedie bench: ${m.cpu}, ${m.cores} cores, node ${m.node}, backend ${m.backend} (SIMD ${m.simd})`);

// The yardstick first, so that every suite can relate its figures to it.
const results: Result[] = [];
const copy = copyCase(opts, opts.size);
if (copy) {
  const [r] = runCases([copy], opts, progress);
  results.push(r);
  if (!r.error) ctx.copy = r;
}
for (const suite of suites) {
  const cases: Case[] = suite.cases(ctx).filter((c) => !opts.filter || opts.filter.test(label(c)));
  results.push(...runCases(cases, opts, progress));
}
for (const r of results) if (ctx.copy && !r.error) r.ofCopyBandwidth = r.gigabytesPerSecond / ctx.copy.gigabytesPerSecond;

const references: Reference[] = suites.flatMap((s) => s.references ?? []);
const targets: Target[] = suites.flatMap((s) => (s.targets ? s.targets(results, ctx) : []));
if (opts.json) {
  const { filter, ...rest } = opts;
  const options = { ...rest, filter: filter?.source };
  process.stdout.write(`${JSON.stringify({ machine: m, options, results, references, targets }, null, 2)}\n`);
} else {
  process.stdout.write(`\n${formatReport(m, opts, results, references, targets)}\n`);
}
