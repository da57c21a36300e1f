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
 * returned only if all examples have them; a mix is an error.
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
  const labels = regression ? new Float32Array(n) : new Int32Array(n);
  examples.forEach((e, i) => {
    const len = e.inputIds.length;
    inputIds.set(e.inputIds, i * seq);
    if (e.attentionMask) attentionMask.set(e.attentionMask, i * seq);
    else attentionMask.fill(1, i * seq, i * seq + len);
    if (tokenTypeIds && e.tokenTypeIds) tokenTypeIds.set(e.tokenTypeIds, i * seq);
    if (!regression && !Number.isInteger(e.label)) {
      throw new DataError('DATA_ERR_BAD_LABEL', `example ${i} has label ${e.label}, expected an integer class id (or regression: true)`);
    }
    labels[i] = e.label;
  });
  return tokenTypeIds ? { rows: n, seq, inputIds, attentionMask, tokenTypeIds, labels } : { rows: n, seq, inputIds, attentionMask, labels };
}
