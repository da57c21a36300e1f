import test from 'ava';
import {
  authNonce,
  CLOSE_CODES,
  coordinatorProof,
  decodeMessage,
  encodeMessage,
  parseCoordinatorMessage,
  PROTOCOL_VERSION,
  splitIntoChunks,
  workerProof,
  type CoordinatorToWorker,
} from '@adalora/protocol';
import { ConnectionGate, PRE_AUTH_MAX_FRAME_BYTES, type GateTarget } from './connection-gate';
import type { ConnectionEvents } from './worker-pool';

const SECRET = new TextEncoder().encode('the secret of this run, 32 bytes');
const WRONG = new TextEncoder().encode('not the secret of this run, 32 b');

/** A gate in front of a target that records what it was handed. */
function gate(secret: Uint8Array | null = SECRET, maxConnections = 8) {
  const handed: Uint8Array[] = [];
  const log: string[] = [];
  const tokens = new Set<string>();
  const target: GateTarget = {
    accept: (): ConnectionEvents => ({ message: (d) => void handed.push(d), pong: () => {}, closed: () => {}, error: () => {} }),
  };
  const g = new ConnectionGate(target, { secret, maxConnections, log: (l) => log.push(l), tokens: { grant: (t) => tokens.add(t), revoke: (t) => tokens.delete(t) } });
  return { g, handed, log, tokens };
}

/** A peer on a fake connection: what it received (decoded and raw), how it was closed. */
function peer(g: ConnectionGate) {
  const frames: Uint8Array[] = [];
  const state = { closedWith: null as { code: number; reason: string } | null, authenticated: false };
  const events = g.accept(
    { send: (f) => void frames.push(f), close: (code, reason) => (state.closedWith = { code, reason }), authenticated: () => (state.authenticated = true) },
    '10.0.0.9:4000',
  );
  const received = () => frames.map((f) => parseCoordinatorMessage(decodeMessage(f)));
  const challenge = () => received()[0] as Extract<CoordinatorToWorker, { type: 'challenge' }>;
  const hello = (secret: Uint8Array, workerId = 'w-1', nonce = authNonce()) => {
    const nonces = { coordinator: challenge().nonce, worker: nonce };
    return encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, workerId, capabilities: { backend: 'cpu', memoryBytes: 1, hostname: 'h', pid: 1 }, nonce, proof: workerProof(secret, nonces, workerId) });
  };
  return { events, frames, state, received, challenge, hello };
}

test('a connection gets a fresh challenge first; the right proof is answered with the coordinator’s proof and handed on', (t) => {
  const { g, handed, tokens } = gate();
  const p = peer(g);
  const q = peer(g);
  t.is(p.challenge().type, 'challenge');
  t.notDeepEqual(p.challenge().nonce, q.challenge().nonce, 'a nonce per connection');
  const nonce = authNonce();
  const frame = p.hello(SECRET, 'w-1', nonce);
  p.events.message(frame);
  const auth = p.received()[1];
  if (auth.type !== 'authenticated') return t.fail();
  t.deepEqual([...auth.proof], [...coordinatorProof(SECRET, { coordinator: p.challenge().nonce, worker: nonce })], 'mutual: the coordinator proves the secret too');
  t.true(p.state.authenticated);
  t.deepEqual(handed, [frame], 'the hello went on to the pool, which sends the welcome');
  t.is(tokens.size, 1, 'a model-file token while the connection lives');
  p.events.closed(1000, '');
  t.is(tokens.size, 0);
});

test('a wrong secret, no secret or a replayed hello gets a reject and a close, nothing else', (t) => {
  const { g, handed, log } = gate();
  const recorded = peer(g);
  const recordedHello = recorded.hello(SECRET, 'w-1');
  recorded.events.message(recordedHello);
  recorded.events.closed(1000, '');
  const cases = [
    ['wrong secret', (p: ReturnType<typeof peer>) => p.hello(WRONG)],
    ['no secret', (p: ReturnType<typeof peer>) => p.hello(new Uint8Array(0))],
    ['replayed', () => recordedHello],
  ] as const;
  for (const [what, make] of cases) {
    const p = peer(g);
    p.events.message(make(p));
    t.deepEqual(p.received().map((m) => m.type), ['challenge', 'reject'], what);
    t.like(p.received()[1], { code: 'PROTO_ERR_AUTH' });
    t.deepEqual(p.state.closedWith, { code: CLOSE_CODES.PROTO_ERR_AUTH, reason: 'PROTO_ERR_AUTH' }, what);
    t.false(p.state.authenticated);
    p.events.message(p.hello(SECRET)); // too late: the connection is closed
  }
  t.is(handed.length, 1, 'only the recorded (honest) connection reached the pool');
  t.is(log.filter((l) => l.includes('PROTO_ERR_AUTH')).length, 3);
});

test('before authenticating: large frames are refused before decoding, chunks and other messages are refused', (t) => {
  const { g, handed } = gate();
  const big = peer(g);
  big.events.message(new Uint8Array(PRE_AUTH_MAX_FRAME_BYTES + 1).fill(0xc1)); // not even MessagePack: never decoded
  t.is(big.state.closedWith?.reason, 'PROTO_ERR_TOO_LARGE');
  const chunk = peer(g);
  chunk.events.message(encodeMessage(splitIntoChunks(new Uint8Array(5000), 'gradients', 0, 1024)[0]));
  t.is(chunk.state.closedWith?.reason, 'PROTO_ERR_UNEXPECTED');
  const eager = peer(g);
  eager.events.message(encodeMessage({ type: 'gradients', runId: 'r', step: 0, requestId: 0, sampleCount: 0, lossSum: 0, computeMs: 0, tensors: [] }));
  t.is(eager.state.closedWith?.reason, 'PROTO_ERR_UNEXPECTED');
  t.is(handed.length, 0);
});

test('one live connection per worker id, and at most maxConnections; both say try again later', (t) => {
  const { g } = gate(SECRET, 2);
  const first = peer(g);
  first.events.message(first.hello(SECRET, 'w-1'));
  const twin = peer(g);
  twin.events.message(twin.hello(SECRET, 'w-1'));
  t.like(twin.received()[1], { type: 'reject', code: 'COORD_ERR_DUPLICATE_ID' });
  t.is(twin.state.closedWith?.code, 1013);
  const second = peer(g);
  second.events.message(second.hello(SECRET, 'w-2'));
  const third = peer(g);
  third.events.message(third.hello(SECRET, 'w-3'));
  t.like(third.received()[1], { type: 'reject', code: 'COORD_ERR_FULL' });
  first.events.closed(1006, '');
  const back = peer(g);
  back.events.message(back.hello(SECRET, 'w-1'));
  t.is(back.received()[1].type, 'authenticated', 'the id is free once its connection is gone');
});

test('without a secret (loopback), any proof passes', (t) => {
  const { g, handed } = gate(null);
  const p = peer(g);
  p.events.message(p.hello(WRONG));
  t.is(p.received()[1].type, 'authenticated');
  t.is(handed.length, 1);
});
