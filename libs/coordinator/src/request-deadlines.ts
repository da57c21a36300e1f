import type { RequestKind } from './request-channel';

/** How long a request may wait for its reply: a fixed number of ms, or adapted to recent replies. */
export interface DeadlinePolicy {
  readonly ms: number | 'auto';
  /** 'auto': the least deadline, whatever recent replies took (default 10 s) */
  readonly floorMs?: number;
}

/** replies remembered per request kind: recent enough to follow a slowdown, many enough to span a few steps */
const WINDOW = 32;
/** 'auto': a request may take this many times what the slowest recent reply took per row */
const SLACK = 3;
/**
 * 'auto': a link's first request of a kind, and any before a reply was seen, wait this many
 * times the floor (10 min at the default floor): a worker's first step compiles kernels and
 * uploads weights, and nothing tells yet how long a step of this model takes there. Too short,
 * and a slow but healthy worker would be dropped at every first request, forever.
 */
const WARM_UP = 60;

/**
 * The deadline of each request. Fixed, or 'auto': three times the request's rows at the slowest
 * per-row time of the last replies of its kind (measured by the coordinator, send to reply), at
 * least the floor. A stopped worker is then dropped a few seconds after it should have answered,
 * and a share that grew (redistributed from a dropped worker) gets a deadline that grew with it.
 */
export class RequestDeadlines {
  private readonly msPerRow = new Map<RequestKind, number[]>();
  private readonly floorMs: number;

  constructor(private readonly policy: DeadlinePolicy) {
    this.floorMs = policy.floorMs ?? 10_000;
  }

  /** The deadline of a request of `rows` rows; `warm`: this link already answered one of this kind. */
  forRequest(kind: RequestKind, rows: number, warm: boolean): number {
    if (this.policy.ms !== 'auto') return this.policy.ms;
    const seen = this.msPerRow.get(kind) ?? [];
    if (!warm || seen.length === 0) return WARM_UP * this.floorMs;
    return Math.max(this.floorMs, Math.ceil(SLACK * rows * Math.max(...seen)));
  }

  /** Records an accepted reply: `rows` rows answered `ms` after the request went out. */
  observe(kind: RequestKind, rows: number, ms: number): void {
    if (rows <= 0) return;
    const seen = this.msPerRow.get(kind) ?? [];
    seen.push(ms / rows);
    if (seen.length > WINDOW) seen.shift();
    this.msPerRow.set(kind, seen);
  }
}
