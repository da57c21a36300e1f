import test from 'ava';
import { ramp, workerSamples } from '@adalora/test-support';
import { decodeMessage, encodeMessage } from './codec';
import { isProtocolError, type ProtocolErrorCode } from './protocol-error';
import { float32FromTensor, tensorFromFloat32, type NamedTensor } from './wire-tensor';

function code(fn: () => unknown): ProtocolErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  return undefined;
}

test('the wire is plain MessagePack: a map, binary as bin 32, no extensions', (t) => {
  const msg = { type: 'heartbeat' };
  t.deepEqual([...encodeMessage(msg)], [0x81, 0xa4, ...Buffer.from('type'), 0xa9, ...Buffer.from('heartbeat')]);
  const big = encodeMessage({ d: new Uint8Array(70000) });
  t.deepEqual([...big.subarray(0, 4)], [0x81, 0xa1, 0x64, 0xc6]); // fixmap 1, "d", bin32
});

test('undefined fields are omitted, like an absent optional field', (t) => {
  t.deepEqual(decodeMessage(encodeMessage({ type: 'x', opt: undefined })), { type: 'x' });
});

test('earlier encodings are not overwritten by later ones', (t) => {
  const first = encodeMessage(workerSamples().gradients);
  const snapshot = new Uint8Array(first);
  for (let i = 0; i < 200; i++) encodeMessage({ type: 'x', data: tensorFromFloat32('y', [1000], ramp(1000, i)) });
  t.deepEqual(new Uint8Array(first), snapshot);
});

test('large binary round-trips', (t) => {
  const v = ramp(300_000);
  const u = decodeMessage(encodeMessage(tensorFromFloat32('big', [300_000], v))) as NamedTensor;
  t.deepEqual(float32FromTensor(u), v);
});

test('bad bytes are PROTO_ERR_MALFORMED, oversized ones PROTO_ERR_TOO_LARGE', (t) => {
  const good = encodeMessage({ type: 'heartbeat' });
  t.is(code(() => decodeMessage(new Uint8Array(0))), 'PROTO_ERR_MALFORMED');
  t.is(code(() => decodeMessage(good.subarray(0, good.length - 3))), 'PROTO_ERR_MALFORMED', 'truncated');
  const trailing = new Uint8Array(good.length + 1);
  trailing.set(good);
  t.is(code(() => decodeMessage(trailing)), 'PROTO_ERR_MALFORMED', 'trailing byte');
  t.is(code(() => decodeMessage(Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61))), 'PROTO_ERR_MALFORMED', 'str32 longer than the data');
  t.is(code(() => decodeMessage(good, good.length - 1)), 'PROTO_ERR_TOO_LARGE');
  t.is(code(() => decodeMessage(good, good.length)), undefined);
});

test('error messages never quote the payload', (t) => {
  const secret = 'SECRET-PAYLOAD-'.repeat(10);
  const bytes = encodeMessage({ type: secret });
  const trailing = new Uint8Array(bytes.length + 1);
  trailing.set(bytes);
  const e = t.throws(() => decodeMessage(trailing));
  t.false(e!.message.includes('SECRET'));
});
