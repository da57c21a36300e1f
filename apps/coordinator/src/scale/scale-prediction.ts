import { quantile, type ScaleRow } from './scale-table';

/**
 * The simulator beside the measurement (`adalora scale --simulate`): for each measured count
 * the predicted step time of the measured set-up and its relative error, and for every count
 * (measured or predicted only) the prediction on a cluster's links, flat and aggregated.
 */
export interface PredictionRow {
  readonly workers: number;
  /** false: a count only predicted, never measured */
  readonly measured: boolean;
  /** the measured median step time, null for a predicted-only count */
  readonly measuredMs: number | null;
  /** the simulator's step time for the measured set-up (this machine, loopback) */
  readonly predictedMs: number;
  /**
   * (predicted − measured) / measured; measured several times (runs), the median of the runs'
   * errors, each run against the prediction from the costs measured right before and after it;
   * null for a predicted-only count
   */
  readonly error: number | null;
  /** each run's error, in the order run (empty: a predicted-only count, or no runs known) */
  readonly runErrors: readonly number[];
  /**
   * how far the machine's costs moved over a run: (prediction from the costs measured right after
   * it − from those right before) / the prediction, the median over the runs; null for a
   * predicted-only count or when the costs were measured once
   */
  readonly costDrift: number | null;
  /** on the cluster's links: every worker on the coordinator */
  readonly flatMs: number;
  readonly flatEfficiency: number;
  /** on the cluster's links: this many aggregators between the workers and the coordinator */
  readonly aggregators: number;
  readonly aggregatedMs: number;
  readonly aggregatedEfficiency: number;
}

export interface ScalePrediction {
  /** the measured set-up as modelled, e.g. "loopback, workers on the coordinator's thread" */
  readonly setUp: string;
  /** the cluster the flat and aggregated columns model */
  readonly cluster: { readonly linkGbps: number; readonly latencyMs: number; readonly sampleMs: number; readonly rowsPerWorker: number };
  readonly rows: readonly PredictionRow[];
}

/** One measured run at a count beside the simulator's prediction from the costs measured right before and after it. */
export interface PairedRun {
  /** the run's median step time */
  readonly measuredMs: number;
  readonly predictedMs: number;
  /** see PredictionRow.costDrift (null: not known) */
  readonly costDrift: number | null;
}

/** What the simulator predicts at one count (see SyntheticMeasurement.predictor). */
export interface Predictor {
  /** the measured set-up at `workers`, from the costs measured over that count (or the last one measured) */
  setUpMs(workers: number): number;
  /** the runs measured at `workers`, each beside its own prediction (none: judged against setUpMs) */
  runs?(workers: number): readonly PairedRun[];
  flat(workers: number): { readonly totalMs: number; readonly efficiency: number };
  aggregated(workers: number): { readonly aggregators: number; readonly totalMs: number; readonly efficiency: number };
}

/** Prediction rows for the measured rows and for `predictOnly` counts, in increasing order of workers. */
export function predictionRows(measured: readonly ScaleRow[], predictOnly: readonly number[], p: Predictor): PredictionRow[] {
  const seen = new Set(measured.map((r) => r.workers));
  const counts = [...measured.map((r) => ({ workers: r.workers, ms: r.stepMs.median as number | null })), ...predictOnly.filter((w) => !seen.has(w)).map((w) => ({ workers: w, ms: null }))];
  return counts
    .sort((a, b) => a.workers - b.workers)
    .map(({ workers, ms }) => {
      const flat = p.flat(workers);
      const agg = p.aggregated(workers);
      return {
        workers,
        measured: ms !== null,
        measuredMs: ms,
        ...beside(ms, ms === null ? [] : (p.runs?.(workers) ?? []), () => p.setUpMs(workers)),
        flatMs: flat.totalMs,
        flatEfficiency: flat.efficiency,
        aggregators: agg.aggregators,
        aggregatedMs: agg.totalMs,
        aggregatedEfficiency: agg.efficiency,
      };
    });
}

/**
 * The prediction of a count and its error: from its runs when known (each against its own
 * prediction, so that the machine's drift between runs cancels; the medians), else setUpMs
 * against the measured median `ms` (null: only predicted).
 */
function beside(ms: number | null, runs: readonly PairedRun[], setUpMs: () => number): Pick<PredictionRow, 'predictedMs' | 'error' | 'runErrors' | 'costDrift'> {
  if (runs.length === 0) {
    const predictedMs = setUpMs();
    return { predictedMs, error: ms === null ? null : (predictedMs - ms) / ms, runErrors: [], costDrift: null };
  }
  const runErrors = runs.map((r) => (r.predictedMs - r.measuredMs) / r.measuredMs);
  const drifts = runs.map((r) => r.costDrift).filter((d): d is number => d !== null);
  return {
    predictedMs: quantile(runs.map((r) => r.predictedMs), 0.5),
    error: quantile(runErrors, 0.5),
    runErrors,
    costDrift: drifts.length === 0 ? null : quantile(drifts, 0.5),
  };
}

