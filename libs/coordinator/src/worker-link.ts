import { CLOSE_CODES, FrameWriter, workerMessageReader, type CloseReason, type CoordinatorToWorker, type FrameReader, type WorkerCapabilities, type WorkerToCoordinator } from '@adalora/protocol';
import { RequestChannel, type Timers } from './request-channel';

/** Where a worker's connection is in the conversation. */
export type LinkStatus = 'connected' | 'welcomed' | 'ready' | 'closed';

/** What a link needs of its transport (a ws WebSocket, or a fake in tests). */
export interface Connection {
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** How long a request may wait for its reply, and the clock that says so. */
export interface RequestDeadline {
  readonly ms: number;
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

/**
 * One worker's connection: its frame reader/writer, where it is in the conversation, and its
 * request channel (one request in flight). A missed deadline drops the link.
 */
export class WorkerLink {
  status: LinkStatus = 'connected';
  workerId = '?';
  capabilities: WorkerCapabilities | null = null;
  readonly reader: FrameReader<WorkerToCoordinator>;
  readonly requests: RequestChannel;
  private readonly writer = new FrameWriter();
  /** the size bound of the reply to the request sent last */
  private replyBytes = 0;

  constructor(
    readonly index: number,
    private readonly connection: Connection,
    readonly remote: string,
    deadline: RequestDeadline,
    private readonly bounds: ReplyBounds,
  ) {
    this.reader = workerMessageReader({ transferAllowance: () => (this.requests.busy ? this.replyBytes : 0) });
    this.requests = new RequestChannel(this, deadline.ms, () => this.close('COORD_ERR_DEADLINE'), deadline.timers);
  }

  get label(): string {
    return `worker ${this.index} (${this.workerId}@${this.remote})`;
  }

  send(msg: CoordinatorToWorker): void {
    if (this.status === 'closed') return;
    if (msg.type === 'compute') this.replyBytes = this.bounds.gradientsBytes;
    if (msg.type === 'evaluate') this.replyBytes = this.bounds.evalResultBytes(msg.samples.sampleIds.length);
    for (const frame of this.writer.encode(msg)) this.connection.send(frame);
  }

  /** Closes the connection with the code CLOSE_CODES gives `reason`, and fails what it owed. */
  close(reason: CloseReason): void {
    if (this.status !== 'closed') {
      this.status = 'closed';
      this.connection.close(CLOSE_CODES[reason], reason);
    }
    this.requests.fail(new Error(`${this.label} closed: ${reason}`));
  }

  /** The peer or the network closed the connection. */
  closed(): void {
    this.status = 'closed';
    this.requests.fail(new Error(`${this.label} disconnected`));
  }
}
