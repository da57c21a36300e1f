import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/** How a worker trusts the coordinator's certificate: a CA (PEM) or a pinned SHA-256 fingerprint. */
export interface WorkerTls {
  readonly ca?: Buffer;
  /** SHA-256 of the certificate (DER), hex, with or without colons (as `openssl x509 -fingerprint -sha256` prints it) */
  readonly fingerprint?: string;
}

const normalize = (fp: string) => fp.replace(/:/g, '').toLowerCase();

/** True when `fingerprint` is 64 hex digits, colons allowed between pairs. */
export function isSha256Fingerprint(fingerprint: string): boolean {
  return /^[0-9a-f]{64}$/.test(normalize(fingerprint));
}

/**
 * Opens a TLS connection that is trusted by `tls.ca` (normal verification, host name included)
 * or by the pinned fingerprint alone (a self-signed certificate needs no CA then); a certificate
 * that fails is destroyed on `secureConnect`, before anything is read from it.
 */
export function trustedTlsConnect(tls: WorkerTls, options: ConnectionOptions & { host?: string }): TLSSocket {
  const host = options.host ?? 'localhost';
  const socket = tlsConnect({
    ...options,
    // SNI takes a host name, never an IP address
    servername: isIP(host) ? '' : host,
    ...(tls.ca && { ca: tls.ca }),
    ...(tls.fingerprint !== undefined && { rejectUnauthorized: false }),
  });
  if (tls.fingerprint !== undefined) {
    const want = normalize(tls.fingerprint);
    socket.once('secureConnect', () => {
      const got = normalize(socket.getPeerCertificate().fingerprint256 ?? '');
      if (got !== want) socket.destroy(new Error(`the coordinator's TLS certificate has SHA-256 fingerprint ${got}, not the pinned ${want}`));
    });
  }
  return socket;
}

/** `trustedTlsConnect`, resolved once the certificate is checked (for requests that carry a token). */
export function trustedTlsSocket(tls: WorkerTls, host: string, port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = trustedTlsConnect(tls, { host, port });
    socket.once('error', reject);
    // after the pin check, which runs first as it was attached first
    socket.once('secureConnect', () => {
      if (!socket.destroyed) {
        socket.off('error', reject);
        resolve(socket);
      }
    });
  });
}
