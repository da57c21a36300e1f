import { TransferBuffers } from '@adalora/protocol';
import { runSessionClient, type SessionClientOptions, type WorkerExit } from './session-client';
import { SyntheticGradientsPool, SyntheticSession } from './synthetic-session';

export interface SyntheticWorkersOptions extends SessionClientOptions {
  /** synthetic connections this process opens */
  readonly connections: number;
  /** compute time per sample (ms) */
  readonly sampleMs: number;
  /** worker ids are `<idPrefix>-<i>` */
  readonly idPrefix: string;
}

/**
 * Runs `connections` synthetic workers (see SyntheticSession) in this process, each over its own
 * connection with the real handshake; resolves with each one's exit once all ended.
 */
export function runSyntheticWorkers(o: SyntheticWorkersOptions): Promise<WorkerExit[]> {
  if (!Number.isInteger(o.connections) || o.connections < 1) throw new Error(`synthetic workers: connections must be an integer >= 1, got ${o.connections}`);
  if (!(o.sampleMs >= 0)) throw new Error(`synthetic workers: sampleMs must be >= 0, got ${o.sampleMs}`);
  const gradients = new SyntheticGradientsPool();
  // the states reach every connection at once and are let go at once: one pool serves them all
  const transferBuffers = o.transferBuffers ?? new TransferBuffers();
  return Promise.all(
    Array.from({ length: o.connections }, (_, i) => {
      const workerId = `${o.idPrefix}-${i}`;
      const log = (line: string) => o.log(`${workerId}: ${line}`);
      return runSessionClient({ ...o, log, transferBuffers }, new SyntheticSession({ workerId, sampleMs: o.sampleMs, gradients, log }));
    }),
  );
}
