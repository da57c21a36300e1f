import test from 'ava';
import { coordinatorMessageReader, encodeMessage, encodeSamples, FrameWriter, PROTOCOL_VERSION, tensorFromFloat32, type CoordinatorToWorker, type GradientsMessage, type StateMessage, type WelcomeMessage, type WorkerToCoordinator } from '@adalora/protocol';
import { WasmArena } from '@adalora/wasm-simd';
import { Heartbeat } from './heartbeat';
import { ShareFailure } from './share-failure';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool';

/** A connection without a socket: what the pool sent it, and how it closed it. */
function fakeConnection() {
  const reader = coordinatorMessageReader();
  const received: CoordinatorToWorker[] = [];
  const closes: { code: number; reason: string }[] = [];
  const pings: number[] = [];
  return {
    received,
    closes,
    connection: {
      send: (frame: Uint8Array) => {
        const m = reader.read(frame);
        if (m) received.push(m);
      },
      close: (code: number, reason: string) => void closes.push({ code, reason }),
      ping: () => void pings.push(1),
    },
    pings,
  };
}

const welcome = (workerIndex: number): WelcomeMessage => ({
  type: 'welcome',
  protocolVersion: PROTOCOL_VERSION,
  runId: 'run-1',
  workerIndex,
  run: { workerJob: {}, modelPath: '/m', modelFiles: [], modelHash: 'hash-1', dataHash: 'd' },
});
const state: StateMessage = { type: 'state', runId: 'run-1', step: 0, tensors: [] };

function pool(overrides: Partial<WorkerPoolOptions> = {}) {
  const log: string[] = [];
  const p = new WorkerPool({ runId: 'run-1', modelHash: 'hash-1', welcome, state: () => state, deadline: { ms: 1000 }, replyBounds: { gradientsBytes: 1 << 20, evalResultBytes: (rows) => 1024 + 64 * rows }, log: (l) => log.push(l), ...overrides });
  return { pool: p, log };
}

/** A worker that connected; `say` sends it a message as the wire would carry it. */
function connect(p: WorkerPool) {
  const fake = fakeConnection();
  const events = p.accept(fake.connection, '10.0.0.1:5000');
  const say = (m: WorkerToCoordinator | Record<string, unknown>) => events.message(encodeMessage(m));
  return { ...fake, events, say };
}

const hello = (protocolVersion = PROTOCOL_VERSION): WorkerToCoordinator => ({ type: 'hello', protocolVersion, workerId: 'w', capabilities: { backend: 'cpu', memoryBytes: 1, hostname: 'h', pid: 1 }, nonce: new Uint8Array(32), proof: new Uint8Array(32) });
/** A one-row compute request, as the step loop would send it. */
const compute = (requestId: number): CoordinatorToWorker => ({
  type: 'compute',
  runId: 'run-1',
  step: 0,
  requestId,
  seed: 0,
  microBatches: [0],
  samples: encodeSamples([0], { rows: 1, seq: 2, inputIds: Int32Array.of(1, 2), attentionMask: Int32Array.of(1, 1), labels: Int32Array.of(0) }),
});
const ready: WorkerToCoordinator = { type: 'ready', runId: 'run-1', modelHash: 'hash-1', loadMs: 3 };

test('hello → welcome → ready → state: the link is ready and waitFor resolves', async (t) => {
  const { pool: p, log } = pool();
  let woken = false;
  const waiting = p.waitFor(1).then(() => (woken = true));
  const w = connect(p);
  w.say(hello());
  t.like(w.received[0], { type: 'welcome', workerIndex: 0 });
  t.deepEqual(p.ready, []);
  await Promise.resolve();
  t.false(woken, 'not ready before `ready`');
  w.say(ready);
  t.like(w.received[1], { type: 'state', step: 0 });
  t.is(p.ready.length, 1);
  t.is(p.ready[0].status, 'ready');
  await waiting;
  t.true(log.some((l) => l.includes('worker 0 (w@10.0.0.1:5000) joined')));
  t.true(log.some((l) => l.includes('1 worker(s) ready')));
  t.deepEqual(w.closes, []);
});

