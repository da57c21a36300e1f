import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ScaleReport } from './scale-report';
import { formatScaleTable } from './scale-report';
import { formatPredictionTable, predictionNotes } from './scale-prediction';
import { SPLIT_PARTS, type SplitPart } from './split-parts';

/** The series the page plots, one value per worker count (what the page's script reads). */
export interface ScaleSeries {
  readonly workers: number[];
  readonly samplesPerSecond: number[];
  /** the smallest count's throughput grown in proportion to the workers */
  readonly ideal: number[];
  /** percent */
  readonly efficiency: number[];
  /** medians of the measured parts, bottom of the stack first; parts no count measured are left out */
  readonly split: { readonly part: SplitPart; readonly label: string; readonly ms: (number | null)[] }[];
}

const PART_LABELS: Record<SplitPart, string> = {
  computeMs: 'compute',
  sumMs: 'sum',
  optimizerMs: 'optimizer',
  allocationMs: 'allocation',
  encodeMs: 'encode',
  transferMs: 'transfer',
  waitMs: 'wait',
};

export function scaleSeries(report: ScaleReport): ScaleSeries {
  const rows = report.rows;
  const base = rows[0];
  return {
    workers: rows.map((r) => r.workers),
    samplesPerSecond: rows.map((r) => r.samplesPerSecond.median),
    ideal: rows.map((r) => (base.samplesPerSecond.median * r.workers) / base.workers),
    efficiency: rows.map((r) => r.efficiency * 100),
    split: SPLIT_PARTS.filter((p) => rows.some((r) => r.split[p] !== null)).map((part) => ({ part, label: PART_LABELS[part], ms: rows.map((r) => r.split[part]) })),
  };
}

/** uPlot's script and style, from the installed package: the page must open offline. */
function uplotAssets(): { js: string; css: string } {
  const dist = dirname(createRequire(import.meta.url).resolve('uplot'));
  return { js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Text inside a <script> element must not close it early. */
const scriptSafe = (s: string) => s.replace(/<\/(script)/gi, '<\\/$1');

/** The page's own script: draws both charts from the series in #scale-series. */
const PAGE_SCRIPT = `
const s = JSON.parse(document.getElementById('scale-series').textContent);
const width = Math.min(900, document.body.clientWidth - 20);
const ticks = () => s.workers;
new uPlot({
  title: 'Throughput and efficiency against workers',
  width, height: 320,
  // from zero: a chart of throughput that starts elsewhere exaggerates its changes
  scales: { x: { time: false, distr: 3, log: 2 }, y: { range: (u, min, max) => [0, max * 1.1] }, eff: { range: [0, 110] } },
  axes: [
    { label: 'workers', splits: ticks, values: (u, v) => v.map(String) },
    { label: 'samples/s', size: 60 },
    { label: 'efficiency %', scale: 'eff', side: 1, size: 60, grid: { show: false } },
  ],
  series: [
    { label: 'workers' },
    { label: 'samples/s', stroke: '#1f77b4', width: 2, points: { size: 7 } },
    { label: 'ideal', stroke: '#999', dash: [6, 4], points: { show: false } },
    { label: 'efficiency %', scale: 'eff', stroke: '#d62728', width: 2, points: { size: 7 } },
  ],
}, [s.workers, s.samplesPerSecond, s.ideal, s.efficiency], document.getElementById('throughput'));

// stacked bars: each series is the cumulative height up to its part, drawn top part first
const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const idx = s.workers.map((_, i) => i);
const cumulative = [];
let running = idx.map(() => 0);
for (const p of s.split) {
  running = running.map((v, i) => v + (p.ms[i] ?? 0));
  cumulative.push(running);
}
const bars = uPlot.paths.bars({ size: [0.6, 120] });
const order = s.split.map((_, k) => k).reverse();
new uPlot({
  title: 'Step time split (median ms per step)',
  width, height: 320,
  scales: { x: { time: false, range: [-0.5, idx.length - 0.5] }, y: { range: (u, min, max) => [0, max * 1.1] } },
  axes: [
    { label: 'workers', splits: () => idx, values: (u, v) => v.map((i) => String(s.workers[i] ?? '')) },
    { label: 'ms', size: 60 },
  ],
  series: [
    { label: 'workers', value: (u, v) => (v == null ? '' : String(s.workers[v])) },
    ...order.map((k) => ({
      label: s.split[k].label,
      fill: colors[k % colors.length], stroke: colors[k % colors.length], paths: bars, points: { show: false },
      value: (u, v, si, i) => (i == null || s.split[k].ms[i] == null ? '–' : s.split[k].ms[i].toFixed(1)),
    })),
  ],
}, [idx, ...order.map((k) => cumulative[k])], document.getElementById('split'));
`;

/** scale.html: the table and two charts, uPlot inlined, no network needed. */
export function scaleHtml(report: ScaleReport): string {
  const { js, css } = uplotAssets();
  const series = scaleSeries(report);
  const missing = SPLIT_PARTS.filter((p) => !series.split.some((s) => s.part === p)).map((p) => PART_LABELS[p]);
  const json = JSON.stringify(series).replace(/</g, '\\u003c');
  const config = report.config.file ?? 'built-in job';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>adalora scale: ${escapeHtml(config)}</title>
<style>${scriptSafe(css)}</style>
<style>body { font-family: system-ui, sans-serif; margin: 1em; } pre { font-size: 13px; } .note { color: #555; max-width: 60em; }</style>
</head>
<body>
<h1>adalora scale</h1>
<p>${escapeHtml(report.date)} · ${escapeHtml(report.source)} · config: ${escapeHtml(config)}${report.config.set.length ? ` · --set ${escapeHtml(report.config.set.join(' '))}` : ''} · ${report.warmupSteps} warm-up + ${report.measuredSteps} measured steps per count</p>
<pre>${escapeHtml(formatScaleTable(report.rows))}</pre>
<p class="note">Medians over the measured steps; samples/s with its interquartile range. Speed-up and efficiency against ${report.rows[0].workers} worker(s).${report.splitNote ? ` – : not measured separately (${escapeHtml(report.splitNote)}).` : ''}${missing.length ? ` Not in the split chart: ${escapeHtml(missing.join(', '))}.` : ''}</p>
${report.prediction ? `<h2>Simulator beside the measurement</h2>\n<pre>${escapeHtml(formatPredictionTable(report.prediction))}</pre>\n<p class="note">${predictionNotes(report.prediction).map(escapeHtml).join('<br>')}</p>\n` : ''}<div id="throughput"></div>
<div id="split"></div>
<script id="scale-series" type="application/json">${json}</script>
<script>${scriptSafe(js)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
