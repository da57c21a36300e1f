import * as tf from '@tensorflow/tfjs';
import { dropout, layerNorm } from './ops';

/** The frozen tensors and settings of HF deberta_v2's `ConvLayer` (`encoder.conv`). */
export interface ConvLayerParams {
  readonly filter: tf.Tensor3D; // [k, in, out] (torch Conv1d weight [out, in, k] transposed)
  readonly bias: tf.Tensor1D; // [out]
  readonly gamma: tf.Tensor1D; // encoder.conv.LayerNorm
  readonly beta: tf.Tensor1D;
  readonly eps: number;
  readonly act: (x: tf.Tensor) => tf.Tensor; // conv_act
  readonly dropout: number; // hidden_dropout_prob
}

/**
 * HF `ConvLayer.forward(hidden_states, residual_states, input_mask)`: a same-length Conv1d
 * over the embeddings, zeroed at padding, activated, added to layer 0's output, LayerNorm,
 * then padding rows zeroed again.
 * emb, residual [B, L, H]; mask [B, L] float (1 = token) -> [B, L, H]
 */
export function debertaConvLayer(p: ConvLayerParams, emb: tf.Tensor3D, residual: tf.Tensor3D, mask: tf.Tensor2D, training: boolean): tf.Tensor3D {
  return tf.tidy(() => {
    const m = mask.expandDims(2); // (B, L, 1)
    // 'same' with stride 1 and an odd kernel (checked with the config) pads (k - 1) / 2 per side,
    // as HF's Conv1d(padding=(k - 1) // 2). (tf.conv1d with a numeric pad also pads the dummy height.)
    const out = tf.conv1d(emb, p.filter, 1, 'same').add(p.bias).mul(m); // (B, L, H), padding rows 0
    const act = p.act(dropout(out, p.dropout, training));
    return layerNorm(residual.add(act), p.gamma, p.beta, p.eps).mul(m) as tf.Tensor3D;
  });
}