test('handshake faults are PROTO_ERR_UNEXPECTED (1008): ready before welcome, a second hello, a reply before ready', (t) => {
  const { pool: p, log } = pool();
  const early = connect(p);
  early.say(ready);
  t.deepEqual(early.closes, [{ code: 1008, reason: 'PROTO_ERR_UNEXPECTED' }]);

  const twice = connect(p);
  twice.say(hello());
  twice.say(hello());
  t.deepEqual(twice.closes, [{ code: 1008, reason: 'PROTO_ERR_UNEXPECTED' }]);

  const eager = connect(p);
  eager.say(hello());
  eager.say({ type: 'gradients', runId: 'run-1', step: 0, requestId: 0, sampleCount: 0, lossSum: 0, computeMs: 0, tensors: [] });
  t.deepEqual(eager.closes, [{ code: 1008, reason: 'PROTO_ERR_UNEXPECTED' }]);
  t.is(log.filter((l) => l.includes('refused a message') && l.includes('(PROTO_ERR_UNEXPECTED)')).length, 3);
  t.deepEqual(p.ready, []);
});

test('a worker of another protocol version is told why, then closed with PROTO_ERR_VERSION (1002)', (t) => {
  const { pool: p } = pool();
  const w = connect(p);
  w.say(hello(PROTOCOL_VERSION + 1));
  t.like(w.received[0], { type: 'reject', code: 'PROTO_ERR_VERSION' });
  t.deepEqual(w.closes, [{ code: 1002, reason: 'PROTO_ERR_VERSION' }]);
});

test('ready or a reply for another run is PROTO_ERR_BAD_FIELD', (t) => {
  const { pool: p } = pool();
  const w = connect(p);
  w.say(hello());
  w.say({ ...ready, modelHash: 'other' });
  t.deepEqual(w.closes, [{ code: 1002, reason: 'PROTO_ERR_BAD_FIELD' }]);
});

test('a reply reaches the link’s pending request; a dropped link leaves the ready set and fails its request', async (t) => {
  const { pool: p, log } = pool();
  const a = connect(p);
  const b = connect(p);
  for (const w of [a, b]) {
    w.say(hello());
    w.say(ready);
  }
  const [la, lb] = p.ready;
  const answered = la.requests.request('compute', compute);
  a.say({ type: 'gradients', runId: 'run-1', step: 0, requestId: 0, sampleCount: 0, lossSum: 0, computeMs: 0, tensors: [] });
  t.is((await answered).requestId, 0);
  t.like(a.received.at(-1), { type: 'compute', requestId: 0 });

  const lost = lb.requests.request('compute', compute);
  b.events.closed(1006, '');
  await t.throwsAsync(lost, { message: /disconnected/ });
  t.deepEqual(p.ready, [la]);
  t.true(log.some((l) => l.includes('worker 1 (w@10.0.0.1:5000) disconnected (1006 no reason)')));
});

test('gradients replies are reassembled into the arena; a stale one is given back, so the next reply takes its memory', async (t) => {
  const arena = new WasmArena(4 << 20);
  const { pool: p, log } = pool({ arena });
  const w = connect(p);
  w.say(hello());
  w.say(ready);
  const [link] = p.ready;
  const writer = new FrameWriter({ maxFrameBytes: 64 * 1024 }); // 200 KB replies: chunked, as large ones are
  const reply = (requestId: number): GradientsMessage => ({ type: 'gradients', runId: 'run-1', step: 0, requestId, sampleCount: 1, lossSum: 0, computeMs: 0, tensors: [tensorFromFloat32('a', [50_000], new Float32Array(50_000).fill(requestId))] });
  const send = (m: GradientsMessage) => writer.encode(m).forEach((f) => w.events.message(f));
  const first = link.requests.request('compute', compute);
  send(reply(0));
  const kept = await first; // not given back: its region stays out
  t.is(WasmArena.holding(kept.tensors[0].data), arena);
  const second = link.requests.request('compute', compute);
  send(reply(0)); // again: stale
  t.true(log.some((l) => l.includes('ignored a stale')));
  const used = arena.used;
  send(reply(1));
  const got = await second;
  t.is(arena.used, used, "the stale reply's region served the next reply");
  t.deepEqual([...new Float32Array(got.tensors[0].data.slice().buffer).subarray(0, 3)], [1, 1, 1]);
  t.deepEqual([...new Float32Array(kept.tensors[0].data.slice().buffer).subarray(0, 3)], [0, 0, 0], 'the reply still out is intact');
});

