import { float64FromTensor, FrameWriter, WORKER_MAX_FRAME_BYTES, workerMessageReader, type GradientsMessage } from '@adalora/protocol';
import type { TrainableKey } from '@adalora/core';
import type { GradientSums } from '@adalora/training';
import { SyntheticGradients } from '@adalora/worker';
import { checkGradients, type ShareGradients } from './check-gradients';
import { GradientAccumulator } from './gradient-accumulator';
import { perSampleNorm } from './gradient-norm-guard';
import type { Job } from './job';
import { stateMessage } from './run-messages';

/** The coordinator's serial work of one step, in ms, part by part. */
export interface SerialTimes {
  /** reading the replies' frames, checking them, adding them up, and the mean */
  readonly sumMs: number;
  /** of which the mean after the last share */
  readonly meanMs: number;
  readonly optimizerMs: number;
  readonly allocationMs: number;
  /** the state message encoded into frames (once, or once per worker before) */
  readonly encodeMs: number;
}

/**
 * The frames of a `gradients` reply over `rows` rows of step `step` as a synthetic worker sends
 * it for this job (its names, shapes and wire dtype): what the coordinator reads per share.
 */
export function gradientFrames(job: Job, step: number, rows: number, microBatches: readonly number[]): Uint8Array[] {
  const shapes = [...job.injected.trainables].map(([name, v]) => ({ name, shape: v.shape }));
  const gradients = new SyntheticGradients(shapes, job.config.training.seed, job.config.cluster.wire);
  const per = Math.ceil(rows / microBatches.length);
  const scale = gradients.shareScale(step, microBatches, (i) => Math.min(per, rows - i * per));
  const msg: GradientsMessage = { type: 'gradients', runId: job.runId, step, requestId: 1, sampleCount: rows, lossSum: rows, computeMs: 1, tensors: gradients.tensors(scale) };
  return new FrameWriter({ maxFrameBytes: WORKER_MAX_FRAME_BYTES }).encode(msg);
}

/** One share read off its frames as the pool and gradientsFromShares do. */
function readShare(job: Job, frames: readonly Uint8Array[], rows: number, copy: boolean): ShareGradients {
  const reader = workerMessageReader({ transferAllowance: () => 1 << 30 });
  let msg;
  for (const f of frames) msg = reader.read(f);
  if (!msg || msg.type !== 'gradients') throw new Error('serial work: the frames did not make a gradients message');
  const share = checkGradients('bench', job.injected.trainables, msg, rows);
  if (!copy) return share;
  // before: every tensor copied into fresh float64 memory
  return { ...share, grads: new Map([...msg.tensors].map((t) => [t.name as TrainableKey, float64FromTensor(t)])) };
}

/**
 * One optimizer step of `job` made from `shares` (each the frames of one worker's reply over
 * `rows` rows), the coordinator's way: `arrival` reads each reply as views on its frames, adds
 * it to a running sum, and encodes the state once; `ordered` is the way before: each reply
 * copied, all summed in order inside the optimizer after the last, the state encoded per worker.
 */
export function serialStep(job: Job, shares: readonly (readonly Uint8Array[])[], rows: number, way: 'arrival' | 'ordered'): SerialTimes {
  const t0 = performance.now();
  let sums: GradientSums[];
  if (way === 'arrival') {
    const acc = new GradientAccumulator(job.injected.trainables);
    shares.forEach((frames, i) => {
      const share = readShare(job, frames, rows, false);
      perSampleNorm(share);
      acc.add(share, i);
    });
    sums = [acc.total()];
  } else {
    sums = shares.map((frames) => {
      const share = readShare(job, frames, rows, true);
      perSampleNorm(share);
      return share as GradientSums;
    });
  }
  const read = performance.now() - t0;
  const report = job.optimizer.apply(sums);
  const t1 = performance.now();
  const writer = new FrameWriter();
  const state = stateMessage(job);
  for (let i = 0; i < (way === 'arrival' ? 1 : shares.length); i++) writer.encode(state);
  const encodeMs = performance.now() - t1;
  return { sumMs: read + report.phaseMs.mean, meanMs: report.phaseMs.mean, optimizerMs: report.phaseMs.optimizer, allocationMs: report.phaseMs.allocation, encodeMs };
}
