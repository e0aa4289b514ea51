/**
 * Distances between sample sets, used by `tweedie compare`, `tweedie posterior` and
 * `npm run report:samplers`.
 *
 * Sliced Wasserstein-2 between two sets of n points in R^dim (the same n):
 * `SW2(X, Y) = sqrt( (1/L) sum_l (1/n) sum_i (sort(X u_l)_i - sort(Y u_l)_i)^2 )`,
 * with L unit directions `u_l = z_l / |z_l|`, `z_l` = the normals `randomNormal(seed, stream = l,
 * index 0 .. dim - 1)` of the package's counter-based generator (so the directions are a pure
 * function of (seed, L, dim)). Each term is the exact W2^2 between the two empirical 1-D
 * projections (sorted samples matched in order). Units: those of the data.
 * @module
 */
import { type FloatArray, randomNormal, type Uint64Like } from '../index.js';

/** Default number of random directions of the sliced W2. */
export const DEFAULT_DIRECTIONS = 256;

/** Options of {@link SlicedW2}. */
export interface SlicedW2Options {
  /** Number of random unit directions L (default 256). */
  directions?: number;
  /** Key of the directions' normals (default 0). */
  seed?: Uint64Like;
}

/** L unit directions [L, dim] from (seed, stream = l, index 0..dim-1). */
export function unitDirections(dim: number, count: number, seed: Uint64Like): Float64Array {
  const out = new Float64Array(count * dim);
  const z = new Float64Array(dim);
  for (let l = 0; l < count; l++) {
    randomNormal(z, { seed, stream: l });
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += z[j] * z[j];
    norm = Math.sqrt(norm);
    for (let j = 0; j < dim; j++) out[l * dim + j] = norm > 0 ? z[j] / norm : j === 0 ? 1 : 0;
  }
  return out;
}

/** Sorted projections [L, n] of x [n, dim] onto the directions [L, dim]. */
function sortedProjections(x: FloatArray, dim: number, dirs: Float64Array): Float64Array[] {
  const n = x.length / dim;
  const L = dirs.length / dim;
  const out: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const p = new Float64Array(n);
    const u = l * dim;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += x[i * dim + j] * dirs[u + j];
      p[i] = s;
    }
    out.push(p.sort());
  }
  return out;
}

/**
 * Sliced W2 against one fixed reference set: the reference's sorted projections are computed
 * once, so comparing many sample sets with it costs one projection and sort per set and direction.
 */
export class SlicedW2 {
  readonly dim: number;
  readonly n: number;
  readonly directions: number;
  readonly #dirs: Float64Array;
  readonly #ref: Float64Array[];

  /**
   * @param reference - the reference samples [n, dim]
   * @param dim - row length
   */
  constructor(reference: FloatArray, dim: number, opts: SlicedW2Options = {}) {
    this.dim = dim;
    this.n = reference.length / dim;
    this.directions = opts.directions ?? DEFAULT_DIRECTIONS;
    this.#dirs = unitDirections(dim, this.directions, opts.seed ?? 0);
    this.#ref = sortedProjections(reference, dim, this.#dirs);
  }

  /** SW2 between `x` [n, dim] (the reference's n) and the reference, in data units. */
  distance(x: FloatArray): number {
    if (x.length !== this.n * this.dim) {
      throw new RangeError(`Expected ${this.n} samples of dim ${this.dim} but received ${x.length / this.dim}`);
    }
    const proj = sortedProjections(x, this.dim, this.#dirs);
    let total = 0;
    for (let l = 0; l < proj.length; l++) {
      const a = proj[l];
      const b = this.#ref[l];
      let s = 0;
      for (let i = 0; i < a.length; i++) {
        const d = a[i] - b[i];
        s += d * d;
      }
      total += s / a.length;
    }
    return Math.sqrt(total / proj.length);
  }
}

/** Sliced W2 between two sample sets of the same size (see the module comment). */
export function slicedW2(a: FloatArray, b: FloatArray, dim: number, opts: SlicedW2Options = {}): number {
  return new SlicedW2(b, dim, opts).distance(a);
}

/**
 * For each row of x [n, dim]: the index of the nearest component mean (for an empirical mixture:
 * the nearest data point) and the Euclidean distance to it.
 */
export function nearestModes(x: ArrayLike<number>, dim: number, means: Float64Array): { index: Int32Array; distance: Float64Array } {
  const n = x.length / dim;
  const K = means.length / dim;
  const index = new Int32Array(n);
  const distance = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    let arg = 0;
    for (let k = 0; k < K; k++) {
      let d2 = 0;
      for (let j = 0; j < dim; j++) {
        const d = x[i * dim + j] - means[k * dim + j];
        d2 += d * d;
      }
      if (d2 < best) {
        best = d2;
        arg = k;
      }
    }
    index[i] = arg;
    distance[i] = Math.sqrt(best);
  }
  return { index, distance };
}

/** Mean over the rows of x [n, dim] of the distance to the nearest component mean (data units). */
export function nearestModeDistance(x: ArrayLike<number>, dim: number, means: Float64Array): number {
  const { distance } = nearestModes(x, dim, means);
  let total = 0;
  for (const d of distance) total += d;
  return distance.length ? total / distance.length : 0;
}

/** Per-row Euclidean distances between matching rows of a and b [n, dim]. */
export function rowDistances(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): Float64Array {
  const n = a.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (a[i * dim + j] - b[i * dim + j]) ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** The median of the values (the mean of the two middle ones for an even count). */
export function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
