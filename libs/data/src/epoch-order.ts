import { mulberry32, uniform01 } from '@adalora/core';
import { DataError } from './data-error';

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The PRNG seed of one epoch: `fmix32(fmix32(seed) ^ fmix32(epoch + 0x9e3779b9))`. */
export function epochSeed(seed: number, epoch: number): number {
  checkUint32('seed', seed);
  checkUint32('epoch', epoch);
  return fmix32(fmix32(seed) ^ fmix32((epoch + 0x9e3779b9) >>> 0));
}

/**
 * The order in which epoch `epoch` visits examples 0..n-1. With `shuffle` it is a Fisher–Yates
 * permutation driven by `mulberry32(epochSeed(seed, epoch))`: for i = n-1 down to 1,
 * j = floor(u / 2^32 × (i + 1)) with u the next uint32 (u / 2^32 is `uniform01`), swap(i, j).
 * Without it, the identity.
 */
export function epochOrder(n: number, epoch: number, seed: number, shuffle: boolean): Uint32Array {
  checkUint32('n', n);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  const next = uniform01(mulberry32(epochSeed(seed, epoch)));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  return order;
}

/**
 * Cuts an epoch order into global batches of `batchSize` example indices. The last, shorter
 * batch is dropped when `dropLast`, else kept.
 */
export function globalBatches(order: ArrayLike<number>, batchSize: number, dropLast: boolean): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DataError('DATA_ERR_BAD_OPTION', `batchSize must be an integer >= 1, got ${batchSize}`);
  }
  const out: number[][] = [];
  for (let s = 0; s < order.length; s += batchSize) {
    const end = Math.min(s + batchSize, order.length);
    if (dropLast && end - s < batchSize) break;
    out.push(Array.from({ length: end - s }, (_, k) => order[s + k]));
  }
  return out;
}

/**
 * Splits one global batch among `workers` into contiguous parts whose sizes differ by at most
 * one, the earlier workers taking the remainder (8 among 3 → 3, 3, 2). With more workers than
 * examples the last parts are empty.
 */
export function splitAmong(batch: readonly number[], workers: number): number[][] {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new DataError('DATA_ERR_BAD_OPTION', `workers must be an integer >= 1, got ${workers}`);
  }
  const base = Math.floor(batch.length / workers);
  const extra = batch.length % workers;
  const parts: number[][] = [];
  let start = 0;
  for (let w = 0; w < workers; w++) {
    const size = base + (w < extra ? 1 : 0);
    parts.push(batch.slice(start, start + size));
    start += size;
  }
  return parts;
}

function checkUint32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new DataError('DATA_ERR_BAD_OPTION', `${name} must be an integer in [0, 2^32), got ${v}`);
  }
}
