import { heatmapColumns, heatmapRows, sameRanks, type HeatmapRow } from './heatmap-layout';
import type { ConfigRecord, EvalMetrics, MetricsRecord, StepMetrics } from './metrics-log';
import { coordinatorMs } from './step-split';
import type { WorkerRow } from './worker-pool';

/** Per-step series, index i for the i-th step record. */
export interface StepSeries {
  readonly step: number[];
  readonly epoch: number[];
  readonly loss: number[];
  readonly lr: number[];
  readonly budget: (number | null)[];
  readonly samplesPerSecond: number[];
  /** ms: the slowest share's compute, the coordinator's serial work (sum, optimizer, allocation, encode), sending the state, the rest of gathering */
  readonly computeMs: number[];
  readonly coordinatorMs: number[];
  readonly transferMs: number[];
  readonly waitMs: number[];
}

/** The rank heatmap: kept rank per row (matrix) and column (step). */
export interface HeatmapView {
  readonly rows: HeatmapRow[];
  /** the step number of each column */
  readonly columns: number[];
  /** ranks[row][column] */
  readonly ranks: number[][];
  /** the latest kept rank per row */
  readonly current: number[];
  readonly initial: (number | null)[];
  /** the built-in task's true rank per row, or null */
  readonly trueRanks: (number | null)[] | null;
  readonly maxRank: number;
}

/** A line of the events list. */
export interface RunEvent {
  readonly step: number;
  readonly time: string | null;
  readonly kind: 'start' | 'resume' | 'join' | 'drop' | 'checkpoint' | 'ranks' | 'eval';
  readonly text: string;
}

/** Everything the status page and the report draw, as plain JSON. */
export interface RunView {
  readonly runId: string | null;
  readonly model: string | null;
  readonly totalSteps: number | null;
  /** 'finished' after the last step; before it 'running' on the live page, 'stopped' in a report (an interrupted run) */
  readonly state: 'running' | 'finished' | 'stopped';
  readonly generated: string;
  readonly config: unknown;
  readonly steps: StepSeries;
  readonly evals: { readonly headline: string | null; readonly step: number[]; readonly loss: number[]; readonly metrics: Record<string, number[]> };
  readonly heatmap: HeatmapView;
  readonly events: RunEvent[];
  /** the live page's connected workers; the report's, from the join and drop events */
  readonly workers: WorkerRow[];
}

/** The view of a run from its metrics records (file order) and, on the live page, its connected workers. */
export function runView(records: readonly MetricsRecord[], liveWorkers: readonly WorkerRow[] | null, now = new Date()): RunView {
  const configs = records.filter((r): r is ConfigRecord => r.kind === 'config');
  const steps = records.filter((r): r is StepMetrics => r.kind === 'step');
  const evals = records.filter((r): r is EvalMetrics => r.kind === 'eval');
  const head = configs.at(-1) ?? null;
  const totalSteps = head?.totalSteps ?? null;
  const model = head ? (((head.config ?? {}) as { model?: unknown }).model as string | undefined) ?? null : null;
  return {
    runId: head?.runId ?? steps[0]?.runId ?? null,
    model,
    totalSteps,
    state: totalSteps !== null && steps.at(-1)?.step === totalSteps ? 'finished' : liveWorkers ? 'running' : 'stopped',
    generated: now.toISOString(),
    config: head?.config ?? null,
    steps: stepSeries(steps),
    evals: evalSeries(evals),
    heatmap: heatmapView(head, steps),
    events: runEvents(records, steps),
    workers: liveWorkers ? [...liveWorkers] : workersFromEvents(records),
  };
}

function stepSeries(steps: readonly StepMetrics[]): StepSeries {
  const col = <T>(f: (s: StepMetrics) => T) => steps.map(f);
  return {
    step: col((s) => s.step),
    epoch: col((s) => s.epoch),
    loss: col((s) => s.loss),
    lr: col((s) => s.lr),
    budget: col((s) => s.budget),
    samplesPerSecond: col((s) => s.samplesPerSecond),
    computeMs: col((s) => s.computeMs),
    coordinatorMs: col((s) => coordinatorMs(s)),
    transferMs: col((s) => s.transferMs),
    waitMs: col((s) => s.waitMs),
  };
}

