import * as tf from '@tensorflow/tfjs';
import { hostname, totalmem } from 'node:os';
import { checkTensorSet, TensorSetError } from '@adalora/core';
import { injectAdapters, loadEncoder, type EncoderModel, type InjectedAdapters } from '@adalora/models';
import {
  decodeSamples,
  float32FromTensor,
  PROTOCOL_VERSION,
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
import { computeGradientSums, disposeEncoderInputs, sliceRows, toEncoderInputs } from '@adalora/training';
import { WorkerFault } from './worker-fault';

export { WorkerFault };

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


/**
 * The worker's side of a run, transport-free: it takes each checked message from the
 * coordinator and returns the replies. It holds the frozen model and an adapter that is
 * overwritten by every `state`, so it never drifts from the coordinator's.
 */
export class WorkerSession {
  private runId: string | null = null;
  private modelHash: string | null = null;
  private model: EncoderModel | null = null;
  private injected: InjectedAdapters | null = null;
  private job: WorkerJob | null = null;
  private stateStep = -1;

  constructor(private readonly o: WorkerSessionOptions) {}

  /** The `hello` without its proof (the handshake adds nonce and proof). */
  hello(): Omit<HelloMessage, 'nonce' | 'proof'> {
    return {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      workerId: this.o.workerId,
      // constrainedMemory() is 2^64 when unconstrained: report the machine's memory then
      capabilities: { backend: this.o.backend, memoryBytes: Math.min(process.constrainedMemory?.() || Infinity, totalmem()), hostname: hostname(), pid: process.pid },
    };
  }

  /** Handles one message; returns the replies to send (in order). Throws WorkerFault on a fault. */
  async handle(msg: CoordinatorToWorker): Promise<WorkerToCoordinator[]> {
    switch (msg.type) {
      case 'challenge':
      case 'authenticated':
        // the transport's handshake (WorkerHandshake) answers these, never the session
        throw new WorkerFault('PROTO_ERR_UNEXPECTED', `${msg.type} after the handshake`);
      case 'welcome':
        return [await this.onWelcome(msg)];
      case 'reject':
        throw new WorkerFault(msg.code, `coordinator refused this worker: ${msg.reason}`);
      case 'state':
        this.onState(msg);
        return [];
      case 'compute':
        return [this.onCompute(msg)];
      case 'evaluate':
        return [this.onEvaluate(msg)];
      case 'shutdown':
        return [];
      default: {
        const never: never = msg;
        throw new WorkerFault('WORKER_ERR_UNKNOWN', `unhandled message ${(never as { type: string }).type}`);
      }
    }
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
      const loaded = await loadEncoder(dir, { numLabels: job.numLabels, headSeed: job.headSeed });
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
    const outputs = new Float32Array(batch.rows * model.numLabels);
    for (let from = 0; from < batch.rows; from += job.microBatch) {
      const part = sliceRows(batch, from, Math.min(batch.rows, from + job.microBatch));
      const inputs = toEncoderInputs(part);
      const logits = tf.tidy(() => model.forward(inputs, false).logits);
      disposeEncoderInputs(inputs);
      outputs.set(logits.dataSync(), from * model.numLabels);
      logits.dispose();
    }
    return { type: 'evalResult', runId: msg.runId, requestId: msg.requestId, sampleIds: [...batch.sampleIds], outputs: wireFromFloat32([batch.rows, model.numLabels], outputs) };
  }

  private require(runId: string): { model: EncoderModel; injected: InjectedAdapters; job: WorkerJob } {
    if (!this.model || !this.injected || !this.job || this.runId === null) {
      throw new WorkerFault('PROTO_ERR_UNEXPECTED', 'a run message arrived before welcome');
    }
    if (runId !== this.runId) throw new WorkerFault('PROTO_ERR_BAD_FIELD', `message for run ${runId}, this worker is in run ${this.runId}`);
    return { model: this.model, injected: this.injected, job: this.job };
  }
}
