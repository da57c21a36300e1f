import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics } from './metrics-file';
import type { EvalMetrics, MetricsRecord, StepMetrics } from './metrics-log';
import { statusPageHtml } from './page-html';
import { runView } from './run-view';

/** The files `writeRunReport` wrote. */
export interface RunReportFiles {
  readonly html: string;
  readonly stepsCsv: string;
  readonly evalsCsv: string;
}

/** One CSV field: quoted when it holds a comma, quote or line break. */
function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'number' ? String(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** The step records as CSV: step, time, epoch, every other scalar field (in first-seen order), then one `kept:<module>` column per adapted matrix. */
export function stepsCsv(records: readonly MetricsRecord[]): string {
  const steps = records.filter((r): r is StepMetrics => r.kind === 'step');
  const isScalar = (v: unknown) => v === null || typeof v !== 'object';
  const scalar = [...new Set(['step', 'time', 'epoch', ...steps.flatMap((s) => Object.entries(s).filter(([k, v]) => k !== 'kind' && isScalar(v)).map(([k]) => k))])];
  const modules = [...new Set(steps.flatMap((s) => Object.keys(s.kept)))];
  return csv(
    [...scalar, ...modules.map((m) => `kept:${m}`)],
    steps.map((s) => [...scalar.map((k) => (s as unknown as Record<string, unknown>)[k]), ...modules.map((m) => s.kept[m])]),
  );
}

/** The evaluation records as CSV: step, time, epoch, loss, samples, then every metric. */
export function evalsCsv(records: readonly MetricsRecord[]): string {
  const evals = records.filter((r): r is EvalMetrics => r.kind === 'eval');
  const metrics = [...new Set(evals.flatMap((e) => Object.keys(e.metrics ?? { [e.metric]: e.value })))];
  return csv(
    ['step', 'time', 'epoch', 'loss', 'samples', ...metrics],
    evals.map((e) => [e.step, e.time, e.epoch, e.loss, e.samples, ...metrics.map((m) => (e.metrics ?? { [e.metric]: e.value })[m])]),
  );
}

/**
 * `report.html` (the status page's views with the data, uPlot and the page's script inlined: one
 * file that opens offline), `metrics-steps.csv` and `metrics-evals.csv`, from `<runDir>/metrics.jsonl`,
 * written into `outDir` (default: the run folder).
 */
export function writeRunReport(runDir: string, outDir = runDir): RunReportFiles {
  const metrics = join(runDir, 'metrics.jsonl');
  if (!existsSync(metrics)) throw new Error(`${runDir}: no metrics.jsonl (not the output folder of a run?)`);
  const records = readMetrics(metrics);
  if (records.length === 0) throw new Error(`${metrics}: no metrics records`);
  const view = runView(records, null);
  mkdirSync(outDir, { recursive: true });
  const files = { html: join(outDir, 'report.html'), stepsCsv: join(outDir, 'metrics-steps.csv'), evalsCsv: join(outDir, 'metrics-evals.csv') };
  writeFileSync(files.html, statusPageHtml(`AdaLoRA run ${view.runId ?? ''} (report)`, view));
  writeFileSync(files.stepsCsv, stepsCsv(records));
  writeFileSync(files.evalsCsv, evalsCsv(records));
  return files;
}
