import test from 'ava';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { authNonce, CLOSE_CODES, encodeMessage, PROTOCOL_VERSION } from '@adalora/protocol';
import { runWorkerClient } from './worker-client';

/** A server that closes the n-th connection, once it said hello, with the n-th of `closes`. */
async function closingServer(closes: readonly (keyof typeof CLOSE_CODES)[]): Promise<{ port: number; connections: () => number; stop: () => Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  let n = 0;
  server.on('connection', (socket) => {
    // a coordinator opens with a challenge; the worker says hello only then
    socket.send(encodeMessage({ type: 'challenge', protocolVersion: PROTOCOL_VERSION, nonce: authNonce() }));
    const reason = closes[Math.min(n++, closes.length - 1)];
    socket.once('message', () => socket.close(CLOSE_CODES[reason], reason));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => n, stop: () => new Promise((r) => server.close(() => r())) };
}

const client = (port: number, log: string[]) =>
  runWorkerClient({ url: `ws://127.0.0.1:${port}`, workerId: 'w', backend: 'cpu', secret: null, maxRetries: 3, giveUpAfterMs: 60_000, initialDelayMs: 10, maxDelayMs: 20, log: (l) => log.push(l) });

test('dropped for a deadline or silence (4000), the worker rejoins; refused (1008), it stops for good', async (t) => {
  const server = await closingServer(['COORD_ERR_DEADLINE', 'COORD_ERR_UNRESPONSIVE', 'PROTO_ERR_UNEXPECTED']);
  try {
    const log: string[] = [];
    const exit = await client(server.port, log);
    t.false(exit.ok);
    t.regex(exit.reason, /coordinator refused this worker \(closed 1008 PROTO_ERR_UNEXPECTED\)/);
    t.is(server.connections(), 3, 'it came back after each drop, not after the refusal');
    t.true(log.includes('dropped by the coordinator (closed 4000 COORD_ERR_DEADLINE); rejoining'));
    t.true(log.includes('dropped by the coordinator (closed 4000 COORD_ERR_UNRESPONSIVE); rejoining'));
  } finally {
    await server.stop();
  }
});
