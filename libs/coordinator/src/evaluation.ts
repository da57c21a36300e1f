import { computeMetrics, type Dataset } from '@adalora/data';

/** Dev metrics and loss from the model outputs of every dev example. */
export interface EvalSummary {
  /** by name: accuracy/f1/mcc or pearson/spearman (TaskMetrics); QA: em, f1 and v2's HasAns_… and NoAns_… */
  readonly metrics: Readonly<Record<string, number>>;
  readonly loss: number;
  readonly samples: number;
}

/** outputs: row-major [n, numLabels] logits (regression: [n, 1] predictions) in data set order. */
export function summarizeEval(dev: Dataset, outputs: Float32Array): EvalSummary {
  const n = dev.examples.length;
  const k = dev.numLabels;
  const labels = Float64Array.from(dev.examples, (e, i) => {
    if (typeof e.label !== 'number') throw new Error(`summarizeEval: dev row ${i} has an answer span, not a class or target (a QA split goes to summarizeQaEval)`);
    return e.label;
  });
  let loss = 0;
  for (let i = 0; i < n; i++) {
    if (k === 1) {
      loss += (outputs[i] - labels[i]) ** 2;
      continue;
    }
    // cross-entropy with log-sum-exp for stability
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, outputs[i * k + c]);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(outputs[i * k + c] - max);
    loss += Math.log(sum) + max - outputs[i * k + labels[i]];
  }
  return { metrics: { ...computeMetrics(outputs, labels, k) }, loss: loss / n, samples: n };
}
