/**
 * Progress on stderr: a cli-progress bar that appears only when stderr is a terminal and the
 * work has already taken more than a second; otherwise nothing is printed.
 * @module
 */
import cliProgress from 'cli-progress';

/** A progress reporter: `update(done, total, label)` as work proceeds, `stop()` at the end. */
export interface Progress {
  update(done: number, total: number, label?: string): void;
  stop(): void;
}

/** Delay before a bar appears (ms). */
const SHOW_AFTER_MS = 1000;

/**
 * A progress bar for one task on stderr.
 * @param title - shown before the bar
 * @param enabled - false (e.g. `--json`, `--quiet`) prints nothing; default: stderr is a TTY
 */
export function progress(title: string, enabled = Boolean(process.stderr.isTTY)): Progress {
  const t0 = Date.now();
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done, total, label = '') {
      if (!enabled) return;
      if (!bar) {
        if (Date.now() - t0 < SHOW_AFTER_MS) return;
        bar = new cliProgress.SingleBar({
          stream: process.stderr,
          format: `${title} [{bar}] {value}/{total} {label}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        }, cliProgress.Presets.shades_classic);
        bar.start(total, done, { label });
        return;
      }
      bar.setTotal(total);
      bar.update(done, { label });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
