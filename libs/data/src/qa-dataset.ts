import type { Dataset } from './dataset';
import type { QaTrainFeature } from './qa-features';
import { isUnanswerable, type SquadExample } from './squad-example';

/**
 * QA training features as a {@link Dataset} the trainer batches like any other: one example per
 * window (token ids, mask, type ids) labelled with its answer span, `numLabels` 2 (the start and
 * end logits, HF's `num_labels` for QA).
 */
export function qaFeatureDataset(features: readonly QaTrainFeature[]): Dataset {
  return {
    numLabels: 2,
    examples: features.map((f) => ({
      inputIds: f.inputIds,
      attentionMask: f.attentionMask,
      tokenTypeIds: f.tokenTypeIds,
      label: [f.startPosition, f.endPosition] as const,
    })),
  };
}

/**
 * The SQuAD version a set of questions needs: '2.0' when any question is unanswerable (only
 * v2.0 has them), else '1.1'. HF's run_qa.py asks for `--version_2_with_negative`; this is its
 * `auto`.
 */
export function detectSquadVersion(...splits: readonly (readonly SquadExample[])[]): '1.1' | '2.0' {
  return splits.some((s) => s.some(isUnanswerable)) ? '2.0' : '1.1';
}
