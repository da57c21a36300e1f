import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { epochOrder, globalBatches, splitAmong } from '@adalora/data';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  encodeSamples,
  float32FromTensor,
  float64FromTensor,
  isProtocolError,
  protocolError,
  PROTOCOL_VERSION,
  summarizeMessage,
  tensorFromFloat32,
  CLOSE_PROTOCOL_ERROR,
  type EvalResultMessage,
  type JsonObject,
  type GradientsMessage,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import { gatherRows, workerJobToJson, type GradientSums, type LabeledBatch, type StepReport } from '@adalora/training';
import { saveCheckpoint } from './checkpoint';
import { summarizeEval, type EvalSummary } from './evaluation';
import { batchOf, type Job } from './job';
import { MetricsLog } from './metrics-log';
import { Progress } from './progress';
import { WorkerLink } from './worker-link';

/** without a progress bar (not a TTY, e.g. under pm2), a log line every this many steps */
const LOG_EVERY = 10;

export interface CoordinatorOptions {
  readonly log: (line: string) => void;
  readonly progressBar: boolean;
  /** called after every global step, once its state went out to the workers */
  readonly onStep?: (report: StepReport) => void;
}

/** What a finished run hands back. */
export interface RunResult {
  readonly steps: number;
  readonly losses: readonly number[];
  readonly finalEval: EvalSummary | null;
  readonly adapterDir: string;
  readonly rankPattern: ReadonlyMap<string, readonly boolean[]> | null;
}

/**
 * The coordinator: accepts workers over WebSocket, shards every global batch among the live
 * ones, makes the global step once (mean gradient → AdamW → rank allocation) and sends the new
 * adapter state to every worker, so all workers hold the same adapter at every step.
 */
export class Coordinator {
  private readonly server: WebSocketServer;
  private readonly links = new Set<WorkerLink>();
  private nextLinkIndex = 0;
  private round = 0;
  private nextEvalId = 0;
  private readonly metrics: MetricsLog;
  private readonly readyWaiters: (() => void)[] = [];
  private stopped = false;
  private epochBatches: { epoch: number; batches: number[][] } | null = null;

