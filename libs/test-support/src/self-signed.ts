import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Why a self-signed certificate cannot be made here ('' when it can): tests skip, saying so. */
export const OPENSSL_MISSING = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return '';
  } catch {
    return 'openssl is not installed';
  }
})();

/**
 * A self-signed P-256 certificate for `subjectAltName` (e.g. `IP:127.0.0.1,DNS:localhost`), made
 * by openssl in `dir` for one test: its PEM files' paths and contents.
 */
export function selfSignedCertificate(dir: string, subjectAltName: string): { certPath: string; keyPath: string; cert: Buffer; key: Buffer } {
  const [certPath, keyPath] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost', '-addext', `subjectAltName=${subjectAltName}`], { stdio: 'ignore' });
  return { certPath, keyPath, cert: readFileSync(certPath), key: readFileSync(keyPath) };
}
