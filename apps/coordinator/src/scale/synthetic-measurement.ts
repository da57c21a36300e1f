import { loadBackend } from '@adalora/backend';
import { describeMachineCosts, measureMachineCosts, measureSynthetic, predictStep, presetValueCount, SYNTHETIC_PRESETS, type MeasuredCosts, type ScalingScenario, type SyntheticPresetName } from '@adalora/coordinator';
import { collectGarbage } from './full-collection';
import type { MeasureRequest, MeasurementSource } from './measurement-source';
import type { PairedRun, Predictor, ScalePrediction } from './scale-prediction';
import { quantile, type Measurement } from './scale-table';
import type { StepRecord } from './split-parts';

export interface SyntheticMeasurementOptions {
  readonly preset: SyntheticPresetName;
  /** compute time per sample on a synthetic worker (ms) */
  readonly sampleMs: number;
  /** the global batch of every count; undefined: `rowsPerWorker` × workers (the same rows per worker at every count) */
  readonly batchSize?: number;
  readonly rowsPerWorker: number;
  /** where the synthetic connections run (see measureSynthetic) */
  readonly workersIn: 'this-process' | 'child-process';
  /** measure the machine's costs before and after each run, for the simulator */
  readonly simulate: boolean;
  /**
   * runs per count (default 1), their steps pooled in the table; with `simulate`, each run
   * between two cost measurements and judged against its own prediction
   */
  readonly runs?: number;
  readonly log: (line: string) => void;
}

/**
 * Measures with synthetic workers (the real protocol, the preset's gradient names and shapes,
 * a compute delay instead of a model) on a coordinator in this process. This module loads tfjs:
 * `adalora scale` imports it only once its flags are checked.
 */
export class SyntheticMeasurement implements MeasurementSource {
  private backendLoaded = false;
  private warmedUp = false;
  /**
   * the machine's costs over each count: the mean of all those measured at it (a lone
   * measurement when no count was measured), and each run with the costs right before and after it
   */
  private readonly costs = new Map<number, { readonly mean: MeasuredCosts; readonly runs: readonly CostedRun[] }>();

  constructor(private readonly o: SyntheticMeasurementOptions) {}

  get description(): string {
    const where = this.o.workersIn === 'child-process' ? 'in one child process' : "in the coordinator's process";
    return `synthetic workers ${where} (preset ${this.o.preset}, ${this.o.sampleMs} ms per sample)`;
  }

  /** The global batch at `workers`. */
  batchAt(workers: number): number {
    return this.o.batchSize ?? this.o.rowsPerWorker * workers;
  }

  async measure(r: MeasureRequest): Promise<Measurement> {
    await this.ensureBackend();
    const batchSize = this.batchAt(r.workers);
    if (batchSize < r.workers) throw new Error(`--batch-size ${batchSize} gives some of the ${r.workers} workers no rows: give at least one row per worker`);
    const run = (warmupSteps: number, steps: number) => {
      collectGarbage();
      return measureSynthetic({
        preset: this.o.preset,
        workers: r.workers,
        sampleMs: this.o.sampleMs,
        batchSize,
        warmupSteps,
        steps,
        workersIn: this.o.workersIn,
        log: (line) => {
          if (/error|fail|lost|refus/i.test(line)) this.o.log(`[${r.workers}w] ${line}`);
        },
      });
    };
    if (!this.warmedUp) {
      // A fresh process is slow at first beyond its warm-up steps: 8 MB buffers come from fresh
      // pages until the allocator has freed some of that size, and the JIT is cold. Its first
      // count measured 20–50 % slower than the same count later in a process, and so did its
      // first cost measurement (the state's encoding 3×): one discarded run of each first.
      this.o.log(`warming up the process: one discarded run of ${r.workers} worker(s)${this.o.simulate ? ' and cost measurement' : ''}`);
      await run(0, Math.max(2, r.warmupSteps));
      if (this.o.simulate) await this.costsFromCollectedHeap({ inFlight: r.workers });
      this.warmedUp = true;
    }
    const runs = this.o.runs ?? 1;
    const steps: StepRecord[] = [];
    const costed: CostedRun[] = [];
    // this machine's speed drifts with its load: each run is predicted from the mean of the costs
    // measured right before and right after it (the one after a run is the one before the next)
    let before = this.o.simulate ? await this.measureCosts(`before ${r.workers} worker(s)`, r.workers) : null;
    for (let i = 1; i <= runs; i++) {
      const measured = await run(r.warmupSteps, r.steps);
      steps.push(...measured);
      if (before) {
        const after = await this.measureCosts(`after ${r.workers} worker(s)${runs > 1 ? `, run ${i} of ${runs}` : ''}`, r.workers);
        costed.push({ before, after, medianMs: quantile(measured.map((s) => s.totalMs), 0.5) });
        before = after;
      }
    }
    if (costed.length > 0) this.costs.set(r.workers, { mean: meanCosts([costed[0].before, ...costed.map((c) => c.after)]), runs: costed });
    return { workers: r.workers, steps };
  }

