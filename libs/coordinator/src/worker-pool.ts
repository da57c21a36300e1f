import {
  FrameWriter,
  TransferBuffers,
  isProtocolError,
  protocolError,
  PROTOCOL_VERSION,
  summarizeMessage,
  type CoordinatorToWorker,
  type EndpointCloseReason,
  type GradientValues,
  type StateMessage,
  type WelcomeMessage,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import type { WasmArena } from '@adalora/wasm-simd';
import { Heartbeat } from './heartbeat';
import { REAL_TIMERS, type Timers } from './request-channel';
import { RequestDeadlines, type DeadlinePolicy } from './request-deadlines';
import { WorkerLink, type Connection, type ReplyBounds, type Traffic } from './worker-link';

export interface WorkerPoolOptions {
  /** the run a `ready` and every reply must name */
  readonly runId: string;
  /** the model hash a `ready` must report */
  readonly modelHash: string;
  /** the `welcome` for the worker with this index */
  welcome(workerIndex: number): WelcomeMessage;
  /** the adapter state a worker loads once it is ready */
  state(): StateMessage;
  /** how long a request may wait for its reply (and the clock of its deadline timers) */
  readonly deadline: DeadlinePolicy & { readonly timers?: Timers };
  /** ping interval; an idle ready worker silent for two intervals is dropped (omitted: no pings) */
  readonly heartbeatMs?: number;
  /** how large each reply may be (chunked transfers beyond are refused) */
  readonly replyBounds: ReplyBounds;
  readonly log: (line: string) => void;
  /**
   * memory shared with the kernels that read the replies (the finite check, the sum: see
   * shareArena): gradients replies are reassembled into it and read there without a copy
   */
  readonly arena?: WasmArena;
  /**
   * 'unchecked' when the pool's gradients replies go only to a GradientAccumulator, which reads
   * every value in the pass that sums them and refuses a share whose norm is not finite (see
   * GradientValues); default 'checked'
   */
  readonly gradientValues?: GradientValues;
  /** a worker became ready ('join') or a ready one left ('drop'), for the run's events */
  readonly onWorkerEvent?: (event: 'join' | 'drop', link: WorkerLink, detail: string) => void;
}

/** One row of the status page's workers table. */
export interface WorkerRow {
  readonly index: number;
  readonly id: string;
  readonly host: string;
  readonly backend: string;
  readonly state: string;
  readonly lastComputeSeconds: number | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** What the transport tells the pool about one accepted connection. */
export interface ConnectionEvents {
  message(data: Uint8Array): void;
  /** the peer answered a ping */
  pong(): void;
  closed(code: number, reason: string): void;
  error(e: Error): void;
}

/**
 * The workers of a run: accepts connections, runs the hello → welcome → ready handshake,
 * routes replies to each link's request channel, and knows which links are ready. A fault on
 * the wire never touches training state: it is logged and drops that worker only.
 */
export class WorkerPool {
  private readonly links = new Set<WorkerLink>();
  private nextIndex = 0;
  private readyWaiters: (() => void)[] = [];
  private readonly deadlines: RequestDeadlines;
  private heartbeat: { readonly beat: Heartbeat; readonly timer: ReturnType<typeof setInterval> } | null = null;
  /** one writer for every link: a broadcast is encoded once */
  private readonly writer = new FrameWriter();
  /** memory for the replies' reassembly, reused once a reply is summed (see WorkerLink.doneWith); gradients go into the arena, if any */
  private readonly buffers: TransferBuffers;
  /** frame bytes in and out over all links since the pool opened */
  readonly traffic: Traffic = { bytesIn: 0, bytesOut: 0, readMs: 0 };

  constructor(private readonly o: WorkerPoolOptions) {
    this.deadlines = new RequestDeadlines(o.deadline);
    this.buffers = new TransferBuffers(8, o.arena && { arena: o.arena, kinds: ['gradients'] });
  }

  /** Starts pinging every `heartbeatMs` and dropping idle workers that went silent. */
  startHeartbeat(): void {
    if (this.heartbeat || this.o.heartbeatMs === undefined) return;
    const beat = new Heartbeat(this.o.heartbeatMs);
    const timer = setInterval(() => this.checkLiveness(beat, performance.now()), this.o.heartbeatMs);
    timer.unref();
    this.heartbeat = { beat, timer };
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat.timer);
    this.heartbeat = null;
  }

  /** One heartbeat: drops the silent, pings the rest. */
  checkLiveness(beat: Heartbeat, now: number): void {
    for (const link of beat.silent(this.links, now)) {
      this.o.log(`${link.label} answered nothing for ${Math.round(now - link.lastHeardAt)} ms while idle (stopped or gone); dropped, it may rejoin`);
      link.close('COORD_ERR_UNRESPONSIVE');
    }
    for (const link of this.links) link.ping();
  }

  /** The links that finished the handshake and are still connected, in join order. */
  get ready(): WorkerLink[] {
    return [...this.links].filter((l) => l.status === 'ready');
  }

  /** Every connected worker as the status page shows it, in join order. */
  rows(): WorkerRow[] {
    return [...this.links].map((l) => ({
      index: l.index,
      id: l.workerId,
      host: l.capabilities?.hostname ?? l.remote,
      backend: l.capabilities?.backend ?? '?',
      state: l.status,
      lastComputeSeconds: l.lastComputeMs === null ? null : l.lastComputeMs / 1000,
      bytesIn: l.bytesIn,
      bytesOut: l.bytesOut,
    }));
  }

  /** Resolves once at least `n` workers are ready. */
  waitFor(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.ready.length >= n) return resolve();
        this.readyWaiters.push(check);
      };
      check();
    });
  }

  /** The ready links, at least one: when there is none, calls `onWait` and waits for one. */
  async readyAtLeastOne(onWait?: () => void): Promise<WorkerLink[]> {
    if (this.ready.length === 0) {
      onWait?.();
      await this.waitFor(1);
    }
    return this.ready;
  }

  /** Sends a message that needs no reply to every ready worker, encoded once. */
  broadcast(msg: CoordinatorToWorker): void {
    this.sendFrames(this.encode(msg));
  }

  /** The frames of a message for every link of this pool (see broadcast). */
  encode(msg: CoordinatorToWorker): Uint8Array[] {
    return this.writer.encode(msg);
  }

  /** Sends frames made by `encode` to every ready worker. */
  sendFrames(frames: readonly Uint8Array[]): void {
    for (const link of this.ready) link.sendFrames(frames);
  }

  /** Sends `shutdown` to every worker and closes its connection. */
  shutdown(reason: EndpointCloseReason, why: string): void {
    this.stopHeartbeat();
    for (const link of this.links) {
      link.send({ type: 'shutdown', reason: why });
      link.close(reason);
    }
  }

  /** Closes every connection without a `shutdown`: workers take it as a lost coordinator and reconnect. */
  disconnect(reason: EndpointCloseReason): void {
    for (const link of this.links) link.close(reason);
  }

  /** Takes a new connection; the transport reports its events through what this returns. */
  accept(connection: Connection, remote: string): ConnectionEvents {
    const link = new WorkerLink(this.nextIndex++, connection, remote, { deadlines: this.deadlines, timers: this.o.deadline.timers ?? REAL_TIMERS }, this.o.replyBounds, this.writer, this.traffic, this.buffers, this.o.gradientValues);
    this.links.add(link);
    return {
      message: (data) => {
        link.lastHeardAt = performance.now();
        link.bytesIn += data.byteLength;
        this.traffic.bytesIn += data.byteLength;
        this.receive(link, data);
      },
      pong: () => (link.lastHeardAt = performance.now()),
      closed: (code, reason) => {
        if (link.status !== 'closed') this.o.log(`${link.label} disconnected (${code} ${reason || 'no reason'})`);
        if (link.wasReady) this.o.onWorkerEvent?.('drop', link, `${code} ${reason || 'no reason'}`);
        link.closed();
        this.links.delete(link);
      },
      error: (e) => this.o.log(`${link.label}: socket error: ${e.message}`),
    };
  }

  /** Memory shared with the kernels that read the replies, if any (see WorkerPoolOptions.arena). */
  get arena(): WasmArena | undefined {
    return this.o.arena;
  }

  private receive(link: WorkerLink, data: Uint8Array): void {
    // frames still in flight when we closed the link: read, they would only be refused and logged
    if (link.status === 'closed') return;
    try {
      const started = performance.now();
      const msg = link.reader.read(data);
      this.traffic.readMs += performance.now() - started;
      if (msg) this.handle(link, msg);
    } catch (e) {
      if (!isProtocolError(e)) {
        // a bug of ours: say so loudly, and drop only this worker instead of the whole run
        this.o.log(`${link.label}: internal error while handling a message: ${(e as Error).stack ?? String(e)}`);
        link.close('COORD_ERR_INTERNAL');
        return;
      }
      this.o.log(`${link.label}: refused a message: ${e.message} (${e.code})`);
      // a worker of another version gets told why before the close
      if (e.code === 'PROTO_ERR_VERSION') link.send({ type: 'reject', code: e.code, reason: `this coordinator speaks protocol version ${PROTOCOL_VERSION}` });
      link.close(e.code);
    }
  }

  private handle(link: WorkerLink, msg: WorkerToCoordinator): void {
    switch (msg.type) {
      case 'hello': {
        if (link.status !== 'connected') throw protocolError('PROTO_ERR_UNEXPECTED', `hello while ${link.status}`, { messageType: 'hello' });
        link.workerId = msg.workerId;
        link.capabilities = msg.capabilities;
        if (msg.protocolVersion !== PROTOCOL_VERSION) {
          throw protocolError('PROTO_ERR_VERSION', `the worker speaks protocol ${msg.protocolVersion}, this coordinator ${PROTOCOL_VERSION}`, { messageType: 'hello', field: 'protocolVersion' });
        }
        link.status = 'welcomed';
        link.send(this.o.welcome(link.index));
        this.o.log(`${link.label} joined (backend ${msg.capabilities.backend}, ${msg.capabilities.hostname} pid ${msg.capabilities.pid})`);
        return;
      }
      case 'ready': {
        if (link.status !== 'welcomed') throw protocolError('PROTO_ERR_UNEXPECTED', `ready while ${link.status}`, { messageType: 'ready' });
        if (msg.runId !== this.o.runId || msg.modelHash !== this.o.modelHash) {
          throw protocolError('PROTO_ERR_BAD_FIELD', 'ready for another run or model', { messageType: 'ready', field: 'runId' });
        }
        link.status = 'ready';
        link.wasReady = true;
        this.o.onWorkerEvent?.('join', link, `backend ${link.capabilities?.backend ?? '?'} on ${link.capabilities?.hostname ?? link.remote}`);
        link.send(this.o.state());
        this.o.log(`${link.label} ready (model loaded in ${Math.round(msg.loadMs)} ms); ${this.ready.length} worker(s) ready`);
        this.readyWaiters.splice(0).forEach((wake) => wake());
        return;
      }
      case 'gradients':
      case 'evalResult': {
        let taken = false;
        try {
          if (msg.runId !== this.o.runId) throw protocolError('PROTO_ERR_BAD_FIELD', 'reply for another run', { messageType: msg.type, field: 'runId' });
          taken = link.requests.onReply(msg) === 'accepted';
          if (!taken) this.o.log(`${link.label}: ignored a stale ${summarizeMessage(msg)}`);
        } finally {
          // nothing will read a gradients reply no request took: its memory serves a later one
          if (!taken && msg.type === 'gradients') link.doneWith(msg.tensors);
        }
        return;
      }
      case 'error':
        // the worker failed on what it was sent and leaves: what it owed fails with its words
        this.o.log(`${link.label} reported ${msg.code}: ${msg.message}`);
        link.close('WORKER_ERR_FAULT', `${msg.code}: ${msg.message}`);
        return;
      case 'heartbeat':
        return;
      default: {
        const never: never = msg;
        throw protocolError('PROTO_ERR_UNKNOWN_TYPE', `unhandled ${(never as { type: string }).type}`);
      }
    }
  }
}
