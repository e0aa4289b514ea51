/**
 * `npm run report:samplers`: error vs NFE of every deterministic sampler on three built-in
 * mixtures, with the code of `tweedie compare` (src/cli/compare.ts). Writes
 * docs/sampler-error.md (tables), docs/sampler-error.json (everything) and docs/sampler-error.svg
 * (the plot). The hand-written notes under each table in the .md, between
 * `<!-- notes:NAME -->` and `<!-- /notes:NAME -->`, are kept when the report is regenerated.
 *
 * Options: `--n 4096`, `--seed 0`, `--mixtures ring8,gauss16,cube64`, `--out docs`.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TopLevelSpec } from 'vega-lite';
import { info } from '../src/index.js';
import {
  compare, type CompareResult, DEFAULT_GRID, DEFAULT_STEPS, DETERMINISTIC_SAMPLERS, fmt, observedOrder, REFERENCE_TOL,
  rowsOf,
} from '../src/cli/compare.js';
import { loadMixture } from '../src/cli/mixtures.js';
import { compareSpec, renderSvg } from '../src/cli/plots.js';
import { progress } from '../src/cli/progress.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '4096' },
    seed: { type: 'string', default: '0' },
    mixtures: { type: 'string', default: 'ring8,gauss16,cube64' },
    out: { type: 'string', default: 'docs' },
  },
});
const n = Number(args.n);
const seed = Number(args.seed);
const names = args.mixtures!.split(',');
const outDir = args.out!;

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${platform()} ${release()}`,
  node: process.version,
  ...info(),
};
const date = new Date().toISOString();
const command = `npm run report:samplers${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

const results: CompareResult[] = [];
const t0 = performance.now();
for (const name of names) {
  const bar = progress(`report ${name}`);
  process.stderr.write(`report:samplers: ${name} ...\n`);
  try {
    results.push(await compare({
      mixture: loadMixture(name), samplers: DETERMINISTIC_SAMPLERS, steps: DEFAULT_STEPS, n, seed,
      ...DEFAULT_GRID, reference: true, onProgress: (d, t, label) => bar.update(d, t, label),
    }));
  } finally {
    bar.stop();
  }
}
const seconds = (performance.now() - t0) / 1000;

/** A markdown table. */
function table(rows: string[][]): string {
  const [head, ...body] = rows;
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`,
    ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function swTable(r: CompareResult): string {
  const steps = DEFAULT_STEPS;
  const rows = [['sampler', ...steps.map((s) => `${s} steps`)]];
  for (const s of DETERMINISTIC_SAMPLERS) {
    rows.push([`\`${s}\``, ...steps.map((k) => {
      const row = r.rows.find((x) => x.sampler === s && x.steps === k);
      return row ? `${fmt(row.sw2)} (${row.nfe})` : '-';
    })]);
  }
  rows.push(['*exact draws (floor)*', ...steps.map(() => `*${fmt(r.exact.sw2)}*`)]);
  if (r.reference) rows.push([`*ODE solution, tol ${r.reference.rtol}*`, ...steps.map(() => `*${fmt(r.reference!.sw2)}*`)]);
  return table(rows);
}

function odeTable(r: CompareResult): string {
  const steps = DEFAULT_STEPS;
  const rows = [['sampler', ...steps.map((s) => `${s} steps`), 'order']];
  for (const s of DETERMINISTIC_SAMPLERS) {
    const sr = rowsOf(r, s);
    const p = observedOrder(sr, (x) => x.odeError);
    rows.push([`\`${s}\``, ...steps.map((k) => {
      const row = sr.find((x) => x.steps === k);
      return row && row.odeError !== null ? `${fmt(row.odeError)} (${row.nfe})` : '-';
    }), p === null ? '-' : p.toFixed(2)]);
  }
  return table(rows);
}

function switchTable(r: CompareResult): string {
  const steps = DEFAULT_STEPS;
  const rows = [['sampler', ...steps.map((s) => `${s} steps`), 'order']];
  for (const s of DETERMINISTIC_SAMPLERS) {
    const sr = rowsOf(r, s);
    const p = observedOrder(sr, (x) => x.modeSwitches);
    rows.push([`\`${s}\``, ...steps.map((k) => {
      const row = sr.find((x) => x.steps === k);
      return row && row.modeSwitches !== null ? `${fmt(100 * row.modeSwitches)}` : '-';
    }), p === null ? '-' : p.toFixed(2)]);
  }
  return table(rows);
}

