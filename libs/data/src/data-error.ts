/** Stable codes for every data fault; tests assert the code, not the wording. */
export type DataErrorCode =
  /** The file (or text) holds no record. */
  | 'DATA_ERR_EMPTY_FILE'
  /** A column named by the options is absent from the header or the JSON object. */
  | 'DATA_ERR_MISSING_COLUMN'
  /** A label is not in the label list, not numeric for regression, or not an integer class. */
  | 'DATA_ERR_BAD_LABEL'
  /** A JSONL line is not valid JSON or not an object. */
  | 'DATA_ERR_INVALID_JSON'
  /** A TSV/CSV row has a different number of fields than the header (or first row). */
  | 'DATA_ERR_RAGGED_ROW'
  /** A CSV quoted field is malformed (unterminated, or text after the closing quote). */
  | 'DATA_ERR_BAD_QUOTE'
  /** A field has the wrong type or value (text not a string, ids not int32, lengths differ). */
  | 'DATA_ERR_BAD_FIELD'
  /** The requested truncation cannot fit the sequence(s) into maxLength. */
  | 'DATA_ERR_TRUNCATION'
  /** A row the model cannot take: an id past its vocabulary, a row longer than its position table. */
  | 'DATA_ERR_MODEL_LIMIT'
  /** Options are inconsistent (programmer misuse). */
  | 'DATA_ERR_BAD_OPTION';

/** Where a fault was found: file (or a caller-given source name) and 1-based line. */
export interface DataErrorWhere {
  readonly file?: string;
  readonly line?: number;
}

/**
 * Error raised by `@adalora/data`. The message starts with `file:line:` when those are known,
 * then says what is wrong and what was expected.
 */
// The same shape as @adalora/protocol's ProtocolError (code + where + message prefix) on purpose:
// each lib's errors stand alone, and protocol and data share no dependency to put a base class in.
export class DataError extends Error {
  override readonly name = 'DataError';
  readonly code: DataErrorCode;
  readonly file?: string;
  readonly line?: number;

  constructor(code: DataErrorCode, problem: string, where: DataErrorWhere = {}) {
    const prefix =
      where.file !== undefined
        ? where.line !== undefined
          ? `${where.file}:${where.line}: `
          : `${where.file}: `
        : where.line !== undefined
          ? `line ${where.line}: `
          : '';
    super(`${prefix}${problem}`);
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
  }
}
