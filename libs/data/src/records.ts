import * as path from 'node:path';
import { DataError } from './data-error';
import { parseDelimited } from './delimited';

/** Source formats of {@link parseRecords}. */
export type RecordFormat = 'tsv' | 'csv' | 'jsonl';

/** A column: a header name (or JSON key), or a 0-based index for files without a header row. */
export type Column = string | number;

/** One input record: its 1-based starting line and its fields by column name. */
export interface RawRecord {
  readonly line: number;
  /** Header-less TSV/CSV rows are keyed "0", "1", ... */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Parsed records plus the header (TSV/CSV with a header row only). */
export interface RecordTable {
  readonly source: string;
  readonly format: RecordFormat;
  readonly columns?: readonly string[];
  readonly records: readonly RawRecord[];
}

/** Options of {@link parseRecords}. */
export interface RecordOptions {
  /** TSV/CSV only: the first row names the columns (default true). */
  readonly header?: boolean;
}

/** The format a path's extension implies (`.tsv`, `.csv`, `.jsonl`/`.ndjson`), else `undefined`. */
export function formatFromPath(file: string): RecordFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.tsv') return 'tsv';
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return undefined;
}

/**
 * Parses TSV (GLUE style: tab separated, no quoting), CSV (RFC 4180) or JSONL (one JSON object
 * per non-blank line) into records. Errors name `source`, the line and the problem: empty input,
 * a row whose field count differs from the header (or the first row), invalid JSON.
 */
export function parseRecords(text: string, format: RecordFormat, source: string, opts: RecordOptions = {}): RecordTable {
  if (format === 'jsonl') {
    const records = parseJsonl(text, source);
    if (records.length === 0) throw new DataError('DATA_ERR_EMPTY_FILE', 'no JSON line found (empty file)', { file: source });
    return { source, format, records };
  }
  const header = opts.header ?? true;
  const rows = parseDelimited(text, { delimiter: format === 'tsv' ? '\t' : ',', quoting: format === 'csv', source });
  if (rows.length === 0) throw new DataError('DATA_ERR_EMPTY_FILE', 'no row found (empty file)', { file: source });
  const width = rows[0].fields.length;
  const columns = header ? rows[0].fields : rows[0].fields.map((_, k) => String(k));
  const body = header ? rows.slice(1) : rows;
  if (body.length === 0) throw new DataError('DATA_ERR_EMPTY_FILE', 'only a header row, no data rows', { file: source, line: rows[0].line });
  const records = body.map((row) => {
    if (row.fields.length !== width) {
      throw new DataError(
        'DATA_ERR_RAGGED_ROW',
        `row has ${row.fields.length} fields, expected ${width} (as ${header ? 'the header' : 'the first row'})`,
        { file: source, line: row.line },
      );
    }
    const fields: Record<string, string> = {};
    // First occurrence wins when a header repeats a name.
    for (let k = width - 1; k >= 0; k--) fields[columns[k]] = row.fields[k];
    return { line: row.line, fields };
  });
  return header ? { source, format, columns, records } : { source, format, records };
}

function parseJsonl(text: string, source: string): RawRecord[] {
  const lines = text.split('\n');
  const records: RawRecord[] = [];
  lines.forEach((raw, k) => {
    const line = k + 1;
    const s = (k === 0 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw).trim();
    if (s === '') return;
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (e) {
      throw new DataError('DATA_ERR_INVALID_JSON', `invalid JSON on line ${line} (${(e as Error).message})`, { file: source, line });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError('DATA_ERR_INVALID_JSON', `line ${line} is not a JSON object`, { file: source, line });
    }
    records.push({ line, fields: value as Record<string, unknown> });
  });
  return records;
}

/**
 * The value of `column` in `record`, or a `DATA_ERR_MISSING_COLUMN` error naming the file and
 * line. Numbers address header-less TSV/CSV columns.
 */
export function field(table: Pick<RecordTable, 'source'>, record: RawRecord, column: Column): unknown {
  const key = String(column);
  if (!Object.prototype.hasOwnProperty.call(record.fields, key)) {
    throw new DataError('DATA_ERR_MISSING_COLUMN', `missing column ${JSON.stringify(column)}`, { file: table.source, line: record.line });
  }
  return record.fields[key];
}
