import * as tf from '@tensorflow/tfjs';
import { trainableLinears } from './trainable-linears';
import type { WeightStore } from './weights';

/**
 * HF's extractive-QA head (`*ForQuestionAnswering.qa_outputs`, the same for BERT, RoBERTa and
 * DeBERTa-v2/v3): one Linear(hidden, 2) on every token's last hidden state, whose two outputs
 * are the start and end logits. No dropout before it, as in HF.
 */
export interface QaHead {
  /** `qa_outputs.weight` [2, hidden] and `qa_outputs.bias` [2], trainable. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  /** hidden [B, S, H] -> start and end logits, each [B, S]. */
  apply(hidden: tf.Tensor3D): { startLogits: tf.Tensor2D; endLogits: tf.Tensor2D };
  dispose(): void;
}

/** The sizes the head needs from the model's config. */
export interface QaHeadShape {
  readonly hiddenSize: number;
  readonly initializerRange: number; // std of a newly created weight, as HF _init_weights
}

/**
 * `qa_outputs` from the checkpoint, or created (normal(0, initializer_range) weight, zero bias)
 * when the checkpoint lacks it and the store has an init seed. Two outputs always: HF's
 * `num_labels` is 2 for QA (a classification checkpoint's label count does not apply).
 */
export function qaOutputsHead(weights: WeightStore, shape: QaHeadShape): QaHead {
  const H = shape.hiddenSize;
  const params = trainableLinears(weights, shape.initializerRange, [['qa_outputs', 2, H]]);
  const w = params.get('qa_outputs.weight')!;
  const b = params.get('qa_outputs.bias')!;
  return {
    params,
    apply: (hidden) =>
      tf.tidy(() => {
        const [batch, seq] = hidden.shape;
        const logits = tf.matMul(hidden.reshape([batch * seq, H]), w, false, true).add(b); // (B·S, 2)
        const [start, end] = tf.split(logits.reshape([batch, seq, 2]), 2, 2); // 2 × (B, S, 1)
        return { startLogits: start.reshape([batch, seq]) as tf.Tensor2D, endLogits: end.reshape([batch, seq]) as tf.Tensor2D };
      }),
    dispose: () => params.forEach((p) => p.dispose()),
  };
}
