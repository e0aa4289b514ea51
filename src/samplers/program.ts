/**
 * The fully native sampling loop for a GaussianMixture model.
 *
 * A sampler is a generator of requests (engine.ts); for every sampler whose sequence of
 * operations does not depend on the data (all of them but 'dopri5' and 'euler-maruyama' with the
 * Langevin corrector, whose step sizes come from norms of the state), the generator is run once
 * against a *recording* Run: instead of calling the kernels it records a program of buffer ids,
 * evaluations `eval(x, sigma, into)` and step-kernel calls `lincomb(out, terms, coefficients,
 * noise tag)`, with every coefficient computed here, once, in float64, exactly as the
 * JavaScript loop computes it. native/core/program.cc then replays the program on the mixture
 * with the same kernels in the same order (mixture_posterior, lincomb_rows): the same bits as
 * the JavaScript loop on the native backend, with no JavaScript call per step; `sample` runs it
 * on the libuv thread pool, cancellable between operations through its AbortSignal.
 *
 * The JavaScript loop runs instead when the backend is 'js', the model is a function, the
 * sampler is data-dependent, a `noiseSampler` or `onStep` callback must run per step (progress
 * is not reported from the native loop: pass onStep to get it, from the JavaScript loop), or a
 * noise level of the run is outside the mixture's range (the JavaScript loop then throws the
 * mixture's error at that step). 'brownian' noise is recorded too (the virtual Brownian tree's
 * own step-kernel calls become part of the program).
 * @module
 */
import { native, type NativeBinding } from '../backend.js';
import { rangeError, shapeError } from '../errors.js';
import { GaussianMixture } from '../mixture.js';
import type { FloatArray } from '../types.js';
import { BrownianTree, type BrownianTreeOptions, type TreeOps } from './brownian.js';
import { abortError, type Model, type NoiseSampler, Run, type RunConfig, type SamplerFn, type StepInfo } from './engine.js';

/** The addon's entries of the native loop (native/addon/program_binding.cc; documented on NativeBinding). */
export type ProgramBinding = Pick<NativeBinding, 'programRun' | 'programRunAsync' | 'programToken' | 'programCancel'>;

// Opcodes and buffer kinds: native/core/program.h.
const OP_EVAL = 1;
const OP_LINCOMB = 2;
const OP_ZERO = 3;
const OP_COPY = 4;
const OP_STEP = 5;
const KIND_STATE = 0;
const KIND_F64 = 1;
const STATUS_OK = 0;
const STATUS_CANCELLED = 1;
const STATUS_NON_FINITE = 2;
const STATUS_NO_MEMORY = 5;
/** The mixture's noise-level range (src/mixture.ts, native/core/mixture.h). */
const MIN_SIGMA = 1e-150;
const MAX_C = 1e300;

let enabled = true;
const runs = { sync: 0, async: 0 };

/** How many runs took the native loop so far (sync, async): for tests. */
export function nativeLoopRuns(): { sync: number; async: number } {
  return { ...runs };
}

/**
 * Turns the native loop on or off for mixture models (on by default); returns the previous
 * setting. For tests and benchmarks that compare it with the JavaScript loop; not public API.
 */
export function setNativeLoop(on: boolean): boolean {
  const before = enabled;
  enabled = on;
  return before;
}

/** What the public layer validated: everything a run is made from. */
export interface ProgramSetup {
  model: Model;
  samplerId: string;
  sampler: SamplerFn;
  x: FloatArray;
  dim: number;
  sigmas: Float64Array;
  seed: [number, number];
  streams: Uint32Array | null;
  options: Record<string, unknown>;
  /** The Brownian tree of noise: 'brownian', or null. */
  brownian: BrownianTreeOptions | null;
  noiseSampler?: NoiseSampler;
  onStep?: (info: StepInfo) => void;
}

/** A recorded program, ready for the addon. */
export interface Recorded {
  binding: ProgramBinding;
  /** The state: a copy of the caller's x, run in place (sync) or written back (async). */
  state: FloatArray;
  dim: number;
  mixture: MixtureArgs;
  code: Uint32Array;
  consts: Float64Array;
  kinds: Uint8Array;
  seed: [number, number];
  streams: Uint32Array | null;
  nfe: number;
}

interface MixtureArgs {
  means: Float64Array;
  variances: Float64Array;
  logWeights: Float64Array;
  vmax: number;
}

/** Thrown inside a recording when the sampler does something a program cannot hold. */
class NotRecordable extends Error {}

const mixtureArgs = new WeakMap<GaussianMixture, MixtureArgs>();

/**
 * The arrays GaussianMixture hands its kernel, rebuilt bit for bit from its public getters:
 * compact variances (1, K or K * dim values, as the kernel's isotropic / diagonal paths need)
 * and log weights = log(normalised weights), as the mixture computes them.
 */
