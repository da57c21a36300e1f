import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  authNonce,
  coordinatorMessageReader,
  encodeMessage,
  PROTOCOL_VERSION,
  splitIntoChunks,
  workerProof,
  type CoordinatorToWorker,
} from '@adalora/protocol';
import { runWorkerClient } from '@adalora/worker';
import { OPENSSL_MISSING, runLocalCluster, selfSignedCertificate, shortBuiltinConfig, type LocalClusterOptions, type LocalClusterResult } from '@adalora/test-support';

const SECRET = new TextEncoder().encode('the secret of this test run (32)');
const WRONG = new TextEncoder().encode('a guess at the secret, 32 bytes!');
const secured = { coordinator: { secret: SECRET, tls: null, insecure: false }, workerSecret: SECRET };

/** A short built-in run (as protocol-faults.test.ts): the same config gives the same bits. */
async function run(o: Omit<LocalClusterOptions, 'config' | 'workers'>): Promise<LocalClusterResult> {
  const out = mkdtempSync(join(tmpdir(), 'adalora-security-'));
  try {
    const config = shortBuiltinConfig(out);
    return await runLocalCluster({ ...o, config, workers: 1 });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

let cleanRun: Promise<LocalClusterResult> | undefined;
/** The losses of the plain run (no secret, no TLS, the coordinator's model folder): the reference. */
const cleanLosses = async () => (await (cleanRun ??= run({}))).reports.map((r) => r.loss);

/** A client that speaks raw frames: everything it received (bytes and messages) and how it ended. */
function rawClient(port: number, onMessage: (m: CoordinatorToWorker, ws: WebSocket) => void) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 * 1024 * 1024 });
  const reader = coordinatorMessageReader();
  const got = { bytes: 0, types: [] as string[], sent: [] as Uint8Array[] };
  ws.on('message', (data: Buffer) => {
    got.bytes += data.byteLength;
    const m = reader.read(data);
    if (m) {
      got.types.push(m.type);
      onMessage(m, ws);
    }
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const send = (frame: Uint8Array) => (got.sent.push(frame), ws.send(frame));
  return { ws, got, closed, send };
}

const helloFor = (challenge: Uint8Array, secret: Uint8Array, workerId: string) => {
  const nonce = authNonce();
  const proof = workerProof(secret, { coordinator: challenge, worker: nonce }, workerId);
  return encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, workerId, capabilities: { backend: 'cpu', memoryBytes: 1, hostname: 'h', pid: 1 }, nonce, proof });
};

