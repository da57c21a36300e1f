import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@adalora/protocol';
import type { WorkerPool } from './worker-pool';

/**
 * A closed connection whose peer does not finish the close handshake (a stopped worker) is cut
 * after this long, instead of ws's 30 s: the close frame is already in the peer's buffer, and
 * the server's own close waits for every connection.
 */
const CLOSE_GRACE_MS = 2_000;

/**
 * The WebSocket server workers connect to: it only hands each connection and its events to the
 * pool, which holds the conversation (and is tested without sockets).
 */
export class WorkerServer {
  private readonly server: WebSocketServer;

  constructor(
    private readonly host: string,
    private readonly port: number,
    pool: WorkerPool,
  ) {
    this.server = new WebSocketServer({ host, port, maxPayload: DEFAULT_MAX_MESSAGE_BYTES });
    this.server.on('connection', (socket, req) => {
      const events = pool.accept(
        {
          send: (frame) => socket.send(frame),
          close: (code, reason) => {
            socket.close(code, reason);
            setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
          },
          ping: () => socket.ping(),
        },
        `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      );
      socket.on('message', (data: Buffer) => events.message(data));
      socket.on('pong', () => events.pong());
      socket.on('close', (code, reason) => events.closed(code, reason.toString()));
      socket.on('error', (e) => events.error(e));
    });
  }

  /** Resolves with the bound port once listening (port 0 picks a free one). */
  listening(): Promise<number> {
    return new Promise((resolve, reject) => {
      const bound = () => (this.server.address() as AddressInfo).port;
      if (this.server.address()) return resolve(bound());
      this.server.once('listening', () => resolve(bound()));
      this.server.once('error', (e) => reject(new Error(`cannot listen on ${this.host}:${this.port}: ${e.message}`)));
    });
  }

  /** The bound port, or the configured one before listening. */
  get boundPort(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? this.port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
