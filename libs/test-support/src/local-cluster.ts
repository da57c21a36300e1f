import { loadBackend } from '@adalora/backend';
import { parseRunConfig } from '@adalora/config';
import type { StepReport } from '@adalora/training';
import { runWorkerClient, type WorkerExit, type WorkerTls } from '@adalora/worker';
import { Coordinator, prepareJob, type ClusterSecurity, type Job, type RunResult } from '@adalora/coordinator';

export interface LocalClusterOptions {
  /** the run config (raw, as a config file holds it); cluster.port 0 is forced */
  readonly config: Record<string, unknown>;
  readonly workers: number;
  /** workers to wait for before training (default: `workers`); more lets extra peers join first */
  readonly minWorkers?: number;
  readonly log?: (line: string) => void;
  readonly onStep?: (report: StepReport, job: Job) => void;
  /** called once the coordinator listens, e.g. to attach extra (misbehaving) peers */
  readonly onListening?: (port: number, coordinator: Coordinator) => void;
  /** the run secret, TLS and their worker side (default: none, plain ws on loopback) */
  readonly security?: {
    readonly coordinator: ClusterSecurity;
    readonly workerSecret: Uint8Array | null;
    readonly workerTls?: WorkerTls;
  };
  /**
   * Workers fetch the model from the coordinator into this cache folder; by default they use the
   * coordinator's model folder as their local `--model` copy.
   */
  readonly fetchModelInto?: string;
}

export interface LocalClusterResult {
  readonly result: RunResult;
  readonly reports: readonly StepReport[];
  readonly workerExits: readonly WorkerExit[];
}

/**
 * A coordinator and N workers in this process, talking over loopback WebSockets exactly as
 * separate processes would (same protocol, same frames). For tests and experiments that want
 * to look inside (tensor counts, per-step reports). Test support: not exported from index.ts;
 * tests import it by a relative path until it moves to a test-support project.
 */
export async function runLocalCluster(o: LocalClusterOptions): Promise<LocalClusterResult> {
  const log = o.log ?? (() => {});
  const cluster = { ...((o.config.cluster as Record<string, unknown>) ?? {}), host: '127.0.0.1', port: 0, minWorkers: o.minWorkers ?? o.workers };
  const config = parseRunConfig({ ...o.config, cluster });
  const backend = await loadBackend(config.cluster.backend, { log });
  const job = await prepareJob(config, log);
  const reports: StepReport[] = [];
  const coordinator = await Coordinator.create(job, {
    log,
    progressBar: false,
    onStep: (r) => (reports.push(r), o.onStep?.(r, job)),
    ...(o.security && { security: o.security.coordinator }),
  });
  try {
    const port = await coordinator.listening();
    o.onListening?.(port, coordinator);
    const workers = Array.from({ length: o.workers }, (_, i) =>
      runWorkerClient({
        url: `${o.security?.coordinator.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`,
        workerId: `test-${i}`,
        backend: backend.name,
        secret: o.security?.workerSecret ?? null,
        ...(o.security?.workerTls && { tls: o.security.workerTls }),
        ...(o.fetchModelInto !== undefined ? { cacheDir: o.fetchModelInto } : { modelDir: job.modelDir }),
        maxRetries: 3,
        giveUpAfterMs: 60_000,
        initialDelayMs: 50,
        maxDelayMs: 500,
        log,
      }),
    );
    const result = await coordinator.train();
    await coordinator.close();
    const workerExits = await Promise.all(workers);
    return { result, reports, workerExits };
  } finally {
    await coordinator.close();
    job.dispose();
  }
}
