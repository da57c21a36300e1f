import test from 'ava';
import { coordinatorSamples, DELETE, withField } from '@adalora/test-support';
import { decodeMessage, encodeMessage } from './codec';
import { PROTOCOL_LIMITS } from './limits';
import { COORDINATOR_MESSAGE_TYPES, PROTOCOL_VERSION, type CoordinatorToWorker } from './messages';
import { parseCoordinatorMessage } from './parse-coordinator-message';
import { isProtocolError, type ProtocolErrorCode } from './protocol-error';
import { decodeSamples, encodeSamples } from './sample-batch';
import { float32FromTensor, wireFromInt32 } from './wire-tensor';

const wire = (msg: object): unknown => decodeMessage(encodeMessage(msg));

function plain(u: unknown): unknown {
  if (u instanceof Uint8Array) return [...u];
  if (Array.isArray(u)) return u.map(plain);
  if (typeof u === 'object' && u !== null) return Object.fromEntries(Object.entries(u).map(([k, v]) => [k, plain(v)]));
  return u;
}

const int32Bytes = (...v: number[]) => new Uint8Array(Int32Array.from(v).buffer);

test('every coordinator message type has a sample that round-trips through encode/decode/parse', (t) => {
  const samples = coordinatorSamples();
  t.deepEqual(Object.keys(samples).sort(), [...COORDINATOR_MESSAGE_TYPES].sort());
  for (const msg of Object.values(samples) as CoordinatorToWorker[]) {
    t.deepEqual(plain(parseCoordinatorMessage(wire(msg))), plain(msg), msg.type);
  }
});

test('samples survive the wire as the flat arrays they were made from', (t) => {
  const flat = {
    rows: 3,
    seq: 2,
    inputIds: Int32Array.of(101, 102, 101, 5, 101, 9),
    attentionMask: Int32Array.of(1, 1, 1, 1, 1, 0),
    labels: Float32Array.of(0.5, -1.25, 3), // regression, no token types
  };
  const msg = { type: 'evaluate', runId: 'r', requestId: 0, samples: encodeSamples([4, 5, 6], flat) } as const;
  const parsed = parseCoordinatorMessage(wire(msg));
  if (parsed.type !== 'evaluate') return t.fail();
  const back = decodeSamples(parsed.samples);
  t.deepEqual(back, { sampleIds: [4, 5, 6], ...flat });
  t.is(back.tokenTypeIds, undefined);
  t.throws(() => encodeSamples([1], flat), { instanceOf: RangeError });
});

test('extractive-QA answer spans travel as int32 [rows, 2] and come back flat', (t) => {
  const flat = {
    rows: 2,
    seq: 3,
    inputIds: Int32Array.of(101, 7, 102, 101, 8, 102),
    attentionMask: Int32Array.of(1, 1, 1, 1, 1, 1),
    labels: Int32Array.of(1, 1, 0, 0), // row 0 answers at token 1, row 1 misses (CLS)
  };
  const encoded = encodeSamples([7, 9], flat);
  t.deepEqual(encoded.labels.shape, [2, 2]);
  const parsed = parseCoordinatorMessage(wire({ type: 'compute', runId: 'r', requestId: 0, step: 0, seed: 1, microBatches: [0], samples: encoded }));
  if (parsed.type !== 'compute') return t.fail();
  t.deepEqual(decodeSamples(parsed.samples), { sampleIds: [7, 9], ...flat });
  // three labels for two rows is neither classes nor spans
  t.throws(() => encodeSamples([7, 9], { ...flat, labels: Int32Array.of(1, 1, 0) }), { instanceOf: RangeError });
});

test('the worker job comes back as plain JSON, a __proto__ key staying a key', (t) => {
  const config = JSON.parse('{"a": {"__proto__": {"polluted": true}}, "b": [1, "x", null, false]}');
  const msg = withField(coordinatorSamples().welcome, ['run', 'workerJob'], config);
  const parsed = parseCoordinatorMessage(msg);
  if (parsed.type !== 'welcome') return t.fail();
  const a = parsed.run.workerJob.a as Record<string, unknown>;
  t.is(Object.getPrototypeOf(a), Object.prototype);
  t.true(Object.hasOwn(a, '__proto__'));
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.deepEqual(parsed.run.workerJob.b, [1, 'x', null, false]);
});

