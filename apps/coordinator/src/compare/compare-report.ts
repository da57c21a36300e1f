import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** One finished run of the comparison. */
export interface CompareRow {
  readonly task: string;
  readonly method: 'lora' | 'adalora';
  /** the budget: LoRA's r, AdaLoRA's target_r (average kept rank per matrix) */
  readonly budget: number;
  readonly initR: number;
  readonly seed: number;
  readonly devMse: number;
  readonly pearson: number;
  readonly abValues: number;
  readonly eValues: number;
  readonly keptRanks: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/** Mean and sample standard deviation of one method at one budget on one task. */
export interface CompareCell {
  readonly task: string;
  readonly method: 'lora' | 'adalora';
  readonly budget: number;
  readonly runs: number;
  readonly devMse: MeanStd;
  readonly pearson: MeanStd;
  readonly abValues: number;
  readonly eValues: number;
}

export interface MeanStd {
  readonly mean: number;
  /** sample standard deviation (n − 1); 0 for one run */
  readonly std: number;
}

export function meanStd(xs: readonly number[]): MeanStd {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

/** Groups runs by task, method and budget, in the order they first appear. */
export function summarize(rows: readonly CompareRow[]): CompareCell[] {
  const groups = new Map<string, CompareRow[]>();
  for (const r of rows) {
    const key = `${r.task}|${r.method}|${r.budget}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => ({
    task: g[0].task,
    method: g[0].method,
    budget: g[0].budget,
    runs: g.length,
    devMse: meanStd(g.map((r) => r.devMse)),
    pearson: meanStd(g.map((r) => r.pearson)),
    abValues: g[0].abValues,
    eValues: g[0].eValues,
  }));
}

const pm = (m: MeanStd, digits: number) => `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;

/** The summary as a markdown table: per task and budget, LoRA beside AdaLoRA. */
export function markdownTable(cells: readonly CompareCell[]): string {
  const lines = [
    '| task | budget (rank per matrix) | adapter values A+B (+E) | LoRA dev MSE | AdaLoRA dev MSE | LoRA dev Pearson | AdaLoRA dev Pearson | runs |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const lora of cells.filter((c) => c.method === 'lora')) {
    const ada = cells.find((c) => c.method === 'adalora' && c.task === lora.task && c.budget === lora.budget);
    if (!ada) continue;
    lines.push(
      `| ${lora.task} | ${lora.budget} | ${lora.abValues} (AdaLoRA: ${ada.abValues} + ${ada.eValues}) | ${pm(lora.devMse, 4)} | ${pm(ada.devMse, 4)} | ${pm(lora.pearson, 4)} | ${pm(ada.pearson, 4)} | ${lora.runs} + ${ada.runs} |`,
    );
  }
  return lines.join('\n') + '\n';
}

function csv(rows: readonly CompareRow[]): string {
  const head = 'task,method,budget,init_r,seed,dev_mse,dev_pearson,adapter_values_ab,adapter_values_e,seconds';
  return [head, ...rows.map((r) => [r.task, r.method, r.budget, r.initR, r.seed, r.devMse, r.pearson, r.abValues, r.eValues, r.seconds.toFixed(1)].join(','))].join('\n') + '\n';
}

/**
 * A self-contained HTML page: per task, dev MSE against budget for both methods (mean, and
 * mean ± std dashed), drawn by uPlot inlined from node_modules (no network needed).
 */
export function plotHtml(cells: readonly CompareCell[], title: string): string {
  const require = createRequire(import.meta.url);
  const dist = join(require.resolve('uplot'), '..');
  const js = readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(join(dist, 'uPlot.min.css'), 'utf8');
  const tasks = [...new Set(cells.map((c) => c.task))];
  const charts = tasks.map((task) => {
    const budgets = [...new Set(cells.filter((c) => c.task === task).map((c) => c.budget))].sort((a, b) => a - b);
    const at = (method: string, f: (c: CompareCell) => number) => budgets.map((b) => { const c = cells.find((x) => x.task === task && x.method === method && x.budget === b); return c ? f(c) : null; });
    const series = ['lora', 'adalora'].flatMap((m) => [at(m, (c) => c.devMse.mean), at(m, (c) => c.devMse.mean - c.devMse.std), at(m, (c) => c.devMse.mean + c.devMse.std)]);
    return { task, data: [budgets, ...series] };
  });
  const script = `
const charts = ${JSON.stringify(charts)};
const colors = { LoRA: '#1f77b4', AdaLoRA: '#d62728' };
for (const c of charts) {
  const div = document.createElement('div');
  document.body.appendChild(div);
  const series = [{ label: 'rank budget' }];
  for (const name of ['LoRA', 'AdaLoRA']) {
    series.push({ label: name + ' dev MSE (mean)', stroke: colors[name], width: 2, points: { size: 7 } });
    series.push({ label: name + ' − std', stroke: colors[name], dash: [4, 4], width: 1 });
    series.push({ label: name + ' + std', stroke: colors[name], dash: [4, 4], width: 1 });
  }
  new uPlot({ title: c.task + ' task: dev MSE against budget (lower is better)', width: 720, height: 360, scales: { x: { time: false } },
    axes: [{ label: 'rank per matrix (LoRA r = AdaLoRA target_r)', splits: (u) => u.data[0] }, { label: 'dev MSE' }], series }, c.data, div);
}`;
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title><style>${css}</style></head>\n<body><h1>${title}</h1>\n<script>${js}</script>\n<script>${script}</script>\n</body></html>\n`;
}

/** Writes compare.csv (every run), compare.json (runs and summary), compare.md (the table) and compare.html (the plot). */
export function writeCompareReport(dir: string, rows: readonly CompareRow[], settings: Readonly<Record<string, unknown>>): { cells: CompareCell[]; files: string[]; markdown: string } {
  const cells = summarize(rows);
  const markdown = markdownTable(cells);
  const files = ['compare.csv', 'compare.json', 'compare.md', 'compare.html'].map((f) => join(dir, f));
  writeFileSync(files[0], csv(rows));
  writeFileSync(files[1], JSON.stringify({ settings, summary: cells, runs: rows }, null, 2) + '\n');
  writeFileSync(files[2], markdown);
  writeFileSync(files[3], plotHtml(cells, 'AdaLoRA against LoRA at equal budget'));
  return { cells, files, markdown };
}
