import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  authNonce,
  coordinatorMessageReader,
  encodeMessage,
  MODEL_FILES_PATH,
  modelFileToken,
  PROTOCOL_VERSION,
  splitIntoChunks,
  workerProof,
  type CoordinatorToWorker,
} from '@adalora/protocol';
import { ConnectionGate } from './connection-gate';
import { ModelFileServer } from './model-files';
import { WorkerServer } from './worker-server';
import type { ConnectionEvents } from './worker-pool';

const SECRET = new TextEncoder().encode('the secret of the server test!!!');

/** A server with a gate in front of a target that only counts what it was handed. */
async function serve(handshakeTimeoutMs = 5000) {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-server-'));
  writeFileSync(join(dir, 'config.json'), '{"model_type": "bert"}');
  writeFileSync(join(dir, 'notes.txt'), 'not a model file');
  const files = await ModelFileServer.of(dir);
  const handed: Uint8Array[] = [];
  const target = { accept: (): ConnectionEvents => ({ message: (d) => void handed.push(d), pong: () => {}, closed: () => {}, error: () => {} }) };
  const gate = new ConnectionGate(target, { secret: SECRET, maxConnections: 4, tokens: files, log: () => {} });
  const server = new WorkerServer({ host: '127.0.0.1', port: 0, tls: null, handshakeTimeoutMs, files }, gate);
  const port = await server.listening();
  return { server, port, files, handed, done: async () => (await server.close(0), rmSync(dir, { recursive: true, force: true })) };
}

function client(port: number, onMessage: (m: CoordinatorToWorker, ws: WebSocket) => void = () => {}, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 * 1024 * 1024, ...options });
  const reader = coordinatorMessageReader();
  ws.on('message', (data: Buffer) => {
    const m = reader.read(data);
    if (m) onMessage(m, ws);
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, closed };
}

function get(port: number, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

test('clients that never authenticate cannot make the server buffer more than a frame bound', async (t) => {
  const { port, handed, done } = await serve();
  try {
    // what the clients send is made before the baseline and sent with a zero masking key (ws then
    // sends it as is): the process's memory is the clients' too, and only the server's may count
    const underBound = new Uint8Array(1024 * 1024 - 64); // under ws's bound: refused by size, not decoded
    const overBound = new Uint8Array(8 * 1024 * 1024); // over it: refused from the frame header
    // a small first chunk of a transfer that says 250 MB are coming
    const hugeTransfer = encodeMessage({ ...splitIntoChunks(new Uint8Array(4000), 'gradients', 0, 2048)[0], totalBytes: 250 * 1024 * 1024, count: 250 });
    const before = process.memoryUsage().arrayBuffers;
    const ends = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const payload = [underBound, overBound, hugeTransfer][i % 3];
        const c = client(port, (m, ws) => {
          if (m.type === 'challenge') ws.send(payload);
        }, { generateMask: (key) => key.fill(0) });
        return c.closed;
      }),
    );
    t.deepEqual(new Set(ends.map((e) => e.reason)), new Set(['PROTO_ERR_TOO_LARGE', '', 'PROTO_ERR_UNEXPECTED']));
    t.true(ends.filter((_, i) => i % 3 === 1).every((e) => e.code === 1009));
    t.is(handed.length, 0);
    const grown = (process.memoryUsage().arrayBuffers - before) / 2 ** 20;
    t.true(grown < 64, `array buffers grew ${grown.toFixed(1)} MiB for 24 hostile clients`);
  } finally {
    await done();
  }
});

test('a connection that does not authenticate by the deadline is closed, an upgraded one with a reason', async (t) => {
  const { port, done } = await serve(300);
  try {
    const raw = connect(port, '127.0.0.1');
    raw.on('error', () => {});
    const rawClosed = new Promise<void>((r) => raw.on('close', () => r()));
    const idle = client(port);
    const started = Date.now();
    t.like(await idle.closed, { code: 1013, reason: 'COORD_ERR_HANDSHAKE_DEADLINE' });
    await rawClosed;
    t.true(Date.now() - started < 3000);
  } finally {
    await done();
  }
});

test('model files go only to a live authenticated connection, by hash', async (t) => {
  const { port, files, done } = await serve();
  try {
    t.deepEqual(files.manifest.map((f) => f.name), ['config.json'], 'only files a worker needs are served');
    const url = `${MODEL_FILES_PATH}/${files.manifest[0].sha256}`;
    t.is((await get(port, url)).status, 401, 'no token');
    t.is((await get(port, url, 'ab'.repeat(32))).status, 401, 'a made-up token');
    let token = '';
    const authed = new Promise<void>((resolve) => {
      client(port, (m, ws) => {
        if (m.type !== 'challenge') return;
        const nonce = authNonce();
        const nonces = { coordinator: m.nonce, worker: nonce };
        token = modelFileToken(SECRET, nonces);
        ws.send(encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, workerId: 'w', capabilities: { backend: 'cpu', memoryBytes: 1, hostname: 'h', pid: 1 }, nonce, proof: workerProof(SECRET, nonces, 'w') }));
        setTimeout(resolve, 100);
      });
    });
    await authed;
    t.deepEqual(await get(port, url, token), { status: 200, body: '{"model_type": "bert"}' });
    t.is((await get(port, `${MODEL_FILES_PATH}/${'0'.repeat(64)}`, token)).status, 404, 'an unknown hash');
    t.is((await get(port, '/anything-else', token)).status, 404);
  } finally {
    await done();
  }
});

test('closing does not wait for a half-sent HTTP request or an idle WebSocket', async (t) => {
  const { server, port, done } = await serve(600_000);
  const half = connect(port, '127.0.0.1', () => half.write('GET / HTTP/1.1\r\nHost: x\r\n'));
  half.on('error', () => {});
  const idle = client(port);
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await server.close(); // the default grace is for workers only, not for clients that never authenticated
  await idle.closed;
  t.true(Date.now() - started < 500, `closed in ${Date.now() - started} ms`);
  await done();
});

test('a port in use is reported by listening(), naming the address', async (t) => {
  const first = await serve();
  const gate = new ConnectionGate({ accept: () => ({ message: () => {}, pong: () => {}, closed: () => {}, error: () => {} }) }, { secret: SECRET, maxConnections: 1, log: () => {} });
  const second = new WorkerServer({ host: '127.0.0.1', port: first.port, tls: null, handshakeTimeoutMs: 1000, files: null }, gate);
  try {
    await new Promise((r) => setTimeout(r, 50)); // the error may come before anyone asks
    await t.throwsAsync(second.listening(), { message: new RegExp(`cannot listen on 127\\.0\\.0\\.1:${first.port}: .*EADDRINUSE`) });
  } finally {
    await second.close(0);
    await first.done();
  }
});
