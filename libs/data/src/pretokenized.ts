import { readFileSync } from 'node:fs';
import { DataError } from './data-error';
import type { Dataset, Example, LabelTask } from './dataset';
import { parseRecords, type RawRecord } from './records';

/** Options of {@link loadPretokenizedJsonl}. */
export interface PretokenizedOptions {
  /** Default 'classification' (integer labels); 'regression' takes any finite number, numLabels = 1. */
  readonly task?: LabelTask;
  /** Classification: the number of classes; labels must be below it. Default max(2, max label + 1). */
  readonly numLabels?: number;
}

const INT32_MAX = 2147483647;

/**
 * Reads pre-tokenized JSONL: one `{"input_ids": [...], "label": n}` per line, optionally with
 * `attention_mask` (0/1) and `token_type_ids` of the same length. Other keys are ignored.
 */
export function loadPretokenizedJsonl(file: string, opts: PretokenizedOptions = {}): Dataset {
  return pretokenizedFromString(readFileSync(file, 'utf8'), opts, file);
}

/** Like {@link loadPretokenizedJsonl} on text in memory; `source` names it in errors. */
export function pretokenizedFromString(content: string, opts: PretokenizedOptions = {}, source = '<string>'): Dataset {
  const task = opts.task ?? 'classification';
  if (opts.numLabels !== undefined && (!Number.isInteger(opts.numLabels) || opts.numLabels < 1)) {
    throw new DataError('DATA_ERR_BAD_OPTION', `numLabels must be an integer >= 1, got ${opts.numLabels}`);
  }
  const table = parseRecords(content, 'jsonl', source);
  let maxLabel = 0;
  const examples: Example[] = table.records.map((r) => {
    const where = { file: source, line: r.line };
    const inputIds = intArray(r, 'input_ids', where, true);
    const attentionMask = r.fields.attention_mask === undefined ? undefined : intArray(r, 'attention_mask', where, false);
    const tokenTypeIds = r.fields.token_type_ids === undefined ? undefined : intArray(r, 'token_type_ids', where, false);
    for (const [name, a] of [['attention_mask', attentionMask], ['token_type_ids', tokenTypeIds]] as const) {
      if (a !== undefined && a.length !== inputIds.length) {
        throw new DataError('DATA_ERR_BAD_FIELD', `${name} has ${a.length} entries, input_ids has ${inputIds.length}`, where);
      }
    }
    if (attentionMask?.some((m) => m !== 0 && m !== 1)) {
      throw new DataError('DATA_ERR_BAD_FIELD', 'attention_mask entries must be 0 or 1', where);
    }
    if (!('label' in r.fields)) throw new DataError('DATA_ERR_MISSING_COLUMN', 'missing column "label"', where);
    const label = r.fields.label;
    if (typeof label !== 'number' || !Number.isFinite(label)) {
      throw new DataError('DATA_ERR_BAD_LABEL', `label must be a finite number, got ${JSON.stringify(label)}`, where);
    }
    if (task === 'classification') {
      if (!Number.isInteger(label) || label < 0) {
        throw new DataError('DATA_ERR_BAD_LABEL', `class label must be an integer >= 0, got ${label}`, where);
      }
      if (opts.numLabels !== undefined && label >= opts.numLabels) {
        throw new DataError('DATA_ERR_BAD_LABEL', `class label ${label} is not below numLabels ${opts.numLabels}`, where);
      }
      maxLabel = Math.max(maxLabel, label);
    }
    const e: { -readonly [K in keyof Example]: Example[K] } = { inputIds, label };
    if (attentionMask !== undefined) e.attentionMask = attentionMask;
    if (tokenTypeIds !== undefined) e.tokenTypeIds = tokenTypeIds;
    return e;
  });
  const numLabels = task === 'regression' ? 1 : (opts.numLabels ?? Math.max(2, maxLabel + 1));
  return { examples, numLabels, lines: table.records.map((r) => r.line) };
}

function intArray(r: RawRecord, key: string, where: { file: string; line: number }, required: boolean): Int32Array {
  const v = r.fields[key];
  if (v === undefined && required) throw new DataError('DATA_ERR_MISSING_COLUMN', `missing column ${JSON.stringify(key)}`, where);
  if (!Array.isArray(v) || (required && v.length === 0)) {
    throw new DataError('DATA_ERR_BAD_FIELD', `${key} must be a${required ? ' non-empty' : 'n'} array of integers`, where);
  }
  const out = new Int32Array(v.length);
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > INT32_MAX) {
      throw new DataError('DATA_ERR_BAD_FIELD', `${key}[${i}] must be an integer in [0, 2^31), got ${JSON.stringify(x)}`, where);
    }
    out[i] = x;
  });
  return out;
}
