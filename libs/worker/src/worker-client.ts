import { cachedModelDir, defaultCacheDir } from './model-cache';
import { runSessionClient, type FetchLink, type SessionClientOptions, type WorkerExit } from './session-client';
import { WorkerFault, WorkerSession, type WorkerSessionOptions } from './worker-session';

export type { WorkerExit } from './session-client';

export interface WorkerClientOptions extends Omit<WorkerSessionOptions, 'fetchModel' | 'log'>, SessionClientOptions {
  /** where fetched model files are kept, by model hash (default: defaultCacheDir()) */
  readonly cacheDir?: string;
}

/**
 * A training worker's client: a WorkerSession (model, adapter replica, gradient sums) run over
 * runSessionClient's connection, which fetches the run's model files into `cacheDir` when the
 * worker has no local copy.
 */
export async function runWorkerClient(o: WorkerClientOptions): Promise<WorkerExit> {
  // model files are fetched with the token of the connection that is live when a welcome asks
  const link: FetchLink = { fetch: null };
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const session = new WorkerSession({
    ...o,
    fetchModel: (run) => {
      if (!link.fetch) throw new WorkerFault('WORKER_ERR_INTERNAL', 'a welcome outside an authenticated connection');
      o.log(`model ${run.modelHash.slice(0, 12)}…: checking ${run.modelFiles.length} file(s) in ${cacheDir}`);
      return cachedModelDir(run, cacheDir, link.fetch, o.log);
    },
  });
  return runSessionClient(o, session, link);
}
