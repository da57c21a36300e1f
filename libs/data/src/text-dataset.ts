import { readFileSync } from 'node:fs';
import { DataError } from './data-error';
import type { Dataset, Example, LabelTask } from './dataset';
import { field, formatFromPath, parseRecords, type Column, type RecordFormat, type RecordTable, type RawRecord } from './records';
import type { EncodeOptions, TokenizerLike } from './tokenizer';

/** Options of {@link loadTextDataset} / {@link textDatasetFromString}. */
export interface TextDatasetOptions {
  /** Default: from the file extension (.tsv, .csv, .jsonl). */
  readonly format?: RecordFormat;
  /** TSV/CSV: the first row names the columns (default true); else use 0-based column numbers. */
  readonly header?: boolean;
  /** The text column, or the two columns of a text pair. */
  readonly text: Column | readonly [Column, Column];
  /** The label column. */
  readonly label: Column;
  /** Default 'classification'. 'regression' parses numeric labels and gives numLabels = 1. */
  readonly task?: LabelTask;
  /**
   * Classification: the class names in id order (`labels[id]`). Default: the sorted distinct
   * values of the label column, numerically when all are numbers (as HF `run_glue` does).
   */
  readonly labels?: readonly string[];
  /** Where `labels` came from, named when a label is not among them (e.g. `the labels of train.tsv`). */
  readonly labelSource?: string;
  readonly tokenizer: TokenizerLike;
  /** Passed to the tokenizer (maxLength, truncation, padding). Default: no truncation, no padding. */
  readonly encode?: EncodeOptions;
}

/** Reads a TSV/CSV/JSONL file of texts and labels and tokenizes it. */
export function loadTextDataset(file: string, opts: TextDatasetOptions): Dataset {
  const format = opts.format ?? formatFromPath(file);
  if (format === undefined) {
    throw new DataError('DATA_ERR_BAD_OPTION', "cannot tell the format from the extension; pass format 'tsv' | 'csv' | 'jsonl'", { file });
  }
  return textDatasetFromString(readFileSync(file, 'utf8'), { ...opts, format }, file);
}

/** Like {@link loadTextDataset} on text already in memory; `source` names it in errors. */
export function textDatasetFromString(content: string, opts: TextDatasetOptions & { readonly format: RecordFormat }, source = '<string>'): Dataset {
  const table = parseRecords(content, opts.format, source, { header: opts.header });
  const textCols: readonly Column[] = Array.isArray(opts.text) ? opts.text : [opts.text as Column];
  for (const c of [...textCols, opts.label]) checkColumn(table, c);

  const task = opts.task ?? 'classification';
  const labelOf = task === 'regression' ? regressionLabels(table, opts.label) : classLabels(table, opts.label, opts.labels, opts.labelSource);

  const examples: Example[] = table.records.map((r, k) => {
    const texts = textCols.map((c) => textField(table, r, c));
    let e;
    try {
      e = opts.tokenizer.encode(texts[0], texts[1], opts.encode);
    } catch (err) {
      if (err instanceof DataError) throw new DataError(err.code, err.message, { file: source, line: r.line });
      throw err;
    }
    return { inputIds: e.inputIds, tokenTypeIds: e.tokenTypeIds, attentionMask: e.attentionMask, label: labelOf.values[k] };
  });
  const lines = table.records.map((r) => r.line);
  return labelOf.names === undefined
    ? { examples, numLabels: 1, lines }
    : { examples, numLabels: labelOf.names.length, labelNames: labelOf.names, lines };
}

function checkColumn(table: RecordTable, column: Column): void {
  if (table.format === 'jsonl') return; // checked per line
  const known = table.columns ?? Object.keys(table.records[0].fields);
  if (!known.includes(String(column))) {
    const have = table.columns ? `the header has ${known.map((c) => JSON.stringify(c)).join(', ')}` : `rows have ${known.length} columns (0-based)`;
    throw new DataError('DATA_ERR_MISSING_COLUMN', `missing column ${JSON.stringify(column)}: ${have}`, {
      file: table.source,
      line: table.columns ? 1 : table.records[0].line,
    });
  }
}

function textField(table: RecordTable, r: RawRecord, c: Column): string {
  const v = field(table, r, c);
  if (typeof v !== 'string') {
    throw new DataError('DATA_ERR_BAD_FIELD', `column ${JSON.stringify(c)} must be a string, got ${v === null ? 'null' : typeof v}`, {
      file: table.source,
      line: r.line,
    });
  }
  return v;
}

/** A label as its string key (JSON numbers and booleans as written by String()). */
function labelKey(table: RecordTable, r: RawRecord, c: Column): string {
  const v = field(table, r, c);
  if ((typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') || v === '') {
    throw new DataError('DATA_ERR_BAD_LABEL', `label ${JSON.stringify(v) ?? String(v)} in column ${JSON.stringify(c)} is empty or not a string/number`, {
      file: table.source,
      line: r.line,
    });
  }
  return String(v).trim();
}

// Decimal numbers only (no hex, no Infinity), as a label column of numbers is written.
const isNumeric = (s: string) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s);

function classLabels(table: RecordTable, c: Column, given?: readonly string[], source?: string): { values: number[]; names: readonly string[] } {
  const keys = table.records.map((r) => labelKey(table, r, c));
  if (given !== undefined) {
    if (given.length === 0 || new Set(given).size !== given.length) {
      throw new DataError('DATA_ERR_BAD_OPTION', 'labels must be a non-empty list of distinct names');
    }
    const ids = new Map(given.map((name, id) => [name, id]));
    const values = keys.map((k, i) => {
      // "1.0" is the class "1" when the names are numbers (as the sorted default writes them)
      const id = ids.get(k) ?? (isNumeric(k) ? ids.get(String(Number(k))) : undefined);
      if (id === undefined) {
        const among = `${given.map((g) => JSON.stringify(g)).join(', ')}${source ? ` (${source})` : ''}`;
        throw new DataError('DATA_ERR_BAD_LABEL', `label ${JSON.stringify(k)} is not one of ${among}`, {
          file: table.source,
          line: table.records[i].line,
        });
      }
      return id;
    });
    return { values, names: given };
  }
  // Sorted distinct values; numerically (and "1" == "1.0") when every value is a number.
  const numeric = keys.every(isNumeric);
  const canon = numeric ? keys.map((k) => String(Number(k))) : keys;
  const distinct = [...new Set(canon)];
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const ids = new Map(distinct.map((name, id) => [name, id]));
  return { values: canon.map((k) => ids.get(k)!), names: distinct };
}

function regressionLabels(table: RecordTable, c: Column): { values: number[]; names: undefined } {
  const values = table.records.map((r) => {
    const k = labelKey(table, r, c);
    if (!isNumeric(k)) {
      throw new DataError('DATA_ERR_BAD_LABEL', `regression label ${JSON.stringify(k)} is not a finite number`, { file: table.source, line: r.line });
    }
    return Number(k);
  });
  return { values, names: undefined };
}