function evalSeries(evals: readonly EvalMetrics[]): RunView['evals'] {
  const names = [...new Set(evals.flatMap((e) => Object.keys(e.metrics ?? { [e.metric]: e.value })))];
  const metrics: Record<string, number[]> = {};
  for (const name of names) metrics[name] = evals.map((e) => (e.metrics ?? { [e.metric]: e.value })[name] ?? NaN);
  return { headline: evals.at(-1)?.metric ?? null, step: evals.map((e) => e.step), loss: evals.map((e) => e.loss), metrics };
}

function heatmapView(head: ConfigRecord | null, steps: readonly StepMetrics[]): HeatmapView {
  const initial = head?.initialRanks ?? {};
  const ids = [...new Set([...Object.keys(initial), ...steps.flatMap((s) => Object.keys(s.kept))])];
  const rows = heatmapRows(ids);
  const columns = heatmapColumns(steps);
  const last = steps.at(-1)?.kept ?? initial;
  const rankOf = (kept: Readonly<Record<string, number>>, id: string) => kept[id] ?? initial[id] ?? 0;
  const trueRanks = head?.trueRanks ?? null;
  return {
    rows,
    columns: columns.map((i) => steps[i].step),
    ranks: rows.map((r) => columns.map((i) => rankOf(steps[i].kept, r.module))),
    current: rows.map((r) => rankOf(last, r.module)),
    initial: rows.map((r) => initial[r.module] ?? null),
    trueRanks: trueRanks ? rows.map((r) => trueRanks[r.module] ?? null) : null,
    maxRank: Math.max(1, ...Object.values(initial), ...steps.flatMap((s) => Object.values(s.kept))),
  };
}

const total = (kept: Readonly<Record<string, number>>) => Object.values(kept).reduce((a, b) => a + b, 0);

/** Starts and resumes, joins, drops, checkpoints, evaluations, and the masking steps that changed the allocation, in step order. */
function runEvents(records: readonly MetricsRecord[], steps: readonly StepMetrics[]): RunEvent[] {
  const events: RunEvent[] = [];
  for (const r of records) {
    if (r.kind === 'config') events.push({ step: r.step, time: r.time, kind: r.step > 0 ? 'resume' : 'start', text: r.step > 0 ? `resumed after step ${r.step}` : `run ${r.runId} started: ${r.totalSteps} steps` });
    else if (r.kind === 'event') events.push({ step: r.step, time: r.time, kind: r.event, text: r.detail });
    else if (r.kind === 'eval') events.push({ step: r.step, time: r.time, kind: 'eval', text: `eval: ${Object.entries(r.metrics ?? { [r.metric]: r.value }).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}, loss ${r.loss.toFixed(4)}` });
  }
  // a masking step that changed the allocation (not the singular values growing back between masking steps)
  let allocated: Readonly<Record<string, number>> | null = null;
  for (const s of steps) {
    if (!s.maskApplied || (allocated && sameRanks(allocated, s.kept))) continue;
    const zero = Object.values(s.kept).filter((k) => k === 0).length;
    events.push({ step: s.step, time: s.time, kind: 'ranks', text: `masking: ${allocated ? `kept ranks ${total(allocated)} → ` : 'first masking, kept ranks '}${total(s.kept)} (${zero} matrices at 0)` });
    allocated = s.kept;
  }
  return events.sort((a, b) => a.step - b.step);
}

/** The workers a finished run had, from its join and drop events (bytes and step times are known live only). */
function workersFromEvents(records: readonly MetricsRecord[]): WorkerRow[] {
  const rows = new Map<number, WorkerRow>();
  for (const r of records) {
    if (r.kind !== 'event' || !r.worker) continue;
    const w = r.worker;
    rows.set(w.index, { index: w.index, id: w.id, host: w.host, backend: w.backend, state: r.event === 'join' ? 'joined' : 'dropped', lastComputeSeconds: null, bytesIn: 0, bytesOut: 0 });
  }
  return [...rows.values()];
}