  constructor(
    private readonly job: Job,
    private readonly o: CoordinatorOptions,
  ) {
    const { host, port } = job.config.cluster;
    this.server = new WebSocketServer({ host, port, maxPayload: DEFAULT_MAX_MESSAGE_BYTES });
    this.server.on('connection', (socket, req) => this.accept(socket, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
    this.metrics = new MetricsLog(join(job.config.outputDir, 'metrics.jsonl'));
  }

  /** Resolves with the bound port once listening (port 0 picks a free one). */
  listening(): Promise<number> {
    return new Promise((resolve, reject) => {
      const address = () => (this.server.address() as AddressInfo).port;
      if (this.server.address()) return resolve(address());
      this.server.once('listening', () => resolve(address()));
      this.server.once('error', (e) => reject(new Error(`cannot listen on ${this.job.config.cluster.host}:${this.job.config.cluster.port}: ${e.message}`)));
    });
  }

  get readyLinks(): WorkerLink[] {
    return [...this.links].filter((l) => l.status === 'ready');
  }

  /** Trains the whole run; returns when the last checkpoint is written and workers are told to stop. */
  async train(): Promise<RunResult> {
    const { job } = this;
    const t = job.config.training;
    await this.waitForWorkers(job.config.cluster.minWorkers);
    const progress = new Progress(job.totalSteps, this.o.progressBar);
    const losses: number[] = [];
    let lastEval: EvalSummary | null = null;
    try {
      for (let step = job.global.step; step < job.totalSteps; step++) {
        const epoch = Math.floor(step / job.batchesPerEpoch);
        const ids = this.batchesOf(epoch)[step % job.batchesPerEpoch];
        const batch = batchOf(job.train, ids, job.padId, job.train.numLabels === 1);
        const started = performance.now();
        const { sums, computeMs } = await this.gradientsFor(step, ids, batch);
        const gathered = performance.now();
        const report = job.global.apply(sums);
        const optimized = performance.now();
        this.broadcastState();
        const done = performance.now();
        losses.push(report.loss);
        this.o.onStep?.(report);
        const seconds = (done - started) / 1000;
        this.writeStepMetrics(report, seconds, computeMs / 1000, (optimized - gathered) / 1000, (gathered - started) / 1000 - computeMs / 1000, (done - optimized) / 1000);
        progress.update(step + 1, report.loss, report.samples / seconds, report.budget);
        if (!this.o.progressBar && ((step + 1) % LOG_EVERY === 0 || step + 1 === job.totalSteps)) {
          this.o.log(`step ${step + 1}/${job.totalSteps} loss ${report.loss.toFixed(4)} lr ${report.lr.toExponential(2)} budget ${report.budget ?? '-'} (${this.readyLinks.length} workers)`);
        }
        const last = step + 1 === job.totalSteps;
        if (job.dev && (last || (t.evalEvery > 0 && (step + 1) % t.evalEvery === 0))) {
          lastEval = await this.evaluate(step + 1);
        }
        if (!last && t.checkpointEvery > 0 && (step + 1) % t.checkpointEvery === 0) {
          await saveCheckpoint(join(job.config.outputDir, `checkpoint-${step + 1}`), job, { step: step + 1, epoch });
        }
      }
    } finally {
      progress.stop();
    }
    const adapterDir = join(job.config.outputDir, 'final');
    await saveCheckpoint(adapterDir, job, { step: job.totalSteps, finalEval: lastEval });
    this.o.log(`saved the final adapter to ${join(adapterDir, 'adapter')}`);
    return { steps: job.totalSteps, losses, finalEval: lastEval, adapterDir: join(adapterDir, 'adapter'), rankPattern: job.global.rankPattern() };
  }

  /** The global batches (data set row ids) of one epoch; made once per epoch, off the step path. */
  private batchesOf(epoch: number): number[][] {
    if (this.epochBatches?.epoch !== epoch) {
      const t = this.job.config.training;
      const order = epochOrder(this.job.train.examples.length, epoch, t.seed, t.shuffle);
      this.epochBatches = { epoch, batches: globalBatches(order, t.batchSize, t.dropLast) };
    }
    return this.epochBatches.batches;
  }

  /** Tells every worker to stop and closes the server. */
  async close(reason = 'run finished'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const link of this.links) {
      link.send({ type: 'shutdown', reason });
      link.close(1000, reason);
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ─── connections ──────────────────────────────────────────────────────────────────────────

  private accept(socket: WebSocket, remote: string): void {
    const link = new WorkerLink(this.nextLinkIndex++, socket, remote);
    this.links.add(link);
    socket.on('message', (data: Buffer) => {
      try {
        const msg = link.reader.read(data);
        if (msg) this.onMessage(link, msg);
      } catch (e) {
        if (!isProtocolError(e)) {
          // a bug of ours: say so loudly, and drop only this worker instead of the whole run
          this.o.log(`${link.label}: internal error while handling a message: ${(e as Error).stack ?? String(e)}`);
          return link.close(1011, 'COORD_ERR_INTERNAL');
        }
        // A fault on the wire never touches training state: log it and drop the worker.
        this.o.log(`${link.label}: refused a message: ${e.message} (${e.code})`);
        // a worker of another version gets told why before the close
        if (e.code === 'PROTO_ERR_VERSION') link.send({ type: 'reject', code: e.code, reason: `this coordinator speaks protocol version ${PROTOCOL_VERSION}` });
        link.close(e.closeCode, e.code);
      }
    });
    socket.on('close', (code, reason) => {
      if (link.status !== 'closed') this.o.log(`${link.label} disconnected (${code} ${reason.toString() || 'no reason'})`);
      link.status = 'closed';
      link.fail(new Error(`${link.label} disconnected`));
      this.links.delete(link);
    });
    socket.on('error', (e) => this.o.log(`${link.label}: socket error: ${e.message}`));
  }

  private onMessage(link: WorkerLink, msg: WorkerToCoordinator): void {
    switch (msg.type) {
      case 'hello': {
        if (link.status !== 'connected') throw protocolError('PROTO_ERR_OUT_OF_ORDER', 'a second hello', { messageType: 'hello' });
        link.workerId = msg.workerId;
        link.capabilities = msg.capabilities;
        if (msg.protocolVersion !== PROTOCOL_VERSION) {
          link.send({ type: 'reject', code: 'PROTO_ERR_VERSION', reason: `this coordinator speaks protocol ${PROTOCOL_VERSION}, the worker ${msg.protocolVersion}` });
          this.o.log(`${link.label}: refused: protocol version ${msg.protocolVersion}`);
          return link.close(CLOSE_PROTOCOL_ERROR, 'PROTO_ERR_VERSION');
        }
        link.status = 'welcomed';
        link.send({
          type: 'welcome',
          protocolVersion: PROTOCOL_VERSION,
          runId: this.job.runId,
          workerIndex: link.index,
          run: { config: workerJobToJson(this.job.workerJob) as JsonObject, modelPath: this.job.modelDir, modelHash: this.job.modelHash, dataHash: this.job.dataHash },
        });
        this.o.log(`${link.label} joined (backend ${msg.capabilities.backend}, ${msg.capabilities.hostname} pid ${msg.capabilities.pid})`);
        return;
      }
      case 'ready': {
        if (link.status !== 'welcomed') throw protocolError('PROTO_ERR_OUT_OF_ORDER', `ready while ${link.status}`, { messageType: 'ready' });
        if (msg.runId !== this.job.runId || msg.modelHash !== this.job.modelHash) {
          throw protocolError('PROTO_ERR_BAD_FIELD', 'ready for another run or model', { messageType: 'ready', field: 'runId' });
        }
        link.status = 'ready';
        link.send(this.stateMessage());
        this.o.log(`${link.label} ready (model loaded in ${Math.round(msg.loadMs)} ms); ${this.readyLinks.length} worker(s) ready`);
        this.readyWaiters.splice(0).forEach((wake) => wake());
        return;
      }
      case 'gradients':
      case 'evalResult':
        return this.onReply(link, msg);
      case 'error':
        this.o.log(`${link.label} reported ${msg.code}: ${msg.message}`);
        return;
      case 'heartbeat':
        return;
      default: {
        const never: never = msg;
        throw protocolError('PROTO_ERR_UNKNOWN_TYPE', `unhandled ${(never as { type: string }).type}`);
      }
    }
  }

  /** Matches a reply with the request it answers; anything else is refused without effect. */
  private onReply(link: WorkerLink, msg: GradientsMessage | EvalResultMessage): void {
    const p = link.pending;
    const tag = msg.type === 'gradients' ? msg.round : msg.evalId;
    const kind = msg.type === 'gradients' ? 'compute' : 'evaluate';
    if (msg.runId !== this.job.runId) throw protocolError('PROTO_ERR_BAD_FIELD', 'reply for another run', { messageType: msg.type, field: 'runId' });
    if (!p || p.kind !== kind || tag > p.tag) throw protocolError('PROTO_ERR_OUT_OF_ORDER', `${msg.type} that was not asked for`, { messageType: msg.type });
    if (tag < p.tag) {
      // stale: the answer to an earlier request; ignored, state is untouched
      this.o.log(`${link.label}: ignored a stale ${summarizeMessage(msg)}`);
      return;
    }
    if (msg.type === 'gradients' && msg.step !== p.step) {
      throw protocolError('PROTO_ERR_BAD_FIELD', `gradients for step ${msg.step}, round ${tag} was for step ${p.step}`, { messageType: msg.type, field: 'step' });
    }
    link.pending = null;
    p.resolve(msg);
  }

  private waitForWorkers(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.readyLinks.length >= n) return resolve();
        this.readyWaiters.push(check);
      };
      this.o.log(`waiting for ${n} worker(s) on ws://${this.job.config.cluster.host}:${(this.server.address() as AddressInfo | null)?.port ?? this.job.config.cluster.port}`);
      check();
    });
  }

  // ─── one step ─────────────────────────────────────────────────────────────────────────────

  /**
   * The workers' gradient sums over one global batch. The batch is cut into micro-batches on a
   * fixed grid (training.microBatch rows) and workers get whole micro-batches, so every
   * micro-batch is computed the same way whatever the number of workers; shares of workers that
   * fail or time out are split again among the remaining ones until every row is covered once.
   */
  private async gradientsFor(step: number, ids: readonly number[], batch: LabeledBatch): Promise<{ sums: GradientSums[]; computeMs: number }> {
    const unit = this.job.config.training.microBatch;
    const done: GradientSums[] = [];
    let remaining = Array.from({ length: Math.ceil(batch.rows / unit) }, (_, u) => u);
    let computeMs = 0;
    while (remaining.length > 0) {
      if (this.readyLinks.length === 0) {
        this.o.log(`step ${step}: no live worker; waiting for one`);
        await this.waitForWorkers(1);
      }
      const live = this.readyLinks;
      // ascending units: the global batch's short last micro-batch can only end a share
      const parts = splitAmong(remaining.sort((a, b) => a - b), live.length).filter((units) => units.length > 0);
      const round = ++this.round;
      const outcomes = await Promise.allSettled(
        parts.map((units, i) => {
          const rows = units.flatMap((u) => Array.from({ length: Math.min(unit, batch.rows - u * unit) }, (_, j) => u * unit + j));
          return this.compute(live[i], step, round, units, rows, ids, batch);
        }),
      );
      remaining = [];
      outcomes.forEach((o, i) => {
        if (o.status === 'fulfilled') {
          done.push(o.value);
          computeMs = Math.max(computeMs, o.value.computeMs);
        } else {
          this.o.log(`step ${step}: a share of ${parts[i].length} micro-batch(es) failed (${(o.reason as Error).message}); redistributing`);
          remaining.push(...parts[i]);
        }
      });
    }
    return { sums: done, computeMs };
  }

  private compute(link: WorkerLink, step: number, round: number, units: readonly number[], rows: readonly number[], ids: readonly number[], batch: LabeledBatch): Promise<GradientSums & { computeMs: number }> {
    const part = gatherRows(batch, rows);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => link.close(1008, `no gradients within ${this.job.config.cluster.stepTimeoutMs} ms`), this.job.config.cluster.stepTimeoutMs);
      link.pending = {
        kind: 'compute',
        tag: round,
        step,
        resolve: (m) => {
          clearTimeout(timer);
          try {
            resolve(this.checkGradients(link, m as GradientsMessage, part.rows));
          } catch (e) {
            link.close(CLOSE_PROTOCOL_ERROR, 'PROTO_ERR_BAD_FIELD');
            reject(e as Error);
          }
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      link.send({ type: 'compute', runId: this.job.runId, step, round, seed: this.job.config.training.seed >>> 0, microBatches: units, samples: encodeSamples(rows.map((r) => ids[r]), part) });
    });
  }

  /** A gradient reply must cover exactly the trainables, with their shapes, for the rows sent. */
  private checkGradients(link: WorkerLink, m: GradientsMessage, rows: number): GradientSums & { computeMs: number } {
    const trainables = this.job.injected.trainables;
    if (m.sampleCount !== rows) throw new Error(`${link.label}: gradients over ${m.sampleCount} samples, ${rows} were sent`);
    const grads = new Map<string, Float64Array>();
    for (const t of m.tensors) {
      const v = trainables.get(t.name);
      if (!v) throw new Error(`${link.label}: gradient for unknown tensor '${t.name}'`);
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) throw new Error(`${link.label}: gradient '${t.name}' has shape [${t.shape}], expected [${v.shape}]`);
      grads.set(t.name, float64FromTensor(t));
    }
    if (grads.size !== trainables.size) throw new Error(`${link.label}: ${grads.size} gradients, expected ${trainables.size}`);
    return { count: m.sampleCount, lossSum: m.lossSum, grads, computeMs: m.computeMs };
  }

  private stateMessage() {
    const trainables = this.job.injected.trainables;
    // State goes as float32 always: every replica must hold exactly the coordinator's values.
    const tensors = [...this.job.global.snapshot()].map(([name, values]) => tensorFromFloat32(name, trainables.get(name)!.shape, values));
    return { type: 'state' as const, runId: this.job.runId, step: this.job.global.step, tensors };
  }

  private broadcastState(): void {
    const msg = this.stateMessage();
    for (const link of this.readyLinks) link.send(msg);
  }

  private writeStepMetrics(r: StepReport, seconds: number, computeSeconds: number, optimizerSeconds: number, waitSeconds: number, communicationSeconds: number): void {
    this.metrics.write({
      kind: 'step',
      step: r.step,
      loss: r.loss,
      lr: r.lr,
      budget: r.budget,
      kept: Object.fromEntries(r.kept),
      samples: r.samples,
      samplesPerSecond: r.samples / seconds,
      workers: this.readyLinks.length,
      computeSeconds,
      optimizerSeconds,
      communicationSeconds,
      waitSeconds: Math.max(0, waitSeconds),
    });
  }

  // ─── evaluation ───────────────────────────────────────────────────────────────────────────

  /** Runs the dev split on the live workers and logs its metrics. */
  async evaluate(step: number): Promise<EvalSummary> {
    const dev = this.job.dev!;
    const outputs = new Float32Array(dev.examples.length * dev.numLabels);
    let remaining = Array.from({ length: dev.examples.length }, (_, i) => i);
    const chunk = Math.max(1, this.job.config.training.batchSize * 4);
    while (remaining.length > 0) {
      if (this.readyLinks.length === 0) await this.waitForWorkers(1);
      const live = this.readyLinks;
      const requests: number[][] = [];
      for (let i = 0; i < remaining.length; i += chunk) requests.push(remaining.slice(i, i + chunk));
      remaining = [];
      // Round-robin over live workers, one request in flight per worker.
      for (let i = 0; i < requests.length; i += live.length) {
        const wave = requests.slice(i, i + live.length);
        const outcomes = await Promise.allSettled(wave.map((ids, j) => this.evaluateOn(live[j], ids)));
        outcomes.forEach((o, j) => {
          if (o.status === 'fulfilled') wave[j].forEach((id, row) => outputs.set(o.value.subarray(row * dev.numLabels, (row + 1) * dev.numLabels), id * dev.numLabels));
          else remaining.push(...wave[j]);
        });
      }
    }
    const summary = summarizeEval(dev, outputs);
    const metric = this.job.config.data.metric;
    const value = summary.metrics[metric] ?? NaN;
    this.metrics.write({ kind: 'eval', step, metric, value, loss: summary.loss, samples: summary.samples });
    this.o.log(`eval at step ${step}: ${Object.entries(summary.metrics).map(([k, v]) => `${k} ${(v as number).toFixed(4)}`).join(', ')}, loss ${summary.loss.toFixed(4)}`);
    return summary;
  }

  private evaluateOn(link: WorkerLink, ids: readonly number[]): Promise<Float32Array> {
    const dev = this.job.dev!;
    const evalId = this.nextEvalId++;
    const batch = batchOf(dev, ids, this.job.padId, dev.numLabels === 1);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => link.close(1008, 'no eval result in time'), this.job.config.cluster.stepTimeoutMs);
      link.pending = {
        kind: 'evaluate',
        tag: evalId,
        step: this.job.global.step,
        resolve: (m) => {
          clearTimeout(timer);
          const r = m as EvalResultMessage;
          const out = float32FromTensor(r.outputs);
          if (r.outputs.shape[0] !== ids.length || r.outputs.shape[1] !== dev.numLabels) {
            link.close(CLOSE_PROTOCOL_ERROR, 'PROTO_ERR_BAD_FIELD');
            return reject(new Error(`${link.label}: eval outputs of shape [${r.outputs.shape}], expected [${ids.length}, ${dev.numLabels}]`));
          }
          resolve(out);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      link.send({ type: 'evaluate', runId: this.job.runId, evalId, samples: encodeSamples([...ids], batch) });
    });
  }
}
