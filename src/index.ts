/**
 * tweedie: diffusion-model numerics for Node.js.
 *
 * Noise levels are pairs `(alpha, sigma)` with `x_t = alpha * x0 + sigma * eps`; batches are
 * flat row-major `[batch, dim]` Float32Array or Float64Array; random numbers come from a
 * counter-based generator, identical on every backend.
 * @packageDocumentation
 */
export { backend, info } from './backend.js';
export type { BackendName, Info } from './backend.js';
export { ERR_INVALID_ARG } from './errors.js';
export { GaussianMixture, POSTERIOR_OUTPUTS } from './mixture.js';
export type {
  DefaultPosteriorRequest, GaussianMixtureJSON, GaussianMixtureOptions, NoiseLevel, NumberList, PosteriorOutput,
  MixtureSampleNoisyOptions, MixtureSampleOptions, PosteriorRequest, PosteriorResult, TransitionLevels, TransitionOptions,
  VarianceKind,
} from './mixture.js';
export { addNoise, convertPrediction, trainingTarget } from './noise.js';
export type { AddNoiseOptions, ConvertPredictionOptions, Prediction, TrainingTargetOptions } from './noise.js';
export { philox4x32, randomNormal } from './rng.js';
export * as schedules from './schedules.js';
export type { ContinuousSchedule, DiscreteSchedule, TimestepSpacing } from './schedules.js';
export * as sigmas from './sigmas.js';
export { sample, sampleSync, samplerIds } from './samplers/index.js';
export type { DenoiserFn, MixtureDenoiser, Model, NoiseSampler, SampleOptions, SampleResult, SamplerId, StepInfo } from './samplers/index.js';
export { wrapModel, type NetworkFn, type WrapModelOptions } from './samplers/wrap.js';
export type { RandomNormalOptions } from './rng.js';
export type { FloatArray, PerRow, Uint64Like } from './types.js';
