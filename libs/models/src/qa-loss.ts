import * as tf from '@tensorflow/tfjs';

/**
 * HF's extractive-QA loss (`*ForQuestionAnswering.forward`): positions are clamped to
 * [0, seq], a position equal to seq (i.e. clamped from beyond the sequence) is ignored
 * (`ignore_index = seq`), and the loss is the mean of the start and end cross-entropies, each
 * a mean over its non-ignored rows. `startLogits` / `endLogits` are [B, seq]; positions int32
 * [B]. Returns a fresh scalar; NaN when every row of one side is ignored, as torch.
 *
 * `reduction` 'sum' gives Σ over rows of (start nll + end nll) / 2 with ignored rows counting 0:
 * the form the distributed trainer adds across micro-batches before dividing by the global
 * batch size. It equals 'mean' × B when no position is ignored (SQuAD features never are).
 */
export function questionAnsweringLoss(
  startLogits: tf.Tensor2D,
  endLogits: tf.Tensor2D,
  startPositions: tf.Tensor1D,
  endPositions: tf.Tensor1D,
  reduction: 'sum' | 'mean' = 'mean',
): tf.Scalar {
  const where = 'questionAnsweringLoss';
  if (reduction !== 'sum' && reduction !== 'mean') throw new Error(`${where}: reduction must be 'sum' or 'mean', got ${JSON.stringify(reduction)}`);
  if (startLogits.rank !== 2) throw new Error(`${where}: startLogits must be [batch, seq], got [${startLogits.shape}]`);
  const [batch, seq] = startLogits.shape;
  if (endLogits.rank !== 2 || endLogits.shape[0] !== batch || endLogits.shape[1] !== seq) throw new Error(`${where}: endLogits must be [${batch}, ${seq}] like startLogits, got [${endLogits.shape}]`);
  for (const [name, p] of [['startPositions', startPositions], ['endPositions', endPositions]] as const) {
    if (p.rank !== 1 || p.shape[0] !== batch || p.dtype !== 'int32') throw new Error(`${where}: ${name} must be int32 [${batch}], got ${p.dtype} [${p.shape}]`);
  }
  if (batch === 0) throw new Error(`${where}: the batch is empty`);
  return tf.tidy(() => {
    const side = (logits: tf.Tensor2D, positions: tf.Tensor1D): { nll: tf.Tensor1D; kept: tf.Tensor1D } => {
      const clamped = tf.clipByValue(positions, 0, seq).toInt(); // (B) in [0, seq]
      const kept = tf.notEqual(clamped, seq).toFloat() as tf.Tensor1D; // 0 where ignored
      // oneHot of seq is all zeros: an ignored row's nll is 0 before it is masked
      const nll = tf.logSoftmax(logits, -1).mul(tf.oneHot(clamped, seq)).sum(-1).neg().mul(kept) as tf.Tensor1D; // (B)
      return { nll, kept };
    };
    const s = side(startLogits, startPositions);
    const e = side(endLogits, endPositions);
    if (reduction === 'sum') return s.nll.add(e.nll).sum().div(2) as tf.Scalar;
    return s.nll.sum().div(s.kept.sum()).add(e.nll.sum().div(e.kept.sum())).div(2) as tf.Scalar;
  });
}
