import { encodeSamples, protocolError } from '@adalora/protocol';
import type { SampleBatch } from '@adalora/protocol';
import { gatherRows, type GradientSums } from '@adalora/training';
import { checkGradients } from './check-gradients';
import type { Job } from './job';
import { coverUnits, planShares, rowsOfUnits, unitsOf } from './share-planner';
import type { WorkerLink } from './worker-link';
import type { WorkerPool } from './worker-pool';

/** The workers' gradient sums over one global batch, and the slowest share's compute time. */
export interface BatchGradients {
  readonly sums: GradientSums[];
  readonly computeMs: number;
}

/**
 * The workers' gradient sums over one global batch. The batch is cut into micro-batches on a
 * fixed grid (training.microBatch rows) and workers get whole micro-batches, so every
 * micro-batch is computed the same way whatever the number of workers; shares of workers that
 * fail or time out are split again among the remaining ones until every row is covered once.
 */
export async function gradientsFromShares(pool: WorkerPool, job: Job, step: number, ids: readonly number[], batch: SampleBatch, log: (line: string) => void): Promise<BatchGradients> {
  const unit = job.config.training.microBatch;
  const covered = await coverUnits({
    units: unitsOf(batch.rows, unit),
    workers: () => pool.readyAtLeastOne(() => log(`step ${step}: no live worker; waiting for one`)),
    plan: planShares,
    run: (link, share) => computeOn(link, job, step, share, rowsOfUnits(share, unit, batch.rows), ids, batch),
    onShareFailed: (share, e) => log(`step ${step}: a share of ${share.length} micro-batch(es) failed (${e.message}); redistributing`),
  });
  return { sums: covered.map((c) => c.result), computeMs: Math.max(0, ...covered.map((c) => c.result.computeMs)) };
}

/**
 * Asks one worker for the gradient sums over some micro-batches of the batch (`units`, their
 * rows `rows`); a bad reply drops the worker. The run's seed and the units' grid indices seed
 * every dropout of each micro-batch, so any worker computes the same sums for it.
 */
async function computeOn(link: WorkerLink, job: Job, step: number, units: readonly number[], rows: readonly number[], ids: readonly number[], batch: SampleBatch): Promise<GradientSums & { computeMs: number }> {
  const part = gatherRows(batch, rows);
  const seed = job.config.training.seed >>> 0;
  const reply = await link.requests.request('compute', (requestId) => ({ type: 'compute', runId: job.runId, step, requestId, seed, microBatches: units, samples: encodeSamples(rows.map((r) => ids[r]), part) }));
  try {
    if (reply.step !== step) throw protocolError('PROTO_ERR_BAD_FIELD', `gradients for step ${reply.step}, request ${reply.requestId} was for step ${step}`, { messageType: 'gradients', field: 'step' });
    return checkGradients(link.label, job.injected.trainables, reply, part.rows);
  } catch (e) {
    link.close('PROTO_ERR_BAD_FIELD');
    throw e;
  }
}
