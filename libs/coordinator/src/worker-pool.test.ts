import test from 'ava';
import { coordinatorMessageReader, encodeMessage, encodeSamples, PROTOCOL_VERSION, type CoordinatorToWorker, type StateMessage, type WelcomeMessage, type WorkerToCoordinator } from '@adalora/protocol';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool';

/** A connection without a socket: what the pool sent it, and how it closed it. */
function fakeConnection() {
  const reader = coordinatorMessageReader();
  const received: CoordinatorToWorker[] = [];
  const closes: { code: number; reason: string }[] = [];
  return {
    received,
    closes,
    connection: {
      send: (frame: Uint8Array) => {
        const m = reader.read(frame);
        if (m) received.push(m);
      },
      close: (code: number, reason: string) => void closes.push({ code, reason }),
    },
  };
}

const welcome = (workerIndex: number): WelcomeMessage => ({
  type: 'welcome',
  protocolVersion: PROTOCOL_VERSION,
  runId: 'run-1',
  workerIndex,
  run: { config: {}, modelPath: '/m', modelHash: 'hash-1', dataHash: 'd' },
});
const state: StateMessage = { type: 'state', runId: 'run-1', step: 0, tensors: [] };

function pool(overrides: Partial<WorkerPoolOptions> = {}) {
  const log: string[] = [];
  const p = new WorkerPool({ runId: 'run-1', modelHash: 'hash-1', welcome, state: () => state, deadline: { ms: 1000 }, log: (l) => log.push(l), ...overrides });
  return { pool: p, log };
}

/** A worker that connected; `say` sends it a message as the wire would carry it. */
function connect(p: WorkerPool) {
  const fake = fakeConnection();
  const events = p.accept(fake.connection, '10.0.0.1:5000');
  const say = (m: WorkerToCoordinator | Record<string, unknown>) => events.message(encodeMessage(m));
  return { ...fake, events, say };
}

const hello = (protocolVersion = PROTOCOL_VERSION): WorkerToCoordinator => ({ type: 'hello', protocolVersion, workerId: 'w', capabilities: { backend: 'cpu', memoryBytes: 1, hostname: 'h', pid: 1 } });
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

test('a missed deadline fails the request and drops the worker with COORD_ERR_DEADLINE (1008)', async (t) => {
  const timers: (() => void)[] = [];
  const { pool: p } = pool({ deadline: { ms: 50, timers: { set: (fire) => timers.push(fire), clear: () => {} } } });
  const w = connect(p);
  w.say(hello());
  w.say(ready);
  const late = p.ready[0].requests.request('compute', compute);
  timers.forEach((fire) => fire());
  await t.throwsAsync(late, { message: /no reply to compute request 0 within 50 ms/ });
  t.deepEqual(w.closes, [{ code: 1008, reason: 'COORD_ERR_DEADLINE' }]);
  t.deepEqual(p.ready, []);
});
