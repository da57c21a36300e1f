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
  /** A chunk arrived out of order, twice, from a mixed transfer, or a transfer was cut short (chunk order only). */
  | 'PROTO_ERR_OUT_OF_ORDER'
  /**
   * A well-formed message that the receiver's state does not allow now: a second `hello`,
   * `ready` before `welcome`, a reply nobody asked for, `compute` before `welcome`.
   */
  | 'PROTO_ERR_UNEXPECTED'
  /** The peer did not prove the run secret (wrong or missing secret, or a replayed handshake). */
  | 'PROTO_ERR_AUTH';

/** WebSocket close codes (RFC 6455 §7.4.1) this protocol closes with; used only through CLOSE_CODES. */
const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_MESSAGE_TOO_BIG = 1009;
const CLOSE_INTERNAL_ERROR = 1011;
const CLOSE_TRY_AGAIN_LATER = 1013;
/**
 * Private-use code (RFC 6455 §7.4.2, 4000–4999): the coordinator dropped a worker that did not
 * answer in time. Nothing the worker said was wrong, so it may reconnect and rejoin.
 */
const CLOSE_DROPPED = 4000;

/**
 * Why an endpoint closes a connection when the peer's message was not at fault. The string is
 * the close frame's reason (as a `ProtocolErrorCode` is for a fault): never rename one.
 */
export type EndpointCloseReason =
  /** The run ended; `shutdown` went first. */
  | 'COORD_RUN_FINISHED'
  /** The coordinator stops before the end (e.g. interrupted); `shutdown` went first. */
  | 'COORD_SHUTDOWN'
  /** The worker did not answer a request within its deadline (`cluster.stepTimeoutMs`); its share is redone elsewhere, it may rejoin. */
  | 'COORD_ERR_DEADLINE'
  /** The worker, idle, answered no ping for `cluster.heartbeatMs` × 2 (stopped or gone); it may rejoin. */
  | 'COORD_ERR_UNRESPONSIVE'
  /** The worker's gradients were finite but absurdly large; its share is redone elsewhere. */
  | 'COORD_ERR_ABSURD_GRADIENTS'
  /** A bug of the coordinator while handling this worker's message: only this worker is dropped. */
  | 'COORD_ERR_INTERNAL'
  /** The connection did not authenticate within `cluster.handshakeTimeoutMs`, or made room for a newer one. */
  | 'COORD_ERR_HANDSHAKE_DEADLINE'
  /** Another live connection already holds this worker id; the worker may retry once it is gone. */
  | 'COORD_ERR_DUPLICATE_ID'
  /** `cluster.maxConnections` workers are connected already; the worker may retry later. */
  | 'COORD_ERR_FULL'
  /** The worker failed on a message; it sent `error` first and closes with its own `WORKER_ERR_*` code as reason. */
  | 'WORKER_ERR_FAULT'
  /** The worker leaves after the coordinator ended the run. */
  | 'WORKER_DONE';

/** Every reason a connection of this protocol is closed for. */
export type CloseReason = ProtocolErrorCode | EndpointCloseReason;

/** The one table of close codes: what to close the WebSocket with, for each reason. */
export const CLOSE_CODES: Readonly<Record<CloseReason, number>> = {
  PROTO_ERR_MALFORMED: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_UNKNOWN_TYPE: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_BAD_FIELD: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_VERSION: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_TOO_LARGE: CLOSE_MESSAGE_TOO_BIG,
  // finite-ness and state are policies of this trainer, not MessagePack syntax
  PROTO_ERR_NON_FINITE: CLOSE_POLICY_VIOLATION,
  PROTO_ERR_OUT_OF_ORDER: CLOSE_PROTOCOL_ERROR,
  PROTO_ERR_UNEXPECTED: CLOSE_POLICY_VIOLATION,
  // a wrong secret stays wrong on a retry: a refusal
  PROTO_ERR_AUTH: CLOSE_POLICY_VIOLATION,
  COORD_RUN_FINISHED: CLOSE_NORMAL,
  COORD_SHUTDOWN: CLOSE_GOING_AWAY,
  // a worker too slow or stopped is dropped, not refused: it may come back
  COORD_ERR_DEADLINE: CLOSE_DROPPED,
  COORD_ERR_UNRESPONSIVE: CLOSE_DROPPED,
  // what it sent is refused, as a non-finite tensor is: the same share would be refused again
  COORD_ERR_ABSURD_GRADIENTS: CLOSE_POLICY_VIOLATION,
  COORD_ERR_INTERNAL: CLOSE_INTERNAL_ERROR,
  // all three pass (a crowd of idle connections thins out, the old connection of this id closes,
  // a worker leaves): the worker retries, it is not refused
  COORD_ERR_HANDSHAKE_DEADLINE: CLOSE_TRY_AGAIN_LATER,
  COORD_ERR_DUPLICATE_ID: CLOSE_TRY_AGAIN_LATER,
  COORD_ERR_FULL: CLOSE_TRY_AGAIN_LATER,
  WORKER_ERR_FAULT: CLOSE_INTERNAL_ERROR,
  WORKER_DONE: CLOSE_NORMAL,
};

const REFUSAL_CLOSE_CODES: ReadonlySet<number> = new Set(
  Object.entries(CLOSE_CODES)
    .filter(([reason]) => reason.startsWith('PROTO_ERR_'))
    .map(([, code]) => code),
);

/**
 * True when a close code says the peer refused what this side sent (a protocol fault): saying
 * the same again after a reconnect would be refused again, so the refusal is final. A worker
 * dropped for missing a deadline or a heartbeat (4000) is not refused: it may rejoin.
 */
export function isRefusalClose(closeCode: number): boolean {
  return REFUSAL_CLOSE_CODES.has(closeCode);
}

/** True when a close code says the coordinator dropped a late or silent worker, which may rejoin. */
export function isDropClose(closeCode: number): boolean {
  return closeCode === CLOSE_DROPPED;
}

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
    this.closeCode = CLOSE_CODES[code];
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
