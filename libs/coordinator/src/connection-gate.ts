import {
  authNonce,
  CLOSE_CODES,
  coordinatorProof,
  decodeMessage,
  encodeMessage,
  isChunkLike,
  isProtocolError,
  modelFileToken,
  parseWorkerMessage,
  proofMatches,
  protocolError,
  PROTOCOL_VERSION,
  workerProof,
  type CloseReason,
  type CoordinatorToWorker,
  type HelloMessage,
} from '@adalora/protocol';
import type { Connection } from './worker-link';
import type { ConnectionEvents } from './worker-pool';

/** Largest frame a connection may send before it authenticated: a `hello` is ≈ 200 bytes. */
export const PRE_AUTH_MAX_FRAME_BYTES = 4096;

/** A connection as the gate sees it: it can also tell the transport that it authenticated. */
export interface GateConnection extends Connection {
  /** The peer proved the secret: lift the limits on unauthenticated connections (deadline, eviction). */
  authenticated(): void;
}

/** Where authenticated connections go (the worker pool). */
export interface GateTarget {
  accept(connection: Connection, remote: string): ConnectionEvents;
}

export interface ConnectionGateOptions {
  /** The run secret; null when none is configured (loopback or --insecure): proofs are not checked. */
  readonly secret: Uint8Array | null;
  /** Authenticated connections at most; one more is refused with COORD_ERR_FULL. */
  readonly maxConnections: number;
  /** Model-file tokens of live authenticated connections (see model-files.ts). */
  readonly tokens?: { grant(token: string): void; revoke(token: string): void };
  readonly log: (line: string) => void;
}

const NO_SECRET = new Uint8Array(0);

/**
 * The door in front of the worker pool. Every connection first gets a `challenge` with a fresh
 * nonce; its first message must be a small, unchunked `hello` whose proof matches (HMAC of the
 * run secret over both nonces and the worker id). Only then does the coordinator prove the secret
 * in turn (`authenticated`) and hand the connection to the pool, which sends `welcome`: nothing
 * about the run leaves before that. One worker id has one live connection: a second connection
 * claiming a live id is refused (COORD_ERR_DUPLICATE_ID, "try again later"), so a dead old
 * connection only delays a rejoin until liveness drops it, and a live worker is never displaced.
 */
export class ConnectionGate {
  private readonly liveIds = new Set<string>();

  constructor(
    private readonly target: GateTarget,
    private readonly o: ConnectionGateOptions,
  ) {}

  /** Takes a new connection; the transport reports its events through what this returns. */
  accept(connection: GateConnection, remote: string): ConnectionEvents {
    const nonce = authNonce();
    let inner: ConnectionEvents | null = null;
    let open = true;
    let release = () => {};
    const sendNow = (msg: CoordinatorToWorker) => connection.send(encodeMessage(msg));
    const refuse = (reason: CloseReason, why: string, tell: boolean) => {
      this.o.log(`connection from ${remote} refused: ${why} (${reason})`);
      if (tell) sendNow({ type: 'reject', code: reason, reason: why });
      open = false;
      connection.close(CLOSE_CODES[reason], reason);
    };
    sendNow({ type: 'challenge', protocolVersion: PROTOCOL_VERSION, nonce });
    return {
      message: (data) => {
        if (inner) return inner.message(data);
        if (!open) return;
        let hello: HelloMessage;
        try {
          hello = readHello(data);
        } catch (e) {
          if (!isProtocolError(e)) throw e;
          // a peer of another version is told which one this is, as before the handshake existed
          return refuse(e.code, e.message, e.code === 'PROTO_ERR_VERSION');
        }
        const secret = this.o.secret ?? NO_SECRET;
        const nonces = { coordinator: nonce, worker: hello.nonce };
        if (this.o.secret && !proofMatches(workerProof(secret, nonces, hello.workerId), hello.proof)) {
          return refuse('PROTO_ERR_AUTH', 'the hello does not prove the run secret', true);
        }
        if (this.liveIds.has(hello.workerId)) return refuse('COORD_ERR_DUPLICATE_ID', `worker id ${hello.workerId} is connected already`, true);
        if (this.liveIds.size >= this.o.maxConnections) return refuse('COORD_ERR_FULL', `${this.o.maxConnections} workers are connected (cluster.maxConnections)`, true);
        const token = modelFileToken(secret, nonces);
        this.liveIds.add(hello.workerId);
        this.o.tokens?.grant(token);
        release = () => {
          this.liveIds.delete(hello.workerId);
          this.o.tokens?.revoke(token);
        };
        connection.authenticated();
        sendNow({ type: 'authenticated', proof: coordinatorProof(secret, nonces) });
        inner = this.target.accept(connection, remote);
        inner.message(data);
      },
      pong: () => inner?.pong(),
      closed: (code, reason) => {
        open = false;
        release();
        release = () => {};
        inner?.closed(code, reason);
      },
      error: (e) => (inner ? inner.error(e) : this.o.log(`connection from ${remote}: socket error: ${e.message}`)),
    };
  }
}

/** The first message of a connection: a small, unchunked, well-formed `hello`, checked before it is decoded. */
function readHello(frame: Uint8Array): HelloMessage {
  if (frame.byteLength > PRE_AUTH_MAX_FRAME_BYTES) {
    throw protocolError('PROTO_ERR_TOO_LARGE', `a frame of ${frame.byteLength} bytes before the handshake (at most ${PRE_AUTH_MAX_FRAME_BYTES})`);
  }
  const u = decodeMessage(frame, PRE_AUTH_MAX_FRAME_BYTES);
  if (isChunkLike(u)) throw protocolError('PROTO_ERR_UNEXPECTED', 'a chunked transfer before the handshake');
  const msg = parseWorkerMessage(u);
  if (msg.type !== 'hello') throw protocolError('PROTO_ERR_UNEXPECTED', `${msg.type} before the handshake`, { messageType: msg.type });
  return msg;
}
