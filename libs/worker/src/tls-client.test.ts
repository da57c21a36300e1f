import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENSSL_MISSING, selfSignedCertificate } from '@adalora/test-support';
import { isSha256Fingerprint, trustedTlsSocket } from './tls-client';

/** A self-signed certificate for 127.0.0.1, made for this test, and a server that presents it. */
async function selfSignedServer(): Promise<{ server: Server; port: number; cert: Buffer; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-tls-client-'));
  const { cert, key } = selfSignedCertificate(dir, 'IP:127.0.0.1');
  const server = createServer({ cert, key }, (_, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, port, cert, done: () => (server.close(), rmSync(dir, { recursive: true, force: true })) };
}

(OPENSSL_MISSING ? test.skip : test)(`a self-signed coordinator is trusted by its CA file or its pinned fingerprint, and by nothing else${OPENSSL_MISSING ? ` [skipped: ${OPENSSL_MISSING}]` : ''}`, async (t) => {
  const { port, cert, done } = await selfSignedServer();
  try {
    const fingerprint = new X509Certificate(cert).fingerprint256; // AA:BB:… as openssl prints it
    t.true(isSha256Fingerprint(fingerprint));
    (await trustedTlsSocket({ ca: cert }, '127.0.0.1', port)).destroy();
    (await trustedTlsSocket({ fingerprint }, '127.0.0.1', port)).destroy();
    (await trustedTlsSocket({ fingerprint: fingerprint.replace(/:/g, '').toLowerCase() }, '127.0.0.1', port)).destroy();
    await t.throwsAsync(trustedTlsSocket({ fingerprint: '00'.repeat(32) }, '127.0.0.1', port), { message: /fingerprint .* not the pinned/ });
    await t.throwsAsync(trustedTlsSocket({}, '127.0.0.1', port), { message: /self[- ]signed/i });
  } finally {
    done();
  }
});

test('fingerprints are 64 hex digits, colons allowed', (t) => {
  t.true(isSha256Fingerprint('ab'.repeat(32)));
  t.true(isSha256Fingerprint(Array(32).fill('AB').join(':')));
  t.false(isSha256Fingerprint('ab'.repeat(31)));
  t.false(isSha256Fingerprint('zz'.repeat(32)));
});