  /** The machine's costs with as many workers' messages at once as the count measured (see measureMachineCosts). */
  private async measureCosts(when: string, inFlight: number): Promise<MeasuredCosts> {
    const c = await this.costsFromCollectedHeap({ inFlight, repeats: COST_REPEATS });
    this.o.log(`machine costs ${when}: ${describeMachineCosts(c)}`);
    return c;
  }

  /** measureMachineCosts after a full collection, so that it does not pay for the last measurement's garbage. */
  private costsFromCollectedHeap(o: { readonly inFlight: number; readonly repeats?: number }): Promise<MeasuredCosts> {
    collectGarbage();
    return measureMachineCosts(this.o.preset, o);
  }

  /**
   * The simulator for this source: the measured set-up (loopback, with the costs measured
   * before that count, or before the last one for a count not measured) and a cluster of
   * machines on `linkGbps` links, flat and with √workers aggregators.
   */
  async predictor(cluster: { linkGbps: number; latencyMs: number }): Promise<{ predictor: Predictor; describe: Omit<ScalePrediction, 'rows'> }> {
    if (this.costs.size === 0) {
      await this.ensureBackend();
      this.costs.set(0, { mean: await measureMachineCosts(this.o.preset), runs: [] });
    }
    const last = [...this.costs.values()].at(-1)!.mean;
    const costsAt = (w: number) => this.costs.get(w)?.mean ?? last;
    const rowsAt = (w: number) => Math.ceil(this.batchAt(w) / w);
    const base = (w: number, c: MeasuredCosts): ScalingScenario => ({
      values: presetValueCount(SYNTHETIC_PRESETS[this.o.preset]),
      gradientBytesPerValue: 4, // one micro-batch per worker: a float64 wire sends it as float32, exactly
      stateBytesPerValue: 4,
      rowsPerWorker: rowsAt(w),
      sampleMs: this.o.sampleMs,
      linkGbps: 8 / (c.loopbackMsPerByte * 1e6),
      shareLinkGbps: 8 / (c.loopbackUpMsPerByte * 1e6),
      latencyMs: 0,
      aggregators: 0,
      oneThread: this.o.workersIn === 'this-process',
    });
    // on a cluster the workers' own encoding and reading run on their machines, beside the coordinator's work
    const remote = (c: MeasuredCosts) => ({ ...c, workerEncodeMsPerByte: 0, workerReadMsPerByte: 0, sendMsPerByte: c.loopbackMsPerByte / 2 });
    const onCluster = (w: number, aggregators: number) => {
      const c = costsAt(w);
      return predictStep({ ...base(w, c), linkGbps: cluster.linkGbps, shareLinkGbps: cluster.linkGbps, latencyMs: cluster.latencyMs, aggregators, oneThread: false }, remote(c), w);
    };
    const setUpMs = (w: number, c: MeasuredCosts) => predictStep(base(w, c), c, w).totalMs;
    const predictor: Predictor = {
      setUpMs: (w) => setUpMs(w, costsAt(w)),
      runs: (w) =>
        (this.costs.get(w)?.runs ?? []).map((run): PairedRun => {
          const predictedMs = setUpMs(w, meanCosts([run.before, run.after]));
          return { measuredMs: run.medianMs, predictedMs, costDrift: (setUpMs(w, run.after) - setUpMs(w, run.before)) / predictedMs };
        }),
      flat: (w) => onCluster(w, 0),
      aggregated: (w) => {
        const aggregators = Math.max(1, Math.round(Math.sqrt(w)));
        const p = onCluster(w, aggregators);
        return { aggregators, totalMs: p.totalMs, efficiency: p.efficiency };
      },
    };
    const setUp = this.o.workersIn === 'this-process' ? "loopback, the workers on the coordinator's thread" : 'loopback, the workers in one child process on this machine';
    return { predictor, describe: { setUp, cluster: { ...cluster, sampleMs: this.o.sampleMs, rowsPerWorker: this.o.rowsPerWorker } } };
  }

  stop(): void {
    // the coordinator and the synthetic workers run in this process, their files in a temporary folder
    process.exit(130);
  }

  private async ensureBackend(): Promise<void> {
    if (this.backendLoaded) return;
    await loadBackend('auto', { log: () => {} });
    this.backendLoaded = true;
  }
}

/** repeats of each cost measurement (their median): 3 left the costs varying by a third from one measurement to the next */
const COST_REPEATS = 5;

/** One measured run: its median step time and the machine's costs measured right before and after it. */
interface CostedRun {
  readonly before: MeasuredCosts;
  readonly after: MeasuredCosts;
  readonly medianMs: number;
}

/** Field by field, the mean of cost measurements (a field one of them lacks is left out). */
export function meanCosts(all: readonly [MeasuredCosts, ...MeasuredCosts[]]): MeasuredCosts {
  const out: Partial<Record<keyof MeasuredCosts, number>> = {};
  for (const k of Object.keys(all[0]) as (keyof MeasuredCosts)[]) {
    const values = all.map((c) => c[k]);
    if (values.every((v): v is number => v !== undefined)) out[k] = values.reduce((a, b) => a + b, 0) / values.length;
  }
  return out as MeasuredCosts;
}
