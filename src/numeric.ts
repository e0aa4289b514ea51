/** Small numeric helpers shared by the schedule and grid modules (not exported by the package). @module */

/**
 * numpy.linspace(start, stop, num) in float64: `i * step + start` with `step = (stop - start)/(num - 1)`,
 * the last entry exactly `stop`; `[start]` for num = 1.
 */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  if (step === 0) {
    for (let i = 0; i < num; i++) out[i] = (i / div) * delta + start;
  } else {
    for (let i = 0; i < num; i++) out[i] = i * step + start;
  }
  out[num - 1] = stop;
  return out;
}
