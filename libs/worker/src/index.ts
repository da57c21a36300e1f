/**
 * @adalora/worker: a training worker: the session that answers the coordinator's messages
 * (model, adapter replica, gradient sums, evaluation), the client that connects, reconnects with
 * back-off and carries frames over WebSocket, and the `adalora worker` command itself (apps/worker
 * only runs it), which `spawnWorkerProcess` starts as a child process.
 */
export { WorkerSession, WorkerFault, type WorkerSessionOptions } from './worker-session';
export { runWorkerClient, type WorkerClientOptions, type WorkerExit } from './worker-client';
/** The connection loop (handshake, reconnects) around any session, real or synthetic. */
export { runSessionClient, type ClientSession, type SessionClientOptions } from './session-client';
/** Workers without a model for measuring the coordinator: the real protocol, deterministic gradients after a chosen delay. */
export { runSyntheticWorkers, type SyntheticWorkersOptions } from './synthetic-workers';
export { SyntheticSession, SyntheticGradientsPool } from './synthetic-session';
export { SyntheticGradients, microBatchWeight } from './synthetic-gradients';
/** How a worker trusts the coordinator's TLS certificate (a CA or a pinned fingerprint). */
export { type WorkerTls } from './tls-client';
/** The `adalora worker` command on node's argv. */
export { runWorkerCli } from './worker-cli';
/** Starts a worker (`adalora worker` with these options) as a child process. */
export { spawnWorkerProcess } from './spawn-worker';
