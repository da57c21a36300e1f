import { readFileSync } from 'node:fs';
import type { MetricsRecord } from './metrics-log';

const KINDS = new Set(['config', 'step', 'eval', 'event', 'resume']);

/**
 * The records of a metrics.jsonl with their text, in file order. Blank lines, a torn last line
 * (a process killed while writing it) and lines that are not records are skipped.
 */
export function readMetricsLines(path: string): { readonly line: string; readonly record: MetricsRecord }[] {
  const out: { line: string; record: MetricsRecord }[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const r = value as { kind?: unknown; step?: unknown } | null;
    if (r && typeof r === 'object' && KINDS.has(r.kind as string) && typeof r.step === 'number') out.push({ line, record: value as MetricsRecord });
  }
  return out;
}

/** The records of a metrics.jsonl, in file order (see readMetricsLines). */
export function readMetrics(path: string): MetricsRecord[] {
  return readMetricsLines(path).map((m) => m.record);
}
