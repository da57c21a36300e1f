import { parseWorkerJob, type WorkerJob } from '@adalora/config';
import {
  wireFromFloat32,
  type ComputeMessage,
  type CoordinatorToWorker,
  type EvaluateMessage,
  type HelloMessage,
  type WelcomeMessage,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import type { ClientSession } from './session-client';
import { microBatchWeight, SyntheticGradients } from './synthetic-gradients';
import { dispatchRunMessage, helloOf } from './run-session';
import { WorkerFault } from './worker-fault';

export interface SyntheticSessionOptions {
  readonly workerId: string;
  /** compute time per sample, standing in for a GPU's (ms; a timer, the CPU stays free) */
  readonly sampleMs: number;
  /** the gradients of this process's connections, shared (see SyntheticGradients) */
  readonly gradients: SyntheticGradientsPool;
  readonly log: (line: string) => void;
}

/** What a synthetic worker keeps of a `state`: its step and the trainables' names and shapes (not the values). */
interface StateShapes {
  readonly step: number;
  readonly tensors: readonly { readonly name: string; readonly shape: readonly number[] }[];
}

/** One SyntheticGradients per run and wire, shared by the connections of a process. */
export class SyntheticGradientsPool {
  private current: { key: string; gradients: SyntheticGradients } | null = null;

  of(runId: string, state: StateShapes, seed: number, wire: WorkerJob['wire']): SyntheticGradients {
    const key = `${runId}/${seed}/${wire}/${state.tensors.map((t) => `${t.name}:${t.shape.join('x')}`).join(',')}`;
    if (this.current?.key !== key) this.current = { key, gradients: new SyntheticGradients(state.tensors, seed, wire) };
    return this.current.gradients;
  }
}

/**
 * A worker without a model: speaks the real protocol (its connection does the handshake), joins
 * any run (it reports the run's model hash as its own), takes the trainables' names and shapes
 * from the `state` messages, and answers `compute` after `sampleMs` per sample with
 * deterministic gradients of those names and shapes in the run's wire dtype, and `evaluate`
 * with deterministic logits. For measuring the coordinator, not for training anything.
 */
export class SyntheticSession implements ClientSession {
  readonly forgetsState = true;
  private runId: string | null = null;
  private job: WorkerJob | null = null;
  private state: StateShapes | null = null;

  constructor(private readonly o: SyntheticSessionOptions) {}

  hello(): Omit<HelloMessage, 'nonce' | 'proof'> {
    return helloOf(this.o.workerId, 'synthetic');
  }

  handle(msg: CoordinatorToWorker): Promise<WorkerToCoordinator[]> {
    return dispatchRunMessage(msg, 'worker', {
      welcome: (m) => [this.onWelcome(m)],
      state: (m) => {
        this.require(m.runId);
        this.state = { step: m.step, tensors: m.tensors.map((t) => ({ name: t.name, shape: t.shape })) };
      },
      compute: async (m) => [await this.onCompute(m)],
      evaluate: async (m) => [await this.onEvaluate(m)],
    });
  }

  dispose(): void {
    this.state = null;
  }

  private onWelcome(msg: WelcomeMessage): WorkerToCoordinator {
    this.job = parseWorkerJob(msg.run.workerJob);
    this.runId = msg.runId;
    this.state = null;
    return { type: 'ready', runId: msg.runId, modelHash: msg.run.modelHash, loadMs: 0 };
  }

  private async onCompute(msg: ComputeMessage): Promise<WorkerToCoordinator> {
    const job = this.require(msg.runId);
    const state = this.state;
    if (!state || msg.step !== state.step) throw new WorkerFault('PROTO_ERR_UNEXPECTED', `compute for step ${msg.step}, but the last state was for step ${state?.step ?? -1}`);
    const started = performance.now();
    const rows = msg.samples.sampleIds.length;
    const parts = Math.ceil(rows / job.microBatch);
    if (msg.microBatches.length !== parts) {
      throw new WorkerFault('PROTO_ERR_BAD_FIELD', `compute names ${msg.microBatches.length} micro-batch(es), but its ${rows} samples make ${parts} of ${job.microBatch}`);
    }
    await delay(this.o.sampleMs * rows);
    const rowsOf = (i: number) => Math.min(job.microBatch, rows - i * job.microBatch);
    const gradients = this.o.gradients.of(msg.runId, state, msg.seed, job.wire);
    const scale = gradients.shareScale(msg.step, msg.microBatches, rowsOf);
    // a loss that falls with the step, the same for a micro-batch whoever computes it
    const lossSum = msg.microBatches.reduce((s, m, i) => s + rowsOf(i) * (1 + microBatchWeight(msg.seed, msg.step, m) / (msg.step + 1)), 0);
    return { type: 'gradients', runId: msg.runId, step: msg.step, requestId: msg.requestId, sampleCount: rows, lossSum, computeMs: performance.now() - started, tensors: gradients.tensors(scale, msg.microBatches.length) };
  }

  private async onEvaluate(msg: EvaluateMessage): Promise<WorkerToCoordinator> {
    const job = this.require(msg.runId);
    const rows = msg.samples.sampleIds.length;
    await delay((this.o.sampleMs * rows) / 3); // a forward pass only
    const outputs = new Float32Array(rows * job.numLabels);
    msg.samples.sampleIds.forEach((id, r) => {
      for (let l = 0; l < job.numLabels; l++) outputs[r * job.numLabels + l] = ((id * 7 + l * 3) % 11) / 11;
    });
    return { type: 'evalResult', runId: msg.runId, requestId: msg.requestId, sampleIds: [...msg.samples.sampleIds], outputs: wireFromFloat32([rows, job.numLabels], outputs) };
  }

  private require(runId: string): WorkerJob {
    if (!this.job || this.runId === null) throw new WorkerFault('PROTO_ERR_UNEXPECTED', 'a run message arrived before welcome');
    if (runId !== this.runId) throw new WorkerFault('PROTO_ERR_BAD_FIELD', `message for run ${runId}, this worker is in run ${this.runId}`);
    return this.job;
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
