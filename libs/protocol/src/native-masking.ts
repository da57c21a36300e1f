import { createRequire } from 'node:module';

/**
 * True when ws masks and unmasks frames with the native `bufferutil` (an optional dependency,
 * prebuilt for the usual platforms). Without it ws does it byte by byte in JS: ~18 ms for each
 * 8 MB gradient share the coordinator receives (0.4 ms native; `tools/bench-coordinator.ts`
 * prints both), on its one thread. ws picks it up by itself; this only tells whether it can.
 */
export function nativeFrameMasking(): boolean {
  if (process.env.WS_NO_BUFFER_UTIL) return false;
  try {
    createRequire(import.meta.url)('bufferutil');
    return true;
  } catch {
    return false;
  }
}
