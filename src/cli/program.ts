/**
 * The `tweedie` command's program (main.ts is the entry that loads it): run samplers on the exact denoiser of a Gaussian mixture and see,
 * in numbers and SVG plots, how far they land from the truth.
 *
 * Exit codes: 0 ok; 1 the run failed (e.g. a file could not be written, the benchmarks are not
 * there); 2 usage (an unknown command or flag, a bad value, an unreadable or invalid
 * `--mixture` file). Every error is one line on stderr, never a stack trace.
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type SamplerId, samplerIds } from '../index.js';
import {
  compare, type CompareResult, DEFAULT_COMPARE_SAMPLERS, DEFAULT_GRID, DEFAULT_STEPS, DETERMINISTIC_SAMPLERS, columns, fmt,
  formatCompare,
} from './compare.js';
import { EXIT, oneLine, UsageError } from './errors.js';
import { DEFAULT_DIRECTIONS } from './metrics.js';
import { BUILTIN_MIXTURES, loadMixture } from './mixtures.js';
import { formatPosterior, posteriorReport } from './posterior.js';
import { progress } from './progress.js';
import { runSample, writeSamples } from './sample.js';

/** The package root: two folders above this file (src/cli or dist/cli). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Argument parsers: each throws InvalidArgumentError (commander prints one line, exit 2).

function integer(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!/^\s*[+-]?\d+(e\+?\d+)?\s*$/i.test(v) || !Number.isSafeInteger(x) || x < min || x > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return x;
  };
}

function positive(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a finite number > 0');
  return x;
}

function integerList(min: number, max: number): (v: string) => number[] {
  const one = integer(min, max);
  return (v) => {
    const out = v.split(',').filter((s) => s.trim() !== '').map((s) => {
      try {
        return one(s);
      } catch {
        throw new InvalidArgumentError(`expected a comma-separated list of integers from ${min} to ${max}`);
      }
    });
    if (!out.length) throw new InvalidArgumentError('expected at least one value');
    return [...new Set(out)].sort((a, b) => a - b);
  };
}

function samplerId(v: string): SamplerId {
  if (!(samplerIds as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`unknown sampler '${v}'; valid: ${samplerIds.join(', ')}`);
  }
  return v as SamplerId;
}

function samplerList(v: string): SamplerId[] {
  if (v === 'deterministic') return [...DETERMINISTIC_SAMPLERS];
  if (v === 'all') return [...samplerIds];
  const out = v.split(',').map((s) => s.trim()).filter(Boolean).map(samplerId);
  if (!out.length) throw new InvalidArgumentError('expected at least one sampler');
  return [...new Set(out)];
}

function svgPath(v: string): string {
  if (!/\.svg$/i.test(v)) throw new InvalidArgumentError('expected a file name ending in .svg');
  return v;
}

function outPath(v: string): string {
  if (v !== '-' && !/\.(csv|json)$/i.test(v)) throw new InvalidArgumentError("expected a file name ending in .csv or .json, or '-' (CSV on stdout)");
  return v;
}

// ---------------------------------------------------------------------------------------------
// Output helpers

/** The plotting module (vega, vega-lite), loaded only when a plot is asked for. */
async function plots(): Promise<typeof import('./plots.js')> {
  return import('./plots.js');
}

