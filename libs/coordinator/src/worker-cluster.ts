import { listenPolicy, type ClusterSecurity } from './cluster-security';
import { ConnectionGate } from './connection-gate';
import type { Job } from './job';
import { ModelFileServer } from './model-files';
import { replyBounds } from './reply-bounds';
import { shareArena } from './share-arena';
import { stateMessage, welcomeMessage } from './run-messages';
import type { RunView } from './run-view';
import { StatusPage } from './status-page';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool';
import { WorkerServer } from './worker-server';

/** What the coordinator adds to its port besides the workers: the status page's data, and what to do when a worker joins or drops. */
export interface ClusterExtras {
  readonly view?: (pool: WorkerPool) => RunView;
  readonly onWorkerEvent?: WorkerPoolOptions['onWorkerEvent'];
}

/**
 * The workers' side of a coordinator, wired once: the port (ws/wss and model files), the
 * connection gate (the run secret, connection limits) and the pool (handshake, liveness,
 * requests), from the job's cluster config. The step loop only asks the pool for work.
 */
export class WorkerCluster {
  private stopped = false;

  private constructor(
    readonly pool: WorkerPool,
    private readonly server: WorkerServer,
    private readonly status: StatusPage | null,
  ) {}

  /** Hashes the model files to serve, then opens the port (see {@link listening}). */
  static async open(job: Job, security: ClusterSecurity | undefined, log: (line: string) => void, extras: ClusterExtras = {}): Promise<WorkerCluster> {
    const files = await ModelFileServer.of(job.modelDir);
    const { host, port, stepTimeoutMs, stepTimeoutFloorMs, heartbeatMs, maxConnections, handshakeTimeoutMs, wire } = job.config.cluster;
    const s = security ?? { secret: null, tls: null, insecure: false };
    log(listenPolicy(host, s));
    const pool = new WorkerPool({
      runId: job.runId,
      modelHash: job.modelHash,
      welcome: (workerIndex) => welcomeMessage(job, workerIndex, files.manifest),
      state: () => stateMessage(job),
      deadline: { ms: stepTimeoutMs, floorMs: stepTimeoutFloorMs },
      heartbeatMs,
      replyBounds: replyBounds(job.injected.trainables, wire, job.evalWidth),
      arena: shareArena(job),
      // the coordinator's accumulator checks the gradient values as it sums them (gradientsFromShares)
      gradientValues: 'unchecked',
      log,
      onWorkerEvent: extras.onWorkerEvent,
    });
    const view = extras.view;
    const status = view ? new StatusPage(() => view(pool), s.secret) : null;
    const gate = new ConnectionGate(pool, { secret: s.secret, maxConnections, tokens: files, log });
    const server = new WorkerServer({ host, port, tls: s.tls, handshakeTimeoutMs, files, status }, gate);
    pool.startHeartbeat();
    return new WorkerCluster(pool, server, status);
  }

  /** Resolves with the bound port once listening (port 0 picks a free one). */
  listening(): Promise<number> {
    return this.server.listening();
  }

  /** `ws://host:port` (or wss) as workers reach it, for logs. */
  address(host: string): string {
    return `${this.server.scheme}://${host}:${this.server.boundPort}`;
  }

  /** The status page's URL (token included when there is a run secret), or null without one. */
  statusUrl(host: string): string | null {
    if (!this.status) return null;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${this.server.httpScheme}://${shown}:${this.server.boundPort}${this.status.path}`;
  }

  /**
   * Closes the port: at the end of a run ('finished') workers are told so and exit; when the
   * run stops early ('interrupted') their connections are only closed ('going away'), so they
   * keep trying to reconnect and rejoin a restarted coordinator (e.g. `--resume latest`).
   */
  async close(end: 'finished' | 'interrupted'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pool.stopHeartbeat();
    if (end === 'finished') this.pool.shutdown('COORD_RUN_FINISHED', 'run finished');
    else this.pool.disconnect('COORD_SHUTDOWN');
    await this.server.close();
  }
}
