import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { coordinatorMessageReader, FrameWriter, TransferBuffers, WORKER_MAX_FRAME_BYTES, workerMessageReader, type GradientsMessage } from '@adalora/protocol';
import { SyntheticGradients } from '@adalora/worker';
import { checkGradients } from './check-gradients';
import type { Job } from './job';
import { median } from './median';
import type { MachineCosts } from './scaling-simulator';
import { gradientFrames, serialMemory, serialStep, type SerialMemory } from './serial-work';
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
 * already loaded): `repeats` serial steps of `inFlight` shares (at least 4, at most 128) (read and add
 * per share; mean, optimizer, allocation and encode once), a worker's encoding of its share and
 * reading of the state, and WebSocket transfers over loopback both ways; medians, per value or
 * per byte. `inFlight` (default 1) is how many workers' messages are handled at once, as in the
 * run being modelled: that many shares encoded and kept alive, states read, and that many
 * connections sending at once, and that many shares and states received and read at once (the
 * arrivals, see MachineCosts). Per byte, many 8 MB messages alive together cost more than one
 * (page faults, GC, socket queues): measured one at a time, the model missed a 128-worker step by
 * a third.
 */
export async function measureMachineCosts(preset: SyntheticPresetName, o: { readonly repeats?: number; readonly inFlight?: number } = {}): Promise<MeasuredCosts> {
  const repeats = o.repeats ?? 3;
  const inFlight = o.inFlight ?? 1;
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new Error(`measureMachineCosts: inFlight must be an integer >= 1, got ${inFlight}`);
  const dir = mkdtempSync(join(tmpdir(), 'adalora-costs-'));
  const job = prepareSyntheticJob({ preset, steps: 1000, batchSize: 32, microBatch: 8, outputDir: dir, minWorkers: 1 }, () => {});
  try {
    let values = 0;
    for (const v of job.injected.trainables.values()) values += v.size;
    const frames = gradientFrames(job, 0, 8, [0]);
    const shares = Math.max(4, Math.min(inFlight, 128));
    const memory = serialMemory(job);
    serialStep(job, [frames, frames], 8, 'arrival', memory); // warm-up
    // every share its own memory, as every worker's reply is: the same frames again would be read from cache
    const replies = Array.from({ length: shares }, () => frames.map((f) => f.slice()));
    const steps = Array.from({ length: repeats }, () => serialStep(job, replies, 8, 'arrival', memory));
    const per = (f: (t: (typeof steps)[number]) => number) => median(steps.map(f)) / values;
    // a worker's side: its share encoded (the tensors as a synthetic worker keeps them), the state read
    const shapes = [...job.injected.trainables].map(([name, v]) => ({ name, shape: v.shape }));
    const tensors = new SyntheticGradients(shapes, 1, job.config.cluster.wire).tensors(8, 1);
    const msg: GradientsMessage = { type: 'gradients', runId: job.runId, step: 0, requestId: 1, sampleCount: 8, lossSum: 8, computeMs: 1, tensors };
    const encodeShare = () => new FrameWriter({ maxFrameBytes: WORKER_MAX_FRAME_BYTES }).encode(msg);
    // every worker's share encoded and kept, as the synthetic workers hold theirs until sent
    const encodeMs = median(Array.from({ length: repeats }, () => timed(() => Array.from({ length: inFlight }, encodeShare)))) / inFlight;
    const shareFrames = encodeShare();
    const gradBytes = shareFrames.reduce((n, f) => n + f.byteLength, 0);
    const stateFrames = new FrameWriter().encode(stateMessage(job));
    const stateBytes = stateFrames.reduce((n, f) => n + f.byteLength, 0);
    const buffers = new TransferBuffers();
    const readMs = median(
      Array.from({ length: repeats }, () =>
        timed(() => {
          for (let i = 0; i < inFlight; i++) {
            const read = stateReader(buffers);
            for (const f of stateFrames) read(f);
          }
        }),
      ),
    ) / inFlight;
    const loopbackMsPerByte = await loopbackCost(stateFrames, repeats, 'to-client', inFlight);
    const loopbackUpMsPerByte = await loopbackCost(shareFrames, repeats, 'to-server', inFlight);
    // the same transfers with the receiving end reading what arrives (and each worker encoding its
    // share as it sends), as they interleave in a run on one thread
    const stateArrivalMsPerByte = await loopbackCost(stateFrames, repeats, 'to-client', inFlight, stateReaders());
    const shareArrivalMsPerByte = await loopbackCost(shareFrames, repeats, 'to-server', inFlight, shareReaders(job, 8, memory), encodeShare);
    return {
      values,
      readSumMsPerValue: per((t) => (t.sumMs - t.meanMs) / shares),
      prepareMsPerValue: per((t) => t.preparedMs),
      meanMsPerValue: per((t) => t.meanMs),
      optimizerMsPerValue: per((t) => t.optimizerMs),
      allocationMsPerValue: per((t) => t.allocationMs),
      encodeMsPerValue: per((t) => t.encodeMs),
      sendMsPerByte: 0, // part of the loopback figure
      workerEncodeMsPerByte: encodeMs / gradBytes,
      workerReadMsPerByte: readMs / stateBytes,
      loopbackMsPerByte,
      loopbackUpMsPerByte,
      shareArrivalMsPerByte,
      stateArrivalMsPerByte,
    };
  } finally {
    job.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ns = (msPerUnit: number | undefined) => (msPerUnit === undefined ? '–' : (msPerUnit * 1e6).toFixed(2));

/** The costs in one line, ns per value or per byte (for logs). */
export function describeMachineCosts(c: MeasuredCosts): string {
  return (
    `read+sum ${ns(c.readSumMsPerValue)} ns per value per share, regulariser ${ns(c.prepareMsPerValue)}, mean ${ns(c.meanMsPerValue)}, optimizer ${ns(c.optimizerMsPerValue)}, ` +
    `allocation ${ns(c.allocationMsPerValue)}, encode ${ns(c.encodeMsPerValue)}; worker encode ${ns(c.workerEncodeMsPerByte)} ns per byte, state read ${ns(c.workerReadMsPerByte)}, ` +
    `loopback ${ns(c.loopbackMsPerByte)} to a worker and ${ns(c.loopbackUpMsPerByte)} from one; received and read together ${ns(c.stateArrivalMsPerByte)} (state) and ${ns(c.shareArrivalMsPerByte)} (share)`
  );
}

function timed(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** What the receiving ends of a loopback measurement do with each frame (one per connection, made again each round). */
interface Readers {
  /** the handler of receiving end `i` for one round: true once its whole message is in (and read) */
  readonly reader: (i: number) => (frame: Uint8Array) => boolean;
  /** the rest of a round's reading after the last frame (part of its time) */
  readonly finish: () => void;
}

/** Readers that only count bytes: the link alone. */
function byteCounters(bytes: number): Readers {
  return {
    reader: () => {
      let got = 0;
      return (frame) => (got += frame.byteLength) >= bytes;
    },
    finish: () => {},
  };
}

/**
 * One worker reading a state frame by frame as synthetic workers do: into memory their process
 * shares (`buffers`), given back once read; true once the whole state is in.
 */
function stateReader(buffers: TransferBuffers): (frame: Uint8Array) => boolean {
  const reader = coordinatorMessageReader({ transferAllowance: () => 1 << 30, buffers });
  return (frame) => {
    const msg = reader.read(frame);
    if (msg?.type !== 'state') return false;
    for (const t of msg.tensors) buffers.give(t.data);
    return true;
  };
}

/** Workers of one process reading the state (see stateReader). */
function stateReaders(): (bytes: number) => Readers {
  const buffers = new TransferBuffers();
  return () => ({ reader: () => stateReader(buffers), finish: () => {} });
}

/**
 * The coordinator reading shares over `rows` rows as they arrive, as gradientsFromShares does:
 * reassembled into reused memory (`memory`, the serial steps' own), checked, queued, and added
 * when the thread is next free.
 */
function shareReaders(job: Job, rows: number, memory: SerialMemory): (bytes: number) => Readers {
  const { acc: sum, buffers } = memory;
  return () => {
    sum.reset();
    return {
      reader: (i) => {
        const reader = workerMessageReader({ transferAllowance: () => 1 << 30, buffers, gradientValues: 'unchecked' });
        return (frame) => {
          const msg = reader.read(frame);
          if (msg?.type !== 'gradients') return false;
          const share = checkGradients('calibration', job.injected.trainables, msg, rows);
          void sum.add(share, i, () => null, () => {
            for (const t of share.tensors.values()) buffers.give(t.data);
          });
          if (sum.pending === 1) setImmediate(() => sum.flush());
          return true;
        };
      },
      finish: () => sum.flush(),
    };
  };
}

/**
 * ms per byte of sending `frames` over `connections` loopback WebSockets at once (server → client
 * or client → server) in this process, until every receiving end has them all (and, with
 * `readers`, has read them). With `encode`, every sender encodes its frames (the same bytes) as
 * it sends, within the time measured.
 */
async function loopbackCost(
  frames: readonly Uint8Array[],
  repeats: number,
  direction: 'to-client' | 'to-server',
  connections: number,
  readers: (bytes: number) => Readers = byteCounters,
  encode?: () => readonly Uint8Array[],
): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 << 20 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const port = (server.address() as { port: number }).port;
  const pairs: [WebSocket, WebSocket][] = [];
  try {
    for (let i = 0; i < connections; i++) {
      const peer = new Promise<WebSocket>((r) => server.once('connection', (ws) => r(ws)));
      const client = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 << 20 });
      await new Promise<void>((r, reject) => {
        client.once('open', () => r());
        client.once('error', reject);
      });
      pairs.push(direction === 'to-client' ? [await peer, client] : [client, await peer]);
    }
    const bytes = frames.reduce((n, f) => n + f.byteLength, 0);
    const receive = (to: WebSocket, read: (frame: Uint8Array) => boolean) =>
      new Promise<void>((resolve) => {
        const on = (data: Buffer) => {
          if (read(data)) {
            to.off('message', on);
            resolve();
          }
        };
        to.on('message', on);
      });
    const once = async () => {
      const round = readers(bytes);
      const t0 = performance.now();
      const all = pairs.map(([, to], i) => receive(to, round.reader(i)));
      for (const [from] of pairs) for (const f of encode ? encode() : frames) from.send(f);
      await Promise.all(all);
      round.finish();
      return performance.now() - t0;
    };
    await once(); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < repeats; i++) ms.push(await once());
    return median(ms) / (bytes * connections);
  } finally {
    for (const [a, b] of pairs) {
      a.close();
      b.close();
    }
    server.close();
  }
}