type Case = [string, keyof ReturnType<typeof coordinatorSamples>, (string | number)[], unknown, ProtocolErrorCode, string?];
const deep = (n: number): unknown => (n === 0 ? 1 : { x: deep(n - 1) });
const cases: Case[] = [
  ['welcome: other version', 'welcome', ['protocolVersion'], 0, 'PROTO_ERR_VERSION', 'protocolVersion'],
  ['welcome: runId too long', 'welcome', ['runId'], 'r'.repeat(PROTOCOL_LIMITS.maxIdChars + 1), 'PROTO_ERR_BAD_FIELD', 'runId'],
  ['welcome: workerIndex negative', 'welcome', ['workerIndex'], -1, 'PROTO_ERR_BAD_FIELD', 'workerIndex'],
  ['welcome: run missing', 'welcome', ['run'], DELETE, 'PROTO_ERR_BAD_FIELD', 'run'],
  ['welcome: workerJob an array', 'welcome', ['run', 'workerJob'], [1], 'PROTO_ERR_BAD_FIELD', 'run.workerJob'],
  ['welcome: workerJob with binary', 'welcome', ['run', 'workerJob', 'blob'], new Uint8Array(3), 'PROTO_ERR_BAD_FIELD', 'run.workerJob.blob'],
  ['welcome: workerJob NaN', 'welcome', ['run', 'workerJob', 'lr'], NaN, 'PROTO_ERR_NON_FINITE', 'run.workerJob.lr'],
  ['welcome: workerJob too deep', 'welcome', ['run', 'workerJob', 'deep'], deep(PROTOCOL_LIMITS.maxJsonDepth + 1), 'PROTO_ERR_TOO_LARGE'],
  ['welcome: workerJob too big', 'welcome', ['run', 'workerJob', 'big'], new Array(PROTOCOL_LIMITS.maxJsonNodes).fill(0), 'PROTO_ERR_TOO_LARGE', 'run.workerJob'],
  ['welcome: modelPath missing', 'welcome', ['run', 'modelPath'], DELETE, 'PROTO_ERR_BAD_FIELD', 'run.modelPath'],
  ['welcome: modelHash empty', 'welcome', ['run', 'modelHash'], '', 'PROTO_ERR_BAD_FIELD', 'run.modelHash'],
  ['welcome: dataHash a number', 'welcome', ['run', 'dataHash'], 1, 'PROTO_ERR_BAD_FIELD', 'run.dataHash'],
  ['welcome: modelFiles missing', 'welcome', ['run', 'modelFiles'], DELETE, 'PROTO_ERR_BAD_FIELD', 'run.modelFiles'],
  ['welcome: modelFiles an object', 'welcome', ['run', 'modelFiles'], {}, 'PROTO_ERR_BAD_FIELD', 'run.modelFiles'],
  ['welcome: too many model files', 'welcome', ['run', 'modelFiles'], new Array(PROTOCOL_LIMITS.maxModelFiles + 1).fill(0), 'PROTO_ERR_TOO_LARGE', 'run.modelFiles'],
  ['welcome: model file name with a folder', 'welcome', ['run', 'modelFiles', 0, 'name'], '../config.json', 'PROTO_ERR_BAD_FIELD', 'run.modelFiles[0].name'],
  ['welcome: model file name ..', 'welcome', ['run', 'modelFiles', 0, 'name'], '..', 'PROTO_ERR_BAD_FIELD', 'run.modelFiles[0].name'],
  ['welcome: model file name repeated', 'welcome', ['run', 'modelFiles', 1, 'name'], 'config.json', 'PROTO_ERR_BAD_FIELD', 'run.modelFiles[1].name'],
  ['welcome: model file sha256 upper case', 'welcome', ['run', 'modelFiles', 0, 'sha256'], 'A'.repeat(64), 'PROTO_ERR_BAD_FIELD', 'run.modelFiles[0].sha256'],
  ['welcome: model file sha256 short', 'welcome', ['run', 'modelFiles', 0, 'sha256'], 'a'.repeat(63), 'PROTO_ERR_BAD_FIELD', 'run.modelFiles[0].sha256'],
  ['welcome: model file bytes negative', 'welcome', ['run', 'modelFiles', 0, 'bytes'], -1, 'PROTO_ERR_BAD_FIELD', 'run.modelFiles[0].bytes'],
  ['welcome: model file extra field', 'welcome', ['run', 'modelFiles', 0, 'url'], 'http://x', 'PROTO_ERR_BAD_FIELD', 'run.modelFiles[0]'],
  ['challenge: other version', 'challenge', ['protocolVersion'], 2, 'PROTO_ERR_VERSION', 'protocolVersion'],
  ['challenge: nonce missing', 'challenge', ['nonce'], DELETE, 'PROTO_ERR_BAD_FIELD', 'nonce'],
  ['challenge: nonce short', 'challenge', ['nonce'], new Uint8Array(8), 'PROTO_ERR_BAD_FIELD', 'nonce'],
  ['challenge: extra field', 'challenge', ['secret'], 'x', 'PROTO_ERR_BAD_FIELD'],
  ['authenticated: proof missing', 'authenticated', ['proof'], DELETE, 'PROTO_ERR_BAD_FIELD', 'proof'],
  ['authenticated: proof a string', 'authenticated', ['proof'], 'p'.repeat(32), 'PROTO_ERR_BAD_FIELD', 'proof'],
  ['authenticated: extra field', 'authenticated', ['token'], 'x', 'PROTO_ERR_BAD_FIELD'],
  ['welcome: extra run field', 'welcome', ['run', 'tokenizer'], 'x', 'PROTO_ERR_BAD_FIELD', 'run'],
  ['reject: code with spaces', 'reject', ['code'], 'BAD CODE', 'PROTO_ERR_BAD_FIELD', 'code'],
  ['reject: reason missing', 'reject', ['reason'], DELETE, 'PROTO_ERR_BAD_FIELD', 'reason'],
  ['state: step negative', 'state', ['step'], -1, 'PROTO_ERR_BAD_FIELD', 'step'],
  ['state: tensor dtype int32', 'state', ['tensors', 0, 'dtype'], 'int32', 'PROTO_ERR_BAD_FIELD', 'tensors[0].dtype'],
  ['state: NaN in E', 'state', ['tensors', 1, 'data'], new Uint8Array(Float32Array.of(NaN, 0).buffer), 'PROTO_ERR_NON_FINITE', 'tensors[1].data'],
  ['state: bytes short', 'state', ['tensors', 1, 'data'], new Uint8Array(4), 'PROTO_ERR_BAD_FIELD', 'tensors[1].data'],
  ['compute: requestId negative', 'compute', ['requestId'], -1, 'PROTO_ERR_BAD_FIELD', 'requestId'],
  ['compute: seed over uint32', 'compute', ['seed'], 2 ** 32, 'PROTO_ERR_BAD_FIELD', 'seed'],
  ['compute: seed missing', 'compute', ['seed'], DELETE, 'PROTO_ERR_BAD_FIELD', 'seed'],
  ['compute: microBatches missing', 'compute', ['microBatches'], DELETE, 'PROTO_ERR_BAD_FIELD', 'microBatches'],
  ['compute: microBatches empty', 'compute', ['microBatches'], [], 'PROTO_ERR_BAD_FIELD', 'microBatches'],
  ['compute: microBatches not a list', 'compute', ['microBatches'], 3, 'PROTO_ERR_BAD_FIELD', 'microBatches'],
  ['compute: micro-batch index negative', 'compute', ['microBatches'], [-1, 4], 'PROTO_ERR_BAD_FIELD', 'microBatches[0]'],
  ['compute: micro-batch index fractional', 'compute', ['microBatches'], [1, 4.5], 'PROTO_ERR_BAD_FIELD', 'microBatches[1]'],
  ['compute: micro-batch indices repeat', 'compute', ['microBatches'], [4, 4], 'PROTO_ERR_BAD_FIELD', 'microBatches[1]'],
  ['compute: micro-batch indices descend', 'compute', ['microBatches'], [4, 1], 'PROTO_ERR_BAD_FIELD', 'microBatches[1]'],
  ['compute: more micro-batches than samples', 'compute', ['microBatches'], [0, 1, 2], 'PROTO_ERR_BAD_FIELD', 'microBatches'],
  ['compute: samples missing', 'compute', ['samples'], DELETE, 'PROTO_ERR_BAD_FIELD', 'samples'],
  ['compute: no sample ids', 'compute', ['samples', 'sampleIds'], [], 'PROTO_ERR_BAD_FIELD', 'samples.sampleIds'],
  ['compute: ids ≠ rows', 'compute', ['samples', 'sampleIds'], [1, 2, 3], 'PROTO_ERR_BAD_FIELD', 'samples.inputIds.shape'],
  ['compute: inputIds float32', 'compute', ['samples', 'inputIds', 'dtype'], 'float32', 'PROTO_ERR_BAD_FIELD', 'samples.inputIds.dtype'],
  ['compute: inputIds rank 1', 'compute', ['samples', 'inputIds', 'shape'], [8], 'PROTO_ERR_BAD_FIELD', 'samples.inputIds.shape'],
  ['compute: seq 0', 'compute', ['samples', 'inputIds'], wireFromInt32([2, 0], new Int32Array(0)), 'PROTO_ERR_BAD_FIELD', 'samples.inputIds.shape'],
  ['compute: negative token id', 'compute', ['samples', 'inputIds', 'data'], int32Bytes(1, 2, 3, -4, 5, 6, 7, 8), 'PROTO_ERR_BAD_FIELD', 'samples.inputIds.data'],
  ['compute: mask value 2', 'compute', ['samples', 'attentionMask', 'data'], int32Bytes(1, 1, 1, 0, 1, 2, 1, 1), 'PROTO_ERR_BAD_FIELD', 'samples.attentionMask.data'],
  ['compute: mask value 256', 'compute', ['samples', 'attentionMask', 'data'], int32Bytes(1, 1, 1, 256, 1, 1, 1, 1), 'PROTO_ERR_BAD_FIELD', 'samples.attentionMask.data'],
  ['compute: mask shape', 'compute', ['samples', 'attentionMask'], wireFromInt32([4, 2], new Int32Array(8)), 'PROTO_ERR_BAD_FIELD', 'samples.attentionMask.shape'],
  ['compute: token type negative', 'compute', ['samples', 'tokenTypeIds', 'data'], int32Bytes(0, 0, 0, 0, 0, 0, -1, 1), 'PROTO_ERR_BAD_FIELD', 'samples.tokenTypeIds.data'],
  ['compute: token types shape', 'compute', ['samples', 'tokenTypeIds'], wireFromInt32([2, 3], new Int32Array(6)), 'PROTO_ERR_BAD_FIELD', 'samples.tokenTypeIds.shape'],
  ['compute: negative class', 'compute', ['samples', 'labels', 'data'], int32Bytes(1, -1), 'PROTO_ERR_BAD_FIELD', 'samples.labels.data'],
  ['compute: labels shape', 'compute', ['samples', 'labels'], wireFromInt32([3], new Int32Array(3)), 'PROTO_ERR_BAD_FIELD', 'samples.labels.shape'],
  ['compute: answer spans of 3 columns', 'compute', ['samples', 'labels'], wireFromInt32([2, 3], new Int32Array(6)), 'PROTO_ERR_BAD_FIELD', 'samples.labels.shape'],
  ['compute: answer spans float32', 'compute', ['samples', 'labels'], { dtype: 'float32', shape: [2, 2], data: new Uint8Array(16) }, 'PROTO_ERR_BAD_FIELD', 'samples.labels.shape'],
  ['compute: negative answer position', 'compute', ['samples', 'labels'], wireFromInt32([2, 2], Int32Array.of(3, 4, 0, -1)), 'PROTO_ERR_BAD_FIELD', 'samples.labels.data'],
  ['compute: labels float16', 'compute', ['samples', 'labels', 'dtype'], 'float16', 'PROTO_ERR_BAD_FIELD', 'samples.labels.dtype'],
  ['compute: regression NaN', 'compute', ['samples', 'labels'], { dtype: 'float32', shape: [2], data: new Uint8Array(Float32Array.of(1, NaN).buffer) }, 'PROTO_ERR_NON_FINITE', 'samples.labels.data'],
  ['compute: extra sample field', 'compute', ['samples', 'weights'], [1, 1], 'PROTO_ERR_BAD_FIELD', 'samples'],
  ['evaluate: requestId fractional', 'evaluate', ['requestId'], 0.5, 'PROTO_ERR_BAD_FIELD', 'requestId'],
  ['evaluate: labels missing', 'evaluate', ['samples', 'labels'], DELETE, 'PROTO_ERR_BAD_FIELD', 'samples.labels'],
  ['shutdown: reason a number', 'shutdown', ['reason'], 0, 'PROTO_ERR_BAD_FIELD', 'reason'],
  ['shutdown: extra field', 'shutdown', ['now'], true, 'PROTO_ERR_BAD_FIELD'],
];

