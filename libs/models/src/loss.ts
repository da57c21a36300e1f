import * as tf from '@tensorflow/tfjs';

/**
 * HF's sequence-classification loss (transformers `ForSequenceClassificationLoss` with
 * `problem_type` inferred): numLabels ≥ 2 → cross-entropy of logits [B, numLabels] against
 * int32 labels [B]; numLabels = 1 → squared error of logits [B, 1] against float32 labels [B].
 *
 * `reduction` 'mean' is HF's loss; 'sum' is the total over the rows, which the distributed
 * trainer adds across micro-batches and workers before dividing by the global batch size.
 * Class labels must lie in [0, numLabels): HF's ignore_index (-100) is refused rather than
 * skipped, because a skipped row would change the divisor that 'sum' callers rely on.
 * Returns a fresh scalar.
 */
export function sequenceClassificationLoss(logits: tf.Tensor, labels: tf.Tensor, numLabels: number, reduction: 'sum' | 'mean'): tf.Scalar {
  const where = 'sequenceClassificationLoss';
  if (!Number.isInteger(numLabels) || numLabels < 1) throw new Error(`${where}: numLabels must be a positive integer, got ${numLabels}`);
  if (reduction !== 'sum' && reduction !== 'mean') throw new Error(`${where}: reduction must be 'sum' or 'mean', got ${JSON.stringify(reduction)}`);
  if (logits.rank !== 2 || logits.shape[1] !== numLabels) throw new Error(`${where}: logits must be [batch, ${numLabels}], got [${logits.shape}]`);
  const batch = logits.shape[0];
  if (labels.rank !== 1 || labels.shape[0] !== batch) throw new Error(`${where}: labels must be [${batch}], got [${labels.shape}]`);
  if (batch === 0) throw new Error(`${where}: the batch is empty`);

  if (numLabels === 1) {
    if (labels.dtype !== 'float32') throw new Error(`${where}: regression (numLabels 1) needs float32 labels, got ${labels.dtype}`);
    return tf.tidy(() => {
      const se = tf.squaredDifference(logits.reshape([batch]), labels); // (B)
      return reduction === 'sum' ? se.sum() : se.mean();
    });
  }
  if (labels.dtype !== 'int32') throw new Error(`${where}: classification (numLabels ${numLabels}) needs int32 labels, got ${labels.dtype}`);
  const ids = labels.dataSync();
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= numLabels) throw new Error(`${where}: label ${ids[i]} of row ${i} is outside [0, ${numLabels})`);
  }
  return tf.tidy(() => {
    // -log softmax(logits)[label], as torch's cross_entropy (log-sum-exp with the max taken out)
    const nll = tf.logSoftmax(logits, -1).mul(tf.oneHot(labels, numLabels)).sum(-1).neg(); // (B)
    return reduction === 'sum' ? nll.sum() : nll.mean();
  });
}
