import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { statusPageHtml } from './page-html';
import type { RunView } from './run-view';

/** Where the page and its data are served on the coordinator's port. */
export const STATUS_PATH = '/status';
export const STATUS_DATA_PATH = '/status/run.json';

/**
 * The page's access token: derived from the run secret (HMAC, so the URL never carries the
 * secret itself, and the token proves nothing to the worker handshake).
 */
export function statusToken(secret: Uint8Array): string {
  return createHmac('sha256', secret).update('adalora status page v1').digest('hex').slice(0, 32);
}

function isLoopbackAddress(address: string | undefined): boolean {
  return address === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(address ?? '');
}

/**
 * The read-only status page on the coordinator's port: `GET /status` (the page) and
 * `GET /status/run.json` (what it polls). With a run secret, both need the token (`?token=` or
 * `Authorization: Bearer`); without one they answer loopback clients only, as the port itself.
 */
export class StatusPage {
  private readonly token: string | null;
  private html: string | null = null;

  constructor(
    private readonly view: () => RunView,
    secret: Uint8Array | null,
  ) {
    this.token = secret ? statusToken(secret) : null;
  }

  /** The page's path and query, token included, to print at start. */
  get path(): string {
    return this.token ? `${STATUS_PATH}?token=${this.token}` : STATUS_PATH;
  }

  /** True when this request may see the page (its socket is then not an unauthenticated worker connection). */
  authorizes(req: IncomingMessage): boolean {
    if (!this.isStatusRequest(req)) return false;
    if (!this.token) return isLoopbackAddress(req.socket.remoteAddress);
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    const given = url.searchParams.get('token') ?? (auth.startsWith('Bearer ') ? auth.slice(7) : '');
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Answers a status request; returns false (answering nothing) for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.isStatusRequest(req)) return false;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    if (req.method !== 'GET') res.writeHead(405).end();
    else if (!this.authorizes(req)) res.writeHead(this.token ? 401 : 403, { 'content-type': 'text/plain' }).end(this.token ? 'the status page needs ?token= (printed by the coordinator at start)\n' : 'the status page answers this machine only (no run secret)\n');
    else if (path === STATUS_DATA_PATH) res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(this.view()));
    else if (path === STATUS_PATH || path === `${STATUS_PATH}/`) res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end((this.html ??= statusPageHtml('AdaLoRA run (live)', null)));
    else res.writeHead(404).end();
    return true;
  }

  private isStatusRequest(req: IncomingMessage): boolean {
    const path = (req.url ?? '').split('?')[0];
    return path === STATUS_PATH || path.startsWith(`${STATUS_PATH}/`);
  }
}
