/** The backends a test can run against: always the TypeScript twin, and the addon when it loaded. */
import { native } from '../../src/backend.js';
import { jsKernels } from '../../src/js/index.js';
import type { Kernels } from '../../src/types.js';

export interface NamedBackend { name: 'js' | 'native'; kernels: Kernels }

export function backends(): NamedBackend[] {
  const list: NamedBackend[] = [{ name: 'js', kernels: jsKernels }];
  const n = native();
  if (n) list.push({ name: 'native', kernels: n });
  return list;
}
