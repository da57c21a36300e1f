import * as tf from '@tensorflow/tfjs';

/**
 * ‖X‖_F with the gradient X/‖X‖_F, taken as 0 at X = 0 (where the norm's derivative is
 * undefined and autodiff of sqrt(Σx²) would give 0/0 = NaN). The value is the plain norm.
 */
const frobeniusNorm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const norm = tf.sqrt(tf.sum(tf.square(x)));
  save([x, norm]);
  return {
    value: norm,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, n] = saved;
      const safe = tf.where(tf.greater(n, 0), n, tf.onesLike(n)); // x = 0 there, so x/1 = 0
      return xs.div(safe).mul(dy);
    },
  };
});

/**
 * AdaLoRA's orthogonal regulariser (peft `AdaLoraModel.forward`):
 * R = (Σ_modules ‖A·Aᵀ − I‖_F + ‖Bᵀ·B − I‖_F) / (2 · #modules), over all r rows of A [r, in]
 * and columns of B [out, r] (masked triplets included). 0 when there are no modules.
 * Differentiable with tf autodiff (use inside `tf.variableGrads`).
 */
export function orthogonalRegularizer(adapters: Iterable<{ readonly A: tf.Tensor; readonly B: tf.Tensor }>): tf.Scalar {
  return tf.tidy(() => {
    const terms: tf.Scalar[] = [];
    for (const { A, B } of adapters) {
      const r = A.shape[0];
      if (A.rank !== 2 || B.rank !== 2 || B.shape[1] !== r) {
        throw new Error(`orthogonalRegularizer: expected A [r, in] and B [out, r], got A [${A.shape.join(', ')}] and B [${B.shape.join(', ')}]`);
      }
      if (r === 0) {
        // an empty r×r matrix has norm 0; peft still counts the two tensors
        terms.push(tf.scalar(0), tf.scalar(0));
        continue;
      }
      const eye = tf.eye(r);
      // explicit transposes: wasm matMul with a transposed operand is much slower
      const cA = tf.matMul(A as tf.Tensor2D, A.transpose() as tf.Tensor2D); // [r, r]
      const cB = tf.matMul(B.transpose() as tf.Tensor2D, B as tf.Tensor2D); // [r, r]
      terms.push(frobeniusNorm(cA.sub(eye)) as tf.Scalar, frobeniusNorm(cB.sub(eye)) as tf.Scalar);
    }
    if (terms.length === 0) return tf.scalar(0);
    return tf.addN(terms).div(terms.length) as tf.Scalar;
  });
}
