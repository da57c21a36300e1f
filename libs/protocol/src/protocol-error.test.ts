import test from 'ava';
import { CLOSE_CODES, isDropClose, isRefusalClose, ProtocolError, describeValue, isProtocolError, protocolError, type CloseReason, type ProtocolErrorCode } from './protocol-error';

test('each code maps to its WebSocket close code', (t) => {
  const expected: Record<ProtocolErrorCode, number> = {
    PROTO_ERR_MALFORMED: 1002,
    PROTO_ERR_UNKNOWN_TYPE: 1002,
    PROTO_ERR_BAD_FIELD: 1002,
    PROTO_ERR_VERSION: 1002,
    PROTO_ERR_TOO_LARGE: 1009,
    PROTO_ERR_NON_FINITE: 1008,
    PROTO_ERR_OUT_OF_ORDER: 1002,
    PROTO_ERR_UNEXPECTED: 1008,
    PROTO_ERR_AUTH: 1008,
  };
  for (const code of Object.keys(expected) as ProtocolErrorCode[]) {
    t.is(CLOSE_CODES[code], expected[code], code);
    t.is(protocolError(code, 'x').closeCode, expected[code]);
  }
});

test("the endpoints' own close reasons have stable close codes", (t) => {
  const expected: Record<Exclude<CloseReason, ProtocolErrorCode>, number> = {
    COORD_RUN_FINISHED: 1000,
    COORD_SHUTDOWN: 1001,
    COORD_ERR_DEADLINE: 4000,
    COORD_ERR_UNRESPONSIVE: 4000,
    COORD_ERR_ABSURD_GRADIENTS: 1008,
    COORD_ERR_INTERNAL: 1011,
    COORD_ERR_HANDSHAKE_DEADLINE: 1013,
    COORD_ERR_DUPLICATE_ID: 1013,
    COORD_ERR_FULL: 1013,
    WORKER_ERR_FAULT: 1011,
    WORKER_DONE: 1000,
  };
  for (const [reason, code] of Object.entries(expected)) t.is(CLOSE_CODES[reason as CloseReason], code, reason);
  t.is(Object.keys(CLOSE_CODES).length, 9 + Object.keys(expected).length, 'one table holds every reason');
});

test('a refusal is a close for a protocol fault; a normal end or an internal error is not', (t) => {
  for (const code of [1002, 1008, 1009]) t.true(isRefusalClose(code), `${code}`);
  for (const code of [1000, 1001, 1006, 1011, 1013]) t.false(isRefusalClose(code), `${code}`);
  // dropped for silence is not refused: the worker may rejoin
  t.false(isRefusalClose(CLOSE_CODES.COORD_ERR_DEADLINE));
  t.false(isRefusalClose(CLOSE_CODES.COORD_ERR_UNRESPONSIVE));
  t.true(isRefusalClose(CLOSE_CODES.COORD_ERR_ABSURD_GRADIENTS), 'refused gradients are refused again');
  t.true(isDropClose(CLOSE_CODES.COORD_ERR_DEADLINE) && isDropClose(CLOSE_CODES.COORD_ERR_UNRESPONSIVE));
  for (const reason of Object.keys(CLOSE_CODES) as CloseReason[]) t.false(isDropClose(CLOSE_CODES[reason]) && isRefusalClose(CLOSE_CODES[reason]), `${reason}: dropped or refused, not both`);
});

test('the message names the message type and the field', (t) => {
  const e = protocolError('PROTO_ERR_BAD_FIELD', 'expected an integer', { messageType: 'gradients', field: 'tensors[2].shape' });
  t.true(e instanceof ProtocolError && e instanceof Error);
  t.is(e.message, 'gradients.tensors[2].shape: expected an integer');
  t.is(e.name, 'ProtocolError');
  t.is(protocolError('PROTO_ERR_MALFORMED', 'empty message').message, 'empty message');
  t.true(isProtocolError(e, 'PROTO_ERR_BAD_FIELD'));
  t.false(isProtocolError(e, 'PROTO_ERR_VERSION'));
  t.false(isProtocolError(new Error('x')));
});

test('describeValue never prints strings or binary', (t) => {
  t.is(describeValue('secret'), 'a string of 6 chars');
  t.is(describeValue(new Uint8Array(9)), '9 bytes of binary');
  t.is(describeValue([1, 2]), 'an array of 2');
  t.is(describeValue({ a: 'secret' }), 'an object');
  t.is(describeValue(-1.5), '-1.5');
  t.is(describeValue(undefined), 'nothing');
});
