import type { SampleBatch } from '@adalora/protocol';
import { DataError } from './data-error';
import type { Example } from './dataset';

/** Options of {@link collate}. */
export interface CollateOptions {
  /** Pad every row to this length (must be >= the longest example). Default: the longest example. */
  readonly padTo?: number;
  /** Id written on padding positions (the tokenizer's pad id). */
  readonly padId: number;
  /** Token type id written on padding (default 0). */
  readonly padTypeId?: number;
  /** Float32 labels (regression) instead of Int32 class ids. Default false. */
  readonly regression?: boolean;
}

/**
 * Pads examples (on the right) into one batch. An example's own attention mask is kept
 * (pre-padded rows stay masked); without one its real tokens get 1. Token type ids are
 * returned only if all examples have them; a mix is an error. Extractive-QA examples (answer
 * span labels) give int32 labels [rows, 2] (start, end per row); all or none must be QA.
 */
export function collate(examples: readonly Example[], opts: CollateOptions): SampleBatch {
  const { padTo, padId, padTypeId = 0, regression = false } = opts;
  if (examples.length === 0) throw new DataError('DATA_ERR_BAD_OPTION', 'collate needs at least one example');
  if (!Number.isInteger(padId)) throw new DataError('DATA_ERR_BAD_OPTION', `padId must be an integer, got ${padId}`);
  const longest = examples.reduce((m, e) => Math.max(m, e.inputIds.length), 0);
  if (padTo !== undefined && (!Number.isInteger(padTo) || padTo < longest)) {
    throw new DataError('DATA_ERR_BAD_OPTION', `padTo ${padTo} must be an integer >= the longest example (${longest} tokens)`);
  }
  const withTypes = examples.filter((e) => e.tokenTypeIds !== undefined).length;
  if (withTypes !== 0 && withTypes !== examples.length) {
    throw new DataError('DATA_ERR_BAD_FIELD', `${withTypes} of ${examples.length} examples have token type ids; all or none must`);
  }
  const n = examples.length;
  const seq = padTo ?? longest;
  const inputIds = new Int32Array(n * seq).fill(padId);
  const attentionMask = new Int32Array(n * seq);
  const tokenTypeIds = withTypes ? new Int32Array(n * seq).fill(padTypeId) : undefined;
  const spans = examples.filter((e) => typeof e.label !== 'number').length;
  if (spans !== 0 && spans !== n) throw new DataError('DATA_ERR_BAD_LABEL', `${spans} of ${n} examples have answer spans as labels; all or none must`);
  if (spans !== 0 && regression) throw new DataError('DATA_ERR_BAD_OPTION', 'answer-span labels cannot be regression targets');
  const labels = regression ? new Float32Array(n) : new Int32Array(spans ? 2 * n : n);
  examples.forEach((e, i) => {
    const len = e.inputIds.length;
    inputIds.set(e.inputIds, i * seq);
    if (e.attentionMask) attentionMask.set(e.attentionMask, i * seq);
    else attentionMask.fill(1, i * seq, i * seq + len);
    if (tokenTypeIds && e.tokenTypeIds) tokenTypeIds.set(e.tokenTypeIds, i * seq);
    if (typeof e.label !== 'number') {
      const [start, end] = e.label;
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < 0) {
        throw new DataError('DATA_ERR_BAD_LABEL', `example ${i} has answer span [${start}, ${end}], expected token positions >= 0`);
      }
      labels[2 * i] = start;
      labels[2 * i + 1] = end;
      return;
    }
    if (!regression && !Number.isInteger(e.label)) {
      throw new DataError('DATA_ERR_BAD_LABEL', `example ${i} has label ${e.label}, expected an integer class id (or regression: true)`);
    }
    labels[i] = e.label;
  });
  return tokenTypeIds ? { rows: n, seq, inputIds, attentionMask, tokenTypeIds, labels } : { rows: n, seq, inputIds, attentionMask, labels };
}
