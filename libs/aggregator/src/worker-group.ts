import { ConnectionGate, ModelFileServer, replyBounds, WorkerPool, WorkerServer, type ClusterSecurity } from '@adalora/coordinator';
import type { WorkerJob } from '@adalora/config';
import type { StateMessage, WelcomeMessage } from '@adalora/protocol';

/** Where and how an aggregator serves its own workers. */
export interface GroupOptions {
  readonly host: string;
  /** 0 picks a free port */
  readonly port: number;
  readonly security: ClusterSecurity;
  /** the least deadline of a request to a group worker (as cluster.stepTimeoutFloorMs; the deadline is 'auto') */
  readonly stepTimeoutFloorMs: number;
  readonly heartbeatMs: number;
  readonly maxConnections: number;
  /** its workers to wait for before the first request is served (default 1: any) */
  readonly minWorkers?: number;
  readonly handshakeTimeoutMs: number;
  readonly log: (line: string) => void;
}

/**
 * An aggregator's own workers: the same port, gate and pool a coordinator has (one HTTP(S)
 * server carrying the WebSocket upgrade and the model files, the run secret, liveness), set up
 * for the run its coordinator welcomed it to. Workers join it exactly as they join a
 * coordinator. Its `state` is the one the coordinator sent last, given to every worker that
 * becomes ready and passed on to the ready ones as it changes.
 */
export class WorkerGroup {
  private latest: StateMessage;

  private constructor(
    readonly pool: WorkerPool,
    private readonly server: WorkerServer,
    state: StateMessage,
  ) {
    this.latest = state;
  }

  /**
   * Opens the group for the run of `welcome` (its job `job`), its model files in `files` (the
   * same files the coordinator serves), with the run's first `state`: the trainables' names
   * and shapes bound the workers' replies.
   */
  static open(welcome: WelcomeMessage, job: WorkerJob, files: ModelFileServer, modelDir: string, state: StateMessage, o: GroupOptions): WorkerGroup {
    const shapes = new Map(state.tensors.map((t) => [t.name, { shape: t.shape }]));
    let group: WorkerGroup | null = null;
    const pool = new WorkerPool({
      runId: welcome.runId,
      modelHash: welcome.run.modelHash,
      welcome: (workerIndex) => ({ ...welcome, workerIndex, run: { ...welcome.run, modelPath: modelDir } }),
      state: () => group!.latest,
      deadline: { ms: 'auto', floorMs: o.stepTimeoutFloorMs },
      heartbeatMs: o.heartbeatMs,
      replyBounds: replyBounds(shapes, job.wire, job.numLabels),
      log: o.log,
    });
    const gate = new ConnectionGate(pool, { secret: o.security.secret, maxConnections: o.maxConnections, tokens: files, log: o.log });
    const server = new WorkerServer({ host: o.host, port: o.port, tls: o.security.tls, handshakeTimeoutMs: o.handshakeTimeoutMs, files }, gate);
    pool.startHeartbeat();
    group = new WorkerGroup(pool, server, state);
    return group;
  }

  /** Resolves with the bound port once listening. */
  listening(): Promise<number> {
    return this.server.listening();
  }

  /** `ws://host:port` (or wss) as workers reach it, for logs. */
  address(host: string): string {
    return `${this.server.scheme}://${host}:${this.server.boundPort}`;
  }

  /** The coordinator's latest adapter state: kept for workers that join later, sent to the ready ones. */
  setState(state: StateMessage): void {
    this.latest = state;
    this.pool.broadcast(state);
  }

  /** Ends the group: 'finished' tells the workers the run is over; 'interrupted' only closes their connections (they rejoin a restarted aggregator). */
  async close(end: 'finished' | 'interrupted', why: string): Promise<void> {
    this.pool.stopHeartbeat();
    if (end === 'finished') this.pool.shutdown('COORD_RUN_FINISHED', why);
    else this.pool.disconnect('COORD_SHUTDOWN');
    await this.server.close();
  }
}
