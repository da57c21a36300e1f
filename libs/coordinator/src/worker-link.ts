import type WebSocket from 'ws';
import { FrameWriter, workerMessageReader, type CoordinatorToWorker, type FrameReader, type WorkerCapabilities, type WorkerToCoordinator } from '@adalora/protocol';

/** Where a worker's connection is in the conversation. */
export type LinkStatus = 'connected' | 'welcomed' | 'ready' | 'closed';

/** A request the coordinator waits on: one compute or evaluate per link at a time. */
export interface PendingRequest<T> {
  readonly kind: 'compute' | 'evaluate';
  /** the round (compute) or evalId (evaluate) a reply must echo */
  readonly tag: number;
  readonly step: number;
  resolve(value: T): void;
  reject(reason: Error): void;
}

/** One worker's connection: its frame reader/writer, status and the request it owes an answer to. */
export class WorkerLink {
  status: LinkStatus = 'connected';
  workerId = '?';
  capabilities: WorkerCapabilities | null = null;
  pending: PendingRequest<WorkerToCoordinator> | null = null;
  readonly reader: FrameReader<WorkerToCoordinator> = workerMessageReader();
  private readonly writer = new FrameWriter();

  constructor(
    readonly index: number,
    readonly socket: WebSocket,
    readonly remote: string,
  ) {}

  get label(): string {
    return `worker ${this.index} (${this.workerId}@${this.remote})`;
  }

  send(msg: CoordinatorToWorker): void {
    if (this.status === 'closed') return;
    for (const frame of this.writer.encode(msg)) this.socket.send(frame);
  }

  /** Closes the connection and fails whatever it owed. */
  close(code: number, reason: string): void {
    if (this.status !== 'closed') {
      this.status = 'closed';
      this.socket.close(code, reason.slice(0, 120));
    }
    this.fail(new Error(`${this.label} closed: ${reason}`));
  }

  fail(reason: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(reason);
  }
}
