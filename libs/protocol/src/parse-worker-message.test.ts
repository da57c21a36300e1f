import test from 'ava';
import { DELETE, ramp, withField, workerSamples } from '@adalora/test-support';
import { decodeMessage, encodeMessage } from './codec';
import { PROTOCOL_LIMITS } from './limits';
import { PROTOCOL_VERSION, WORKER_MESSAGE_TYPES, type WorkerToCoordinator } from './messages';
import { parseWorkerMessage } from './parse-worker-message';
import { isProtocolError, type ProtocolErrorCode } from './protocol-error';
import { tensorFromFloat32 } from './wire-tensor';

const wire = (msg: object): unknown => decodeMessage(encodeMessage(msg));

/** Binary fields compare by content (decoded ones are Buffer views into the frame). */
function plain(u: unknown): unknown {
  if (u instanceof Uint8Array) return [...u];
  if (Array.isArray(u)) return u.map(plain);
  if (typeof u === 'object' && u !== null) return Object.fromEntries(Object.entries(u).map(([k, v]) => [k, plain(v)]));
  return u;
}

const NAN_F32 = (() => {
  const w = tensorFromFloat32('x', [2, 3], ramp(6));
  const data = new Uint8Array(w.data);
  data.set(new Uint8Array(Float32Array.of(NaN).buffer), 8);
  return data;
})();
const INF_F16 = Uint8Array.of(0x00, 0x3c, 0x00, 0x7c); // [1, +Inf]

test('every worker message type has a sample that round-trips through encode/decode/parse', (t) => {
  const samples = workerSamples();
  t.deepEqual(Object.keys(samples).sort(), [...WORKER_MESSAGE_TYPES].sort());
  for (const msg of Object.values(samples) as WorkerToCoordinator[]) {
    const parsed = parseWorkerMessage(wire(msg));
    t.deepEqual(plain(parsed), plain(msg), msg.type);
  }
});

test('the guard returns only known fields and keeps tensor bytes', (t) => {
  const g = parseWorkerMessage(wire(workerSamples().gradients));
  if (g.type !== 'gradients') return t.fail();
  t.is(g.tensors.length, 3);
  t.is(g.tensors[1].dtype, 'float16');
  t.is(g.tensors[1].data.byteLength, 4);
});

