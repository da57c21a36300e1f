import { readFileSync } from 'node:fs';
import type { DataConfig } from '@adalora/config';
import { field, formatFromPath, loadTokenizer, parseRecords, pretokenizedFromString, textDatasetFromString, type Dataset, type Example, type RecordFormat } from '@adalora/data';

/** A data file to score: its examples, and whether it has labels to compute metrics with. */
export interface PredictData {
  readonly dataset: Dataset;
  readonly labelled: boolean;
}

/** How to read the file: the run's data settings, the head's classes, where the tokenizer is. */
export interface PredictDataOptions {
  readonly data: DataConfig;
  readonly numLabels: number;
  /** The head's class names (from the adapter): labels are mapped through them, as in training. */
  readonly labels: readonly string[] | null;
  readonly tokenizerDir: string;
}

/**
 * Reads a data file in any format training reads (TSV, CSV, JSONL of texts, pre-tokenized
 * JSONL). With labels (the label column present), they are mapped to class ids exactly as in
 * training (a label the head does not know is an error naming file and line); without, every
 * example still gets scored.
 */
export function readPredictData(file: string, o: PredictDataOptions): PredictData {
  const content = readFileSync(file, 'utf8');
  const task = o.data.task;
  if (task === 'qa') throw new Error(`${file}: data.task is qa: SQuAD files are answered by predictQa (apps/coordinator/src/predict-qa.ts), not read here`);
  const regression = task === 'regression';
  if (o.data.format === 'pretokenized') {
    const labelled = hasColumn(parseRecords(content, 'jsonl', file).records.map((r) => r.fields), 'label');
    const text = labelled ? content : withPlaceholderLabels(content);
    const dataset = pretokenizedFromString(text, { task, ...(!regression && { numLabels: o.numLabels }) }, file);
    return { dataset, labelled };
  }
  const format: RecordFormat | undefined = o.data.format === 'auto' ? formatFromPath(file) : o.data.format;
  if (format === undefined) throw new Error(`${file}: cannot tell the format from the extension; pass --format tsv | csv | jsonl | pretokenized`);
  const tokenizer = loadTokenizer(o.tokenizerDir);
  const text = o.data.textPairColumn ? ([o.data.textColumn, o.data.textPairColumn] as const) : o.data.textColumn;
  const encode = { maxLength: o.data.maxLength, truncation: 'longest_first' as const };
  const table = parseRecords(content, format, file);
  const labelled = table.columns ? table.columns.includes(o.data.labelColumn) : hasColumn(table.records.map((r) => r.fields), o.data.labelColumn);
  if (labelled) {
    const dataset = textDatasetFromString(content, { format, text, label: o.data.labelColumn, task, ...(o.labels && !regression && { labels: o.labels }), tokenizer, encode }, file);
    if (!regression && dataset.numLabels !== o.numLabels) {
      throw new Error(`${file}: its labels make ${dataset.numLabels} classes, the adapter's head has ${o.numLabels} (the adapter records no label names to map them by)`);
    }
    return { dataset, labelled };
  }
  // no labels: tokenized as training would, each with a placeholder label nobody reads
  const columns = typeof text === 'string' ? [text] : [...text];
  const examples: Example[] = table.records.map((r) => {
    const texts = columns.map((c) => {
      const v = field(table, r, c);
      if (typeof v !== 'string') throw new Error(`${file}:${r.line}: column ${JSON.stringify(c)} must be a string`);
      return v;
    });
    const e = tokenizer.encode(texts[0], texts[1], encode);
    return { inputIds: e.inputIds, tokenTypeIds: e.tokenTypeIds, attentionMask: e.attentionMask, label: 0 };
  });
  return { dataset: { examples, numLabels: o.numLabels, lines: table.records.map((r) => r.line) }, labelled };
}

/** Whether the file has labels: any record with the column (the loader then names a record without it). */
function hasColumn(records: readonly Readonly<Record<string, unknown>>[], column: string): boolean {
  return records.some((f) => Object.prototype.hasOwnProperty.call(f, column));
}

/** Pre-tokenized JSONL with `"label": 0` added to every record, line for line (errors keep their line numbers). */
function withPlaceholderLabels(content: string): string {
  return content
    .split('\n')
    .map((line) => {
      if (line.trim() === '') return line;
      try {
        const o = JSON.parse(line) as unknown;
        return typeof o === 'object' && o !== null && !Array.isArray(o) ? JSON.stringify({ ...o, label: 0 }) : line;
      } catch {
        return line; // the reader reports it, with its line
      }
    })
    .join('\n');
}
