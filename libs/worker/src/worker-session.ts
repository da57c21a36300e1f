import * as tf from '@tensorflow/tfjs';
import { checkTensorSet, TensorSetError } from '@adalora/core';
import { injectAdapters, loadEncoder, loadQaModel, type InjectedAdapters, type LoadedEncoder, type LoadedQaModel, type TaskModel } from '@adalora/models';
import {
  decodeSamples,
  float32FromTensor,
  tensorFromFloat64,
  wireFromFloat32,
  type ComputeMessage,
  type CoordinatorToWorker,
  type EvaluateMessage,
  type HelloMessage,
  type RunSpec,
  type StateMessage,
  type WelcomeMessage,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import { parseWorkerJob, type WorkerJob } from '@adalora/config';
import { computeGradientSums, disposeEncoderInputs, evalOutputs, evalWidth, sliceRows, toEncoderInputs } from '@adalora/training';
import { dispatchRunMessage, helloOf } from './run-session';
import { WorkerFault } from './worker-fault';

export interface WorkerSessionOptions {
  readonly workerId: string;
  readonly backend: string;
  /** a local copy of the model (its hash is checked like a fetched one's) */
  readonly modelDir?: string;
  /** without `modelDir`: the folder holding the run's model files, fetched and checked (see cachedModelDir) */
  readonly fetchModel?: (run: RunSpec) => Promise<string>;
  /**
   * Testing only (the hidden `--inject-fault` flag): fail every compute request with a
   * WorkerFault, to see a run end on a deterministic worker fault.
   */
  readonly injectFault?: 'compute';
  readonly log: (line: string) => void;
}

export { WorkerFault };

/**
 * The worker's side of a run, transport-free: it takes each checked message from the
 * coordinator and returns the replies. It holds the frozen model and an adapter that is
 * overwritten by every `state`, so it never drifts from the coordinator's.
 */
export class WorkerSession {
  /** a state's values are copied into the trainables (see onState): its memory is free after */
  readonly forgetsState = true;
  private runId: string | null = null;
  private modelHash: string | null = null;
  private model: TaskModel | null = null;
  private injected: InjectedAdapters | null = null;
  private job: WorkerJob | null = null;
  private stateStep = -1;

  constructor(private readonly o: WorkerSessionOptions) {}

  /** The `hello` without its proof (the handshake adds nonce and proof). */
  hello(): Omit<HelloMessage, 'nonce' | 'proof'> {
    return helloOf(this.o.workerId, this.o.backend);
  }

  /** Handles one message; returns the replies to send (in order). Throws WorkerFault on a fault. */
  handle(msg: CoordinatorToWorker): Promise<WorkerToCoordinator[]> {
    return dispatchRunMessage(msg, 'worker', {
      welcome: async (m) => [await this.onWelcome(m)],
      state: (m) => this.onState(m),
      compute: (m) => [this.onCompute(m)],
      evaluate: (m) => [this.onEvaluate(m)],
    });
  }

  /** Frees the model and adapters. */
  dispose(): void {
    this.injected?.dispose();
    this.model?.dispose();
    this.injected = null;
    this.model = null;
  }

  private async onWelcome(msg: WelcomeMessage): Promise<WorkerToCoordinator> {
    const job = parseWorkerJob(msg.run.workerJob);
    const started = Date.now();
    // A reconnect to the same run keeps the loaded model; anything else loads afresh.
    if (this.runId !== msg.runId || this.modelHash !== msg.run.modelHash) {
      this.dispose();
      const dir = this.o.modelDir ?? (this.o.fetchModel ? await this.o.fetchModel(msg.run) : msg.run.modelPath);
      this.o.log(`loading model from ${dir}`);
      // the job's head: features for extractive QA get qa_outputs, text rows a classifier
      const loaded: LoadedEncoder | LoadedQaModel = job.head === 'qa' ? await loadQaModel(dir, { headSeed: job.headSeed }) : await loadEncoder(dir, { numLabels: job.numLabels, headSeed: job.headSeed, reinitHead: job.reinitHead });
      if (loaded.hash !== msg.run.modelHash) {
        loaded.model.dispose();
        throw new WorkerFault('WORKER_ERR_MODEL_HASH', `model at ${dir} has hash ${loaded.hash.slice(0, 12)}…, the run needs ${msg.run.modelHash.slice(0, 12)}…`);
      }
      this.model = loaded.model;
      this.injected = injectAdapters(loaded.model, job.adalora);
      this.modelHash = loaded.hash;
    }
    this.runId = msg.runId;
    this.job = job;
    this.stateStep = -1;
    return { type: 'ready', runId: msg.runId, modelHash: this.modelHash!, loadMs: Date.now() - started };
  }

  private onState(msg: StateMessage): void {
    const trainables = this.require(msg.runId).injected.trainables;
    let tensors;
    try {
      tensors = checkTensorSet(trainables, msg.tensors, `state for step ${msg.step}`);
    } catch (e) {
      throw e instanceof TensorSetError ? new WorkerFault('WORKER_ERR_STATE', e.message) : e;
    }
    for (const [key, t] of tensors) {
      const v = trainables.get(key)!;
      tf.tidy(() => v.assign(tf.tensor(float32FromTensor(t), v.shape, 'float32')));
    }
    this.stateStep = msg.step;
  }

  private onCompute(msg: ComputeMessage): WorkerToCoordinator {
    const { model, injected, job } = this.require(msg.runId);
    if (msg.step !== this.stateStep) {
      throw new WorkerFault('PROTO_ERR_UNEXPECTED', `compute for step ${msg.step}, but the last state was for step ${this.stateStep}`);
    }
    if (this.o.injectFault === 'compute') throw new WorkerFault('WORKER_ERR_INJECTED', `fault injected into compute for step ${msg.step} (--inject-fault)`);
    const started = performance.now();
    const batch = decodeSamples(msg.samples);
    const trainables = injected.trainables;
    const parts = Math.ceil(batch.rows / job.microBatch);
    if (msg.microBatches.length !== parts) {
      throw new WorkerFault('PROTO_ERR_BAD_FIELD', `compute names ${msg.microBatches.length} micro-batch(es), but its ${batch.rows} samples make ${parts} of ${job.microBatch}`);
    }
    const sums = computeGradientSums(model, trainables, batch, job.microBatch, { seed: msg.seed, step: msg.step, microBatches: msg.microBatches });
    return {
      type: 'gradients',
      runId: msg.runId,
      step: msg.step,
      requestId: msg.requestId,
      sampleCount: sums.count,
      lossSum: sums.lossSum,
      computeMs: performance.now() - started,
      tensors: [...sums.grads].map(([name, g]) => tensorFromFloat64(name, trainables.get(name)!.shape, g, job.wire)),
    };
  }

  private onEvaluate(msg: EvaluateMessage): WorkerToCoordinator {
    const { model, job } = this.require(msg.runId);
    const batch = decodeSamples(msg.samples);
    const width = evalWidth(model, batch.seq); // classes, or QA's start then end logit per token
    const outputs = new Float32Array(batch.rows * width);
    for (let from = 0; from < batch.rows; from += job.microBatch) {
      const part = sliceRows(batch, from, Math.min(batch.rows, from + job.microBatch));
      const inputs = toEncoderInputs(part);
      const logits = evalOutputs(model, inputs);
      disposeEncoderInputs(inputs);
      outputs.set(logits.dataSync(), from * width);
      logits.dispose();
    }
    return { type: 'evalResult', runId: msg.runId, requestId: msg.requestId, sampleIds: [...batch.sampleIds], outputs: wireFromFloat32([batch.rows, width], outputs) };
  }

  private require(runId: string): { model: TaskModel; injected: InjectedAdapters; job: WorkerJob } {
    if (!this.model || !this.injected || !this.job || this.runId === null) {
      throw new WorkerFault('PROTO_ERR_UNEXPECTED', 'a run message arrived before welcome');
    }
    if (runId !== this.runId) throw new WorkerFault('PROTO_ERR_BAD_FIELD', `message for run ${runId}, this worker is in run ${this.runId}`);
    return { model: this.model, injected: this.injected, job: this.job };
  }
}
