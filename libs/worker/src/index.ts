/**
 * @adalora/worker: a training worker's logic, without its CLI: the session that answers the
 * coordinator's messages (model, adapter replica, gradient sums, evaluation) and the client
 * that connects, reconnects with back-off and carries frames over WebSocket.
 */
export { WorkerSession, WorkerFault, type WorkerSessionOptions } from './worker-session';
export { runWorkerClient, type WorkerClientOptions, type WorkerExit } from './worker-client';
