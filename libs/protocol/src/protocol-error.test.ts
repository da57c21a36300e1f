import test from 'ava';
import { PROTOCOL_CLOSE_CODES, ProtocolError, describeValue, isProtocolError, protocolError, type ProtocolErrorCode } from './protocol-error';

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
  };
  t.deepEqual({ ...PROTOCOL_CLOSE_CODES }, expected);
  for (const code of Object.keys(expected) as ProtocolErrorCode[]) t.is(protocolError(code, 'x').closeCode, expected[code]);
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
