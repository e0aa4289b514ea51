/**
 * The command line's built-in data distributions, and loading a user's mixture from the JSON
 * that `GaussianMixture.toJSON` writes. Every built-in is a fixed formula (no randomness, no
 * download), so every machine sees the same distributions.
 * @module
 */
import { readFileSync } from 'node:fs';
import { GaussianMixture } from '../index.js';
import { oneLine, UsageError } from './errors.js';

/** A built-in mixture: its name, a one-line description and its constructor. */
export interface BuiltinMixture {
  /** Name given to `--mixture`. */
  name: string;
  /** One line for `tweedie mixtures`. */
  description: string;
  /** Builds the mixture (cheap; called on each use). */
  make(): GaussianMixture;
}

/** ring8: 8 isotropic components (std 0.1) evenly spaced on the circle of radius 2. */
function ring8(): GaussianMixture {
  const means: number[] = [];
  for (let k = 0; k < 8; k++) means.push(2 * Math.cos((2 * Math.PI * k) / 8), 2 * Math.sin((2 * Math.PI * k) / 8));
  return new GaussianMixture({ dim: 2, means, variances: 0.01 });
}

/** grid25: 25 isotropic components (std 0.1) on the 5 x 5 grid {-2, -1, 0, 1, 2}^2. */
function grid25(): GaussianMixture {
  const means: number[] = [];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) means.push(i - 2, j - 2);
  return new GaussianMixture({ dim: 2, means, variances: 0.01 });
}

/**
 * spiral: 200 points (empirical, zero variance) on two turns of the Archimedean spiral
 * r = 0.25 + 1.75 u, angle 4 pi u, u = i / 199: a curved, thin, memorised data set.
 */
function spiral(): GaussianMixture {
  const n = 200;
  const pts: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = i / (n - 1);
    const r = 0.25 + 1.75 * u;
    pts.push(r * Math.cos(4 * Math.PI * u), r * Math.sin(4 * Math.PI * u));
  }
  return GaussianMixture.empirical(pts, 2);
}

/**
 * gauss16: 4 components in 16-D with diagonal covariances and weights 0.4, 0.3, 0.2, 0.1. Mean k
 * is row k + 1 of the 16 x 16 Sylvester-Hadamard matrix H[r][c] = (-1)^popcount(r & c), columns
 * rotated by one (coordinate j is column (j + 1) mod 16, so the first two coordinates put the
 * means at the four corners (+-1, +-1)); entries +-1, so the means are 5.66 apart. The std of
 * component k in dimension j is 0.1 + 0.4 ((j + 5k) mod 16) / 15 (0.1 to 0.5).
 */
function gauss16(): GaussianMixture {
  const dim = 16;
  const K = 4;
  const means: number[] = [];
  const variances: number[] = [];
  const popcount = (v: number): number => {
    let c = 0;
    for (let b = v; b; b >>= 1) c += b & 1;
    return c;
  };
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < dim; j++) {
      means.push(popcount((k + 1) & ((j + 1) % dim)) % 2 === 0 ? 1 : -1);
      const std = 0.1 + (0.4 * ((j + 5 * k) % 16)) / 15;
      variances.push(std * std);
    }
  }
  return new GaussianMixture({ dim, means, variances, weights: [0.4, 0.3, 0.2, 0.1] });
}

/** cube64: the 64 points (empirical) of the 4 x 4 x 4 lattice {-1.5, -0.5, 0.5, 1.5}^3. */
function cube64(): GaussianMixture {
  const pts: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) pts.push(i - 1.5, j - 1.5, k - 1.5);
  return GaussianMixture.empirical(pts, 3);
}

/** The built-in mixtures, in listing order. */
export const BUILTIN_MIXTURES: readonly BuiltinMixture[] = [
  { name: 'ring8', description: '2-D, 8 Gaussians (std 0.1) on a circle of radius 2', make: ring8 },
  { name: 'grid25', description: '2-D, 25 Gaussians (std 0.1) on the 5 x 5 grid {-2..2}^2', make: grid25 },
  { name: 'spiral', description: '2-D, 200 points (empirical) on a two-turn spiral of radius 0.25..2', make: spiral },
  { name: 'gauss16', description: '16-D, 4 Gaussians with diagonal variances (std 0.1..0.5), weights .4/.3/.2/.1', make: gauss16 },
  { name: 'cube64', description: '3-D, 64 points (empirical) of the 4 x 4 x 4 lattice {-1.5..1.5}^3', make: cube64 },
];

/** A mixture and the name it is reported under. */
export interface NamedMixture {
  /** The built-in's name, or the file path given. */
  name: string;
  mixture: GaussianMixture;
}

/**
 * Resolves `--mixture`: a built-in name, or a path to a JSON file holding
 * `GaussianMixture.toJSON()` output (any argument ending in `.json` or containing a slash is a path).
 * @throws UsageError (one line) for an unknown name, an unreadable file or invalid JSON.
 */
export function loadMixture(spec: string): NamedMixture {
  const builtin = BUILTIN_MIXTURES.find((m) => m.name === spec);
  if (builtin) return { name: builtin.name, mixture: builtin.make() };
  if (!/\.json$/i.test(spec) && !spec.includes('/') && !spec.includes('\\')) {
    throw new UsageError(`unknown mixture '${spec}': use one of ${BUILTIN_MIXTURES.map((m) => m.name).join(', ')} ` +
      'or a path to a .json file written by GaussianMixture.toJSON()');
  }
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read mixture file '${spec}'${code ? ` (${code})` : ''}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`mixture file '${spec}' is not valid JSON: ${oneLine((e as Error).message)}`);
  }
  try {
    return { name: spec, mixture: GaussianMixture.fromJSON(json) };
  } catch (e) {
    throw new UsageError(`mixture file '${spec}' is not a GaussianMixture: ${oneLine((e as Error).message)}`);
  }
}

