import { splitAmong } from '@adalora/data';

/**
 * Who computes what, as pure functions over "units" (a global batch's micro-batches, or the dev
 * split's request-sized chunks), plus the one loop that covers every unit once on the live
 * workers, redistributing the shares of workers that fail.
 */

/** The units of `rows` rows cut into units of `unitRows` rows: 0 … ⌈rows / unitRows⌉ − 1. */
export function unitsOf(rows: number, unitRows: number): number[] {
  if (!Number.isInteger(unitRows) || unitRows < 1) throw new Error(`unitsOf: unitRows must be an integer >= 1, got ${unitRows}`);
  return Array.from({ length: Math.ceil(rows / unitRows) }, (_, u) => u);
}

/** The rows (ascending within each unit) of these units; the last unit may be short. */
export function rowsOfUnits(units: readonly number[], unitRows: number, rows: number): number[] {
  return units.flatMap((u) => Array.from({ length: Math.max(0, Math.min(unitRows, rows - u * unitRows)) }, (_, j) => u * unitRows + j));
}

/**
 * Gradient shares: whole micro-batches, ascending and contiguous (`splitAmong`), so the global
 * batch's short last micro-batch can only end a share and every micro-batch is computed the
 * same way whatever the number of workers. At most one share per worker; none is empty.
 */
export function planShares(units: readonly number[], workers: number): number[][] {
  return splitAmong([...units].sort((a, b) => a - b), workers).filter((share) => share.length > 0);
}

/** One request per unit, in order (evaluation: each chunk of the dev split is one request). */
export function planOnePerUnit(units: readonly number[]): number[][] {
  return [...units].sort((a, b) => a - b).map((u) => [u]);
}

/** A share, the worker that computed it, and what it returned. */
export interface CoveredShare<W, R> {
  readonly share: readonly number[];
  readonly worker: W;
  readonly result: R;
}

export interface CoverOptions<W, R> {
  readonly units: readonly number[];
  /** the live workers, at least one (waits for one when there is none) */
  workers(): Promise<readonly W[]>;
  /** cuts the remaining units into shares for this many workers */
  plan(remaining: readonly number[], workers: number): number[][];
  /** computes one share on one worker; a rejection means the share is redone elsewhere */
  run(worker: W, share: readonly number[]): Promise<R>;
  /** told of every failed share; throwing ends the covering with that error (no share is sent after) */
  onShareFailed?(share: readonly number[], reason: Error): void;
}

/**
 * Covers every unit exactly once: plans the remaining units among the live workers, runs the
 * shares with one in flight per worker (a free worker takes the next share), and plans the
 * units of failed shares again among the workers live then, until none is left. A worker whose
 * share failed takes no more this round (it is most likely gone). Results come back ordered by
 * their shares' first unit, whatever order the workers answered in.
 */
export async function coverUnits<W, R>(o: CoverOptions<W, R>): Promise<CoveredShare<W, R>[]> {
  const done: CoveredShare<W, R>[] = [];
  let remaining = [...o.units];
  while (remaining.length > 0) {
    const workers = await o.workers();
    if (workers.length === 0) throw new Error('coverUnits: workers() gave no worker');
    const queue = o.plan(remaining, workers.length).filter((share) => share.length > 0);
    const failed: number[] = [];
    await Promise.all(
      workers.map(async (worker) => {
        for (let share = queue.shift(); share !== undefined; share = queue.shift()) {
          try {
            done.push({ share, worker, result: await o.run(worker, share) });
          } catch (e) {
            try {
              o.onShareFailed?.(share, e as Error);
            } catch (stop) {
              queue.length = 0; // nobody takes another share: the covering is over
              throw stop;
            }
            failed.push(...share);
            return;
          }
        }
      }),
    );
    // shares no worker took (every worker failed first) are planned again too
    remaining = [...failed, ...queue.flat()].sort((a, b) => a - b);
  }
  return done.sort((a, b) => a.share[0] - b.share[0]);
}
