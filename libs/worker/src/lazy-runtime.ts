// What loads TensorFlow.js (the session, the client) behind dynamic imports, so that this lib's
// index stays light: the CLIs import it to parse and check their flags before tfjs loads.
import type { ClientSession, WorkerExit } from './session-client';
import type { FetchModel, WorkerClientOptions } from './worker-client';
import type { WorkerSession, WorkerSessionOptions } from './worker-session';

/**
 * Connects to the coordinator and serves the run until it ends (see worker-client.ts); loads
 * tfjs. `makeSession` replaces the model-holding session (the aggregator answers for its group).
 */
export async function runWorkerClient(o: WorkerClientOptions, makeSession?: (fetchModel: FetchModel) => ClientSession): Promise<WorkerExit> {
  const { runWorkerClient: run } = await import('./worker-client');
  return run(o, makeSession);
}

/** A worker session that answers the coordinator's messages in-process (see worker-session.ts); loads tfjs. */
export async function createWorkerSession(o: WorkerSessionOptions): Promise<WorkerSession> {
  const { WorkerSession } = await import('./worker-session');
  return new WorkerSession(o);
}
