import { hostname, totalmem } from 'node:os';
import {
  PROTOCOL_VERSION,
  type ComputeMessage,
  type CoordinatorToWorker,
  type EvaluateMessage,
  type HelloMessage,
  type StateMessage,
  type WelcomeMessage,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import { WorkerFault } from './worker-fault';

/** A session's hello (before the handshake adds nonce and proof): its id, backend, memory and host. */
export function helloOf(workerId: string, backend: string): Omit<HelloMessage, 'nonce' | 'proof'> {
  return {
    type: 'hello',
    protocolVersion: PROTOCOL_VERSION,
    workerId,
    // constrainedMemory() is 2^64 when unconstrained: report the machine's memory then
    capabilities: { backend, memoryBytes: Math.min(process.constrainedMemory?.() || Infinity, totalmem()), hostname: hostname(), pid: process.pid },
  };
}

/** What a session (a worker, a synthetic worker, an aggregator) does with each message of a run; each returns its replies in order. */
export interface RunHandlers {
  welcome(msg: WelcomeMessage): Promise<WorkerToCoordinator[]> | WorkerToCoordinator[];
  state(msg: StateMessage): Promise<void> | void;
  compute(msg: ComputeMessage): Promise<WorkerToCoordinator[]> | WorkerToCoordinator[];
  evaluate(msg: EvaluateMessage): Promise<WorkerToCoordinator[]> | WorkerToCoordinator[];
}

/**
 * One message of a run after the handshake, handed to `on`. A handshake message here, or a
 * refusal, is a WorkerFault (`who` names the refused peer: 'worker', 'aggregator'); a shutdown
 * needs no reply.
 */
export async function dispatchRunMessage(msg: CoordinatorToWorker, who: string, on: RunHandlers): Promise<WorkerToCoordinator[]> {
  switch (msg.type) {
    case 'challenge':
    case 'authenticated':
      // the transport's handshake (WorkerHandshake) answers these, never the session
      throw new WorkerFault('PROTO_ERR_UNEXPECTED', `${msg.type} after the handshake`);
    case 'welcome':
      return on.welcome(msg);
    case 'reject':
      throw new WorkerFault(msg.code, `coordinator refused this ${who}: ${msg.reason}`);
    case 'state':
      await on.state(msg);
      return [];
    case 'compute':
      return on.compute(msg);
    case 'evaluate':
      return on.evaluate(msg);
    case 'shutdown':
      return [];
    default: {
      const never: never = msg;
      throw new WorkerFault('WORKER_ERR_UNKNOWN', `unhandled message ${(never as { type: string }).type}`);
    }
  }
}
