import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { coordinatorMessageReader, encodeMessage, PROTOCOL_VERSION, type CoordinatorToWorker } from '@adalora/protocol';
import { runWorkerClient, type WorkerExit } from '@adalora/worker';
import { runLocalCluster, shortBuiltinConfig, type LocalClusterResult } from '@adalora/test-support';

async function run(o: Omit<Parameters<typeof runLocalCluster>[0], 'config'>): Promise<LocalClusterResult> {
  const out = mkdtempSync(join(tmpdir(), 'adalora-faults-'));
  try {
    return await runLocalCluster({ ...o, config: shortBuiltinConfig(out) });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A peer that speaks raw frames: what it receives, and how its connection ended. */
interface RawPeer {
  readonly received: CoordinatorToWorker[];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly ws: WebSocket;
}

function rawPeer(port: number, onOpen: (ws: WebSocket) => void, onMessage?: (m: CoordinatorToWorker, ws: WebSocket) => void): RawPeer {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 * 1024 * 1024 });
  const reader = coordinatorMessageReader();
  const received: CoordinatorToWorker[] = [];
  ws.on('open', () => onOpen(ws));
  ws.on('message', (data: Buffer) => {
    const m = reader.read(data);
    if (m) {
      received.push(m);
      onMessage?.(m, ws);
    }
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { received, closed, ws };
}

const hello = (version = PROTOCOL_VERSION) =>
  encodeMessage({ type: 'hello', protocolVersion: version, workerId: 'rogue', capabilities: { backend: 'cpu', memoryBytes: 1, hostname: 'h', pid: 1 }, nonce: new Uint8Array(32), proof: new Uint8Array(32) });

test.serial('malformed, oversized, unexpected and wrong-version messages are refused with a reason and change nothing', async (t) => {
  const clean = await run({ workers: 1 });
  const log: string[] = [];
  const peers: RawPeer[] = [];
  const faulty = await run({
    workers: 1,
    log: (l) => log.push(l),
    onListening: (port) => {
      peers.push(rawPeer(port, (ws) => ws.send(Uint8Array.of(0xc1, 0xff, 0x00)))); // not MessagePack
      peers.push(rawPeer(port, (ws) => ws.send(hello(PROTOCOL_VERSION + 41))));
      peers.push(rawPeer(port, (ws) => ws.send(encodeMessage({ type: 'ready', runId: 'x', modelHash: 'y', loadMs: 1 }))));
      peers.push(rawPeer(port, (ws) => ws.send(new Uint8Array(9 * 1024 * 1024))));
      peers.push(rawPeer(port, (ws) => ws.send(encodeMessage({ type: 'launch-missiles' }))));
      // welcomed, then answers a question nobody asked
      peers.push(
        rawPeer(port, (ws) => ws.send(hello()), (m, ws) => {
          if (m.type === 'welcome') {
            ws.send(encodeMessage({ type: 'gradients', runId: m.runId, step: 0, requestId: 999, sampleCount: 0, lossSum: 0, computeMs: 0, tensors: [] }));
          }
        }),
      );
    },
  });
  const ends = await Promise.all(peers.map((p) => p.closed));
  t.is(ends[0].code, 1002);
  t.is(ends[0].reason, 'PROTO_ERR_MALFORMED');
  t.is(ends[1].reason, 'PROTO_ERR_VERSION');
  t.like(peers[1].received[0], { type: 'challenge', protocolVersion: PROTOCOL_VERSION });
  t.like(peers[1].received[1], { type: 'reject', code: 'PROTO_ERR_VERSION' });
  t.is(ends[2].code, 1008, 'ready before welcome is a state fault');
  t.is(ends[2].reason, 'PROTO_ERR_UNEXPECTED');
  t.is(ends[3].code, 1009, 'a frame over maxPayload closes with 1009');
  t.is(ends[4].reason, 'PROTO_ERR_UNKNOWN_TYPE');
  t.is(ends[5].code, 1008, 'a reply nobody asked for is a state fault');
  t.is(ends[5].reason, 'PROTO_ERR_UNEXPECTED');
  for (const code of ['PROTO_ERR_MALFORMED', 'PROTO_ERR_VERSION', 'PROTO_ERR_UNEXPECTED', 'PROTO_ERR_UNKNOWN_TYPE']) {
    t.true(log.some((l) => l.includes(code)), `a logged reason with ${code}`);
  }
  t.deepEqual(faulty.reports.map((r) => r.loss), clean.reports.map((r) => r.loss), 'training is untouched');
});

test.serial('a worker sending non-finite gradients is dropped and does not poison the adapter', async (t) => {
  const clean = await run({ workers: 1 });
  const log: string[] = [];
  let poisoner: RawPeer | undefined;
  const result = await run({
    workers: 1,
    minWorkers: 2, // the honest worker and the poisoner both take part from step 0
    log: (l) => log.push(l),
    onListening: (port) => {
      // a well-formed reply (every trainable, its shape) with one NaN among small float32 values:
      // the coordinator's guard leaves the values to the pass that adds them, which refuses it
      let shapes: { name: string; shape: readonly number[] }[] = [];
      poisoner = rawPeer(port, (ws) => ws.send(hello()), (m, ws) => {
        if (m.type === 'welcome') ws.send(encodeMessage({ type: 'ready', runId: m.runId, modelHash: m.run.modelHash, loadMs: 1 }));
        if (m.type === 'state') shapes = m.tensors.map(({ name, shape }) => ({ name, shape }));
        if (m.type === 'compute') {
          const tensors = shapes.map(({ name, shape }, i) => {
            const values = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1e-3);
            if (i === shapes.length - 1) values[values.length - 1] = NaN;
            return { name, dtype: 'float32', shape, data: new Uint8Array(values.buffer) };
          });
          ws.send(encodeMessage({ type: 'gradients', runId: m.runId, step: m.step, requestId: m.requestId, sampleCount: m.samples.sampleIds.length, lossSum: 1, computeMs: 1, tensors }));
        }
      });
    },
  });
  const end = await poisoner!.closed;
  t.is(end.code, 1008);
  t.is(end.reason, 'COORD_ERR_ABSURD_GRADIENTS');
  t.true(log.some((l) => /COORD_ERR_ABSURD_GRADIENTS \(per-sample gradient norm is NaN \(a value is not finite/.test(l)), 'a logged reason');
  t.true(log.some((l) => l.includes('redistributing')), 'its share went to the healthy worker');
  t.deepEqual(result.reports.map((r) => r.loss), clean.reports.map((r) => r.loss), 'the run equals the clean one bit for bit');
});

test.serial('a worker sending finite but absurd (1e30) gradients is refused and dropped; the run equals a clean one', async (t) => {
  const clean = await run({ workers: 1 });
  const log: string[] = [];
  let poisoner: RawPeer | undefined;
  const result = await run({
    workers: 1,
    minWorkers: 2,
    log: (l) => log.push(l),
    onListening: (port) => {
      // it learns every trainable's name and shape from the state, so its reply is well-formed
      let shapes: { name: string; shape: readonly number[] }[] = [];
      poisoner = rawPeer(port, (ws) => ws.send(hello()), (m, ws) => {
        if (m.type === 'welcome') ws.send(encodeMessage({ type: 'ready', runId: m.runId, modelHash: m.run.modelHash, loadMs: 1 }));
        if (m.type === 'state') shapes = m.tensors.map(({ name, shape }) => ({ name, shape }));
        if (m.type === 'compute') {
          const tensors = shapes.map(({ name, shape }) => {
            const size = shape.reduce((a, b) => a * b, 1);
            return { name, dtype: 'float64', shape, data: new Uint8Array(new Float64Array(size).fill(1e30).buffer) };
          });
          ws.send(encodeMessage({ type: 'gradients', runId: m.runId, step: m.step, requestId: m.requestId, sampleCount: m.samples.sampleIds.length, lossSum: 1, computeMs: 1, tensors }));
        }
      });
    },
  });
  const end = await poisoner!.closed;
  t.is(end.code, 1008);
  t.is(end.reason, 'COORD_ERR_ABSURD_GRADIENTS');
  t.true(log.some((l) => /COORD_ERR_ABSURD_GRADIENTS \(per-sample gradient norm .* is over 1e\+8\)/.test(l)), 'a logged reason');
  t.deepEqual(result.reports.map((r) => r.loss), clean.reports.map((r) => r.loss), 'the run equals the clean one bit for bit');
});

test.serial('a worker joining a running job is used from the step after it is ready; the losses are unchanged', async (t) => {
  const clean = await run({ workers: 1 });
  const out = mkdtempSync(join(tmpdir(), 'adalora-join-'));
  try {
    let port = 0;
    let lastStep = -1;
    let readyAfterStep: number | null = null;
    let joiner: Promise<WorkerExit> | undefined;
    const { reports } = await runLocalCluster({
      config: shortBuiltinConfig(out),
      workers: 1,
      onListening: (p) => (port = p),
      onStep: (r) => {
        lastStep = r.step;
        if (r.step === 3) joiner = runWorkerClient({ url: `ws://127.0.0.1:${port}`, workerId: 'late', backend: 'wasm', secret: null, maxRetries: 3, giveUpAfterMs: 60_000, initialDelayMs: 50, maxDelayMs: 500, log: () => {} });
      },
      log: (l) => {
        if (/\(late@[^)]*\) ready/.test(l)) readyAfterStep = lastStep;
      },
    });
    t.like(await joiner, { ok: true });
    t.not(readyAfterStep, null, 'the late worker became ready during the run');
    const workers = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.kind === 'step').map((m) => m.workers as number);
    // ready during step s (after the report of s - 1): step s was already shared out, s + 1 uses it
    const firstShared = readyAfterStep! + 2;
    t.log(`ready after step ${readyAfterStep}; workers per step ${workers.join(' ')}`);
    t.deepEqual(workers, workers.map((_, s) => (s < firstShared ? 1 : 2)), 'one worker before, both from the next step on');
    t.deepEqual(reports.map((r) => r.loss), clean.reports.map((r) => r.loss), 'the same losses, bit for bit');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
