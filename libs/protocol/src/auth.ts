/**
 * The handshake's proofs of the run secret. Each proof is HMAC-SHA256(secret, context ‖ nonces …)
 * with a context string per direction and protocol version, so a proof recorded on one connection
 * (fresh nonces) or in one direction (a reflected proof) proves nothing on another. The secret
 * itself never goes on the wire.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PROTOCOL_VERSION } from './messages';

/** Bytes of a handshake nonce and of a proof (an HMAC-SHA256). */
export const AUTH_NONCE_BYTES = 32;
export const AUTH_PROOF_BYTES = 32;

/** The shortest run secret accepted: shorter ones can be guessed offline from one recorded handshake. */
export const MIN_SECRET_BYTES = 16;

/** A fresh random nonce. */
export function authNonce(): Uint8Array {
  return new Uint8Array(randomBytes(AUTH_NONCE_BYTES));
}

/** The nonces of one connection: the coordinator's (in `challenge`) and the worker's (in `hello`). */
export interface HandshakeNonces {
  readonly coordinator: Uint8Array;
  readonly worker: Uint8Array;
}

function hmac(secret: Uint8Array, context: string, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', secret).update(`adalora/${PROTOCOL_VERSION} ${context}\0`);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** What a worker sends in `hello.proof`: it knows the secret, for this connection and this id. */
export function workerProof(secret: Uint8Array, nonces: HandshakeNonces, workerId: string): Uint8Array {
  return hmac(secret, 'worker hello', nonces.coordinator, nonces.worker, new TextEncoder().encode(workerId));
}

/** What the coordinator sends in `authenticated.proof`: it knows the secret too (mutual authentication). */
export function coordinatorProof(secret: Uint8Array, nonces: HandshakeNonces): Uint8Array {
  return hmac(secret, 'coordinator authenticated', nonces.coordinator, nonces.worker);
}

/**
 * The bearer token for fetching model files over HTTP on this connection, hex. Both ends derive
 * it; it is sent only inside the file request and is valid only while the connection lives.
 */
export function modelFileToken(secret: Uint8Array, nonces: HandshakeNonces): string {
  return Buffer.from(hmac(secret, 'model files', nonces.coordinator, nonces.worker)).toString('hex');
}

/** Compares a received proof with the expected one in constant time. */
export function proofMatches(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.byteLength === received.byteLength && timingSafeEqual(expected, received);
}
