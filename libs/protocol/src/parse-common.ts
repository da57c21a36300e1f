/** The dispatch prologue and the field rules both directions share. Internal to the lib. */
import { fail, integer, isRecord, string, type Ctx } from './fields';
import { PROTOCOL_LIMITS } from './limits';
import { PROTOCOL_VERSION } from './messages';
import { describeValue, protocolError } from './protocol-error';

/** `{type: string, …}` or PROTO_ERR_MALFORMED. */
export function messageObject(u: unknown, direction: string): Record<string, unknown> & { type: string } {
  if (!isRecord(u)) throw protocolError('PROTO_ERR_MALFORMED', `expected a ${direction} message object, got ${describeValue(u)}`);
  const o = u;
  if (!Object.hasOwn(o, 'type') || typeof o.type !== 'string') {
    throw protocolError('PROTO_ERR_MALFORMED', `expected a string field 'type', got ${describeValue(o.type)}`);
  }
  return o as Record<string, unknown> & { type: string };
}

/** One parser per message type of a direction; the compiler checks that every type has one. */
export type MessageParsers<M extends { type: string }> = { readonly [T in M['type']]: (ctx: Ctx, o: Record<string, unknown>) => Extract<M, { type: T }> };

/**
 * The one dispatch of both directions: the envelope (PROTO_ERR_MALFORMED), then the parser of its
 * type, or PROTO_ERR_UNKNOWN_TYPE for a type outside the direction's union (own keys only, so
 * `toString` or `__proto__` is no type).
 */
export function parseMessage<M extends { type: string }>(u: unknown, direction: string, known: readonly string[], parsers: MessageParsers<M>): M {
  const o = messageObject(u, direction);
  if (!Object.hasOwn(parsers, o.type)) return unknownType(o.type, direction, known);
  const type = o.type as M['type'];
  return parsers[type]({ type }, o);
}

/** PROTO_ERR_UNKNOWN_TYPE for a type outside the direction's union. */
export function unknownType(type: string, direction: string, known: readonly string[]): never {
  const shown = /^[A-Za-z]{1,32}$/.test(type) ? `'${type}'` : `of ${type.length} chars`;
  throw protocolError('PROTO_ERR_UNKNOWN_TYPE', `type ${shown} is not a ${direction} message (expected one of ${known.join(', ')})`);
}

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Run ids, worker ids, hashes, hostnames: 1..256 chars. */
export const id = (ctx: Ctx, field: string, u: unknown) => string(ctx, field, u);
/** Free text (messages, reasons, paths): 0..4096 chars. */
export const text = (ctx: Ctx, field: string, u: unknown) => string(ctx, field, u, { min: 0, max: PROTOCOL_LIMITS.maxTextChars });
/** Stable error codes: UPPER_SNAKE_CASE, ≤ 64 chars. */
export const code = (ctx: Ctx, field: string, u: unknown) =>
  string(ctx, field, u, { max: 64, pattern: CODE, patternText: 'an UPPER_SNAKE_CASE code of ≤ 64 chars' });

/**
 * The protocol version of a hello/welcome, checked before any other field: a peer of another
 * version may have other fields, and deserves PROTO_ERR_VERSION rather than BAD_FIELD.
 */
export function checkVersion(ctx: Ctx, o: Record<string, unknown>, peer: string): number {
  if (!Object.hasOwn(o, 'protocolVersion')) fail(ctx, 'protocolVersion', 'PROTO_ERR_BAD_FIELD', 'is missing');
  const v = integer(ctx, 'protocolVersion', o.protocolVersion, 0, 0x7fffffff);
  if (v !== PROTOCOL_VERSION) {
    fail(ctx, 'protocolVersion', 'PROTO_ERR_VERSION', `${peer} speaks protocol ${v}, this side speaks ${PROTOCOL_VERSION}`);
  }
  return v;
}