test('closing a link drops its transfer in progress, and frames that arrive after start none', (t) => {
  const { pool: p } = pool({ arena: new WasmArena(4 << 20) });
  const w = connect(p);
  w.say(hello());
  w.say(ready);
  const [link] = p.ready;
  void link.requests.request('compute', compute).catch(() => {});
  const frames = new FrameWriter({ maxFrameBytes: 64 * 1024 }).encode({ type: 'gradients', runId: 'run-1', step: 0, requestId: 0, sampleCount: 1, lossSum: 0, computeMs: 0, tensors: [tensorFromFloat32('a', [50_000], new Float32Array(50_000))] });
  w.events.message(frames[0]);
  t.is(link.reader.inProgress?.chunksReceived, 1);
  link.close('PROTO_ERR_BAD_FIELD');
  t.is(link.reader.inProgress, undefined, 'the transfer in progress was dropped');
  w.events.message(frames[1]); // was the next chunk: now an orphan, refused if it were read
  w.events.message(frames[0]);
  t.is(link.reader.inProgress, undefined, 'no new transfer started');
  t.deepEqual(w.closes, [{ code: 1002, reason: 'PROTO_ERR_BAD_FIELD' }]);
});

test('a bug of the coordinator drops only that worker, with COORD_ERR_INTERNAL (1011)', (t) => {
  const { pool: p, log } = pool({
    welcome: () => {
      throw new Error('boom');
    },
  });
  const w = connect(p);
  w.say(hello());
  t.deepEqual(w.closes, [{ code: 1011, reason: 'COORD_ERR_INTERNAL' }]);
  t.true(log.some((l) => l.includes('internal error') && l.includes('boom')));
});

test('shutdown tells every worker why and closes with the reason’s code', (t) => {
  const { pool: p } = pool();
  const w = connect(p);
  w.say(hello());
  w.say(ready);
  p.shutdown('COORD_SHUTDOWN', 'coordinator interrupted');
  t.like(w.received.at(-1), { type: 'shutdown', reason: 'coordinator interrupted' });
  t.deepEqual(w.closes, [{ code: 1001, reason: 'COORD_SHUTDOWN' }]);
  t.deepEqual(p.ready, []);
});

test('disconnect closes every worker with the reason’s code and no shutdown, so workers come back', (t) => {
  const { pool: p } = pool();
  const w = connect(p);
  w.say(hello());
  w.say(ready);
  const before = w.received.length;
  p.disconnect('COORD_SHUTDOWN');
  t.is(w.received.length, before, 'nothing sent: a shutdown would make the worker exit');
  t.deepEqual(w.closes, [{ code: 1001, reason: 'COORD_SHUTDOWN' }]);
  t.deepEqual(p.ready, []);
});

test('a missed deadline fails the request and drops the worker with COORD_ERR_DEADLINE (4000: it may rejoin)', async (t) => {
  const timers: (() => void)[] = [];
  const { pool: p } = pool({ deadline: { ms: 50, timers: { set: (fire) => timers.push(fire), clear: () => {} } } });
  const w = connect(p);
  w.say(hello());
  w.say(ready);
  const late = p.ready[0].requests.request('compute', compute);
  timers.forEach((fire) => fire());
  await t.throwsAsync(late, { message: /no reply to compute request 0 within 50 ms/ });
  t.deepEqual(w.closes, [{ code: 4000, reason: 'COORD_ERR_DEADLINE' }]);
  t.deepEqual(p.ready, []);
});