function nearestTable(r: CompareResult): string {
  const steps = DEFAULT_STEPS;
  const rows = [['sampler', ...steps.map((s) => `${s} steps`)]];
  for (const s of DETERMINISTIC_SAMPLERS) {
    rows.push([`\`${s}\``, ...steps.map((k) => {
      const row = r.rows.find((x) => x.sampler === s && x.steps === k);
      return row ? fmt(row.nearestMode) : '-';
    })]);
  }
  rows.push(['*exact draws*', ...steps.map(() => `*${fmt(r.exact.nearestMode)}*`)]);
  return table(rows);
}

const mdPath = join(outDir, 'sampler-error.md');
const oldMd = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
function notes(name: string): string {
  const m = new RegExp(`<!-- notes:${name} -->\\n([\\s\\S]*?)<!-- /notes:${name} -->`).exec(oldMd);
  return `<!-- notes:${name} -->\n${m ? m[1] : '_(notes to be written)_\n'}<!-- /notes:${name} -->`;
}

const descriptions: Record<string, string> = {
  ring8: '2-D, 8 Gaussians of std 0.1 on a circle of radius 2',
  gauss16: '16-D, 4 Gaussians with diagonal covariances (std 0.1 to 0.5), weights 0.4/0.3/0.2/0.1, means 5.66 apart',
  cube64: '3-D, the 64 points of the 4 x 4 x 4 lattice {-1.5, -0.5, 0.5, 1.5}^3 (empirical: zero variance)',
};

const dopri = (r: CompareResult): string => rowsOf(r, 'dopri5')
  .map((x) => `${x.steps}: ${fmt(x.accepted! / r.n)} + ${fmt(x.rejected! / r.n)}`).join(', ');