// [description, message, path, value, expected code, expected field]
type Case = [string, keyof ReturnType<typeof workerSamples>, (string | number)[], unknown, ProtocolErrorCode, string?];
const cases: Case[] = [
  ['hello: other version', 'hello', ['protocolVersion'], PROTOCOL_VERSION + 1, 'PROTO_ERR_VERSION', 'protocolVersion'],
  ['hello: version not an integer', 'hello', ['protocolVersion'], '1', 'PROTO_ERR_BAD_FIELD', 'protocolVersion'],
  ['hello: version missing', 'hello', ['protocolVersion'], DELETE, 'PROTO_ERR_BAD_FIELD', 'protocolVersion'],
  ['hello: workerId empty', 'hello', ['workerId'], '', 'PROTO_ERR_BAD_FIELD', 'workerId'],
  ['hello: workerId too long', 'hello', ['workerId'], 'w'.repeat(PROTOCOL_LIMITS.maxIdChars + 1), 'PROTO_ERR_BAD_FIELD', 'workerId'],
  ['hello: workerId a number', 'hello', ['workerId'], 7, 'PROTO_ERR_BAD_FIELD', 'workerId'],
  ['hello: capabilities missing', 'hello', ['capabilities'], DELETE, 'PROTO_ERR_BAD_FIELD', 'capabilities'],
  ['hello: capabilities an array', 'hello', ['capabilities'], [], 'PROTO_ERR_BAD_FIELD', 'capabilities'],
  ['hello: backend empty', 'hello', ['capabilities', 'backend'], '', 'PROTO_ERR_BAD_FIELD', 'capabilities.backend'],
  ['hello: memoryBytes negative', 'hello', ['capabilities', 'memoryBytes'], -1, 'PROTO_ERR_BAD_FIELD', 'capabilities.memoryBytes'],
  ['hello: memoryBytes fractional', 'hello', ['capabilities', 'memoryBytes'], 1.5, 'PROTO_ERR_BAD_FIELD', 'capabilities.memoryBytes'],
  ['hello: hostname a number', 'hello', ['capabilities', 'hostname'], 5, 'PROTO_ERR_BAD_FIELD', 'capabilities.hostname'],
  ['hello: pid a string', 'hello', ['capabilities', 'pid'], '12', 'PROTO_ERR_BAD_FIELD', 'capabilities.pid'],
  ['hello: extra capability', 'hello', ['capabilities', 'gpu'], true, 'PROTO_ERR_BAD_FIELD', 'capabilities'],
  ['hello: extra field', 'hello', ['extra'], 1, 'PROTO_ERR_BAD_FIELD'],
  ['hello: nonce missing', 'hello', ['nonce'], DELETE, 'PROTO_ERR_BAD_FIELD', 'nonce'],
  ['hello: nonce too short', 'hello', ['nonce'], new Uint8Array(31), 'PROTO_ERR_BAD_FIELD', 'nonce'],
  ['hello: nonce a string', 'hello', ['nonce'], 'x'.repeat(32), 'PROTO_ERR_BAD_FIELD', 'nonce'],
  ['hello: proof missing', 'hello', ['proof'], DELETE, 'PROTO_ERR_BAD_FIELD', 'proof'],
  ['hello: proof too long', 'hello', ['proof'], new Uint8Array(33), 'PROTO_ERR_BAD_FIELD', 'proof'],
  ['hello: proof an array', 'hello', ['proof'], Array(32).fill(0), 'PROTO_ERR_BAD_FIELD', 'proof'],
  ['ready: runId missing', 'ready', ['runId'], DELETE, 'PROTO_ERR_BAD_FIELD', 'runId'],
  ['ready: modelHash a number', 'ready', ['modelHash'], 7, 'PROTO_ERR_BAD_FIELD', 'modelHash'],
  ['ready: loadMs negative', 'ready', ['loadMs'], -1, 'PROTO_ERR_BAD_FIELD', 'loadMs'],
  ['ready: loadMs NaN', 'ready', ['loadMs'], NaN, 'PROTO_ERR_NON_FINITE', 'loadMs'],
  ['ready: loadMs Inf', 'ready', ['loadMs'], Infinity, 'PROTO_ERR_NON_FINITE', 'loadMs'],
  ['gradients: runId empty', 'gradients', ['runId'], '', 'PROTO_ERR_BAD_FIELD', 'runId'],
  ['gradients: step negative', 'gradients', ['step'], -1, 'PROTO_ERR_BAD_FIELD', 'step'],
  ['gradients: step fractional', 'gradients', ['step'], 1.5, 'PROTO_ERR_BAD_FIELD', 'step'],
  ['gradients: requestId a string', 'gradients', ['requestId'], 'a', 'PROTO_ERR_BAD_FIELD', 'requestId'],
  ['gradients: requestId unsafe', 'gradients', ['requestId'], 2 ** 60, 'PROTO_ERR_BAD_FIELD', 'requestId'],
  ['gradients: sampleCount negative', 'gradients', ['sampleCount'], -1, 'PROTO_ERR_BAD_FIELD', 'sampleCount'],
  ['gradients: lossSum NaN', 'gradients', ['lossSum'], NaN, 'PROTO_ERR_NON_FINITE', 'lossSum'],
  ['gradients: lossSum a string', 'gradients', ['lossSum'], '1', 'PROTO_ERR_BAD_FIELD', 'lossSum'],
  ['gradients: computeMs negative', 'gradients', ['computeMs'], -5, 'PROTO_ERR_BAD_FIELD', 'computeMs'],
  ['gradients: tensors not an array', 'gradients', ['tensors'], {}, 'PROTO_ERR_BAD_FIELD', 'tensors'],
  ['gradients: tensor not an object', 'gradients', ['tensors', 0], 3, 'PROTO_ERR_BAD_FIELD', 'tensors[0]'],
  ['gradients: unknown dtype', 'gradients', ['tensors', 0, 'dtype'], 'bfloat16', 'PROTO_ERR_BAD_FIELD', 'tensors[0].dtype'],
  ['gradients: int32 gradient', 'gradients', ['tensors', 0, 'dtype'], 'int32', 'PROTO_ERR_BAD_FIELD', 'tensors[0].dtype'],
  ['gradients: negative dimension', 'gradients', ['tensors', 0, 'shape'], [-2, -3], 'PROTO_ERR_BAD_FIELD', 'tensors[0].shape[0]'],
  ['gradients: fractional dimension', 'gradients', ['tensors', 0, 'shape'], [2, 1.5], 'PROTO_ERR_BAD_FIELD', 'tensors[0].shape[1]'],
  ['gradients: rank 9', 'gradients', ['tensors', 0, 'shape'], [1, 1, 1, 1, 1, 1, 1, 2, 3], 'PROTO_ERR_BAD_FIELD', 'tensors[0].shape'],
  ['gradients: shape not an array', 'gradients', ['tensors', 0, 'shape'], 6, 'PROTO_ERR_BAD_FIELD', 'tensors[0].shape'],
  ['gradients: shape × 4 ≠ bytes', 'gradients', ['tensors', 0, 'shape'], [3, 3], 'PROTO_ERR_BAD_FIELD', 'tensors[0].data'],
  ['gradients: data not binary', 'gradients', ['tensors', 0, 'data'], [1, 2, 3], 'PROTO_ERR_BAD_FIELD', 'tensors[0].data'],
  ['gradients: NaN in float32 data', 'gradients', ['tensors', 0, 'data'], NAN_F32, 'PROTO_ERR_NON_FINITE', 'tensors[0].data'],
  ['gradients: Inf in float16 data', 'gradients', ['tensors', 1, 'data'], INF_F16, 'PROTO_ERR_NON_FINITE', 'tensors[1].data'],
  ['gradients: duplicate name', 'gradients', ['tensors', 1, 'name'], 'bert.encoder.layer.0.attention.self.query.lora_A', 'PROTO_ERR_BAD_FIELD', 'tensors[1].name'],
  ['gradients: empty name', 'gradients', ['tensors', 0, 'name'], '', 'PROTO_ERR_BAD_FIELD', 'tensors[0].name'],
  ['gradients: name too long', 'gradients', ['tensors', 0, 'name'], 'n'.repeat(PROTOCOL_LIMITS.maxNameChars + 1), 'PROTO_ERR_BAD_FIELD', 'tensors[0].name'],
  ['gradients: name missing', 'gradients', ['tensors', 0, 'name'], DELETE, 'PROTO_ERR_BAD_FIELD', 'tensors[0].name'],
  ['gradients: extra tensor field', 'gradients', ['tensors', 0, 'strides'], [3, 1], 'PROTO_ERR_BAD_FIELD', 'tensors[0]'],
  ['evalResult: requestId negative', 'evalResult', ['requestId'], -1, 'PROTO_ERR_BAD_FIELD', 'requestId'],
  ['evalResult: no sample ids', 'evalResult', ['sampleIds'], [], 'PROTO_ERR_BAD_FIELD', 'sampleIds'],
  ['evalResult: negative sample id', 'evalResult', ['sampleIds', 1], -3, 'PROTO_ERR_BAD_FIELD', 'sampleIds[1]'],
  ['evalResult: sample id a string', 'evalResult', ['sampleIds', 0], '7', 'PROTO_ERR_BAD_FIELD', 'sampleIds[0]'],
  ['evalResult: rows ≠ sample ids', 'evalResult', ['sampleIds'], [1, 2, 3], 'PROTO_ERR_BAD_FIELD', 'outputs.shape'],
  ['evalResult: float16 outputs', 'evalResult', ['outputs', 'dtype'], 'float16', 'PROTO_ERR_BAD_FIELD', 'outputs.dtype'],
  ['evalResult: outputs rank 1', 'evalResult', ['outputs', 'shape'], [4], 'PROTO_ERR_BAD_FIELD', 'outputs.shape'],
  ['evalResult: outputs NaN', 'evalResult', ['outputs', 'data'], new Uint8Array(new Float32Array([0, 1, NaN, 2]).buffer), 'PROTO_ERR_NON_FINITE', 'outputs.data'],
  ['evalResult: outputs missing', 'evalResult', ['outputs'], DELETE, 'PROTO_ERR_BAD_FIELD', 'outputs'],
  ['error: code lower case', 'error', ['code'], 'oops', 'PROTO_ERR_BAD_FIELD', 'code'],
  ['error: code too long', 'error', ['code'], 'E'.repeat(65), 'PROTO_ERR_BAD_FIELD', 'code'],
  ['error: message too long', 'error', ['message'], 'm'.repeat(PROTOCOL_LIMITS.maxTextChars + 1), 'PROTO_ERR_BAD_FIELD', 'message'],
  ['error: message a number', 'error', ['message'], 3, 'PROTO_ERR_BAD_FIELD', 'message'],
  ['heartbeat: extra field', 'heartbeat', ['seq'], 1, 'PROTO_ERR_BAD_FIELD'],
];

