import * as tf from '@tensorflow/tfjs';
import { seededDropout } from '@adalora/core';

/** LayerNorm over the last axis, as torch.nn.LayerNorm: (x - mean) / sqrt(var + eps) * gamma + beta. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(gamma).add(beta);
  });
}

/** Exact GELU, as HF's "gelu": 0.5 x (1 + erf(x / √2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)));
}

/** The activations HF configs name in `hidden_act`. */
export function activation(name: string): (x: tf.Tensor) => tf.Tensor {
  switch (name) {
    case 'gelu':
      return gelu;
    case 'relu':
      return (x) => tf.relu(x);
    case 'tanh':
      return (x) => tf.tanh(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return (x) =>
        tf.tidy(() => x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1)));
    default:
      throw new Error(`hidden_act '${name}' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, tanh)`);
  }
}

/** Rows of an embedding table [vocab, hidden] for integer ids [...]: [..., hidden]. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.gather(table, ids.flatten().toInt()).reshape([...ids.shape, table.shape[1]]));
}

/**
 * torch.nn.Dropout: in training zeroes each element with probability `rate` and scales the
 * rest by 1 / (1 - rate), seeded from the active DropoutStream (see `withDropoutStream`); in eval
 * or when rate is 0 it returns `x` itself and draws nothing (use inside a tidy).
 */
export function dropout(x: tf.Tensor, rate: number, training: boolean): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  if (!training || rate === 0) return x;
  return seededDropout(x, rate);
}

/** The smallest float32, torch.finfo(torch.float32).min: HF's additive mask value. */
export const FLOAT32_MIN = -3.4028234663852886e38;
