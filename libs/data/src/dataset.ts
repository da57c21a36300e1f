/** One tokenized training example. Arrays are unpadded unless the source was padded. */
export interface Example {
  readonly inputIds: Int32Array;
  /** Same length as `inputIds` when present. */
  readonly tokenTypeIds?: Int32Array;
  /** Same length as `inputIds` when present (1 = real token, 0 = padding). */
  readonly attentionMask?: Int32Array;
  /** Class id (integer in [0, numLabels)) or, for regression (numLabels = 1), the target value. */
  readonly label: number;
}

/** A tokenized dataset. */
export interface Dataset {
  readonly examples: readonly Example[];
  /** Number of classes; 1 means regression. */
  readonly numLabels: number;
  /** `labelNames[id]` is the original label of class `id` (the mapping used); absent for regression. */
  readonly labelNames?: readonly string[];
  /** `lines[i]` is the 1-based line of example i in its source file (errors name it); absent for data made in memory. */
  readonly lines?: readonly number[];
}

/** What kind of label a dataset holds. */
export type LabelTask = 'classification' | 'regression';
