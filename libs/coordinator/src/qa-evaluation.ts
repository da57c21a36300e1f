import { postprocessQaPredictions, squadScores, type Dataset, type QaPredictions } from '@adalora/data';
import type { EvalSummary } from './evaluation';
import type { QaDev } from './qa-data';

/**
 * SQuAD scores of a QA dev split from its windows' logits: `outputs` is row-major
 * [windows, 2·seq] in data set order, each row the start logits then the end logits. Answers
 * come from HF's post-processing (n-best, max answer length, v2's null threshold as configured);
 * metrics are the official script's, named `em` and `f1` (0–100), with v2's `HasAns_*` and
 * `NoAns_*`. The loss is HF's QA loss on the windows' answer spans, a mean over windows.
 */
export function summarizeQaEval(qa: QaDev, dev: Dataset, outputs: Float32Array): EvalSummary {
  return evaluateQa(qa, dev, outputs).summary;
}

/**
 * {@link summarizeQaEval}'s scores with the answers they were computed from (by question id,
 * v2's null-score differences, the n-best lists): what `adalora predict` writes.
 */
export function evaluateQa(qa: QaDev, dev: Dataset, outputs: Float32Array): { summary: EvalSummary; answers: QaPredictions } {
  const n = dev.examples.length;
  const width = outputs.length / n;
  const seq = width / 2;
  if (!Number.isInteger(seq) || qa.features.length !== n) {
    throw new Error(`summarizeQaEval: ${outputs.length} outputs for ${n} windows (${qa.features.length} features) is not [windows, 2·seq]`);
  }
  const starts: Float32Array[] = [];
  const ends: Float32Array[] = [];
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const s = outputs.subarray(i * width, i * width + seq);
    const e = outputs.subarray(i * width + seq, (i + 1) * width);
    starts.push(s);
    ends.push(e);
    const span = dev.examples[i].label;
    if (typeof span === 'number') throw new Error(`summarizeQaEval: dev row ${i} has no answer span`);
    loss += (nll(s, span[0]) + nll(e, span[1])) / 2;
  }
  const { settings, version2, examples, features } = qa;
  const answers = postprocessQaPredictions(examples, features, starts, ends, {
    version2WithNegative: version2,
    nBestSize: settings.nBest,
    maxAnswerLength: settings.maxAnswerLength,
    nullScoreDiffThreshold: settings.nullScoreThreshold,
  });
  const s = squadScores(examples, answers.predictions);
  const metrics: Record<string, number> = { em: s.exact, f1: s.f1 };
  if (version2) {
    // the official v2 script's splits; a split without questions has no score
    if (s.HasAns_total) Object.assign(metrics, { HasAns_em: s.HasAns_exact!, HasAns_f1: s.HasAns_f1!, HasAns_total: s.HasAns_total });
    if (s.NoAns_total) Object.assign(metrics, { NoAns_em: s.NoAns_exact!, NoAns_f1: s.NoAns_f1!, NoAns_total: s.NoAns_total });
  }
  return { summary: { metrics, loss: loss / n, samples: n }, answers };
}

// -log softmax(logits)[target], with log-sum-exp for stability
function nll(logits: ArrayLike<number>, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return Math.log(sum) + max - logits[target];
}