for (const [what, type, path, value, code, field] of cases) {
  test(`refuses ${what}`, (t) => {
    const msg = withField(workerSamples()[type], path, value);
    const e = t.throws(() => parseWorkerMessage(wire(msg)));
    t.true(isProtocolError(e), `not a ProtocolError: ${e?.message}`);
    if (!isProtocolError(e)) return;
    t.is(e.code, code, e.message);
    t.is(e.messageType, type);
    if (field !== undefined) t.is(e.field, field, e.message);
    t.true(e.message.startsWith(`${type}`), e.message);
    t.true(e.message.length < 300, 'the message stays short (no payload)');
  });
}

test("with gradientValues 'unchecked', gradient values reach the consumer unread (it checks them); every other check holds", (t) => {
  for (const [index, data] of [[0, NAN_F32], [1, INF_F16]] as const) {
    const msg = withField(workerSamples().gradients, ['tensors', index, 'data'], data);
    const parsed = parseWorkerMessage(wire(msg), 'unchecked');
    t.is(parsed.type, 'gradients');
    if (parsed.type === 'gradients') t.deepEqual([...parsed.tensors[index].data], [...data], 'the bytes as sent');
    t.throws(() => parseWorkerMessage(wire(msg)), { message: /element \d+ is NaN or infinite/ }, 'checked by default');
  }
  const nanLoss = withField(workerSamples().gradients, ['lossSum'], NaN);
  t.throws(() => parseWorkerMessage(wire(nanLoss), 'unchecked'), { message: /lossSum/ }, 'numbers outside tensors are still checked');
  const badEval = withField(workerSamples().evalResult, ['outputs', 'data'], new Uint8Array(new Float32Array([0, 1, NaN, 2]).buffer));
  t.throws(() => parseWorkerMessage(wire(badEval), 'unchecked'), { message: /NaN or infinite/ }, 'other messages’ tensors are still checked');
  const shortData = withField(workerSamples().gradients, ['tensors', 0, 'data'], new Uint8Array(4));
  t.throws(() => parseWorkerMessage(wire(shortData), 'unchecked'), { message: /needs \d+ bytes/ }, 'shapes and sizes are still checked');
});

