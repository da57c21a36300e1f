import { DataError } from './data-error';
import type { SquadExample } from './squad-example';
import type { Offset } from './token-offsets';
import type { EncodedWithOffsets, TextTokenizer, TokenSpans } from './tokenizer';

/** Options of {@link prepareTrainFeatures} / {@link prepareValidationFeatures} (HF run_qa.py's defaults). */
export interface QaFeatureOptions {
  /** Tokens per window, special tokens included. Default 384. */
  readonly maxLength?: number;
  /** Context tokens shared by consecutive windows (HF `doc_stride`, the tokenizer's `stride`). Default 128. */
  readonly docStride?: number;
  /** Pad every window to `maxLength` (HF `pad_to_max_length`, default true). */
  readonly padToMaxLength?: boolean;
}

/** One model input window: `[CLS] question [SEP] context window [SEP]` and padding. */
export interface QaWindow {
  /** Index of the example in the input array (HF `overflow_to_sample_mapping`). */
  readonly exampleIndex: number;
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
}

/** A training window with its labels (HF `start_positions` / `end_positions`). */
export interface QaTrainFeature extends QaWindow {
  /** Token index of the answer's first token; 0 (the first token) when the window lacks the answer. */
  readonly startPosition: number;
  /** Token index of the answer's last token; 0 when the window lacks the answer. */
  readonly endPosition: number;
}

/** An evaluation window (HF `prepare_validation_features`). */
export interface QaEvalFeature extends QaWindow {
  readonly exampleId: string;
  /** Per token: its span in the context, or null outside the context (question, special, padding). */
  readonly offsets: readonly (Offset | null)[];
}

/**
 * Training features as HF run_qa.py `prepare_train_features`: question first (left-stripped),
 * context truncated only ("only_second") into overlapping windows, and each window labelled with
 * the token positions of the first gold answer, or 0/0 when the answer is not wholly inside the
 * window or the question is unanswerable.
 *
 * One deliberate difference: HF walks the start position forward through `[SEP]` and padding
 * when the answer starts at the window's last context token (its own comment calls it an edge
 * case); here the walk stays inside the context, so such a window points at that token.
 */
export function prepareTrainFeatures(examples: readonly SquadExample[], tokenizer: TextTokenizer, opts: QaFeatureOptions = {}): QaTrainFeature[] {
  const out: QaTrainFeature[] = [];
  examples.forEach((ex, exampleIndex) => {
    for (const w of windowsOf(ex, tokenizer, opts)) {
      const [startPosition, endPosition] = answerPositions(ex, w);
      out.push({ exampleIndex, inputIds: w.inputIds, attentionMask: w.attentionMask, tokenTypeIds: w.tokenTypeIds, startPosition, endPosition });
    }
  });
  return out;
}

/**
 * Evaluation features as HF run_qa.py `prepare_validation_features`: the same windows, each
 * with its example id and the offset map with every non-context offset set to null.
 */
export function prepareValidationFeatures(examples: readonly SquadExample[], tokenizer: TextTokenizer, opts: QaFeatureOptions = {}): QaEvalFeature[] {
  const out: QaEvalFeature[] = [];
  examples.forEach((ex, exampleIndex) => {
    for (const w of windowsOf(ex, tokenizer, opts)) {
      const offsets = w.offsets.map((o, i) => (w.sequenceIds[i] === 1 ? o : null));
      out.push({ exampleIndex, exampleId: ex.id, inputIds: w.inputIds, attentionMask: w.attentionMask, tokenTypeIds: w.tokenTypeIds, offsets });
    }
  });
  return out;
}

/**
 * The windows of one example, as the HF tokenizer's overflow with `stride`: context windows
 * of `budget` tokens starting at 0, step, 2·step, … (step = budget − docStride) until one
 * reaches the end of the context.
 */
function windowsOf(ex: SquadExample, tokenizer: TextTokenizer, opts: QaFeatureOptions = {}): EncodedWithOffsets[] {
  const { maxLength = 384, docStride = 128, padToMaxLength = true } = opts;
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new DataError('DATA_ERR_BAD_OPTION', `maxLength must be an integer >= 1, got ${maxLength}`);
  if (!Number.isInteger(docStride) || docStride < 0) throw new DataError('DATA_ERR_BAD_OPTION', `docStride must be an integer >= 0, got ${docStride}`);
  const question = tokenizer.tokenizeWithOffsets(ex.question.trimStart()); // HF: lstrip, long leading spaces break truncation
  const context = tokenizer.tokenizeWithOffsets(ex.context);
  const budget = maxLength - question.tokens.length - tokenizer.numSpecialTokens(true);
  if (budget <= docStride) {
    throw new DataError(
      'DATA_ERR_TRUNCATION',
      `question '${ex.id}' has ${question.tokens.length} tokens: with maxLength ${maxLength} only ${Math.max(budget, 0)} context tokens fit per window, which must exceed docStride ${docStride}`,
    );
  }
  const n = context.tokens.length;
  const windows: EncodedWithOffsets[] = [];
  for (let start = 0; ; start += budget - docStride) {
    const stop = Math.min(start + budget, n);
    const part: TokenSpans = { tokens: context.tokens.slice(start, stop), offsets: context.offsets.slice(start, stop) };
    const e = tokenizer.encodeSpans(question, part);
    windows.push(padToMaxLength ? tokenizer.padWithOffsets(e, maxLength) : e);
    if (stop >= n) return windows;
  }
}

// run_qa.py's labelling of one window: [start, end] token positions of the first answer.
function answerPositions(ex: SquadExample, w: EncodedWithOffsets): [number, number] {
  if (ex.answers.text.length === 0) return [0, 0];
  const startChar = ex.answers.answerStart[0];
  const endChar = startChar + ex.answers.text[0].length;
  let first = w.sequenceIds.indexOf(1);
  let last = w.sequenceIds.lastIndexOf(1);
  if (first < 0 || !(w.offsets[first][0] <= startChar && w.offsets[last][1] >= endChar)) return [0, 0];
  while (first <= last && w.offsets[first][0] <= startChar) first++;
  while (w.offsets[last][1] >= endChar) last--;
  return [first - 1, last + 1];
}
