import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { coordinatorMessageReader, FrameWriter, WORKER_MAX_FRAME_BYTES, type GradientsMessage } from '@adalora/protocol';
import { SyntheticGradients } from '@adalora/worker';
import { median } from './median';
import type { MachineCosts } from './scaling-simulator';
import { gradientFrames, serialStep } from './serial-work';
import { stateMessage } from './run-messages';
import { prepareSyntheticJob } from './synthetic-job';
import type { SyntheticPresetName } from './synthetic-presets';

/** Costs measured with the loopback link of this machine: the link's own ms per byte besides. */
export interface MeasuredCosts extends MachineCosts {
  /** the state's frames over a loopback WebSocket from the server side to a client of this process, per byte */
  readonly loopbackMsPerByte: number;
  /**
   * a gradient share's frames the other way, from a client to the server (as a worker sends
   * them): a client masks every frame it sends, and a share is many large frames, per byte
   */
  readonly loopbackUpMsPerByte: number;
  readonly values: number;
}

/**
 * Measures what the coordinator's work costs on this machine for a preset (the tfjs backend
 * already loaded): `repeats` serial steps of 4 shares (read and add per share; mean, optimizer,
 * allocation and encode once), a worker's encoding of its share and reading of the state, and a
 * WebSocket message over loopback; medians, per value or per byte.
 */
export async function measureMachineCosts(preset: SyntheticPresetName, repeats = 3): Promise<MeasuredCosts> {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-costs-'));
  const job = prepareSyntheticJob({ preset, steps: 1000, batchSize: 32, microBatch: 8, outputDir: dir, minWorkers: 1 }, () => {});
  try {
    let values = 0;
    for (const v of job.injected.trainables.values()) values += v.size;
    const frames = gradientFrames(job, 0, 8, [0]);
    const shares = 4;
    serialStep(job, [frames, frames], 8, 'arrival'); // warm-up
    const steps = Array.from({ length: repeats }, () => serialStep(job, Array(shares).fill(frames), 8, 'arrival'));
    const per = (f: (t: (typeof steps)[number]) => number) => median(steps.map(f)) / values;
    // a worker's side: its share encoded (the tensors as a synthetic worker keeps them), the state read
    const shapes = [...job.injected.trainables].map(([name, v]) => ({ name, shape: v.shape }));
    const tensors = new SyntheticGradients(shapes, 1, job.config.cluster.wire).tensors(8, 1);
    const msg: GradientsMessage = { type: 'gradients', runId: job.runId, step: 0, requestId: 1, sampleCount: 8, lossSum: 8, computeMs: 1, tensors };
    const encodeMs = median(Array.from({ length: repeats }, () => timed(() => new FrameWriter({ maxFrameBytes: WORKER_MAX_FRAME_BYTES }).encode(msg))));
    const shareFrames = new FrameWriter({ maxFrameBytes: WORKER_MAX_FRAME_BYTES }).encode(msg);
    const gradBytes = shareFrames.reduce((n, f) => n + f.byteLength, 0);
    const stateFrames = new FrameWriter().encode(stateMessage(job));
    const stateBytes = stateFrames.reduce((n, f) => n + f.byteLength, 0);
    const readMs = median(
      Array.from({ length: repeats }, () =>
        timed(() => {
          const reader = coordinatorMessageReader({ transferAllowance: () => 1 << 30 });
          for (const f of stateFrames) reader.read(f);
        }),
      ),
    );
    const loopbackMsPerByte = await loopbackCost(stateFrames, repeats, 'to-client');
    const loopbackUpMsPerByte = await loopbackCost(shareFrames, repeats, 'to-server');
    return {
      values,
      readSumMsPerValue: per((t) => (t.sumMs - t.meanMs) / shares),
      meanMsPerValue: per((t) => t.meanMs),
      optimizerMsPerValue: per((t) => t.optimizerMs),
      allocationMsPerValue: per((t) => t.allocationMs),
      encodeMsPerValue: per((t) => t.encodeMs),
      sendMsPerByte: 0, // part of the loopback figure
      workerEncodeMsPerByte: encodeMs / gradBytes,
      workerReadMsPerByte: readMs / stateBytes,
      loopbackMsPerByte,
      loopbackUpMsPerByte,
    };
  } finally {
    job.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

function timed(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** ms per byte of sending `frames` over a loopback WebSocket in this process until the other end has them all. */
async function loopbackCost(frames: readonly Uint8Array[], repeats: number, direction: 'to-client' | 'to-server'): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 << 20 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const port = (server.address() as { port: number }).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 << 20 });
  const peer = await new Promise<WebSocket>((r) => server.once('connection', (ws) => r(ws)));
  await new Promise<void>((r) => (client.readyState === WebSocket.OPEN ? r() : client.once('open', () => r())));
  const bytes = frames.reduce((n, f) => n + f.byteLength, 0);
  const [from, to] = direction === 'to-client' ? [peer, client] : [client, peer];
  const once = () =>
    new Promise<number>((resolve) => {
      let got = 0;
      const t0 = performance.now();
      const on = (data: Buffer) => {
        got += data.byteLength;
        if (got >= bytes) {
          to.off('message', on);
          resolve(performance.now() - t0);
        }
      };
      to.on('message', on);
      for (const f of frames) from.send(f);
    });
  try {
    await once(); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < repeats; i++) ms.push(await once());
    return median(ms) / bytes;
  } finally {
    client.close();
    server.close();
  }
}
