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
  type WorkerToCoordinator,
} from '@adalora/protocol';
import { WorkerFault, WorkerSession, type WorkerSessionOptions } from './worker-session';

export interface WorkerClientOptions extends WorkerSessionOptions {
  /** ws://host:port of the coordinator */
  readonly url: string;
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
}

/** How a worker's life ended. */
export type WorkerExit = { readonly ok: true; readonly reason: string } | { readonly ok: false; readonly reason: string };

/**
 * Connects to the coordinator (and reconnects with bounded exponential back-off when the
 * connection drops or the coordinator goes away without ending the run), runs the session's
 * replies back over the socket, and resolves when the coordinator shuts the worker down, refuses
 * it, or has been out of reach for `giveUpAfterMs`.
 */
export async function runWorkerClient(o: WorkerClientOptions): Promise<WorkerExit> {
  const session = new WorkerSession(o);
  const maxRetries = o.maxRetries ?? Infinity;
  let failures = 0;
  let outOfReachSince = 0;
  try {
    for (;;) {
      const outcome = await connectOnce(o, session);
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

function connectOnce(o: WorkerClientOptions, session: WorkerSession): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(o.url, { maxPayload: DEFAULT_MAX_MESSAGE_BYTES });
    const reader = coordinatorMessageReader();
    const writer = new FrameWriter();
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
    ws.on('open', () => send(session.hello()));
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
        if (msg.type === 'welcome') welcomed = true;
        if (msg.type === 'shutdown') {
          o.log(`coordinator ended the run: ${msg.reason}`);
          return finish({ kind: 'done', exit: { ok: true, reason: msg.reason } });
        }
        try {
          for (const reply of await session.handle(msg)) send(reply);
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
      const reason = `closed ${code} ${why.toString() || ''}`.trim();
      // The coordinator refusing what this worker says will not change on a retry; a worker
      // dropped for being late or silent (e.g. it was stopped) was not refused and rejoins.
      if (!settled && isRefusalClose(code)) settled = { kind: 'done', exit: { ok: false, reason: `coordinator refused this worker (${reason})` } };
      if (!settled && isDropClose(code)) o.log(`dropped by the coordinator (${reason}); rejoining`);
      resolve(settled ?? (welcomed ? { kind: 'lost-after-welcome', reason } : { kind: 'failed', reason }));
    });
  });
}
