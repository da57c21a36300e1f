/**
 * Stable codes for every protocol fault; tests and peers match on the code, never the wording.
 * The string values are the wire/log form: never renumber or rename them.
 */
export type ProtocolErrorCode =
  /** Bytes are not MessagePack, or the value is not an object with a string `type`. */
  | 'PROTO_ERR_MALFORMED'
  /** `type` is not a message of this direction. */
  | 'PROTO_ERR_UNKNOWN_TYPE'
  /** A field is missing, has the wrong type, is out of range, or is not expected. */
  | 'PROTO_ERR_BAD_FIELD'
  /** The peer speaks another `PROTOCOL_VERSION`. */
  | 'PROTO_ERR_VERSION'
  /** A frame, a transfer, or an array is over its configured limit. */
  | 'PROTO_ERR_TOO_LARGE'
  /** A float tensor holds NaN or ±Inf (or a value that overflows float16). */
  | 'PROTO_ERR_NON_FINITE'
  /** A chunk arrived out of order, twice, from a mixed transfer, or a transfer was cut short. */
  | 'PROTO_ERR_OUT_OF_ORDER'
  /** A well-formed message that the receiver's state does not allow now (e.g. `gradients` before `ready`). */
  | 'PROTO_ERR_UNEXPECTED';

/** WebSocket close codes (RFC 6455 §7.4.1) used for protocol faults. */
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_MESSAGE_TOO_BIG = 1009;

/** The close code a connection should be closed with for each fault. */
export const PROTOCOL_CLOSE_CODES: Readonly<Record<ProtocolErrorCode, number>> = {
  PROTO_ERR_MALFORMED: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_UNKNOWN_TYPE: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_BAD_FIELD: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_VERSION: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_TOO_LARGE: CLOSE_MESSAGE_TOO_BIG,
  // finite-ness and state are policies of this trainer, not MessagePack syntax
  PROTO_ERR_NON_FINITE: CLOSE_POLICY_VIOLATION,
  PROTO_ERR_OUT_OF_ORDER: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_UNEXPECTED: CLOSE_POLICY_VIOLATION,
};

/** Where a fault was found: the message type (when known) and a field path like `tensors[3].shape`. */
export interface ProtocolErrorWhere {
  readonly messageType?: string;
  readonly field?: string;
}

/**
 * A fault in a message from the peer. `code` is stable, `closeCode` is what to close the
 * WebSocket with, and the message names the message type and field (`gradients.tensors[2].data:
 * …`) but never prints the payload. Catch it around decode/parse, log `message`, then
 * `ws.close(err.closeCode, err.code)`.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly closeCode: number;
  readonly messageType?: string;
  readonly field?: string;

  constructor(code: ProtocolErrorCode, problem: string, where: ProtocolErrorWhere = {}) {
    const at =
      where.messageType !== undefined
        ? where.field !== undefined
          ? `${where.messageType}.${where.field}: `
          : `${where.messageType}: `
        : where.field !== undefined
          ? `${where.field}: `
          : '';
    super(`${at}${problem}`);
    this.code = code;
    this.closeCode = PROTOCOL_CLOSE_CODES[code];
    if (where.messageType !== undefined) this.messageType = where.messageType;
    if (where.field !== undefined) this.field = where.field;
  }
}

/** The one factory for protocol faults (as ws's `error()`): keeps codes and wording uniform. */
export function protocolError(code: ProtocolErrorCode, problem: string, where: ProtocolErrorWhere = {}): ProtocolError {
  return new ProtocolError(code, problem, where);
}

/** True for a ProtocolError, optionally of one code. */
export function isProtocolError(e: unknown, code?: ProtocolErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}

/**
 * Describes a received value for an error message without printing it: numbers and booleans as
 * they are, strings by length, everything else by kind.
 */
export function describeValue(u: unknown): string {
  if (u === null) return 'null';
  if (u === undefined) return 'nothing';
  if (typeof u === 'number' || typeof u === 'boolean') return `${u}`;
  if (typeof u === 'string') return `a string of ${u.length} chars`;
  if (typeof u === 'bigint') return 'a 64-bit integer';
  if (u instanceof Uint8Array) return `${u.byteLength} bytes of binary`;
  if (Array.isArray(u)) return `an array of ${u.length}`;
  if (typeof u === 'object') return 'an object';
  return `a ${typeof u}`;
}
