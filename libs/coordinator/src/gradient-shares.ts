import { encodeSamples, protocolError } from '@adalora/protocol';
import type { SampleBatch } from '@adalora/protocol';
import { gatherRows, type GradientSums } from '@adalora/training';
import { checkGradients } from './check-gradients';
import type { GradientAccumulator } from './gradient-accumulator';
import type { GradientNormGuard } from './gradient-norm-guard';
import type { Job } from './job';
import { ShareFaults } from './share-faults';
import { coverUnits, planShares, rowsOfUnits, unitsOf } from './share-planner';
import type { GatherTimes } from './step-timer';
import type { WorkerLink } from './worker-link';
import type { WorkerPool } from './worker-pool';

/** The workers' gradient sums over one global batch, summed as they arrived; how long that took; how many workers delivered shares. */
export interface BatchGradients extends GatherTimes {
  readonly sums: GradientSums;
  readonly workers: number;
}

/**
 * The workers' gradient sums over one global batch. The batch is cut into micro-batches on a
 * fixed grid (training.microBatch rows) and workers get whole micro-batches, so every
 * micro-batch is computed the same way whatever the number of workers; shares of workers that
 * fail or time out are split again among the remaining ones until every row is covered once.
 * Each accepted share is added to `sum` (empty) as it arrives, with the others that arrived
 * while the thread was busy (see GradientAccumulator).
 * A micro-batch that fails on two workers (or on all there are) stops the run (RunStopped).
 */
export async function gradientsFromShares(pool: WorkerPool, job: Job, step: number, ids: readonly number[], batch: SampleBatch, norms: GradientNormGuard, sum: GradientAccumulator, log: (line: string) => void): Promise<BatchGradients> {
  const unit = job.config.training.microBatch;
  const faults = new ShareFaults(`step ${step}`, 'micro-batch');
  const clock = { sumMs: 0, lastArrival: -Infinity, lastTransferMs: 0 };
  const readBefore = pool.traffic.readMs;
  const covered = await coverUnits({
    units: unitsOf(batch.rows, unit),
    workers: () => pool.readyAtLeastOne(() => log(`step ${step}: no live worker; waiting for one`)),
    plan: planShares,
    run: (link, share) => computeOn(link, job, step, share, rowsOfUnits(share, unit, batch.rows), ids, batch, norms, sum, clock),
    onShareFailed: (share, e) => {
      faults.record(share, e, pool.ready.map((l) => l.workerId));
      log(`step ${step}: a share of ${share.length} micro-batch(es) failed (${e.message}); redistributing`);
    },
  });
  const sums = sum.total();
  return {
    sums,
    computeMs: Math.max(0, ...covered.map((c) => c.result.computeMs)),
    // reading the frames of the replies is part of summing them
    sumMs: clock.sumMs + sum.flushMs + (pool.traffic.readMs - readBefore),
    lastTransferMs: clock.lastTransferMs,
    workers: new Set(covered.map((c) => c.worker)).size,
  };
}

/**
 * Asks one worker for the gradient sums over some micro-batches of the batch (`units`, their
 * rows `rows`); a bad reply drops the worker at once, an absurd one once judged (its values are
 * read, and its norm judged, by the pass that adds it: see GradientAccumulator), and the share
 * then goes to another worker; an accepted one is in `sum`. The run's seed and the units' grid
 * indices seed every dropout of each micro-batch, so any worker computes the same sums for it.
 */
async function computeOn(
  link: WorkerLink,
  job: Job,
  step: number,
  units: readonly number[],
  rows: readonly number[],
  ids: readonly number[],
  batch: SampleBatch,
  norms: GradientNormGuard,
  sum: GradientAccumulator,
  clock: { sumMs: number; lastArrival: number; lastTransferMs: number },
): Promise<{ computeMs: number }> {
  const part = gatherRows(batch, rows);
  const seed = job.config.training.seed >>> 0;
  const build = (requestId: number) => ({ type: 'compute' as const, runId: job.runId, step, requestId, seed, microBatches: units, samples: encodeSamples(rows.map((r) => ids[r]), part) });
  const sent = performance.now();
  return link.request('compute', part.rows, build, (reply) => {
    const arrived = performance.now();
    let share;
    try {
      if (reply.step !== step) throw protocolError('PROTO_ERR_BAD_FIELD', `gradients for step ${reply.step}, request ${reply.requestId} was for step ${step}`, { messageType: 'gradients', field: 'step' });
      share = checkGradients(link.label, job.injected.trainables, reply, part.rows);
    } catch (e) {
      link.doneWith(reply.tensors);
      link.close('PROTO_ERR_BAD_FIELD');
      throw e;
    }
    const tensors = share.tensors;
    const verdict = sum.add(share, units[0], (norm) => norms.judge(norm), () => link.doneWith(tensors.values()));
    // judged and added when the thread is next free: with every other share that arrived meanwhile
    if (sum.pending === 1) setImmediate(() => sum.flush());
    link.lastComputeMs = share.computeMs;
    clock.sumMs += performance.now() - arrived;
    if (arrived > clock.lastArrival) {
      clock.lastArrival = arrived;
      clock.lastTransferMs = arrived - sent - share.computeMs;
    }
    const { computeMs } = share;
    return verdict.then((absurd) => {
      if (absurd !== null) throw link.close('COORD_ERR_ABSURD_GRADIENTS', absurd);
      return { computeMs };
    });
  });
}
