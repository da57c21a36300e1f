import { CLOSE_CODES, FrameWriter, TransferBuffers, workerMessageReader, type CloseReason, type CoordinatorToWorker, type FrameReader, type GradientValues, type WireTensor, type WorkerCapabilities, type WorkerToCoordinator } from '@adalora/protocol';
import { RequestChannel, type RequestKind, type RequestKinds, type Timers } from './request-channel';
import { RequestDeadlines } from './request-deadlines';
import { ShareFailure } from './share-failure';

/** Where a worker's connection is in the conversation. */
export type LinkStatus = 'connected' | 'welcomed' | 'ready' | 'closed';

/** What a link needs of its transport (a ws WebSocket, or a fake in tests). */
export interface Connection {
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
  /** a WebSocket ping; the peer's pong is reported as ConnectionEvents.pong */
  ping?(): void;
}

/** The deadlines of a link's requests, and the clock that says so. */
export interface RequestDeadline {
  readonly deadlines: RequestDeadlines;
  readonly timers?: Timers;
}

/**
 * The largest reply (encoded bytes) each request can get back: a worker may start a chunked
 * transfer only while it owes a reply, and no larger than that reply can be.
 */
export interface ReplyBounds {
  /** a `gradients` message (known from the trainables and the wire dtype) */
  readonly gradientsBytes: number;
  /** an `evalResult` for `rows` samples */
  evalResultBytes(rows: number): number;
}

/** Frame bytes a pool's links sent and received, counted as they pass. */
export interface Traffic {
  bytesIn: number;
  bytesOut: number;
  /** ms spent reading received frames (reassembling, decoding, checking them) */
  readMs: number;
}

/**
 * One worker's connection: its frame reader/writer, where it is in the conversation, when it was
 * last heard from, and its request channel (one request in flight). A missed deadline drops the link.
 */
export class WorkerLink {
  status: LinkStatus = 'connected';
  /** it finished the handshake once (its close is a worker leaving the run) */
  wasReady = false;
  workerId = '?';
  capabilities: WorkerCapabilities | null = null;
  /** performance.now() of the last frame or pong from the peer */
  lastHeardAt = performance.now();
  /** frame bytes received from and sent to the peer, for the status page */
  bytesIn = 0;
  bytesOut = 0;
  /** the worker's compute time of its last accepted gradients share, ms (null before one) */
  lastComputeMs: number | null = null;
  readonly reader: FrameReader<WorkerToCoordinator>;
  readonly requests: RequestChannel;
  private readonly deadlines: RequestDeadlines;
  /** request kinds this link answered at least once (its later ones need no warm-up time) */
  private readonly warm = new Set<RequestKind>();
  /** the size bound of the reply to the request sent last */
  private replyBytes = 0;

  constructor(
    readonly index: number,
    private readonly connection: Connection,
    readonly remote: string,
    deadline: RequestDeadline,
    private readonly bounds: ReplyBounds,
    /** shared by all links of a pool, so one message can be encoded once for all (its transfer ids still increase on every link) */
    private readonly writer: FrameWriter = new FrameWriter(),
    private readonly traffic: Traffic = { bytesIn: 0, bytesOut: 0, readMs: 0 },
    /** shared by all links of a pool: a reply's memory, given back by doneWith, serves a later reply */
    private readonly buffers: TransferBuffers = new TransferBuffers(),
    /** who checks that gradient values are finite: the reader, or the one who sums them (see GradientValues) */
    gradientValues: GradientValues = 'checked',
  ) {
    this.reader = workerMessageReader({ transferAllowance: () => (this.requests.busy ? this.replyBytes : 0), buffers, gradientValues });
    this.deadlines = deadline.deadlines;
    this.requests = new RequestChannel(this, this.deadlines.forRequest('compute', 1, false), () => this.close('COORD_ERR_DEADLINE'), deadline.timers);
  }

  /** A request waits for this link's reply. */
  get busy(): boolean {
    return this.requests.busy;
  }

  get label(): string {
    return `worker ${this.index} (${this.workerId}@${this.remote})`;
  }

  send(msg: CoordinatorToWorker): void {
    if (this.status === 'closed') return;
    if (msg.type === 'compute') this.replyBytes = this.bounds.gradientsBytes;
    if (msg.type === 'evaluate') this.replyBytes = this.bounds.evalResultBytes(msg.samples.sampleIds.length);
    this.sendFrames(this.writer.encode(msg));
  }

  /** Sends frames already encoded (by this link's writer) for a message that needs no reply. */
  sendFrames(frames: readonly Uint8Array[]): void {
    if (this.status === 'closed') return;
    for (const frame of frames) {
      this.bytesOut += frame.byteLength;
      this.traffic.bytesOut += frame.byteLength;
      this.connection.send(frame);
    }
  }

  /**
   * Sends a request over `rows` rows with the deadline the run's policy gives it; resolves with
   * the reply. `accept` checks the reply (throwing refuses it): only an accepted reply after
   * the link's first teaches the policy how long such requests take.
   */
  async request<K extends RequestKind, R>(kind: K, rows: number, build: (requestId: number) => CoordinatorToWorker, accept: (reply: RequestKinds[K]) => R): Promise<R> {
    const started = performance.now();
    const reply = await this.requests.request(kind, build, this.deadlines.forRequest(kind, rows, this.warm.has(kind)));
    const elapsed = performance.now() - started;
    const result = accept(reply);
    // a first reply includes warm-up (kernels compiled, weights uploaded): it says nothing of later steps
    if (this.warm.has(kind)) this.deadlines.observe(kind, rows, elapsed);
    this.warm.add(kind);
    return result;
  }

  /**
   * Says that nothing reads the tensors of a reply any more (they were summed), so the memory
   * they were reassembled into may take a later reply. Call it only then: the views go stale.
   */
  doneWith(tensors: Iterable<WireTensor>): void {
    for (const t of tensors) this.buffers.give(t.data);
  }

  ping(): void {
    if (this.status !== 'closed') this.connection.ping?.();
  }

  /**
   * Closes the connection with the code CLOSE_CODES gives `reason`, and fails what it owed with
   * a ShareFailure (`detail`, e.g. the worker's own words, goes into its message), which it
   * returns for the caller to throw when the request had already been answered.
   */
  close(reason: CloseReason, detail?: string): ShareFailure {
    if (this.status !== 'closed') {
      this.status = 'closed';
      this.connection.close(CLOSE_CODES[reason], reason);
      this.reader.reset();
    }
    const failure = new ShareFailure(this.workerId, reason, `${this.label} closed: ${reason}${detail ? ` (${detail})` : ''}`);
    this.requests.fail(failure);
    return failure;
  }

  /** The peer or the network closed the connection. */
  closed(): void {
    this.status = 'closed';
    this.reader.reset();
    this.requests.fail(new ShareFailure(this.workerId, 'disconnected', `${this.label} disconnected`));
  }
}
