import test from 'ava';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSha256Fingerprint, trustedTlsSocket } from './tls-client';

const opensslMissing = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return '';
  } catch {
    return 'openssl is not installed';
  }
})();

/** A self-signed certificate for 127.0.0.1, made for this test, and a server that presents it. */
async function selfSignedServer(): Promise<{ server: Server; port: number; cert: Buffer; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-tls-client-'));
  const [certPath, keyPath] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const cert = readFileSync(certPath);
  const server = createServer({ cert, key: readFileSync(keyPath) }, (_, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, port, cert, done: () => (server.close(), rmSync(dir, { recursive: true, force: true })) };
}

(opensslMissing ? test.skip : test)(`a self-signed coordinator is trusted by its CA file or its pinned fingerprint, and by nothing else${opensslMissing ? ` [skipped: ${opensslMissing}]` : ''}`, async (t) => {
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
