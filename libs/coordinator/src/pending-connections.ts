import { REAL_TIMERS, type Timers } from './request-channel';

/** Why a pending connection was dropped. */
export type PendingDrop = 'deadline' | 'evicted';

/**
 * Connections that have not authenticated yet, oldest first. Each must authenticate within the
 * handshake deadline; when more than `limit` wait, the oldest is dropped for the newest, so idle
 * or slow connections cannot keep a real worker out (a worker authenticates in one round trip)
 * nor hold more than `limit` connections' worth of memory.
 */
export class PendingConnections<T> {
  private readonly waiting = new Map<T, { drop: (why: PendingDrop) => void; timer: unknown }>();

  constructor(
    private readonly limit: number,
    private readonly deadlineMs: number,
    private readonly timers: Timers = REAL_TIMERS,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`PendingConnections: limit must be an integer ≥ 1, got ${limit}`);
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Starts the clock for `item`; `drop` is called once if it is still pending at its deadline or evicted. */
  add(item: T, drop: (why: PendingDrop) => void): void {
    const timer = this.timers.set(() => this.drop(item, 'deadline'), this.deadlineMs);
    this.waiting.set(item, { drop, timer });
    while (this.waiting.size > this.limit) this.drop(this.waiting.keys().next().value as T, 'evicted');
  }

  /** `item` authenticated or closed: no longer pending. */
  settle(item: T): void {
    const w = this.waiting.get(item);
    if (!w) return;
    this.timers.clear(w.timer);
    this.waiting.delete(item);
  }

  /** Drops every pending item (e.g. when the server closes). */
  dropAll(): void {
    for (const item of [...this.waiting.keys()]) this.drop(item, 'evicted');
  }

  private drop(item: T, why: PendingDrop): void {
    const w = this.waiting.get(item);
    if (!w) return;
    this.settle(item);
    w.drop(why);
  }
}