/** Writes a file; a failure is a run failure (exit 1) with one line. */
function writeOut(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot write '${path}'${code ? ` (${code})` : ''}`);
  }
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function note(text: string, json: boolean): void {
  if (!json) print(text);
}

/** Options every sampling command shares. */
function gridOptions(cmd: Command): Command {
  return cmd
    .option('--sigma-min <sigma>', 'smallest positive sigma of the Karras grid', positive, DEFAULT_GRID.sigmaMin)
    .option('--sigma-max <sigma>', 'largest sigma of the Karras grid (the start level)', positive, DEFAULT_GRID.sigmaMax)
    .option('--rho <rho>', 'exponent rho of the Karras grid', positive, DEFAULT_GRID.rho);
}

function checkGrid(o: { sigmaMin: number; sigmaMax: number }): void {
  if (!(o.sigmaMin < o.sigmaMax)) throw new UsageError(`--sigma-min (${o.sigmaMin}) must be below --sigma-max (${o.sigmaMax})`);
}

// ---------------------------------------------------------------------------------------------
// The program

/** Builds the command-line program (exported for tests and for embedding). */
export function buildProgram(): Command {
  const program = new Command('tweedie');
  program
    .description('Diffusion-model numerics on exact Gaussian-mixture denoisers: sampler error vs NFE, samples, ' +
      'the posterior p(x0 | x_t), benchmarks.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Commander's own errors: one line on stderr.
      outputError: (str, write) => write(`tweedie: ${oneLine(str.replace(/^error:\s*/i, ''))}\n`),
    })
    .addHelpText('after', `
Exit codes: 0 ok, 1 the run failed, 2 usage (bad command, flag, value or --mixture file).
Built-in mixtures: ${BUILTIN_MIXTURES.map((m) => m.name).join(', ')} (tweedie mixtures); --mixture also takes the
path of a .json file written by GaussianMixture.toJSON().
Examples:
  tweedie compare                         # default samplers on ring8, 5..80 steps, table of error vs NFE
  tweedie compare --plot compare.svg --json > compare.json
  tweedie sample --mixture grid25 --sampler heun --steps 10 --out samples.csv --plot samples.svg
  tweedie posterior --mixture ring8 --plot posterior.svg`);

  gridOptions(program.command('compare')
    .description('Run samplers on the mixture\'s exact denoiser at several step counts and print the sliced W2 to ' +
      'exact draws, the mean nearest-mode distance and NFE; optionally plot error vs NFE (log-log).')
    .option('--mixture <name|file.json>', 'built-in mixture or GaussianMixture JSON file', 'ring8')
    .addOption(new Option('--samplers <list>', `comma-separated sampler ids, or 'deterministic' or 'all'`)
      .default([...DEFAULT_COMPARE_SAMPLERS], DEFAULT_COMPARE_SAMPLERS.join(',')).argParser(samplerList))
    .addOption(new Option('--steps <list>', 'comma-separated step counts').default([...DEFAULT_STEPS], DEFAULT_STEPS.join(','))
      .argParser(integerList(1, 100000)))
    .option('--n <count>', 'samples per run, and exact draws in the reference set', integer(2, 10_000_000), 4096)
    .option('--seed <seed>', 'seed of every random number (start states, exact draws, directions)', integer(0), 0))
    .option('--directions <count>', 'random directions of the sliced W2', integer(1, 100000), DEFAULT_DIRECTIONS)
    .option('--no-reference', 'skip the tight-tolerance ODE solution (and the distance of each deterministic sampler to it)')
    .option('--plot <file.svg>', 'write the error-vs-NFE plot (SVG)', svgPath)
    .option('--json', 'print the results as JSON on stdout instead of tables')
    .option('--no-progress', 'never show a progress bar (default: shown on a terminal after 1 s)')
    .addHelpText('after', `
Sliced W2: L random unit directions u_l (normals of (seed, stream l), normalised); for each, sort the
projections of both sample sets and average the squared differences; average over directions; sqrt.
Start states are exact draws of x_T at --sigma-max; every sampler starts from the same ones. The
"exact draws" row is a second exact set: the floor that n samples put under any sampler.
Unless --no-reference, the probability-flow ODE is also solved tightly (dopri5, tol 1e-8) from the
same start states, and each deterministic sampler gets its median distance to that solution (the
discretisation error with no sampling floor; "order" is its slope against NFE) and the share of
samples that ended at another mode than it.`)
    .action(async (o) => {
      checkGrid(o);
      const mixture = loadMixture(o.mixture);
      const bar = progress('compare', o.progress !== false && !o.json);
      let r: CompareResult;
      try {
        r = await compare({
          mixture, samplers: o.samplers, steps: o.steps, n: o.n, seed: o.seed, sigmaMin: o.sigmaMin,
          sigmaMax: o.sigmaMax, rho: o.rho, directions: o.directions, reference: o.reference,
          onProgress: (d, t, label) => bar.update(d, t, label),
        });
      } finally {
        bar.stop();
      }
      if (o.plot) {
        const { compareSpec, renderSvg } = await plots();
        writeOut(o.plot, await renderSvg(compareSpec(r)));
      }
      if (o.json) print(JSON.stringify({ ...r, plot: o.plot ?? null }, null, 2));
      else {
        print(formatCompare(r));
        if (o.plot) print(`\nwrote ${o.plot}`);
      }
    });

  gridOptions(program.command('sample')
    .description('Draw samples with one sampler on the mixture\'s exact denoiser; write them (CSV or JSON) and a ' +
      'scatter plot over the exact density (first two coordinates).')
    .option('--mixture <name|file.json>', 'built-in mixture or GaussianMixture JSON file', 'ring8')
    .option('--sampler <id>', `sampler id (${samplerIds.join(', ')})`, samplerId, 'dpmpp-2m')
    .option('--steps <count>', 'sampler steps on the Karras grid', integer(1, 100000), 10)
    .option('--n <count>', 'number of samples', integer(1, 10_000_000), 4096)
    .option('--seed <seed>', 'seed of every random number', integer(0), 0))
    .option('--out <file>', "write the samples: .csv (header x0,x1,...), .json, or '-' for CSV on stdout", outPath)
    .option('--plot <file.svg>', 'write a scatter plot of the samples over the exact density', svgPath)
    .option('--no-measure', 'skip the sliced W2 to exact draws')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'never show a progress bar')
    .action(async (o) => {
      checkGrid(o);
      const mixture = loadMixture(o.mixture);
      if (o.out === '-' && o.json) throw new UsageError("--out - and --json both write to stdout; use one");
      const bar = progress('sample', o.progress !== false && !o.json && o.out !== '-');
      let run;
      try {
        run = runSample({
          mixture, sampler: o.sampler, steps: o.steps, n: o.n, seed: o.seed, sigmaMin: o.sigmaMin, sigmaMax: o.sigmaMax,
          rho: o.rho, measure: o.measure && o.n >= 2, onStep: (i, t) => bar.update(i, t, 'steps'),
        });
      } finally {
        bar.stop();
      }
      if (o.out) {
        try {
          writeSamples(o.out, run);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          throw new Error(`cannot write '${o.out}'${code ? ` (${code})` : ''}`);
        }
      }
      if (o.plot) {
        const s = run.summary;
        const { renderSvg, scatterSpec } = await plots();
        writeOut(o.plot, await renderSvg(scatterSpec({
          samples: run.samples, mixture: mixture.mixture,
          title: `${s.sampler}, ${s.steps} steps (NFE ${s.nfe}) on ${s.mixture}`,
          subtitle: s.sw2 === null ? undefined : `sliced W2 to exact draws ${fmt(s.sw2)} (floor ${fmt(s.sw2Floor!)})`,
        })));
      }
      if (o.out === '-') return;
      const s = run.summary;
      if (o.json) {
        print(JSON.stringify({ ...s, out: o.out ?? null, plot: o.plot ?? null }, null, 2));
        return;
      }
      print([
        `tweedie sample: ${s.sampler}, ${s.steps} steps on ${s.mixture} (${s.dim}-D), n = ${s.n}, seed ${s.seed}, ` +
          `Karras grid ${s.grid.sigmaMax}..${s.grid.sigmaMin} (rho ${s.grid.rho})`,
        `NFE ${s.nfe}, ${s.seconds.toFixed(2)} s`,
        ...(s.sw2 === null ? [] : [`sliced W2 to ${s.n} exact draws: ${fmt(s.sw2)} (exact vs exact: ${fmt(s.sw2Floor!)})`]),
        `mean distance to the nearest ${mixture.mixture.varianceKind === 'empirical' ? 'data point' : 'component mean'}: ${fmt(s.nearestMode)}`,
        ...(o.out ? [`wrote ${o.out}`] : []),
        ...(o.plot ? [`wrote ${o.plot}`] : []),
      ].join('\n'));
    });

  program.command('posterior')
    .description('Along a grid of noise levels: the entropy of p(component | x_t) and the posterior variance at exact ' +
      'x_t draws; and the error of one Gaussian reverse step against the exact transition as the step grows.')
    .option('--mixture <name|file.json>', 'built-in mixture or GaussianMixture JSON file', 'ring8')
    .option('--n <count>', 'exact draws per level', integer(2, 10_000_000), 4096)
    .option('--seed <seed>', 'seed of every random number', integer(0), 0)
    .option('--sigma-min <sigma>', 'smallest noise level of the grid', positive, 0.01)
    .option('--sigma-max <sigma>', 'largest noise level of the grid (and of the step starts)', positive, 80)
    .option('--levels <count>', 'noise levels of the grid (log-spaced)', integer(1, 1000), 17)
    .option('--to <sigma>', 'target level s of the one-step experiment', positive, 0.02)
    .option('--step-count <count>', 'step starts sigma_t, log-spaced from 1.25 s to --sigma-max', integer(1, 1000), 12)
    .option('--directions <count>', 'random directions of the sliced W2', integer(1, 100000), DEFAULT_DIRECTIONS)
    .option('--plot <file.svg>', 'write the plot (SVG)', svgPath)
    .option('--json', 'print the results as JSON')
    .option('--no-progress', 'never show a progress bar')
    .addHelpText('after', `
One step from sigma_t to s, from exact x_t draws: the exact transition (mix.transition) against a
Gaussian with the exact mean E[x_s | x_t] and (a) the matched isotropic variance, (b) DDPM's variance
s^2 (1 - s^2/t^2); and against DDIM's deterministic step. Small steps: every Gaussian is nearly exact.
Big steps: p(x0 | x_t) is multimodal and no single Gaussian fits it.`)
    .action(async (o) => {
      checkGrid(o);
      if (!(o.to < o.sigmaMax)) throw new UsageError(`--to (${o.to}) must be below --sigma-max (${o.sigmaMax})`);
      const mixture = loadMixture(o.mixture);
      const bar = progress('posterior', o.progress !== false && !o.json);
      let r;
      try {
        r = await posteriorReport({
          mixture, n: o.n, seed: o.seed, sigmaMin: o.sigmaMin, sigmaMax: o.sigmaMax, levels: o.levels, to: o.to,
          stepCount: o.stepCount, directions: o.directions, onProgress: (d, t, label) => bar.update(d, t, label),
        });
      } finally {
        bar.stop();
      }
      if (o.plot) {
        const { posteriorSpec, renderSvg } = await plots();
        writeOut(o.plot, await renderSvg(posteriorSpec(r)));
      }
      if (o.json) print(JSON.stringify({ ...r, plot: o.plot ?? null }, null, 2));
      else {
        print(formatPosterior(r, fmt, columns));
        if (o.plot) print(`\nwrote ${o.plot}`);
      }
    });

  program.command('bench')
    .description("Run the package's microbenchmarks (`npm run bench` in the package folder; needs a source checkout " +
      'with dev dependencies: the benchmarks are not part of the published package). Arguments after -- go to the ' +
      'benchmark runner, e.g. tweedie bench -- --size 1e6 --json.')
    .argument('[args...]', 'arguments for the benchmark runner (see tweedie bench -- --help)')
    .allowUnknownOption()
    .action(async (args: string[]) => {
      const entry = join(ROOT, 'bench', 'index.ts');
      if (!existsSync(entry)) {
        throw new Error(`no benchmarks here: ${entry} is missing (they ship with the source repository, not the npm package)`);
      }
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'bench', '--', ...args],
          { cwd: ROOT, stdio: 'inherit' });
        child.on('error', (e) => reject(new Error(`cannot run npm: ${oneLine(e)}`)));
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
      });
      if (code !== 0) throw new Error(`the benchmarks failed (npm run bench exited with ${code})`);
    });

  program.command('mixtures')
    .description('List the built-in mixtures.')
    .option('--json', 'print them as JSON (name, description, and the GaussianMixture.toJSON() form)')
    .action((o) => {
      if (o.json) {
        print(JSON.stringify(BUILTIN_MIXTURES.map((m) => ({ name: m.name, description: m.description, mixture: m.make().toJSON() })), null, 2));
        return;
      }
      const rows = [['name', 'dim', 'K', 'kind', 'description'],
        ...BUILTIN_MIXTURES.map((m) => {
          const mix = m.make();
          return [m.name, String(mix.dim), String(mix.components), mix.varianceKind, m.description];
        })];
      print(columns(rows, 'lrrll'));
      print('\nUse one with --mixture NAME, or save one for editing: tweedie mixtures --json');
    });

  // Help for every subcommand follows the same exit-code convention.
  for (const cmd of program.commands) cmd.showSuggestionAfterError(true);
  return program;
}

/** Maps commander's exits to ours: help and version 0, everything else usage (2). */
function commanderExit(e: CommanderError): number {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return EXIT.ok;
  return EXIT.usage; // including 'commander.help': no command given, the help went to stderr
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) return commanderExit(e);
    if (e instanceof UsageError) {
      process.stderr.write(`tweedie: ${oneLine(e)}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`tweedie: ${oneLine(e)}\n`);
    return EXIT.failure;
  }
}
