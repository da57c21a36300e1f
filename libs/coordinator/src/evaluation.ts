import { computeMetrics, type Dataset, type TaskMetrics } from '@adalora/data';

/** Dev metrics and loss from the model outputs of every dev example. */
export interface EvalSummary {
  readonly metrics: TaskMetrics;
  readonly loss: number;
  readonly samples: number;
}

/** outputs: row-major [n, numLabels] logits (regression: [n, 1] predictions) in data set order. */
export function summarizeEval(dev: Dataset, outputs: Float32Array): EvalSummary {
  const n = dev.examples.length;
  const k = dev.numLabels;
  const labels = Float64Array.from(dev.examples, (e) => e.label);
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
  return { metrics: computeMetrics(outputs, labels, k), loss: loss / n, samples: n };
}
