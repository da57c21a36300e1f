import {
  authNonce,
  coordinatorProof,
  modelFileToken,
  proofMatches,
  workerProof,
  type AuthenticatedMessage,
  type ChallengeMessage,
  type HandshakeNonces,
  type HelloMessage,
} from '@adalora/protocol';
import { WorkerFault } from './worker-fault';

const NO_SECRET = new Uint8Array(0);

/**
 * The worker's half of one connection's handshake: answers the coordinator's `challenge` with a
 * `hello` that proves the run secret, and checks the coordinator's own proof in `authenticated`
 * (mutual authentication: a worker with a secret serves only a coordinator that knows it).
 * Without a secret (a loopback coordinator without one) proofs are made with an empty key and
 * the coordinator's is not checked.
 */
export class WorkerHandshake {
  private nonces: HandshakeNonces | null = null;
  private verified = false;

  constructor(private readonly secret: Uint8Array | null) {}

  /** True once the coordinator proved the secret (or when the worker has none to check). */
  get authenticated(): boolean {
    return this.verified;
  }

  /** The `hello` for this challenge: `base` (id, capabilities) with a fresh nonce and the proof. */
  answer(challenge: ChallengeMessage, base: Omit<HelloMessage, 'nonce' | 'proof'>): HelloMessage {
    if (this.nonces) throw new WorkerFault('PROTO_ERR_UNEXPECTED', 'a second challenge on one connection');
    this.nonces = { coordinator: challenge.nonce, worker: authNonce() };
    return { ...base, nonce: this.nonces.worker, proof: workerProof(this.secret ?? NO_SECRET, this.nonces, base.workerId) };
  }

  /** Checks the coordinator's proof; throws PROTO_ERR_AUTH when it does not know the secret. */
  confirm(msg: AuthenticatedMessage): void {
    if (!this.nonces) throw new WorkerFault('PROTO_ERR_UNEXPECTED', 'authenticated before any challenge');
    if (this.secret && !proofMatches(coordinatorProof(this.secret, this.nonces), msg.proof)) {
      throw new WorkerFault('PROTO_ERR_AUTH', 'the coordinator did not prove the run secret: it is not the coordinator of this run');
    }
    this.verified = true;
  }

  /** The bearer token for model files on this connection (after `confirm`). */
  fileToken(): string {
    if (!this.nonces || !this.verified) throw new Error('WorkerHandshake.fileToken before the handshake finished');
    return modelFileToken(this.secret ?? NO_SECRET, this.nonces);
  }
}
