import type { CloseReason } from '@adalora/protocol';

/**
 * Closes that blame the share rather than the worker: the worker reported a failure computing
 * it, or its reply was refused. The same share may fail the same way on any worker.
 */
const SHARE_BLAMING: ReadonlySet<CloseReason> = new Set<CloseReason>(['WORKER_ERR_FAULT', 'PROTO_ERR_NON_FINITE', 'COORD_ERR_ABSURD_GRADIENTS']);

/**
 * Why a worker did not deliver the share it was asked for. `blamesShare`: the worker failed on
 * it or its reply was refused (see SHARE_BLAMING); otherwise the worker went away (deadline,
 * silence, disconnect) and the share itself is not suspect.
 */
export class ShareFailure extends Error {
  override readonly name = 'ShareFailure';
  readonly blamesShare: boolean;

  constructor(
    readonly workerId: string,
    readonly reason: CloseReason | 'disconnected',
    message: string,
  ) {
    super(message);
    this.blamesShare = reason !== 'disconnected' && SHARE_BLAMING.has(reason);
  }
}
