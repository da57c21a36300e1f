import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, now. `adalora scale` runs one before every measured run and every
 * cost measurement, so that none of them pays for collecting the garbage of the one before (a
 * 128-worker step leaves a gigabyte and more): in four alternated simulator checks (2026-12-02,
 * 2 cores) the two without it missed at some count by 28–41 %, the two with it by at most 24 %.
 * The flag is set at first use: a context made after it sees `gc`.
 */
export function collectGarbage(): void {
  collector ??= exposeCollector();
  collector();
}

let collector: (() => void) | undefined;

function exposeCollector(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