test('heartbeat: an idle ready worker silent for two intervals is dropped with COORD_ERR_UNRESPONSIVE; a busy one is not', async (t) => {
  const { pool: p, log } = pool();
  const idle = connect(p);
  idle.say(hello());
  idle.say(ready);
  const busy = connect(p);
  busy.say(hello());
  busy.say(ready);
  const [idleLink, busyLink] = p.ready;
  const pending = busyLink.requests.request('compute', compute);
  const beat = new Heartbeat(100);
  const t0 = idleLink.lastHeardAt;
  p.checkLiveness(beat, t0 + 100);
  t.is(idle.pings.length, 1, 'pinged');
  t.deepEqual(idle.closes, [], 'one interval of silence is not enough');
  idle.events.pong();
  const heard = idleLink.lastHeardAt;
  p.checkLiveness(beat, heard + 150);
  p.checkLiveness(beat, heard + 250);
  t.deepEqual(idle.closes, [{ code: 4000, reason: 'COORD_ERR_UNRESPONSIVE' }]);
  t.true(log.some((l) => /answered nothing for \d+ ms while idle/.test(l)));
  t.deepEqual(busy.closes, [], 'a worker busy on a request is judged by its deadline, not by pings');
  t.deepEqual(p.ready, [busyLink]);
  busyLink.close('COORD_SHUTDOWN');
  await t.throwsAsync(pending);
});

test('heartbeat: a late tick (the coordinator was blocked) judges nobody', (t) => {
  const { pool: p } = pool();
  const w = connect(p);
  w.say(hello());
  w.say(ready);
  const beat = new Heartbeat(100);
  const t0 = p.ready[0].lastHeardAt;
  p.checkLiveness(beat, t0 + 100);
  p.checkLiveness(beat, t0 + 5000);
  t.deepEqual(w.closes, [], 'pongs may be waiting unread after a stall');
  p.checkLiveness(beat, t0 + 5100);
  p.checkLiveness(beat, t0 + 5201);
  t.deepEqual(w.closes, [{ code: 4000, reason: 'COORD_ERR_UNRESPONSIVE' }]);
});

test("a worker's error report fails its pending request with its words, blaming the share, and drops it", async (t) => {
  const { pool: p } = pool();
  const w = connect(p);
  w.say(hello());
  w.say(ready);
  const pending = p.ready[0].requests.request('compute', compute);
  w.say({ type: 'error', code: 'WORKER_ERR_INTERNAL', message: 'inputIds holds 999' });
  const e = await t.throwsAsync(pending, { instanceOf: ShareFailure });
  t.true(e.blamesShare);
  t.is(e.workerId, 'w');
  t.regex(e.message, /WORKER_ERR_INTERNAL: inputIds holds 999/);
  t.deepEqual(w.closes, [{ code: 1011, reason: 'WORKER_ERR_FAULT' }]);
});

test('the status page rows: id, host, backend, state and the bytes each way; join and drop are reported once each, a worker that never got ready is no event', (t) => {
  const events: string[] = [];
  const { pool: p } = pool({ onWorkerEvent: (event, link) => events.push(`${event} ${link.workerId}`) });
  const w = connect(p);
  const stranger = connect(p);
  w.say(hello());
  w.say(ready);
  const [row] = p.rows();
  t.like(row, { index: 0, id: 'w', host: 'h', backend: 'cpu', state: 'ready', lastComputeSeconds: null });
  t.is(row.bytesIn, encodeMessage(hello()).byteLength + encodeMessage(ready).byteLength, 'every frame it sent');
  t.true(row.bytesOut > 0, 'welcome and state went out');
  t.like(p.rows()[1], { index: 1, id: '?', state: 'connected' });
  stranger.events.closed(1006, '');
  w.events.closed(1006, 'gone');
  t.deepEqual(events, ['join w', 'drop w']);
  t.deepEqual(p.rows(), []);
});
