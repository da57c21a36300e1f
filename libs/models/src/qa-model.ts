import * as tf from '@tensorflow/tfjs';
import type { ModuleId } from '@adalora/core';
import type { EncoderInputs, QaModel, QaOutput } from './encoder-model';
import type { Linear } from './linear';
import type { QaHead } from './qa-head';

/** An encoder without any head: what the QA model puts `qa_outputs` on. */
export interface HiddenStateEncoder {
  readonly modelType: string;
  readonly hiddenSize: number;
  readonly linears: ReadonlyMap<ModuleId, Linear>;
  /** last_hidden_state [B, S, H], computed inside the caller's tidy. */
  hidden(batch: EncoderInputs, training: boolean): tf.Tensor3D;
  dispose(): void;
}

/** HF `*ForQuestionAnswering`: the encoder's last hidden state through `qa_outputs`. */
export function questionAnsweringModel(encoder: HiddenStateEncoder, head: QaHead): QaModel {
  return {
    task: 'question-answering',
    modelType: encoder.modelType,
    hiddenSize: encoder.hiddenSize,
    linears: encoder.linears,
    headParams: head.params,
    forward: (batch, training): QaOutput =>
      tf.tidy(() => {
        const lastHiddenState = encoder.hidden(batch, training); // (B, S, H)
        return { lastHiddenState, ...head.apply(lastHiddenState) };
      }),
    dispose() {
      encoder.dispose();
      head.dispose();
    },
  };
}