export const PREDICTION_CSV_COLUMNS = ['workers', 'kind', 'measured_ms', 'predicted_ms', 'prediction_error', 'cluster_flat_ms', 'cluster_flat_efficiency', 'aggregators', 'cluster_aggregated_ms', 'cluster_aggregated_efficiency', 'cost_drift', 'run_errors'] as const;

/** scale-prediction.csv: one line per count, `kind` measured or predicted; run_errors: the runs' errors separated by ';'. */
export function predictionCsv(p: ScalePrediction): string {
  const cell = (v: number | null) => (v === null ? '' : String(v));
  const lines = p.rows.map((r) =>
    [String(r.workers), r.measured ? 'measured' : 'predicted', cell(r.measuredMs), cell(r.predictedMs), cell(r.error), cell(r.flatMs), cell(r.flatEfficiency), String(r.aggregators), cell(r.aggregatedMs), cell(r.aggregatedEfficiency), cell(r.costDrift), r.runErrors.join(';')].join(','),
  );
  return [PREDICTION_CSV_COLUMNS.join(','), ...lines].join('\n') + '\n';
}

const signedPercent = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(1)} %`;

/** The lowest and highest of a count's run errors, e.g. "−12.0 … +4.1 %"; "–" for none. */
function errorRange(errors: readonly number[]): string {
  if (errors.length === 0) return '–';
  const pct = (v: number) => signedPercent(v).replace(' %', '');
  return `${pct(Math.min(...errors))} … ${pct(Math.max(...errors))} %`;
}

/**
 * The printed table: prediction beside measurement; a predicted-only count says so in the
 * measured column. A column of the runs' errors when some count was measured more than once.
 */
export function formatPredictionTable(p: ScalePrediction): string {
  const c = p.cluster;
  const repeated = p.rows.some((r) => r.runErrors.length > 1);
  const header = ['workers', 'measured ms', 'predicted ms', 'error', ...(repeated ? ["runs' errors"] : []), 'costs moved', `flat ms @${c.linkGbps} Gbit/s`, 'flat eff', 'aggregators', 'aggregated ms', 'aggregated eff'];
  const body = p.rows.map((r) => [
    String(r.workers),
    r.measuredMs === null ? 'predicted only' : r.measuredMs.toFixed(0),
    r.predictedMs.toFixed(0),
    r.error === null ? '–' : signedPercent(r.error),
    ...(repeated ? [errorRange(r.runErrors)] : []),
    r.costDrift === null ? '–' : signedPercent(r.costDrift),
    r.flatMs.toFixed(0),
    `${(r.flatEfficiency * 100).toFixed(1)} %`,
    String(r.aggregators),
    r.aggregatedMs.toFixed(0),
    `${(r.aggregatedEfficiency * 100).toFixed(1)} %`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

/** Above this, the machine's speed changed during a count (see PredictionRow.costDrift): its error measures that as much as the model. */
const COST_DRIFT_LIMIT = 0.15;

/** The lines printed under the prediction table: what each column models. */
export function predictionNotes(p: ScalePrediction): string[] {
  const c = p.cluster;
  const measured = p.rows.filter((r) => r.error !== null);
  const largest = (rows: readonly PredictionRow[]) => `${(Math.max(...rows.map((r) => Math.abs(r.error as number))) * 100).toFixed(1)} %`;
  const moved = measured.filter((r) => r.costDrift !== null && Math.abs(r.costDrift) > COST_DRIFT_LIMIT);
  const held = measured.filter((r) => !moved.includes(r));
  const runs = Math.max(0, ...p.rows.map((r) => r.runErrors.length));
  return [
    runs > 1
      ? `predicted ms: the simulator for the measured set-up (${p.setUp}), up to ${runs} runs per count, each predicted from the costs measured on this machine right before and after it (their mean): the median of those predictions; error: the median of the runs' errors (predicted − measured) / measured`
      : `predicted ms: the simulator for the measured set-up (${p.setUp}), costs measured on this machine right before and after each count (their mean); error = (predicted − measured) / measured`,
    `costs moved: the prediction from the costs measured after a run against the one from those before (+: the machine was slower after)${runs > 1 ? ', the median over the runs' : ''}; beyond ±${COST_DRIFT_LIMIT * 100} % its speed changed during the count`,
    `flat / aggregated: the simulator on ${c.linkGbps} Gbit/s links with ${c.latencyMs} ms latency, ${c.rowsPerWorker} rows × ${c.sampleMs} ms per worker, every worker on its own machine; aggregated: √workers aggregators`,
    ...(measured.length > 0 ? [`largest |error| over the measured counts: ${largest(measured)} (target ≤ 15 %)`] : []),
    ...(moved.length > 0
      ? [
          `the machine's speed changed during the count at ${moved.map((r) => r.workers).join(', ')} worker(s) (costs moved ${moved.map((r) => signedPercent(r.costDrift as number)).join(', ')}): the error there measures that as much as the model` +
            (held.length > 0 ? `; over the other counts the largest |error| is ${largest(held)}` : ''),
        ]
      : []),
  ];
}
