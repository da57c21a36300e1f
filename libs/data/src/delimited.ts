import { DataError } from './data-error';

/** One parsed row and the 1-based line on which it starts (a quoted field may span lines). */
export interface DelimitedRow {
  readonly line: number;
  readonly fields: readonly string[];
}

/** Options of {@link parseDelimited}. */
export interface DelimitedOptions {
  /** Field separator, one character: ',' for CSV, '\t' for TSV. */
  readonly delimiter: string;
  /**
   * `true`: RFC 4180 quoting (a field starting with `"` may hold the delimiter, line breaks and
   * `""` for a quote). `false`: no quoting at all, every `"` is literal, which is how GLUE's
   * TSV files must be read (they hold unbalanced quotes; HF reads them with `quotechar=None`).
   */
  readonly quoting: boolean;
  /** Name used in error messages (usually the file path). */
  readonly source?: string;
}

/**
 * Splits CSV/TSV text into rows. Line breaks are LF or CRLF; a leading BOM is dropped; blank
 * lines (no characters at all) are skipped; no record is produced after a final line break.
 * In quoting mode a `"` inside an unquoted field is kept literally, and anything but a
 * delimiter or line break after a closing quote is an error (`DATA_ERR_BAD_QUOTE`).
 */
export function parseDelimited(text: string, opts: DelimitedOptions): DelimitedRow[] {
  const { delimiter, quoting, source } = opts;
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new DataError('DATA_ERR_BAD_OPTION', `delimiter must be one character other than '"' and line breaks, got ${JSON.stringify(delimiter)}`);
  }
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: DelimitedRow[] = [];
  const n = s.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    // Blank line: skip it.
    if (s[i] === '\n' || (s[i] === '\r' && s[i + 1] === '\n')) {
      i += s[i] === '\r' ? 2 : 1;
      line++;
      continue;
    }
    const startLine = line;
    const fields: string[] = [];
    // Parse one record; each pass of the loop reads one field and the separator after it.
    for (;;) {
      let field: string;
      if (quoting && s[i] === '"') {
        const quoteLine = line;
        let out = '';
        i++;
        for (;;) {
          const q = s.indexOf('"', i);
          if (q < 0) {
            throw new DataError('DATA_ERR_BAD_QUOTE', `quoted field opened on line ${quoteLine} is never closed`, {
              file: source,
              line: quoteLine,
            });
          }
          const chunk = s.slice(i, q);
          line += countNewlines(chunk);
          out += chunk;
          if (s[q + 1] === '"') {
            out += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        field = out;
        const next = s[i];
        if (i < n && next !== delimiter && next !== '\n' && !(next === '\r' && s[i + 1] === '\n')) {
          throw new DataError('DATA_ERR_BAD_QUOTE', `unexpected ${JSON.stringify(next)} after a closing quote (expected the delimiter or a line end)`, {
            file: source,
            line,
          });
        }
      } else {
        let j = i;
        while (j < n && s[j] !== delimiter && s[j] !== '\n' && !(s[j] === '\r' && s[j + 1] === '\n')) j++;
        field = s.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (i < n && s[i] === delimiter) {
        i++;
        continue;
      }
      // End of record: a line break or the end of the text.
      if (i < n) {
        i += s[i] === '\r' ? 2 : 1;
        line++;
      }
      break;
    }
    rows.push({ line: startLine, fields });
  }
  return rows;
}

function countNewlines(s: string): number {
  let c = 0;
  for (let k = s.indexOf('\n'); k >= 0; k = s.indexOf('\n', k + 1)) c++;
  return c;
}
