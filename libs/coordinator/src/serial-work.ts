import { FrameWriter, TransferBuffers, WORKER_MAX_FRAME_BYTES, workerMessageReader, type GradientsMessage } from '@adalora/protocol';
import type { GradientSums } from '@adalora/training';
import { SyntheticGradients } from '@adalora/worker';
import { checkGradients, float64Share, type ShareGradients } from './check-gradients';
import { GradientAccumulator } from './gradient-accumulator';
import { shareArena } from './share-arena';
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
  /** the orthogonal regulariser's gradient, made while the workers compute (`arrival`; off the serial path, not in the total) */
  readonly preparedMs: number;
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
  const msg: GradientsMessage = { type: 'gradients', runId: job.runId, step, requestId: 1, sampleCount: rows, lossSum: rows, computeMs: 1, tensors: gradients.tensors(scale, microBatches.length) };
  return new FrameWriter({ maxFrameBytes: WORKER_MAX_FRAME_BYTES }).encode(msg);
}

/** One share read off its frames as a worker link does (into `buffers`, when given), and checked. */
function readShare(job: Job, frames: readonly Uint8Array[], rows: number, buffers?: TransferBuffers): ShareGradients {
  // a coordinator's accumulator checks the values itself (in the pass that adds them); the way before had the guard check them
  const reader = workerMessageReader({ transferAllowance: () => 1 << 30, ...(buffers && { buffers, gradientValues: 'unchecked' as const }) });
  let msg;
  for (const f of frames) msg = reader.read(f);
  if (!msg || msg.type !== 'gradients') throw new Error('serial work: the frames did not make a gradients message');
  return checkGradients('bench', job.injected.trainables, msg, rows);
}

/** The way before, for reference: a share's values copied into fresh float64 memory and their norm taken there. */
function copiedShare(share: ShareGradients): GradientSums {
  const copy = float64Share(share);
  let sq = 0;
  for (const g of copy.grads.values()) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  if (!Number.isFinite(sq)) throw new Error('serial work: a share is not finite');
  return copy;
}

/** What a coordinator keeps from step to step: the running sum's memory, the replies' memory (both in one arena, as a coordinator's pool has them). */
export interface SerialMemory {
  readonly acc: GradientAccumulator;
  readonly buffers: TransferBuffers;
  /** shares added together at most (1: each as it comes) */
  readonly burst: number;
}

export function serialMemory(job: Job, burst = 4): SerialMemory {
  const arena = shareArena(job);
  return { acc: new GradientAccumulator(job.injected.trainables, arena), buffers: new TransferBuffers(burst + 4, { arena, kinds: ['gradients'] }), burst };
}

/**
 * One optimizer step of `job` made from `shares` (each the frames of one worker's reply over
 * `rows` rows), the coordinator's way: `arrival` reads each reply into reused memory, takes its
 * norm and adds it to a running sum straight off the received bytes, the regulariser's gradient
 * made beforehand (while workers compute), and encodes the state once; `ordered` is the way
 * before: each reply copied into fresh memory, all summed in order inside the optimizer after
 * the last, the regulariser made there, the state encoded per worker.
 */
export function serialStep(job: Job, shares: readonly (readonly Uint8Array[])[], rows: number, way: 'arrival' | 'ordered', memory: SerialMemory = serialMemory(job)): SerialTimes {
  const p0 = performance.now();
  const prepared = way === 'arrival' ? job.optimizer.prepare() : undefined;
  const t0 = performance.now();
  let sums: GradientSums[];
  if (way === 'arrival') {
    const { acc, buffers } = memory;
    acc.reset();
    shares.forEach((frames, i) => {
      const share = readShare(job, frames, rows, buffers);
      void acc.add(share, i, (norm) => (Number.isFinite(norm) ? null : 'not finite'), () => {
        for (const t of share.tensors.values()) buffers.give(t.data);
      });
      // as when the replies come in a burst faster than the thread adds them: a flush every `burst` shares
      if (acc.pending >= memory.burst) acc.flush();
    });
    sums = [acc.total()];
    if (acc.added !== shares.length) throw new Error(`serial work: ${shares.length - acc.added} share(s) refused (not finite)`);
  } else {
    sums = shares.map((frames) => copiedShare(readShare(job, frames, rows)));
  }
  const read = performance.now() - t0;
  const report = job.optimizer.apply(sums, prepared);
  const t1 = performance.now();
  const writer = new FrameWriter();
  const state = stateMessage(job);
  for (let i = 0; i < (way === 'arrival' ? 1 : shares.length); i++) writer.encode(state);
  const encodeMs = performance.now() - t1;
  return { sumMs: read + report.phaseMs.mean, meanMs: report.phaseMs.mean, optimizerMs: report.phaseMs.optimizer, allocationMs: report.phaseMs.allocation, encodeMs, preparedMs: t0 - p0 };
}
