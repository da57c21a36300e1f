import { PROTOCOL_VERSION, wireViewOfFloat32, type JsonObject, type ModelFile, type StateMessage, type WelcomeMessage } from '@adalora/protocol';
import { workerJobToJson } from '@adalora/config';
import type { Job } from './job';

/** What a worker with this index is told when it joins: the run, its model (and its files) and data. */
export function welcomeMessage(job: Job, workerIndex: number, modelFiles: readonly ModelFile[]): WelcomeMessage {
  return {
    type: 'welcome',
    protocolVersion: PROTOCOL_VERSION,
    runId: job.runId,
    workerIndex,
    run: { workerJob: workerJobToJson(job.workerJob) as JsonObject, modelPath: job.modelDir, modelFiles, modelHash: job.modelHash, dataHash: job.dataHash },
  };
}

/** The adapter and head values every worker loads before the next step. */
export function stateMessage(job: Job): StateMessage {
  const trainables = job.injected.trainables;
  // State goes as float32 always: every replica must hold exactly the coordinator's values. The
  // tensors view the snapshot's arrays (made for this message): encode it before the next step.
  const tensors = [...job.optimizer.snapshot()].map(([name, values]) => ({ name, ...wireViewOfFloat32(trainables.get(name)!.shape, values, name) }));
  return { type: 'state', runId: job.runId, step: job.optimizer.step, tensors };
}