for (const [what, type, path, value, code, field] of cases) {
  test(`refuses ${what}`, (t) => {
    const msg = withField(coordinatorSamples()[type], path, value);
    const e = t.throws(() => parseCoordinatorMessage(wire(msg)));
    t.true(isProtocolError(e), `not a ProtocolError: ${e?.message}`);
    if (!isProtocolError(e)) return;
    t.is(e.code, code, e.message);
    t.is(e.messageType, type);
    if (field !== undefined) t.is(e.field, field, e.message);
    t.true(e.message.length < 300, 'the message stays short (no payload)');
  });
}

test('tokenTypeIds may be absent', (t) => {
  const msg = withField(coordinatorSamples().compute, ['samples', 'tokenTypeIds'], DELETE);
  const parsed = parseCoordinatorMessage(wire(msg));
  t.is(parsed.type === 'compute' ? parsed.samples.tokenTypeIds : 'x', undefined);
});

test('worker messages are not coordinator messages', (t) => {
  const e = t.throws(() => parseCoordinatorMessage(wire({ type: 'hello', protocolVersion: PROTOCOL_VERSION })));
  t.true(isProtocolError(e, 'PROTO_ERR_UNKNOWN_TYPE'));
});

test('state values load as float32', (t) => {
  const msg = coordinatorSamples().state;
  const parsed = parseCoordinatorMessage(wire(msg));
  if (parsed.type !== 'state') return t.fail();
  t.deepEqual(float32FromTensor(parsed.tensors[1]), Float32Array.of(0.5, 0));
});
