import { encodeSamples, float32FromTensor } from '@adalora/protocol';
import { batchOf, type Job } from './job';
import { ShareFaults } from './share-faults';
import { coverUnits, planOnePerUnit, rowsOfUnits, unitsOf } from './share-planner';
import type { WorkerLink } from './worker-link';
import type { WorkerPool } from './worker-pool';

/**
 * The model outputs of every dev example, [n, job.evalWidth] row-major in data set order (logits,
 * or QA's start then end logits of each window), computed
 * on the live workers in requests of training.batchSize × 4 examples; a failed request is
 * sent again to another worker.
 */
export async function devOutputs(pool: WorkerPool, job: Job, log: (line: string) => void): Promise<Float32Array> {
  const dev = job.dev!;
  const n = dev.examples.length;
  const k = job.evalWidth;
  const chunk = Math.max(1, job.config.training.batchSize * 4);
  const outputs = new Float32Array(n * k);
  const faults = new ShareFaults('eval', 'dev chunk');
  await coverUnits({
    units: unitsOf(n, chunk),
    workers: () => pool.readyAtLeastOne(),
    plan: planOnePerUnit,
    run: async (link, share) => {
      const ids = rowsOfUnits(share, chunk, n);
      outputs.set(await evaluateOn(link, job, ids), ids[0] * k);
    },
    onShareFailed: (share, e) => {
      faults.record(share, e, pool.ready.map((l) => l.workerId));
      log(`eval: a request of ${rowsOfUnits(share, chunk, n).length} example(s) failed (${e.message}); sending it again`);
    },
  });
  return outputs;
}

/** Asks one worker for the outputs of these dev examples; a reply of the wrong shape drops the worker. */
async function evaluateOn(link: WorkerLink, job: Job, ids: readonly number[]): Promise<Float32Array> {
  const dev = job.dev!;
  const batch = batchOf(dev, ids, job.padId, dev.numLabels === 1);
  const build = (requestId: number) => ({ type: 'evaluate' as const, runId: job.runId, requestId, samples: encodeSamples([...ids], batch) });
  return link.request('evaluate', ids.length, build, (reply) => {
    if (reply.outputs.shape[0] !== ids.length || reply.outputs.shape[1] !== job.evalWidth) {
      link.close('PROTO_ERR_BAD_FIELD');
      throw new Error(`${link.label}: eval outputs of shape [${reply.outputs.shape}], expected [${ids.length}, ${job.evalWidth}]`);
    }
    return float32FromTensor(reply.outputs);
  });
}
