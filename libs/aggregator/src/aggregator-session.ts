import { checkGradients, coverUnits, float64Share, ModelFileServer, planShares, rowsOfUnits, RunStopped, ShareFaults, unitsOf, type CoveredShare, type WorkerLink } from '@adalora/coordinator';
import { parseWorkerJob, type WorkerJob } from '@adalora/config';
import type { TrainableKey } from '@adalora/core';
import {
  decodeSamples,
  float32FromTensor,
  protocolError,
  tensorFromFloat64,
  wireFromFloat32,
  type ComputeMessage,
  type CoordinatorToWorker,
  type EvaluateMessage,
  type HelloMessage,
  type StateMessage,
  type WelcomeMessage,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import { dispatchRunMessage, helloOf, WorkerFault, type ClientSession, type FetchModel } from '@adalora/worker';
import { joinOutputs, shareCompute, shareEvaluate, sumShares } from './group-shares';
import { WorkerGroup, type GroupOptions } from './worker-group';

export interface AggregatorSessionOptions extends GroupOptions {
  /** its id at the coordinator */
  readonly workerId: string;
  /** fetches the run's model files from the coordinator, hash-checked, into the cache */
  readonly fetchModel: FetchModel;
  /** told once the group's port listens */
  readonly onListening?: (port: number) => void;
}

/** The run the coordinator welcomed this aggregator to, and its model files. */
interface JoinedRun {
  readonly welcome: WelcomeMessage;
  readonly job: WorkerJob;
  readonly files: ModelFileServer;
  readonly modelDir: string;
}

/** The coordinator's connection closed while a request was being covered: nobody waits for its reply. */
class Abandoned extends Error {
  override readonly name = 'Abandoned';
}

/**
 * An aggregator's side of a run: to the coordinator it is one worker (the client runs its
 * handshake and reconnects), to its own workers a coordinator (WorkerGroup). It fetches the
 * model files once and serves them to its workers, passes every `state` on, and covers each
 * `compute` or `evaluate` on its live workers with the coordinator's own covering loop: a
 * worker lost mid-request has its share redone by another one of the group, and the
 * coordinator gets one reply, the float64 sum of the group's shares (or their outputs in order).
 */
export class AggregatorSession implements ClientSession {
  private run: JoinedRun | null = null;
  private group: WorkerGroup | null = null;
  private shapes: ReadonlyMap<TrainableKey, { readonly shape: readonly number[] }> = new Map();
  /** counts the coordinator connections that closed: a covering started under an older count is abandoned */
  private connectionsLost = 0;
  /** the group had its --min-workers once: later requests take whoever is there */
  private groupComplete = false;
  private lost = abandonment();

  constructor(private readonly o: AggregatorSessionOptions) {}

  hello(): Omit<HelloMessage, 'nonce' | 'proof'> {
    return helloOf(this.o.workerId, 'aggregator');
  }

  handle(msg: CoordinatorToWorker): Promise<WorkerToCoordinator[]> {
    return dispatchRunMessage(msg, 'aggregator', {
      welcome: async (m) => [await this.onWelcome(m)],
      state: (m) => this.onState(m),
      compute: (m) => this.onCompute(m),
      evaluate: (m) => this.onEvaluate(m),
    });
  }

  disconnected(): void {
    this.connectionsLost++;
    this.lost.abandon();
    this.lost = abandonment();
  }

  /** Holds no model: the group is ended by `close`, which says how. */
  dispose(): void {}

  /** Ends the group: its workers are told the run is over ('finished') or only disconnected, to rejoin a restarted aggregator. */
  async close(end: 'finished' | 'interrupted', why: string): Promise<void> {
    await this.group?.close(end, why);
    this.group = null;
  }

  /** Fetches the model files once per run (checked by hash as a worker checks them) and says ready. */
  private async onWelcome(msg: WelcomeMessage): Promise<WorkerToCoordinator> {
    const job = parseWorkerJob(msg.run.workerJob);
    const started = Date.now();
    const was = this.run?.welcome;
    if (was && (was.runId !== msg.runId || was.run.modelHash !== msg.run.modelHash)) {
      // another run (e.g. the coordinator restarted with --resume, which names a new run): the
      // group is set up afresh for it, and its workers, disconnected, rejoin and are welcomed to it
      this.o.log(`the coordinator now runs run ${msg.runId} (was ${was.runId}): closing the group; its workers rejoin for the new run`);
      await this.close('interrupted', 'another run');
      this.run = null;
    }
    if (!this.run) {
      const modelDir = await this.o.fetchModel(msg.run);
      const files = await ModelFileServer.of(modelDir);
      const listed = (fs: readonly { name: string; sha256: string; bytes: number }[]) => JSON.stringify([...fs].map((f) => [f.name, f.sha256, f.bytes]).sort());
      if (listed(files.manifest) !== listed(msg.run.modelFiles)) {
        throw new WorkerFault('WORKER_ERR_MODEL_HASH', `the model files in ${modelDir} are not the ${msg.run.modelFiles.length} file(s) the coordinator listed`);
      }
      this.run = { welcome: msg, job, files, modelDir };
    }
    return { type: 'ready', runId: msg.runId, modelHash: msg.run.modelHash, loadMs: Date.now() - started };
  }

  /** The first state opens the group's port (its workers need it the moment they are ready); later ones go to the ready workers. */
  private async onState(msg: StateMessage): Promise<void> {
    const run = this.require(msg.runId);
    this.shapes = new Map(msg.tensors.map((t) => [t.name as TrainableKey, { shape: t.shape }]));
    if (this.group) return this.group.setState(msg);
    this.group = WorkerGroup.open(run.welcome, run.job, run.files, run.modelDir, msg, this.o);
    const port = await this.group.listening();
    this.o.log(`serving its workers at ${this.group.address(this.o.host)}`);
    this.o.onListening?.(port);
  }

  private async onCompute(msg: ComputeMessage): Promise<WorkerToCoordinator[]> {
    const { job } = this.require(msg.runId);
    const started = performance.now();
    const batch = decodeSamples(msg.samples);
    const parts = Math.ceil(batch.rows / job.microBatch);
    if (msg.microBatches.length !== parts) {
      throw new WorkerFault('PROTO_ERR_BAD_FIELD', `compute names ${msg.microBatches.length} micro-batch(es), but its ${batch.rows} samples make ${parts} of ${job.microBatch}`);
    }
    const shapes = this.shapes;
    const covered = await this.cover(`step ${msg.step}`, 'micro-batch', batch.rows, (link, share, rows) =>
      link.request('compute', rows, (id) => shareCompute(msg, batch, job.microBatch, share, id), (reply) => {
        try {
          if (reply.step !== msg.step) throw protocolError('PROTO_ERR_BAD_FIELD', `gradients for step ${reply.step}, request ${reply.requestId} was for step ${msg.step}`, { messageType: 'gradients', field: 'step' });
          return float64Share(checkGradients(link.label, shapes, reply, rows));
        } catch (e) {
          link.close('PROTO_ERR_BAD_FIELD');
          throw e;
        }
      }),
    );
    if (!covered) return [];
    const total = sumShares(covered.map((c) => c.result));
    return [
      {
        type: 'gradients',
        runId: msg.runId,
        step: msg.step,
        requestId: msg.requestId,
        sampleCount: total.count,
        lossSum: total.lossSum,
        computeMs: performance.now() - started,
        tensors: [...total.grads].map(([name, g]) => tensorFromFloat64(name, shapes.get(name)!.shape, g, job.wire)),
      },
    ];
  }

  private async onEvaluate(msg: EvaluateMessage): Promise<WorkerToCoordinator[]> {
    const { job } = this.require(msg.runId);
    const batch = decodeSamples(msg.samples);
    const covered = await this.cover('eval', 'dev chunk', batch.rows, (link, share, rows) => {
      const sent = rowsOfUnits(share, job.microBatch, batch.rows).map((r) => batch.sampleIds[r]);
      return link.request('evaluate', rows, (id) => shareEvaluate(msg, batch, job.microBatch, share, id), (reply) => {
        const [n, k] = reply.outputs.shape;
        if (n !== rows || k !== job.numLabels || reply.outputs.dtype !== 'float32' || reply.sampleIds.some((s, i) => s !== sent[i])) {
          link.close('PROTO_ERR_BAD_FIELD');
          throw new Error(`${link.label}: eval outputs of shape [${reply.outputs.shape}] for other samples or of another shape, expected [${rows}, ${job.numLabels}]`);
        }
        return float32FromTensor(reply.outputs);
      });
    });
    if (!covered) return [];
    return [{ type: 'evalResult', runId: msg.runId, requestId: msg.requestId, sampleIds: [...batch.sampleIds], outputs: wireFromFloat32([batch.rows, job.numLabels], joinOutputs(covered.map((c) => c.result))) }];
  }

  /**
   * Covers the request's `rows` rows, as runs of `microBatch` rows (the units), on the group's live
   * workers with coverUnits, as the coordinator covers a batch on its own: a share whose worker
   * fails is planned again among the others, and a unit that fails on two workers (or on all
   * there are) is the data's or the model's fault, reported to the coordinator as this
   * aggregator's own. Null when the coordinator's connection closed meanwhile (nobody waits).
   */
  private async cover<R>(what: string, unitName: string, rows: number, run: (link: WorkerLink, share: readonly number[], rows: number) => Promise<R>): Promise<CoveredShare<WorkerLink, R>[] | null> {
    const group = this.group;
    if (!group) throw new WorkerFault('PROTO_ERR_UNEXPECTED', `${what}: a request before the first state`);
    const { microBatch } = this.run!.job;
    const generation = this.connectionsLost;
    const lost = this.lost.promise;
    const current = () => {
      if (this.connectionsLost !== generation) throw new Abandoned(`${what}: the coordinator's connection closed; the request is abandoned`);
    };
    // a worker still busy with an abandoned request cannot take a new one: it rejoins afresh
    for (const link of group.pool.ready) if (link.busy) link.close('COORD_SHUTDOWN');
    const least = this.o.minWorkers ?? 1;
    if (!this.groupComplete && least > 1) {
      // the group as the user asked for it, before the first share (a worker's first request has the longest deadline)
      if (group.pool.ready.length < least) this.o.log(`${what}: waiting for ${least} workers in this group (${group.pool.ready.length} ready)`);
      await Promise.race([group.pool.waitFor(least), lost]);
      current();
    }
    this.groupComplete = true;
    const faults = new ShareFaults(what, unitName);
    try {
      return await coverUnits({
        units: unitsOf(rows, microBatch),
        workers: async () => {
          current();
          return Promise.race([group.pool.readyAtLeastOne(() => this.o.log(`${what}: no live worker in this group; waiting for one`)), lost]);
        },
        plan: planShares,
        run: (link, share) => {
          current();
          return run(link, share, rowsOfUnits(share, microBatch, rows).length);
        },
        onShareFailed: (share, e) => {
          current();
          faults.record(share, e, group.pool.ready.map((l) => l.workerId));
          this.o.log(`${what}: a share of ${share.length} ${unitName}(es) failed (${e.message}); redistributing in this group`);
        },
      });
    } catch (e) {
      if (e instanceof Abandoned) {
        this.o.log(`${what}: the coordinator's connection closed; request abandoned`);
        return null;
      }
      if (e instanceof RunStopped) throw new WorkerFault('AGGREGATOR_ERR_SHARE', e.message);
      throw e;
    }
  }

  private require(runId: string): JoinedRun {
    if (!this.run) throw new WorkerFault('PROTO_ERR_UNEXPECTED', 'a run message arrived before welcome');
    if (runId !== this.run.welcome.runId) throw new WorkerFault('PROTO_ERR_BAD_FIELD', `message for run ${runId}, this aggregator is in run ${this.run.welcome.runId}`);
    return this.run;
  }
}

/** A promise that rejects with Abandoned once `abandon` is called (and is never reported unhandled). */
function abandonment(): { readonly promise: Promise<never>; abandon(): void } {
  let abandon = () => {};
  const promise = new Promise<never>((_, reject) => (abandon = () => reject(new Abandoned("the coordinator's connection closed; the request is abandoned"))));
  promise.catch(() => {});
  return { promise, abandon };
}
