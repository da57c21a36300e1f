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
 * One worker's connection: its frame reader/writer, where it is in the conversation, and its
 * request channel (one request in flight). A missed deadline drops the link.
 */
export class WorkerLink {
  status: LinkStatus = 'connected';
  workerId = '?';
  capabilities: WorkerCapabilities | null = null;
  readonly reader: FrameReader<WorkerToCoordinator> = workerMessageReader();
  readonly requests: RequestChannel;
  private readonly writer = new FrameWriter();

  constructor(
    readonly index: number,
    private readonly connection: Connection,
    readonly remote: string,
    deadline: RequestDeadline,
  ) {
    this.requests = new RequestChannel(this, deadline.ms, () => this.close('COORD_ERR_DEADLINE'), deadline.timers);
  }

  get label(): string {
    return `worker ${this.index} (${this.workerId}@${this.remote})`;
  }

  send(msg: CoordinatorToWorker): void {
    if (this.status === 'closed') return;
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