function argsOf(m: GaussianMixture): MixtureArgs {
  let a = mixtureArgs.get(m);
  if (a) return a;
  const K = m.components;
  const dim = m.dim;
  const full = m.variances;
  const kind = m.varianceKind;
  let variances: Float64Array;
  if (kind === 'diagonal') variances = full;
  else if (kind === 'component') variances = Float64Array.from({ length: K }, (_, k) => full[k * dim]);
  else variances = Float64Array.of(full[0]);
  const logWeights = m.weights.map((w) => Math.log(w));
  const vmax = variances.reduce((mx, v) => Math.max(mx, v), 0);
  a = { means: m.means, variances, logWeights, vmax };
  mixtureArgs.set(m, a);
  return a;
}

/** The program under construction: buffers by identity, ops, constants. */
class Recorder {
  readonly code: number[] = [];
  readonly consts: number[] = [];
  readonly kinds: number[] = [];
  nfe = 0;
  private readonly ids = new Map<FloatArray, number>();

  constructor(private readonly seed: [number, number], private readonly streams: Uint32Array | null) {}

  add(a: FloatArray, kind: number): void {
    this.ids.set(a, this.kinds.length);
    this.kinds.push(kind);
  }

  /** The id of a buffer; an unseen empty Float64Array is a new Brownian-tree buffer (zeroed, float64). */
  id(a: FloatArray): number {
    const i = this.ids.get(a);
    if (i !== undefined) return i;
    if (!(a instanceof Float64Array) || a.length !== 0) throw new NotRecordable('an array that is not a buffer of the run');
    this.add(a, KIND_F64);
    return this.kinds.length - 1;
  }

  stateId(a: FloatArray): number {
    const i = this.id(a);
    if (this.kinds[i] !== KIND_STATE) throw new NotRecordable('a float64 buffer where the state dtype is needed');
    return i;
  }

  lincomb(out: FloatArray, terms: FloatArray[], coef: Float64Array, noise: Uint32Array | null,
    streams: Uint32Array | null): void {
    const n = terms.length;
    if (n < 1 || n > 8 || coef.length !== n + (noise ? 1 : 0)) throw new NotRecordable('a lincomb of this shape');
    if (noise && (noise[0] !== this.seed[0] || noise[1] !== this.seed[1] || streams !== this.streams)) {
      throw new NotRecordable('noise of another seed or streams');
    }
    this.code.push(OP_LINCOMB, this.id(out), n, noise ? 1 : 0, noise ? noise[2] : 0);
    for (const t of terms) this.code.push(this.id(t));
    for (let j = 0; j < coef.length; j++) this.consts.push(coef[j]);
  }

  zero(a: FloatArray): void {
    this.code.push(OP_ZERO, this.id(a));
  }

  copy(dst: FloatArray, src: FloatArray): void {
    if (dst === src) return;
    this.code.push(OP_COPY, this.id(dst), this.id(src));
  }

  evaluate(x: FloatArray, into: FloatArray, sigma: number, step: number): void {
    this.code.push(OP_EVAL, this.stateId(x), this.stateId(into), step);
    this.consts.push(sigma);
    this.nfe++;
  }

  step(i: number): void {
    this.code.push(OP_STEP, i);
  }
}

/** A Run whose array operations are recorded instead of run; its buffers are empty stand-ins. */
class RecordingRun extends Run {
  private readonly rec: Recorder;
  private readonly tree: BrownianTree | null;
  private scratch?: FloatArray;

  constructor(cfg: RunConfig, rec: Recorder, tree: BrownianTree | null) {
    super(cfg);
    this.rec = rec;
    this.tree = tree;
    rec.add(this.x, KIND_STATE);
  }

  override buffer(): FloatArray {
    const b = new (this.x.constructor as new (n: number) => FloatArray)(0);
    this.rec.add(b, KIND_STATE);
    return b;
  }

  protected override lincomb(out: FloatArray, terms: FloatArray[], coef: Float64Array, coefPerRow: boolean,
    noise: Uint32Array | null): void {
    if (coefPerRow) throw new NotRecordable('per-row coefficients (a data-dependent sampler)');
    this.rec.lincomb(out, terms, coef, noise, noise ? this.streams : null);
  }

  protected override zero(a: FloatArray): void {
    this.rec.zero(a);
  }

  protected override copy(dst: FloatArray, src: FloatArray): void {
    this.rec.copy(dst, src);
  }

  /** The Brownian increment, recorded, in the state's dtype (as Run.userNoise converts it). */
  protected override userNoise(sigma: number, sigmaNext: number): FloatArray {
    if (!this.tree) throw new NotRecordable('a noiseSampler');
    const z = this.tree.increment(sigma, sigmaNext);
    if (this.x instanceof Float64Array) return z;
    this.scratch ??= this.buffer();
    this.copy(this.scratch, z);
    return this.scratch;
  }
}