const md = [
  '# Sampler error vs NFE on exact Gaussian-mixture denoisers',
  '',
  `Generated by \`${command}\` on ${date.slice(0, 10)} (${date}), in ${seconds.toFixed(0)} s, on ${machine.cpu}, ` +
    `${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, tweedie ${machine.version} ` +
    `(${machine.backend} backend, SIMD ${machine.simd}, ${machine.threads} threads). ` +
    'Data: [sampler-error.json](sampler-error.json); plot: [sampler-error.svg](sampler-error.svg). ' +
    'The same numbers for any mixture and sampler set: `tweedie compare --mixture NAME --samplers deterministic`.',
  '',
  '## Method',
  '',
  `- Every deterministic sampler of the package runs on the mixture's exact denoiser E[x0 | x_t] at n = ${DEFAULT_STEPS.join(', ')} ` +
    `steps of a Karras grid from sigma ${DEFAULT_GRID.sigmaMax} down to ${DEFAULT_GRID.sigmaMin} (rho ${DEFAULT_GRID.rho}), then 0: ` +
    'EDM\'s defaults, the grid most k-diffusion users sample on. sigma_max = 80 is 40 times the largest data scale here, so x_T ' +
    'is nearly pure noise, and the start states are exact draws of p_80 anyway (`sampleNoisy`), so a sampler is charged only ' +
    'for its integration; sigma_min = 0.002 is 50 times below the smallest component std (0.1) and 500 times below the lattice ' +
    'spacing of cube64, so stopping there and returning the denoiser costs nothing measurable. `edm` runs with `sChurn: 0` ' +
    '(then it is Heun\'s method: same numbers); `ddim` with eta 0 is Euler\'s method in sigma/alpha units (same numbers).',
  `- **Sliced W2** between the ${n} samples and ${n} independent exact draws: 256 random unit directions (normals of the ` +
    'package\'s counter-based generator, seed 0, stream = direction), for each the exact 1-D W2^2 between the two sorted ' +
    'projections (mean squared difference), averaged over directions, square root. Cells give SW2 and (NFE).',
  `- **Floor**: the same distance between two independent exact sets of ${n} draws. No sampler can be told apart from exact ` +
    'below it: with multimodal data it is dominated by the random share of samples per mode (multinomial counts), which ' +
    'W2 must transport between modes.',
  `- **Distance to the exact ODE solution**: all these samplers integrate the same probability-flow ODE from the same start ` +
    `states, so each sample is also compared with the tight solution of that ODE (\`dopri5\`, rtol = atol = ${REFERENCE_TOL}, ` +
    'grid [80, 0.002, 0]): the median over samples of |x - x_ref|. This is the discretisation error of a typical sample, ' +
    'with no sampling floor, and shows the orders; **order** is the least-squares slope of -log(error) against ' +
    'log(NFE) over 20, 40 and 80 steps. The median, not the RMS: a few samples near a boundary between modes end at another mode, a distance of ' +
    'order 1 that would swamp the RMS; they are counted separately as **mode switches** (the share of samples whose ' +
    'nearest component mean, or data point, differs from that of x_ref). For an empirical mixture every sample ends ' +
    'exactly on a data point, so the median is 0 as soon as fewer than half of them switch: there only the switches count ' +
    '(and the median table is left out).',
  '- NFE counts model evaluations (batched calls of the denoiser). `dopri5` is adaptive (rtol = atol = 1e-4): the grid\'s ' +
    'nodes are only checkpoints for it, its NFE grows with them while its error stays at its tolerance.',
  '',
  ...results.flatMap((r) => [
    `## ${r.mixture.name}: ${descriptions[r.mixture.name] ?? `${r.mixture.dim}-D, ${r.mixture.components} components`}`,
    '',
    `Sliced W2 to ${r.n} exact draws (NFE):`,
    '',
    swTable(r),
    '',
    ...(r.mixture.kind === 'empirical' ? [] : [
      `Median distance to the exact ODE solution from the same start (NFE); reference: dopri5, tol ${REFERENCE_TOL}, ` +
        `${r.reference?.nfe} NFE:`,
      '',
      odeTable(r),
      '',
    ]),
    `Samples (%) that ended at a different ${r.mixture.kind === 'empirical' ? 'data point' : 'mode (nearest component mean)'} ` +
      'than the exact ODE solution from the same start:',
    '',
    switchTable(r),
    '',
    ...(r.mixture.kind === 'empirical' ? [] : [
      'Mean distance to the nearest component mean:',
      '',
      nearestTable(r),
      '',
    ]),
    `dopri5 accepted + rejected steps per sample: ${dopri(r)}.`,
    '',
    notes(r.mixture.name),
    '',
  ]),
].join('\n');

/** The report's plot: one row of panels (sliced W2, distance to the ODE solution) per mixture. */
function reportSpec(rs: CompareResult[]): TopLevelSpec {
  const rows = rs.map((r) => {
    const spec = compareSpec(r, r.mixture.name) as unknown as { hconcat: object[]; title: object };
    return { title: spec.title, hconcat: spec.hconcat };
  });
  const first = compareSpec(rs[0]) as unknown as { $schema: string; config: object };
  return {
    $schema: first.$schema,
    config: first.config,
    title: { text: 'Sampler error vs NFE on exact mixture denoisers', subtitle: `n = ${n}, seed ${seed}; ${date.slice(0, 10)}` },
    vconcat: rows,
    resolve: { scale: { color: 'shared', shape: 'shared' } },
  } as unknown as TopLevelSpec;
}

mkdirSync(outDir, { recursive: true });
writeFileSync(mdPath, md);
writeFileSync(join(outDir, 'sampler-error.json'), `${JSON.stringify({
  command, date, seconds, machine, n, seed, grid: { kind: 'karras', ...DEFAULT_GRID }, steps: DEFAULT_STEPS,
  samplers: DETERMINISTIC_SAMPLERS, results,
}, null, 2)}\n`);
writeFileSync(join(outDir, 'sampler-error.svg'), await renderSvg(reportSpec(results)));
process.stderr.write(`report:samplers: wrote ${mdPath}, sampler-error.json and sampler-error.svg in ${outDir}/ (${seconds.toFixed(0)} s)\n`);
