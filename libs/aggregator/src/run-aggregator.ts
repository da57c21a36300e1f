import { listenPolicy } from '@adalora/coordinator';
import { runWorkerClient, type WorkerExit, type WorkerTls } from '@adalora/worker';
import { AggregatorSession } from './aggregator-session';
import type { GroupOptions } from './worker-group';

export interface AggregatorOptions extends GroupOptions {
  /** ws://host:port or wss://host:port of the coordinator */
  readonly coordinatorUrl: string;
  /** its id at the coordinator, stable across reconnects */
  readonly workerId: string;
  /** for wss: the CA or the pinned certificate fingerprint to trust for the coordinator */
  readonly coordinatorTls?: WorkerTls;
  /** where the model files fetched from the coordinator are kept, by model hash */
  readonly cacheDir?: string;
  /** give up once the coordinator has been out of reach this long */
  readonly giveUpAfterMs: number;
  /** told once its own workers can connect */
  readonly onListening?: (port: number) => void;
}

/**
 * Runs an aggregator until its coordinator ends the run (its workers are then told so and exit),
 * refuses it, or stays out of reach for `giveUpAfterMs` (its workers are then only disconnected:
 * they wait for an aggregator to come back). To the coordinator it is a worker like any other:
 * the same client, handshake, model-file fetch and reconnects, with an AggregatorSession in
 * place of a model.
 */
export async function runAggregator(o: AggregatorOptions): Promise<WorkerExit> {
  // refused before anything connects: no secret beyond loopback without --insecure
  o.log(listenPolicy(o.host, o.security));
  const made: { session: AggregatorSession | null } = { session: null };
  const exit = await runWorkerClient(
    {
      url: o.coordinatorUrl,
      workerId: o.workerId,
      backend: 'aggregator',
      secret: o.security.secret,
      ...(o.coordinatorTls && { tls: o.coordinatorTls }),
      ...(o.cacheDir !== undefined && { cacheDir: o.cacheDir }),
      giveUpAfterMs: o.giveUpAfterMs,
      initialDelayMs: 250,
      maxDelayMs: 5_000,
      log: o.log,
    },
    (fetchModel) => (made.session = new AggregatorSession({ ...o, fetchModel })),
  );
  await made.session?.close(exit.ok ? 'finished' : 'interrupted', exit.reason);
  return exit;
}
