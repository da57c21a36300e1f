import WebSocket from 'ws';
import {
  CLOSE_CODES,
  coordinatorMessageReader,
  DEFAULT_MAX_MESSAGE_BYTES,
  FrameWriter,
  isProtocolError,
  isDropClose,
  isRefusalClose,
  summarizeMessage,
  TransferBuffers,
  WORKER_MAX_FRAME_BYTES,
  type CloseReason,
  type CoordinatorToWorker,
  type HelloMessage,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import { httpModelFetcher, type FetchModelFile } from './model-cache';
import { trustedTlsConnect, type WorkerTls } from './tls-client';
import { WorkerFault } from './worker-fault';
import { WorkerHandshake } from './worker-handshake';

/**
 * What answers the coordinator's run messages on a connection: a real WorkerSession, a synthetic
 * one, or another tier that speaks as a worker (an aggregator). The client runs the handshake
 * and the reconnects.
 */
export interface ClientSession {
  /** the `hello` without its proof (the handshake adds nonce and proof) */
  hello(): Omit<HelloMessage, 'nonce' | 'proof'>;
  /** the replies to one checked message, in order; throws WorkerFault on a fault */
  handle(msg: CoordinatorToWorker): Promise<WorkerToCoordinator[]>;
  /** the connection closed: whatever it asked and was not answered yet is abandoned */
  disconnected?(): void;
  /**
   * true when `handle` keeps no view of a `state` message's tensors once its promise resolved
   * (it copied what it needs): the client then reuses that memory for a later message instead of
   * leaving 8 MB a step to the garbage collector
   */
  readonly forgetsState?: boolean;
  dispose(): void;
}

/** How a client connects and reconnects (see runWorkerClient). */
export interface SessionClientOptions {
  /** ws://host:port or wss://host:port of the coordinator */
  readonly url: string;
  /** the run secret to prove (null: the coordinator must have none, which it allows on loopback only) */
  readonly secret: Uint8Array | null;
  /** for wss: the CA or the pinned certificate fingerprint to trust (default: the system's CAs) */
  readonly tls?: WorkerTls;
  /** give up after this many failed connection attempts in a row (default: no limit, only giveUpAfterMs) */
  readonly maxRetries?: number;
  /**
   * give up once the coordinator has been out of reach this long: from the first failed attempt
   * in a row (a connection that got a welcome resets it), so a restarted coordinator is rejoined
   */
  readonly giveUpAfterMs: number;
  /** first back-off delay; doubles up to maxDelayMs, with jitter */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly log: (line: string) => void;
  /** memory for reassembled messages, shared by the connections of a process (default: one pool per connection) */
  readonly transferBuffers?: TransferBuffers;
}

/** How a worker's life ended. */
export type WorkerExit = { readonly ok: true; readonly reason: string } | { readonly ok: false; readonly reason: string };

/** The model-file fetcher of the connection that is live (set once it is authenticated). */
export interface FetchLink {
  fetch: FetchModelFile | null;
}

/**
 * Connects to the coordinator (and reconnects with bounded exponential back-off when the
 * connection drops or the coordinator goes away without ending the run), runs the session's
 * replies back over the socket, and resolves when the coordinator shuts the worker down, refuses
 * it, or has been out of reach for `giveUpAfterMs`.
 */
export async function runSessionClient(o: SessionClientOptions, session: ClientSession, link: FetchLink = { fetch: null }): Promise<WorkerExit> {
  const maxRetries = o.maxRetries ?? Infinity;
  let failures = 0;
  let outOfReachSince = 0;
  try {
    for (;;) {
      const outcome = await connectOnce(o, session, link);
      if (outcome.kind === 'done') return outcome.exit;
      failures = outcome.kind === 'lost-after-welcome' ? 1 : failures + 1;
      if (failures === 1) outOfReachSince = Date.now();
      if (failures > maxRetries) return { ok: false, reason: `coordinator at ${o.url} unreachable after ${maxRetries} retries (${outcome.reason})` };
      const waited = Date.now() - outOfReachSince;
      if (waited >= o.giveUpAfterMs) return { ok: false, reason: `coordinator at ${o.url} out of reach for ${Math.round(waited / 1000)} s, giving up (${outcome.reason})` };
      const backoff = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
      // the last wait ends at the give-up time: one more try then, and the worker gives up on time
      const delay = Math.min(backoff, o.giveUpAfterMs - waited);
      o.log(`connection ${outcome.kind === 'lost-after-welcome' ? 'lost' : 'failed'} (${outcome.reason}); retrying in ${Math.round(delay)} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  } finally {
    session.dispose();
  }
}

type Outcome =
  | { kind: 'done'; exit: WorkerExit }
  | { kind: 'failed'; reason: string }
  | { kind: 'lost-after-welcome'; reason: string };

function connectOnce(o: SessionClientOptions, session: ClientSession, link: FetchLink): Promise<Outcome> {
  return new Promise((resolve) => {
    const tls = o.tls ?? {};
    const ws = new WebSocket(o.url, {
      maxPayload: DEFAULT_MAX_MESSAGE_BYTES,
      ...(o.url.startsWith('wss:') && { createConnection: (options: object) => trustedTlsConnect(tls, options) }),
    });
    const buffers = o.transferBuffers ?? new TransferBuffers();
    const reader = coordinatorMessageReader({ buffers });
    // frames no larger than the coordinator accepts (its ws maxPayload): larger messages go chunked
    const writer = new FrameWriter({ maxFrameBytes: WORKER_MAX_FRAME_BYTES });
    const handshake = new WorkerHandshake(o.secret);
    link.fetch = null;
    let welcomed = false;
    let settled: Outcome | null = null;
    // Messages are handled one at a time, in arrival order.
    let queue = Promise.resolve();
    const send = (m: WorkerToCoordinator) => {
      for (const f of writer.encode(m)) ws.send(f);
    };
    /** Settles the outcome and closes; `reason` is the close frame's reason, `code` its entry in CLOSE_CODES. */
    const finish = (out: Outcome, code: number = CLOSE_CODES.WORKER_DONE, reason: string = 'WORKER_DONE') => {
      settled ??= out;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
    };
    ws.on('message', (data: Buffer) => {
      queue = queue.then(async () => {
        if (settled) return;
        let msg;
        try {
          msg = reader.read(data);
        } catch (e) {
          if (!isProtocolError(e)) throw e;
          o.log(`refusing a message from the coordinator: ${e.message}`);
          return finish({ kind: 'failed', reason: e.code }, e.closeCode, e.code);
        }
        if (!msg) return;
        try {
          // the handshake first: nothing but a reject may come before the coordinator proved the secret
          if (msg.type === 'challenge') return send(handshake.answer(msg, session.hello()));
          if (msg.type === 'authenticated') {
            handshake.confirm(msg);
            link.fetch = httpModelFetcher(o.url, handshake.fileToken(), o.tls ?? null);
            return;
          }
          if (msg.type !== 'reject' && !handshake.authenticated) throw new WorkerFault('PROTO_ERR_AUTH', `the coordinator sent ${msg.type} before proving the run secret`);
        } catch (e) {
          const fault = e instanceof WorkerFault ? e : new WorkerFault('WORKER_ERR_INTERNAL', (e as Error).message);
          o.log(`handshake failed: ${fault.message}`);
          const reason = fault.code === 'PROTO_ERR_AUTH' ? 'PROTO_ERR_AUTH' : 'PROTO_ERR_UNEXPECTED';
          return finish({ kind: 'done', exit: { ok: false, reason: fault.message } }, CLOSE_CODES[reason], reason);
        }
        // a full coordinator, or one that still holds this id's old connection: come back later
        if (msg.type === 'reject' && Object.hasOwn(CLOSE_CODES, msg.code) && !isRefusalClose(CLOSE_CODES[msg.code as CloseReason])) {
          o.log(`coordinator says try again later: ${msg.reason} (${msg.code})`);
          return finish({ kind: 'failed', reason: msg.code });
        }
        if (msg.type === 'welcome') welcomed = true;
        if (msg.type === 'shutdown') {
          o.log(`coordinator ended the run: ${msg.reason}`);
          return finish({ kind: 'done', exit: { ok: true, reason: msg.reason } });
        }
        try {
          for (const reply of await session.handle(msg)) send(reply);
          if (msg.type === 'state' && session.forgetsState) for (const t of msg.tensors) buffers.give(t.data);
        } catch (e) {
          const fault = e instanceof WorkerFault ? e : new WorkerFault('WORKER_ERR_INTERNAL', (e as Error).message);
          o.log(`fault on ${summarizeMessage(msg)}: ${fault.message}`);
          send({ type: 'error', code: fault.code, message: fault.message.slice(0, 4000) });
          // This worker computes deterministically: the same message would fail the same way
          // after a reconnect, so it stops instead of rejoining to fail again (the coordinator
          // gives the share to another worker, or stops the run when it fails there too).
          finish({ kind: 'done', exit: { ok: false, reason: `${fault.code}: ${fault.message}` } }, CLOSE_CODES.WORKER_ERR_FAULT, fault.code);
        }
      });
    });
    ws.on('error', (e) => o.log(`socket error: ${e.message}`));
    ws.on('close', (code, why) => {
      session.disconnected?.();
      const reason = `closed ${code} ${why.toString() || ''}`.trim();
      // The coordinator refusing what this worker says will not change on a retry; a worker
      // dropped for being late or silent (e.g. it was stopped) was not refused and rejoins.
      if (!settled && isRefusalClose(code)) settled = { kind: 'done', exit: { ok: false, reason: `coordinator refused this worker (${reason})` } };
      if (!settled && isDropClose(code)) o.log(`dropped by the coordinator (${reason}); rejoining`);
      resolve(settled ?? (welcomed ? { kind: 'lost-after-welcome', reason } : { kind: 'failed', reason }));
    });
  });
}
