import * as tf from '@tensorflow/tfjs';
import { matMulPerBatch } from './attention-wasm';
import { dropout, FLOAT32_MIN } from './ops';

/**
 * The additive padding mask HF builds for an encoder: 0 where a key is attended, float32 min
 * where it is padding, broadcast over heads and queries. Only keys are masked, so padded
 * query rows still attend to the real tokens (their `last_hidden_state` is not garbage and
 * matches HF's). Adding float32 min rather than -inf keeps an all-padding row finite.
 * mask [B, S] (1 = token, 0 = padding) -> [B, 1, 1, S]
 */
export function additiveAttentionMask(mask: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, s] = mask.shape;
    return tf.sub(1, mask.toFloat()).mul(FLOAT32_MIN).reshape([b, 1, 1, s]) as tf.Tensor4D;
  });
}

/**
 * Scaled dot-product attention over `numHeads` heads, as HF's eager attention:
 * softmax(q kᵀ · d^-½ + mask) in float32, dropout on the probabilities, times v.
 * q, k, v [B, S, H]; maskAdd [B, 1, 1, S] -> context [B, S, H]
 * @param perBatch run the two [B·nh] products as B·nh plain 2-D matmuls ({@link matMulPerBatch}):
 *   the default on wasm, where tf.matMul of a batch (and of a transposed operand, as its autodiff
 *   does) leaves XNNPACK and is ≈ 14× slower. Results agree up to float summation order.
 */
export function multiHeadAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  maskAdd: tf.Tensor4D,
  numHeads: number,
  dropoutRate: number,
  training: boolean,
  perBatch = tf.getBackend() === 'wasm',
): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, s, h] = q.shape as [number, number, number];
    const d = h / numHeads;
    const n = b * numHeads;
    const bmm = perBatch ? matMulPerBatch : (x: tf.Tensor3D, y: tf.Tensor3D) => tf.matMul(x, y);
    const heads = (x: tf.Tensor, perm: number[], shape: number[]) => x.reshape([b, s, numHeads, d]).transpose(perm).reshape(shape) as tf.Tensor3D;
    const qh = heads(q, [0, 2, 1, 3], [n, s, d]); // (B·nh, S, d)
    // kᵀ made explicitly: wasm's matmul with a transposed operand is many times slower.
    const kt = heads(k, [0, 2, 3, 1], [n, d, s]); // (B·nh, d, S)
    const vh = heads(v, [0, 2, 1, 3], [n, s, d]); // (B·nh, S, d)
    const scores = bmm(qh, kt).reshape([b, numHeads, s, s]).mul(d ** -0.5).add(maskAdd); // (B, nh, S, S)
    const probs = dropout(tf.softmax(scores, -1), dropoutRate, training).reshape([n, s, s]) as tf.Tensor3D; // (B·nh, S, S)
    const ctx = bmm(probs, vh).reshape([b, numHeads, s, d]); // (B, nh, S, d)
    return ctx.transpose([0, 2, 1, 3]).reshape([b, s, h]) as tf.Tensor3D; // (B, S, H)
  });
}
