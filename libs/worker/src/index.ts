/**
 * @adalora/worker: a training worker: the session that answers the coordinator's messages
 * (model, adapter replica, gradient sums, evaluation), the client that connects, reconnects with
 * back-off and carries frames over WebSocket, and the `adalora worker` command itself, which
 * `spawnWorkerProcess` starts as a child process.
 *
 * This index loads no TensorFlow.js: the CLIs import it to parse and check their flags first.
 * The session and the client load tfjs, so they are reached through async functions.
 */
export type { WorkerSession, WorkerSessionOptions } from './worker-session';
export type { FetchModel, WorkerClientOptions } from './worker-client';
export { WorkerFault } from './worker-fault';
export { dispatchRunMessage, helloOf, type RunHandlers } from './run-session';
export { runWorkerClient, createWorkerSession } from './lazy-runtime';
/** The connection loop (handshake, reconnects) around any session: real, synthetic, or an aggregator's. */
export { runSessionClient, type ClientSession, type SessionClientOptions, type WorkerExit } from './session-client';
/** Workers without a model for measuring the coordinator: the real protocol, deterministic gradients after a chosen delay. */
export { runSyntheticWorkers, type SyntheticWorkersOptions } from './synthetic-workers';
export { SyntheticSession, SyntheticGradientsPool } from './synthetic-session';
export { SyntheticGradients, microBatchWeight } from './synthetic-gradients';
/** How a worker trusts the coordinator's TLS certificate (a CA or a pinned fingerprint). */
export { type WorkerTls } from './tls-client';
/** The `adalora worker` command: on node's argv, or as a commander command to add to another program. */
export { runWorkerCli, workerCommand } from './worker-cli';
/** The CUDA device of a worker process from its index on the machine (pm2 instances). */
export { deviceForWorker, type DeviceChoice } from './device-pinning';
/** Starts a worker (`adalora worker` with these options) as a child process. */
export { spawnWorkerProcess } from './spawn-worker';