test.serial('without the secret, with a wrong one or with a replayed handshake, a client gets nothing of the run and changes nothing', async (t) => {
  const log: string[] = [];
  const clients: { what: string; c: ReturnType<typeof rawClient> }[] = [];
  const attach = (what: string, port: number, on: (m: CoordinatorToWorker, c: ReturnType<typeof rawClient>) => void) => {
    const c: ReturnType<typeof rawClient> = rawClient(port, (m) => on(m, c));
    clients.push({ what, c });
  };
  let recordedHello: Uint8Array | undefined;
  let replayed: ReturnType<typeof rawClient> | undefined;
  let insider: ReturnType<typeof rawClient> | undefined;
  const result = await run({
    security: secured,
    log: (l) => log.push(l),
    onListening: (port) => {
      attach('no secret', port, (m, c) => m.type === 'challenge' && c.send(helloFor(m.nonce, new Uint8Array(0), 'x1')));
      attach('wrong secret', port, (m, c) => m.type === 'challenge' && c.send(helloFor(m.nonce, WRONG, 'x2')));
      attach('gradients without a hello', port, (m, c) => {
        if (m.type === 'challenge') c.send(encodeMessage({ type: 'gradients', runId: 'r', step: 0, requestId: 0, sampleCount: 1, lossSum: 1e30, computeMs: 0, tensors: [] }));
      });
      attach('a chunked transfer without a hello', port, (m, c) => {
        if (m.type === 'challenge') c.send(encodeMessage({ ...splitIntoChunks(new Uint8Array(4096), 'gradients', 0, 1024)[0], totalBytes: 200 * 1024 * 1024, count: 1000 }));
      });
      attach('a 2 MiB frame', port, (m, c) => m.type === 'challenge' && c.send(new Uint8Array(2 * 1024 * 1024)));
      // knows the secret, joins, and starts a chunked transfer while it owes no reply
      insider = rawClient(port, (m) => {
        if (m.type === 'challenge') insider!.send(helloFor(m.nonce, SECRET, 'insider'));
        if (m.type === 'welcome') insider!.send(encodeMessage({ ...splitIntoChunks(new Uint8Array(4000), 'gradients', 0, 2048)[0], totalBytes: 200 * 1024 * 1024, count: 200 }));
      });
      // an honest handshake, recorded; its hello replayed on a new connection (a fresh challenge)
      const honest = rawClient(port, (m) => {
        if (m.type === 'challenge') honest.send((recordedHello = helloFor(m.nonce, SECRET, 'recorded')));
        if (m.type === 'welcome') {
          honest.ws.close();
          replayed = rawClient(port, (r) => r.type === 'challenge' && replayed!.send(recordedHello!));
          clients.push({ what: 'replayed handshake', c: replayed });
        }
      });
    },
  });
  const ends = await Promise.all(clients.map(({ c }) => c.closed));
  t.is(clients.length, 6);
  for (const [i, { what, c }] of clients.entries()) {
    t.false(c.got.types.some((ty) => ty !== 'challenge' && ty !== 'reject'), `${what}: got only ${c.got.types.join(', ')}`);
    t.true(c.got.bytes < 1024, `${what}: received ${c.got.bytes} bytes, no config or adapter`);
    t.not(ends[i].code, 1000, `${what}: closed by the coordinator`);
  }
  const byWhat = Object.fromEntries(clients.map(({ what }, i) => [what, ends[i]]));
  for (const what of ['no secret', 'wrong secret', 'replayed handshake']) t.deepEqual(byWhat[what], { code: 1008, reason: 'PROTO_ERR_AUTH' }, what);
  t.is(byWhat['gradients without a hello'].reason, 'PROTO_ERR_UNEXPECTED');
  t.is(byWhat['a chunked transfer without a hello'].reason, 'PROTO_ERR_UNEXPECTED');
  t.is(byWhat['a 2 MiB frame'].code, 1009, 'refused by its header, before the payload is buffered');
  t.deepEqual(await insider!.closed, { code: 1008, reason: 'PROTO_ERR_UNEXPECTED' }, 'a transfer with no request outstanding is refused at its first chunk');
  t.deepEqual(insider!.got.types, ['challenge', 'authenticated', 'welcome']);
  t.true(result.workerExits.every((e) => e.ok), 'the real worker finished');
  t.deepEqual(result.reports.map((r) => r.loss), await cleanLosses(), 'the run equals the clean one bit for bit');
});

test.serial('a worker with the wrong secret is refused and stops; a coordinator without the secret is refused by the worker', async (t) => {
  // a fake coordinator: a challenge, then a proof it cannot make, then a welcome
  const { WebSocketServer } = await import('ws');
  const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const fakeGot: string[] = [];
  fake.on('connection', (ws) => {
    ws.send(encodeMessage({ type: 'challenge', protocolVersion: PROTOCOL_VERSION, nonce: authNonce() }));
    ws.on('message', () => {
      fakeGot.push('hello');
      ws.send(encodeMessage({ type: 'authenticated', proof: new Uint8Array(32) }));
      ws.send(encodeMessage({ type: 'shutdown', reason: 'a fake' }));
    });
  });
  await new Promise((r) => fake.once('listening', r));
  const fakePort = (fake.address() as { port: number }).port;
  const fooled = await runWorkerClient({ url: `ws://127.0.0.1:${fakePort}`, workerId: 'w', backend: 'cpu', secret: SECRET, maxRetries: 0, giveUpAfterMs: 5000, initialDelayMs: 10, maxDelayMs: 10, log: () => {} });
  fake.close();
  t.false(fooled.ok);
  t.regex(fooled.reason, /did not prove the run secret/);
  t.deepEqual(fakeGot, ['hello'], 'the worker proved itself, and took nothing from the fake');

  let wrong: ReturnType<typeof runWorkerClient> | undefined;
  await run({
    security: secured,
    onListening: (port) => {
      wrong = runWorkerClient({ url: `ws://127.0.0.1:${port}`, workerId: 'intruder', backend: 'cpu', secret: WRONG, maxRetries: 5, giveUpAfterMs: 5000, initialDelayMs: 10, maxDelayMs: 10, log: () => {} });
    },
  });
  const exit = await wrong!;
  t.false(exit.ok);
  t.regex(exit.reason, /refused this worker: the hello does not prove the run secret/);
});