test('a hello of another version is refused as VERSION even when its other fields differ', (t) => {
  const e = t.throws(() => parseWorkerMessage(wire({ type: 'hello', protocolVersion: 99, id: 'x' })));
  t.true(isProtocolError(e, 'PROTO_ERR_VERSION'));
});

test('envelope faults: not an object, no type, unknown or wrong-direction type', (t) => {
  const codeOf = (u: unknown) => {
    try {
      parseWorkerMessage(u);
    } catch (e) {
      return isProtocolError(e) ? e.code : 'not a ProtocolError';
    }
    return 'accepted';
  };
  t.is(codeOf(wire([1, 2])), 'PROTO_ERR_MALFORMED');
  t.is(codeOf(42), 'PROTO_ERR_MALFORMED');
  t.is(codeOf(null), 'PROTO_ERR_MALFORMED');
  t.is(codeOf(new Date()), 'PROTO_ERR_MALFORMED');
  t.is(codeOf(wire({ kind: 'hello' })), 'PROTO_ERR_MALFORMED');
  t.is(codeOf(wire({ type: 7 })), 'PROTO_ERR_MALFORMED');
  t.is(codeOf(wire({ type: 'welcome' })), 'PROTO_ERR_UNKNOWN_TYPE');
  t.is(codeOf(wire({ type: 'toString' })), 'PROTO_ERR_UNKNOWN_TYPE');
  t.is(codeOf(wire({ type: 'chunk' })), 'PROTO_ERR_UNKNOWN_TYPE');
});

test('a type inherited from a prototype is not a type', (t) => {
  const o = Object.create({ type: 'heartbeat' }) as object;
  const e = t.throws(() => parseWorkerMessage(o));
  t.true(isProtocolError(e, 'PROTO_ERR_MALFORMED'));
});

test('more tensors than the limit is PROTO_ERR_TOO_LARGE', (t) => {
  const one = tensorFromFloat32('t', [1], Float32Array.of(1));
  const tensors = Array.from({ length: PROTOCOL_LIMITS.maxTensors + 1 }, (_, i) => ({ ...one, name: `t${i}` }));
  const e = t.throws(() => parseWorkerMessage({ ...workerSamples().gradients, tensors }));
  t.true(isProtocolError(e, 'PROTO_ERR_TOO_LARGE'));
});

test('a 64-bit integer that is not a safe number is refused', (t) => {
  const e = t.throws(() => parseWorkerMessage({ ...workerSamples().ready, loadMs: 10n }));
  t.true(isProtocolError(e, 'PROTO_ERR_BAD_FIELD'));
});
