/**
 * @adalora/data: tokenization (HF tokenizer.json via @huggingface/tokenizers, with token
 * offsets), dataset readers (GLUE TSV, CSV, JSONL, pre-tokenized JSONL, SQuAD JSON/JSONL),
 * batching, seeded epoch order and sharding, dataset hashing, GLUE metrics, and extractive QA's
 * pre- and post-processing and SQuAD metrics. No tfjs code of its own; it depends on
 * @adalora/core only for the workspace's one seeded PRNG (the epoch order's mulberry32).
 */
export { DataError, type DataErrorCode, type DataErrorWhere } from './data-error';
export type { AnswerSpan, Dataset, Example, LabelTask } from './dataset';
export { truncatedLengths, type TruncationStrategy } from './truncation';
export {
  loadTokenizer,
  TextTokenizer,
  type BatchEncoded,
  type Encoded,
  type EncodedWithOffsets,
  type EncodeOptions,
  type TokenizerLike,
  type TokenSpans,
} from './tokenizer';
export type { Offset } from './token-offsets';
export { parseDelimited, type DelimitedOptions, type DelimitedRow } from './delimited';
export {
  field,
  formatFromPath,
  parseRecords,
  type Column,
  type RawRecord,
  type RecordFormat,
  type RecordOptions,
  type RecordTable,
} from './records';
export { loadTextDataset, textDatasetFromString, type TextDatasetOptions } from './text-dataset';
export { loadPretokenizedJsonl, pretokenizedFromString, type PretokenizedOptions } from './pretokenized';
export { collate, type CollateOptions } from './collate';
export { epochOrder, epochSeed, globalBatches, splitAmong } from './epoch-order';
export { datasetHash } from './dataset-hash';
export {
  accuracy,
  argmaxRows,
  averageRanks,
  computeMetrics,
  f1Binary,
  macroF1,
  matthewsCorrcoef,
  pearson,
  spearman,
  type TaskMetrics,
} from './metrics';
export { isUnanswerable, type SquadAnswers, type SquadExample } from './squad-example';
export { loadSquad, parseSquadJson, parseSquadJsonl, type SquadFormat } from './squad-reader';
export {
  prepareTrainFeatures,
  prepareValidationFeatures,
  type QaEvalFeature,
  type QaFeatureOptions,
  type QaTrainFeature,
  type QaWindow,
} from './qa-features';
export { postprocessQaPredictions, type QaCandidate, type QaPostprocessOptions, type QaPredictions } from './qa-postprocess';
export { answerTokens, exactMatch, f1Score, normalizeAnswer, squadScores, type SquadScores } from './squad-metrics';
export { detectSquadVersion, qaFeatureDataset } from './qa-dataset';
