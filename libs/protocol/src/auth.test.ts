import test from 'ava';
import { AUTH_NONCE_BYTES, AUTH_PROOF_BYTES, authNonce, coordinatorProof, modelFileToken, proofMatches, workerProof } from './auth';

const secret = new TextEncoder().encode('a run secret of 32 characters!!!');
const nonces = { coordinator: authNonce(), worker: authNonce() };

test('nonces are fresh and proofs have their fixed sizes', (t) => {
  t.is(nonces.coordinator.byteLength, AUTH_NONCE_BYTES);
  t.notDeepEqual(authNonce(), authNonce());
  t.is(workerProof(secret, nonces, 'w').byteLength, AUTH_PROOF_BYTES);
  t.is(coordinatorProof(secret, nonces).byteLength, AUTH_PROOF_BYTES);
});

test('a proof holds only for its secret, its nonces and its worker id', (t) => {
  const proof = workerProof(secret, nonces, 'w-1');
  t.true(proofMatches(workerProof(secret, nonces, 'w-1'), proof));
  t.false(proofMatches(workerProof(new TextEncoder().encode('another secret of 32 characters!'), nonces, 'w-1'), proof), 'another secret');
  t.false(proofMatches(workerProof(secret, { ...nonces, coordinator: authNonce() }, 'w-1'), proof), 'replayed on a fresh challenge');
  t.false(proofMatches(workerProof(secret, nonces, 'w-2'), proof), 'claimed for another id');
  t.false(proofMatches(proof, proof.subarray(0, 16)), 'a short proof');
});

test('the two directions and the file token never share a value (no reflection)', (t) => {
  const values = [workerProof(secret, nonces, ''), coordinatorProof(secret, nonces), Buffer.from(modelFileToken(secret, nonces), 'hex')];
  t.is(new Set(values.map((v) => Buffer.from(v).toString('hex'))).size, 3);
  t.is(modelFileToken(secret, nonces), modelFileToken(secret, { ...nonces }), 'both ends derive the same token');
});
