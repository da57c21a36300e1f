import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { CLOSE_CODES, WORKER_MAX_FRAME_BYTES } from '@adalora/protocol';
import type { ConnectionGate } from './connection-gate';
import type { ModelFileServer } from './model-files';
import { PendingConnections } from './pending-connections';
import type { StatusPage } from './status-page';

/**
 * A closed connection whose peer does not finish the close handshake (a stopped worker) is cut
 * after this long, instead of ws's 30 s: the close frame is already in the peer's buffer.
 */
const CLOSE_GRACE_MS = 2_000;

/** Connections at most that have not authenticated yet; beyond, the oldest is dropped for the newest. */
const MAX_PENDING_CONNECTIONS = 32;

export interface WorkerServerOptions {
  readonly host: string;
  readonly port: number;
  /** PEM certificate and key: serve `wss` (and the model files over https) */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | null;
  /** time a connection has to authenticate, from its TCP connect */
  readonly handshakeTimeoutMs: number;
  /** the model files workers may fetch, or null */
  readonly files: ModelFileServer | null;
  /** the read-only status page, or null */
  readonly status?: StatusPage | null;
}

/**
 * The port workers connect to: one HTTP(S) server carrying the WebSocket upgrade and the model
 * file GETs. It hands each WebSocket to the gate (which authenticates it, then passes it on to the
 * pool) and holds the transport limits: a frame bound (ws `maxPayload`), the handshake deadline
 * and a bounded number of unauthenticated connections (see PendingConnections). Closing ends
 * every connection at once, however far its HTTP request got.
 */
export class WorkerServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Socket>();
  private readonly pending: PendingConnections<Socket>;
  private readonly upgraded = new Map<Socket, WebSocket>();
  /** WebSockets that authenticated: they were sent `shutdown` and deserve a clean close */
  private readonly workers = new Set<WebSocket>();

  constructor(
    private readonly o: WorkerServerOptions,
    gate: ConnectionGate,
  ) {
    this.pending = new PendingConnections(MAX_PENDING_CONNECTIONS, o.handshakeTimeoutMs);
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      if (o.files?.authorizes(req) || o.status?.authorizes(req)) this.pending.settle(req.socket);
      if (!o.status?.handle(req, res) && !o.files?.handle(req, res)) res.writeHead(404).end();
    };
    this.http = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, onRequest) : createHttpServer(onRequest);
    // a request that has not arrived whole by the handshake deadline is not from a worker
    this.http.headersTimeout = o.handshakeTimeoutMs;
    this.http.requestTimeout = o.handshakeTimeoutMs;
    this.http.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      this.pending.add(socket, () => this.dropUnauthenticated(socket));
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.pending.settle(socket);
        this.upgraded.delete(socket);
      });
    });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: WORKER_MAX_FRAME_BYTES });
    this.wss.on('connection', (socket, req) => {
      const raw = req.socket;
      this.upgraded.set(raw, socket);
      const events = gate.accept(
        {
          send: (frame) => socket.send(frame),
          close: (code, reason) => {
            socket.close(code, reason);
            setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
          },
          ping: () => socket.ping(),
          authenticated: () => {
            this.pending.settle(raw);
            this.workers.add(socket);
          },
        },
        `${raw.remoteAddress}:${raw.remotePort}`,
      );
      socket.on('message', (data: Buffer) => events.message(data));
      socket.on('pong', () => events.pong());
      socket.on('close', (code, reason) => {
        this.workers.delete(socket);
        events.closed(code, reason.toString());
      });
      socket.on('error', (e) => events.error(e));
    });
    // errors of a listening server are reported by `listening()`; ws re-emits them here
    this.wss.on('error', () => {});
    this.http.once('error', (e) => (this.listenError = e));
    this.http.listen(o.port, o.host);
  }

  private listenError: Error | null = null;

  /** Resolves with the bound port once listening (port 0 picks a free one). */
  listening(): Promise<number> {
    return new Promise((resolve, reject) => {
      const bound = () => (this.http.address() as AddressInfo).port;
      const failed = (e: Error) => reject(new Error(`cannot listen on ${this.o.host}:${this.o.port}: ${e.message}`));
      if (this.listenError) return failed(this.listenError);
      if (this.http.address()) return resolve(bound());
      this.http.once('listening', () => resolve(bound()));
      this.http.once('error', failed);
    });
  }

  /** The bound port, or the configured one before listening. */
  get boundPort(): number {
    return (this.http.address() as AddressInfo | null)?.port ?? this.o.port;
  }

  /** `https` or `http`. */
  get httpScheme(): string {
    return this.o.tls ? 'https' : 'http';
  }

  /** `wss` or `ws`. */
  get scheme(): string {
    return this.o.tls ? 'wss' : 'ws';
  }

  /**
   * Gives workers' WebSockets up to `graceMs` to finish their close handshake (a `shutdown` went
   * first), then ends every connection, half-sent HTTP requests included, and stops listening.
   */
  async close(graceMs = 1000): Promise<void> {
    const until = Date.now() + graceMs;
    while (this.workers.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.wss.clients) ws.terminate();
    this.pending.dropAll();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => (this.http.listening ? this.http.close(() => resolve()) : resolve()));
  }

  /** Past the deadline or evicted: a WebSocket is told why, anything else is cut. */
  private dropUnauthenticated(socket: Socket): void {
    const ws = this.upgraded.get(socket);
    if (!ws) return void socket.destroy();
    ws.close(CLOSE_CODES.COORD_ERR_HANDSHAKE_DEADLINE, 'COORD_ERR_HANDSHAKE_DEADLINE');
    // do not wait for the peer's close frame: it may never come
    setTimeout(() => socket.destroy(), 200).unref();
  }
}
