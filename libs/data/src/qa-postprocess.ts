import { DataError } from './data-error';
import type { QaEvalFeature } from './qa-features';
import type { SquadExample } from './squad-example';

/** Options of {@link postprocessQaPredictions} (HF run_qa.py's defaults). */
export interface QaPostprocessOptions {
  /** SQuAD v2.0: the answer may be "" (no answer). Default false. */
  readonly version2WithNegative?: boolean;
  /** Best start and end indices tried per feature, and answers kept per example. Default 20. */
  readonly nBestSize?: number;
  /** Longest answer in tokens. Default 30. */
  readonly maxAnswerLength?: number;
  /** v2: answer "" when null score − best span score exceeds this. Default 0. */
  readonly nullScoreDiffThreshold?: number;
}

/** One candidate answer of an example. */
export interface QaCandidate {
  readonly text: string;
  /** `[start, end)` in the context; `[0, 0]` for the null answer. */
  readonly offsets: readonly [number, number];
  readonly startLogit: number;
  readonly endLogit: number;
  /** Softmax of the candidates' scores (start + end logit) over the n-best list. */
  readonly probability: number;
}

/** What {@link postprocessQaPredictions} found. */
export interface QaPredictions {
  /** Answer text by question id ("" = no answer, v2 only). */
  readonly predictions: ReadonlyMap<string, string>;
  /** The n-best candidates by question id, best first. */
  readonly nbest: ReadonlyMap<string, readonly QaCandidate[]>;
  /** v2: null score minus the best non-null span's score, by question id. */
  readonly scoreDiff: ReadonlyMap<string, number>;
}

interface Scored {
  text: string;
  offsets: readonly [number, number];
  score: number;
  startLogit: number;
  endLogit: number;
}

/**
 * Answers from start/end logits, as HF `postprocess_qa_predictions`: for every feature of an
 * example, the `nBestSize` best start and end indices; a span counts if both ends are context
 * tokens, end ≥ start and it is at most `maxAnswerLength` tokens; the best score (start + end
 * logit) over all features wins. v2: the null answer scores the minimum over features of
 * start[0] + end[0], and wins when it beats the best span by more than the threshold.
 * `startLogits[f]` / `endLogits[f]` belong to `features[f]` (one value per token).
 */
export function postprocessQaPredictions(
  examples: readonly SquadExample[],
  features: readonly QaEvalFeature[],
  startLogits: readonly ArrayLike<number>[],
  endLogits: readonly ArrayLike<number>[],
  opts: QaPostprocessOptions = {},
): QaPredictions {
  const { version2WithNegative = false, nBestSize = 20, maxAnswerLength = 30, nullScoreDiffThreshold = 0 } = opts;
  if (startLogits.length !== features.length || endLogits.length !== features.length) {
    throw new DataError('DATA_ERR_BAD_OPTION', `postprocessQaPredictions: ${features.length} features but ${startLogits.length} start and ${endLogits.length} end logit rows`);
  }
  for (const [name, v] of [['nBestSize', nBestSize], ['maxAnswerLength', maxAnswerLength]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new DataError('DATA_ERR_BAD_OPTION', `postprocessQaPredictions: ${name} must be an integer >= 1, got ${v}`);
  }
  const byExample = examples.map((): number[] => []);
  features.forEach((f, i) => {
    if (byExample[f.exampleIndex] === undefined || examples[f.exampleIndex].id !== f.exampleId) {
      throw new DataError('DATA_ERR_BAD_OPTION', `postprocessQaPredictions: feature ${i} belongs to '${f.exampleId}', not among the examples at index ${f.exampleIndex}`);
    }
    if (startLogits[i].length < f.offsets.length || endLogits[i].length < f.offsets.length) {
      throw new DataError('DATA_ERR_BAD_OPTION', `postprocessQaPredictions: feature ${i} has ${f.offsets.length} tokens but fewer logits`);
    }
    byExample[f.exampleIndex].push(i);
  });

  const predictions = new Map<string, string>();
  const nbest = new Map<string, QaCandidate[]>();
  const scoreDiff = new Map<string, number>();
  examples.forEach((ex, e) => {
    let minNull: Scored | null = null;
    const prelim: Scored[] = [];
    for (const fi of byExample[e]) {
      const s = startLogits[fi];
      const en = endLogits[fi];
      const offsets = features[fi].offsets;
      const nullScore = s[0] + en[0];
      if (minNull === null || minNull.score > nullScore) minNull = { text: '', offsets: [0, 0], score: nullScore, startLogit: s[0], endLogit: en[0] };
      for (const i of topIndices(s, offsets.length, nBestSize)) {
        for (const j of topIndices(en, offsets.length, nBestSize)) {
          const a = offsets[i];
          const b = offsets[j];
          if (a === null || b === null || j < i || j - i + 1 > maxAnswerLength) continue;
          prelim.push({ text: '', offsets: [a[0], b[1]], score: s[i] + en[j], startLogit: s[i], endLogit: en[j] });
        }
      }
    }
    if (version2WithNegative && minNull !== null) prelim.push(minNull);
    let kept = [...prelim].sort((x, y) => y.score - x.score).slice(0, nBestSize); // stable, as Python's sorted
    if (version2WithNegative && minNull !== null && !kept.some((p) => p.offsets[0] === 0 && p.offsets[1] === 0)) kept.push(minNull);
    kept = kept.map((p) => ({ ...p, text: ex.context.slice(p.offsets[0], p.offsets[1]) }));
    // HF's guard against having no candidate at all.
    if (kept.length === 0 || (kept.length === 1 && kept[0].text === '')) kept.unshift({ text: 'empty', offsets: [0, 0], score: 0, startLogit: 0, endLogit: 0 });
    const max = Math.max(...kept.map((p) => p.score));
    const exps = kept.map((p) => Math.exp(p.score - max));
    const total = exps.reduce((x, y) => x + y, 0);
    nbest.set(ex.id, kept.map((p, k) => ({ text: p.text, offsets: p.offsets, startLogit: p.startLogit, endLogit: p.endLogit, probability: exps[k] / total })));
    if (!version2WithNegative) {
      predictions.set(ex.id, kept[0].text);
      return;
    }
    const best = kept.find((p) => p.text !== '');
    if (best === undefined || minNull === null) {
      // Only empty spans (HF would fail here): nothing to answer with.
      predictions.set(ex.id, '');
      return;
    }
    const diff = minNull.score - best.startLogit - best.endLogit;
    scoreDiff.set(ex.id, diff);
    predictions.set(ex.id, diff > nullScoreDiffThreshold ? '' : best.text);
  });
  return { predictions, nbest, scoreDiff };
}

// Indices of the `k` largest of values[0..n), largest first; ties: the later index first,
// as numpy's argsort(...)[-1:-k-1:-1].
function topIndices(values: ArrayLike<number>, n: number, k: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a] || b - a);
  return idx.slice(0, k);
}
