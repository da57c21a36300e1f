import { SumKernel } from '@adalora/core';
import { WasmArena } from '@adalora/wasm-simd';
import type { Job } from './job';
import { replyBounds } from './reply-bounds';

/** gradients replies the arena holds at once; later ones get memory of their own (read through a copy) */
const SHARES_AT_ONCE = 128;
/** an arena is never larger (virtual memory, but a 32-bit WebAssembly memory ends at 4 GiB) */
const MAX_ARENA_BYTES = 3 * 2 ** 30;
/** the Σ x² kernel's lanes and stage, and alignment slack */
const KERNEL_BYTES = 1 << 20;

/**
 * The memory a coordinator receives gradient shares into and sums them in (see WasmArena): the
 * sum kernel's memory (SumKernel.bytesFor: two banks of float64 sums and its stage), the Σ x²
 * kernel's lanes and stage, and up to 128 shares (of the reply bound) at once, so that the pass
 * that adds and checks a share reads it where it was reassembled.
 */
export function shareArena(job: Job): WasmArena {
  const shareBytes = replyBounds(job.injected.trainables, job.config.cluster.wire, job.evalWidth).gradientsBytes;
  const fixed = SumKernel.bytesFor([...job.injected.trainables.values()].map((v) => v.size)) + KERNEL_BYTES;
  const slot = shareBytes + 1024; // the pool's slack, aligned
  const shares = Math.max(1, Math.min(SHARES_AT_ONCE, Math.floor((MAX_ARENA_BYTES - fixed) / slot)));
  return new WasmArena(fixed + shares * slot);
}
