/** One tokenized training example. Arrays are unpadded unless the source was padded. */
export interface Example {
  readonly inputIds: Int32Array;
  /** Same length as `inputIds` when present. */
  readonly tokenTypeIds?: Int32Array;
  /** Same length as `inputIds` when present (1 = real token, 0 = padding). */
  readonly attentionMask?: Int32Array;
  /**
   * Class id (integer in [0, numLabels)), for regression (numLabels = 1) the target value, or for
   * an extractive-QA feature the answer's start and end token positions ({@link AnswerSpan}).
   */
  readonly label: number | AnswerSpan;
}

/**
 * The label of an extractive-QA feature: token positions of the answer's first and last token
 * (HF `start_positions` / `end_positions`); 0/0 (the first token) when the window lacks the answer.
 */
export type AnswerSpan = readonly [start: number, end: number];

/** A tokenized dataset. */
export interface Dataset {
  readonly examples: readonly Example[];
  /** Number of classes; 1 means regression; 2 for extractive QA (start and end logits, HF's num_labels). */
  readonly numLabels: number;
  /** `labelNames[id]` is the original label of class `id` (the mapping used); absent for regression. */
  readonly labelNames?: readonly string[];
  /** `lines[i]` is the 1-based line of example i in its source file (errors name it); absent for data made in memory. */
  readonly lines?: readonly number[];
}

/** What kind of label a dataset holds. */
export type LabelTask = 'classification' | 'regression';
