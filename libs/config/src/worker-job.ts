import { parseAdaLoraConfig, type AdaLoraConfig } from './adalora-config';
import { ConfigReader } from './config-reader';

/**
 * What a worker needs to know of the run beyond the model path: sent by the coordinator in
 * `welcome.run.workerJob` as plain JSON and validated on arrival like any other input.
 */
export interface WorkerJob {
  readonly adalora: AdaLoraConfig;
  /** rows per forward/backward pass */
  readonly microBatch: number;
  /** the model's head: a sequence classifier (or regressor), or extractive QA's `qa_outputs` */
  readonly head: 'classification' | 'qa';
  /** label count the head must have (the data set's; 2 for QA: start and end) */
  readonly numLabels: number;
  /** seed for a head the checkpoint lacks (its values are replaced by the first `state` anyway) */
  readonly headSeed: number;
  /** a checkpoint head made for another label count is replaced by a new one (RunConfig.reinitHead) */
  readonly reinitHead: boolean;
  /** tensor encoding of gradients on the wire: float64 keeps N-worker runs bit-identical */
  readonly wire: 'float64' | 'float32' | 'float16';
}

/** The plain-JSON form that travels in `welcome`. */
export function workerJobToJson(job: WorkerJob): Record<string, unknown> {
  return { ...job, adalora: { ...job.adalora, targetModules: [...job.adalora.targetModules], modulesToSave: [...job.adalora.modulesToSave] } };
}

/** Checks a job received from the network; errors name the field. */
export function parseWorkerJob(raw: unknown): WorkerJob {
  const r = ConfigReader.of(raw, 'job');
  const job: WorkerJob = {
    adalora: parseAdaLoraConfig(r.raw('adalora')),
    microBatch: r.number('microBatch', undefined, { integer: true, min: 1 }),
    head: r.oneOf('head', ['classification', 'qa'] as const, 'classification'),
    numLabels: r.number('numLabels', undefined, { integer: true, min: 1 }),
    headSeed: r.number('headSeed', undefined, { integer: true, min: 0 }),
    reinitHead: r.boolean('reinitHead', false),
    wire: r.oneOf('wire', ['float64', 'float32', 'float16'] as const, 'float64'),
  };
  r.done();
  return job;
}
