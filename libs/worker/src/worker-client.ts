import type { RunSpec } from '@adalora/protocol';
import { cachedModelDir, defaultCacheDir } from './model-cache';
import { runSessionClient, type ClientSession, type FetchLink, type SessionClientOptions, type WorkerExit } from './session-client';
import { WorkerFault, WorkerSession, type WorkerSessionOptions } from './worker-session';

export type { ClientSession, WorkerExit } from './session-client';

/** Fetches (or finds in the cache) the run's model files, each checked against its hash; resolves with their folder. */
export type FetchModel = (run: RunSpec) => Promise<string>;

export interface WorkerClientOptions extends Omit<WorkerSessionOptions, 'fetchModel' | 'log'>, SessionClientOptions {
  /** where fetched model files are kept, by model hash (default: defaultCacheDir()) */
  readonly cacheDir?: string;
}

/**
 * A training worker's client: a WorkerSession (model, adapter replica, gradient sums) run over
 * runSessionClient's connection, which fetches the run's model files into `cacheDir` when the
 * worker has no local copy. `makeSession` replaces the WorkerSession (an aggregator answers for
 * its group), given that hash-checked fetch of the live connection.
 */
export async function runWorkerClient(o: WorkerClientOptions, makeSession: (fetchModel: FetchModel) => ClientSession = (fetchModel) => new WorkerSession({ ...o, fetchModel })): Promise<WorkerExit> {
  // model files are fetched with the token of the connection that is live when a welcome asks
  const link: FetchLink = { fetch: null };
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const session = makeSession((run) => {
    if (!link.fetch) throw new WorkerFault('WORKER_ERR_INTERNAL', 'a welcome outside an authenticated connection');
    o.log(`model ${run.modelHash.slice(0, 12)}…: checking ${run.modelFiles.length} file(s) in ${cacheDir}`);
    return cachedModelDir(run, cacheDir, link.fetch, o.log);
  });
  return runSessionClient(o, session, link);
}
