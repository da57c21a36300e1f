import type { ScalePrediction } from './scale-prediction';
import type { StepRecord } from './split-parts';
import type { ScaleRow } from './scale-table';

/** What `adalora scale` measured: how, the table, and every measured step (scale.json). */
export interface ScaleReport {
  readonly tool: 'adalora scale';
  /** ISO time the measurement ended */
  readonly date: string;
  /** the measurement source, e.g. "local workers (child processes)" */
  readonly source: string;
  /** where the parts shown as "–" are counted, if anywhere */
  readonly splitNote?: string;
  readonly warmupSteps: number;
  readonly measuredSteps: number;
  /** the config (file and overrides) every count ran */
  readonly config: { readonly file: string | null; readonly set: readonly string[] };
  readonly rows: readonly ScaleRow[];
  /** the measured steps of each worker count, in the order of `rows` */
  readonly steps: readonly { readonly workers: number; readonly records: readonly StepRecord[] }[];
  /** `--simulate`: the simulator beside each measured count, and the counts only predicted */
  readonly prediction?: ScalePrediction;
}

/** The columns of scale.csv, one row per worker count; an unmeasured part is an empty field. */
export const CSV_COLUMNS = [
  'workers',
  'steps',
  'samples_per_step',
  'samples_per_s',
  'samples_per_s_p25',
  'samples_per_s_p75',
  'speedup',
  'efficiency',
  'step_ms',
  'step_ms_p25',
  'step_ms_p75',
  'compute_ms',
  'coordinator_ms',
  'sum_ms',
  'optimizer_ms',
  'allocation_ms',
  'encode_ms',
  'transfer_ms',
  'wait_ms',
  'bytes_in',
  'bytes_out',
  /** `--simulate`: the simulator's step time for the measured set-up and (predicted − measured) / measured */
  'predicted_ms',
  'prediction_error',
] as const;

function csvValues(r: ScaleRow, prediction?: ScalePrediction): (number | null)[] {
  const s = r.split;
  const p = prediction?.rows.find((q) => q.workers === r.workers);
  return [
    r.workers,
    r.steps,
    r.samplesPerStep,
    r.samplesPerSecond.median,
    r.samplesPerSecond.p25,
    r.samplesPerSecond.p75,
    r.speedup,
    r.efficiency,
    r.stepMs.median,
    r.stepMs.p25,
    r.stepMs.p75,
    s.computeMs,
    s.coordinatorMs,
    s.sumMs,
    s.optimizerMs,
    s.allocationMs,
    s.encodeMs,
    s.transferMs,
    s.waitMs,
    r.bytesIn,
    r.bytesOut,
    p?.predictedMs ?? null,
    p?.error ?? null,
  ];
}

/** scale.csv: a header and one line per worker count, numbers at full precision. */
export function scaleCsv(rows: readonly ScaleRow[], prediction?: ScalePrediction): string {
  const lines = [CSV_COLUMNS.join(','), ...rows.map((r) => csvValues(r, prediction).map((v) => (v === null ? '' : String(v))).join(','))];
  return lines.join('\n') + '\n';
}

export function scaleJson(report: ScaleReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

const DASH = '–';
const ms = (v: number | null) => (v === null ? DASH : v.toFixed(1));
const bytes = (v: number | null) => (v === null ? DASH : v >= 1e6 ? `${(v / 1e6).toFixed(2)} MB` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} kB` : `${v} B`);

/** The table as printed and as put in the README: medians, the throughput's interquartile range in brackets. */
export function formatScaleTable(rows: readonly ScaleRow[]): string {
  const header = ['workers', 'samples/s [IQR]', 'speed-up', 'efficiency', 'step ms', 'compute', 'coord', 'sum', 'optim', 'alloc', 'encode', 'transfer', 'wait', 'bytes in', 'bytes out'];
  const body = rows.map((r) => [
    String(r.workers),
    `${r.samplesPerSecond.median.toFixed(0)} [${r.samplesPerSecond.p25.toFixed(0)}–${r.samplesPerSecond.p75.toFixed(0)}]`,
    `${r.speedup.toFixed(2)}×`,
    `${(r.efficiency * 100).toFixed(0)} %`,
    ms(r.stepMs.median),
    ms(r.split.computeMs),
    ms(r.split.coordinatorMs),
    ms(r.split.sumMs),
    ms(r.split.optimizerMs),
    ms(r.split.allocationMs),
    ms(r.split.encodeMs),
    ms(r.split.transferMs),
    ms(r.split.waitMs),
    bytes(r.bytesIn),
    bytes(r.bytesOut),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