/**
 * Records the run as a program for the native loop, or returns null when the JavaScript loop
 * must run it (see the module comment for when).
 */
export function recordProgram(s: ProgramSetup): Recorded | null {
  if (!enabled || s.onStep !== undefined || s.noiseSampler !== undefined) return null;
  if (!(s.model instanceof GaussianMixture)) return null;
  if (s.samplerId === 'dopri5' || (s.samplerId === 'euler-maruyama' && (s.options.correctorSteps ?? 0) !== 0)) return null;
  const binding = native() as Partial<ProgramBinding> | undefined;
  if (!binding || typeof binding.programRun !== 'function' || typeof binding.programRunAsync !== 'function') return null;
  if (s.x.length === 0) return null;
  const mixture = argsOf(s.model);
  const rec = new Recorder(s.seed, s.streams);
  let tree: BrownianTree | null = null;
  if (s.brownian) {
    const ops: TreeOps = {
      lincomb: (out, _dim, terms, coef, coefPerRow, noise, streams) => {
        if (coefPerRow) throw new NotRecordable('per-row coefficients');
        rec.lincomb(out, terms, coef, noise, streams);
      },
      zero: (a) => rec.zero(a),
      copy: (dst, src) => rec.copy(dst, src),
    };
    tree = new BrownianTree({ ...s.brownian, rows: 0, ops });
  }
  const run = new RecordingRun({
    x: s.x, dim: s.dim, sigmas: s.sigmas, seed: s.seed, streams: s.streams, options: s.options,
    noiseSampler: tree ? tree.noiseSampler() : undefined,
  }, rec, tree);
  try {
    const gen = s.sampler(run);
    for (let r = gen.next(); !r.done; r = gen.next()) {
      const req = r.value;
      if (req.kind === 'step') {
        rec.step(req.info.i);
        continue;
      }
      const sigma = req.sigma;
      // Outside the mixture's range the JavaScript loop throws the mixture's error at that step.
      if (typeof sigma !== 'number' || !(sigma >= MIN_SIGMA && mixture.vmax + sigma * sigma <= MAX_C) || req.x === req.into) {
        return null;
      }
      rec.evaluate(req.x, req.into, sigma, req.step);
    }
  } catch (err) {
    if (err instanceof NotRecordable) return null;
    throw err;
  }
  return {
    binding: binding as ProgramBinding,
    state: run.x, dim: s.dim, mixture,
    code: Uint32Array.from(rec.code), consts: Float64Array.from(rec.consts), kinds: Uint8Array.from(rec.kinds),
    seed: s.seed, streams: s.streams, nfe: rec.nfe,
  };
}

/** The result of a finished native run, or the error it stopped with. */
function finish(p: Recorded, report: Float64Array, signal?: AbortSignal): { x: FloatArray; nfe: number } {
  const status = report[0];
  if (status === STATUS_OK) return { x: p.state, nfe: report[1] };
  if (status === STATUS_CANCELLED && signal) throw abortError(signal);
  // The same error as the mixture's denoise in the JavaScript loop.
  if (status === STATUS_NON_FINITE) throw rangeError(`x[${report[4]}]`, 'a finite number', report[5]);
  if (status === STATUS_NO_MEMORY) {
    throw shapeError(`Could not allocate the mixture kernel's workspace at step ${report[3]}`);
  }
  throw new Error(`The native sampling loop stopped with status ${status} at operation ${report[2]}`);
}

/** Runs a recorded program on the calling thread. */
export function runProgramSync(p: Recorded, signal?: AbortSignal): { x: FloatArray; nfe: number } {
  if (signal?.aborted) throw abortError(signal);
  const m = p.mixture;
  const report = new Float64Array(6);
  runs.sync++;
  p.binding.programRun(p.state, p.dim, m.means, m.variances, m.logWeights, p.code, p.consts, p.kinds, p.seed[0],
    p.seed[1], p.streams, report);
  return finish(p, report, signal);
}

/** Runs a recorded program on the libuv thread pool; `signal` cancels it between operations. */
export async function runProgramAsync(p: Recorded, signal?: AbortSignal): Promise<{ x: FloatArray; nfe: number }> {
  if (signal?.aborted) throw abortError(signal);
  const m = p.mixture;
  const report = new Float64Array(6);
  const token = p.binding.programToken();
  runs.async++;
  const onAbort = (): void => p.binding.programCancel(token);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await p.binding.programRunAsync(token, p.state, p.dim, m.means, m.variances, m.logWeights, p.code, p.consts,
      p.kinds, p.seed[0], p.seed[1], p.streams, report);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return finish(p, report, signal);
}
