/**
 * The pure-TypeScript backend: the same kernels as the native addon, bit for bit.
 * @module
 */
import type { Kernels } from '../types.js';
import { mixturePosterior } from './mixture.js';
import { addNoise, combine2 } from './noise.js';
import { philox4x32 } from './philox.js';
import { normalFill } from './rng.js';
import { copyFinite, lincomb } from './step.js';

/** The TypeScript kernel set. */
export const jsKernels: Kernels = { philox4x32, normalFill, combine2, addNoise, lincomb, copyFinite, mixturePosterior };
