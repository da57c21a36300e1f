import { protocolError, type CoordinatorToWorker, type EvalResultMessage, type GradientsMessage } from '@adalora/protocol';

/** A request the coordinator sends and the reply that answers it. */
export interface RequestKinds {
  readonly compute: GradientsMessage;
  readonly evaluate: EvalResultMessage;
}
export type RequestKind = keyof RequestKinds;
export type Reply = RequestKinds[RequestKind];

const KIND_OF_REPLY: { readonly [T in Reply['type']]: RequestKind } = { gradients: 'compute', evalResult: 'evaluate' };

/** Timers, injectable so that deadlines can be driven by hand in tests. */
export interface Timers {
  set(fire: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  set: (fire, ms) => setTimeout(fire, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What a channel needs of its connection. */
export interface ChannelPort {
  readonly label: string;
  send(msg: CoordinatorToWorker): void;
}

/** A request that got no reply within its deadline. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

interface Pending {
  readonly kind: RequestKind;
  readonly requestId: number;
  readonly timer: unknown;
  resolve(reply: Reply): void;
  reject(reason: Error): void;
}

/**
 * Request/reply on one worker link: at most one request in flight, with a deadline, and replies
 * matched by `requestId` (fresh per request, increasing). A reply to an earlier request (stale,
 * e.g. after a timeout) is ignored; a reply nobody asked for is a ProtocolError
 * (PROTO_ERR_UNEXPECTED). Compute and evaluate both go through here.
 */
export class RequestChannel {
  private pending: Pending | null = null;
  private nextRequestId = 0;
  private failedWith: Error | null = null;

  constructor(
    private readonly port: ChannelPort,
    /** the deadline of a request that names none */
    private readonly deadlineMs: number,
    /** called when a request misses its deadline (after it is failed), e.g. to drop the link */
    private readonly onDeadline: (error: DeadlineError) => void,
    private readonly timers: Timers = REAL_TIMERS,
  ) {}

  /** True while a request waits for its reply. */
  get busy(): boolean {
    return this.pending !== null;
  }

  /**
   * Sends the message `build` makes with a fresh requestId; resolves with the matching reply,
   * rejects on the deadline or when the link fails. Asking while a request is pending is a bug.
   */
  request<K extends RequestKind>(kind: K, build: (requestId: number) => CoordinatorToWorker, deadlineMs: number = this.deadlineMs): Promise<RequestKinds[K]> {
    if (this.pending) throw new Error(`${this.port.label}: a ${kind} request while request ${this.pending.requestId} is pending`);
    if (this.failedWith) return Promise.reject(this.failedWith);
    const requestId = this.nextRequestId++;
    return new Promise<RequestKinds[K]>((resolve, reject) => {
      const timer = this.timers.set(() => {
        if (this.pending?.requestId !== requestId) return;
        const error = new DeadlineError(`${this.port.label}: no reply to ${kind} request ${requestId} within ${deadlineMs} ms`);
        this.settle()?.reject(error);
        this.onDeadline(error);
      }, deadlineMs);
      this.pending = { kind, requestId, timer, resolve: resolve as (reply: Reply) => void, reject };
      this.port.send(build(requestId));
    });
  }

  /**
   * Hands a reply to the pending request it answers. Returns 'stale' (and changes nothing) for
   * the answer to an earlier request of the same kind; throws PROTO_ERR_UNEXPECTED for a reply
   * that was not asked for: no request pending, the wrong kind, or a requestId from the future.
   */
  onReply(reply: Reply): 'accepted' | 'stale' {
    const p = this.pending;
    if (!p || p.kind !== KIND_OF_REPLY[reply.type] || reply.requestId > p.requestId) {
      throw protocolError('PROTO_ERR_UNEXPECTED', `${reply.type} that was not asked for`, { messageType: reply.type });
    }
    if (reply.requestId < p.requestId) return 'stale';
    this.settle()!.resolve(reply);
    return 'accepted';
  }

  /** Fails the pending request and every later one (the link is gone). */
  fail(reason: Error): void {
    this.failedWith ??= reason;
    this.settle()?.reject(reason);
  }

  private settle(): Pending | null {
    const p = this.pending;
    this.pending = null;
    if (p) this.timers.clear(p.timer);
    return p;
  }
}