test.serial('500 idle connections do not keep a real worker out', async (t) => {
  const idle: (Socket | WebSocket)[] = [];
  const started = Date.now();
  const result = await run({
    security: secured,
    onListening: (port) => {
      for (let i = 0; i < 250; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        idle.push(s);
        const ws = new WebSocket(`ws://127.0.0.1:${port}`);
        ws.on('error', () => {});
        idle.push(ws);
      }
    },
  });
  const seconds = (Date.now() - started) / 1000;
  for (const c of idle) c instanceof WebSocket ? c.terminate() : c.destroy();
  t.true(result.workerExits.every((e) => e.ok));
  t.deepEqual(result.reports.map((r) => r.loss), await cleanLosses());
  t.true(seconds < 120, `finished in ${seconds.toFixed(1)} s`);
  t.log(`with 500 idle connections: ${seconds.toFixed(1)} s`);
});

(OPENSSL_MISSING ? test.skip : test.serial)(`a TLS run, its worker fetching the model over https, trains to the same losses as a plain one${OPENSSL_MISSING ? ` [skipped: ${OPENSSL_MISSING}]` : ''}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-tls-'));
  try {
    const { cert, key } = selfSignedCertificate(dir, 'IP:127.0.0.1,DNS:localhost');
    const tls = { cert, key };
    const log: string[] = [];
    const result = await run({
      log: (l) => log.push(l),
      security: { coordinator: { secret: SECRET, tls, insecure: false }, workerSecret: SECRET, workerTls: { ca: tls.cert } },
      fetchModelInto: join(dir, 'cache'),
    });
    t.true(log.some((l) => l.includes('on wss://')), 'it served wss');
    t.true(log.some((l) => /fetched model\.safetensors/.test(l)), 'the model came over https');
    t.true(result.workerExits.every((e) => e.ok));
    t.deepEqual(result.reports.map((r) => r.loss), await cleanLosses());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('a worker with no model files fetches and checks them; a tampered cached file is fetched again', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'adalora-cache-'));
  try {
    const log: string[] = [];
    const first = await run({ security: secured, fetchModelInto: cache, log: (l) => log.push(l) });
    t.true(log.some((l) => /fetched model\.safetensors/.test(l)), 'the weights came from the coordinator');
    t.deepEqual(first.reports.map((r) => r.loss), await cleanLosses());
    const [modelHash] = readdirSync(cache);
    const weights = join(cache, modelHash, 'model.safetensors');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 1] ^= 0xff; // a flipped bit in the last weight: the same size, another hash
    writeFileSync(weights, bytes);
    const again: string[] = [];
    const second = await run({ security: secured, fetchModelInto: cache, log: (l) => again.push(l) });
    t.true(again.some((l) => /model\.safetensors does not match its hash/.test(l)), 'the tampered file was noticed');
    t.true(again.some((l) => /fetched model\.safetensors/.test(l)), 'and fetched again');
    t.false(again.some((l) => /fetched config\.json/.test(l)), 'an intact cached file is used as it is');
    t.deepEqual(second.reports.map((r) => r.loss), await cleanLosses());
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
