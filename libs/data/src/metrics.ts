import { DataError } from './data-error';

type Nums = ArrayLike<number>;

function checkPair(fn: string, a: Nums, b: Nums): void {
  if (a.length !== b.length) throw new DataError('DATA_ERR_BAD_OPTION', `${fn}: predictions have ${a.length} entries, labels ${b.length}`);
  if (a.length === 0) throw new DataError('DATA_ERR_BAD_OPTION', `${fn}: no examples`);
}

function checkClasses(fn: string, a: Nums): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isInteger(a[i]) || a[i] < 0) throw new DataError('DATA_ERR_BAD_OPTION', `${fn}: entry ${i} is ${a[i]}, expected a class id (integer >= 0)`);
  }
}

/** Class with the largest score in each row of row-major `[n, numClasses]` logits (first on ties). */
export function argmaxRows(logits: Nums, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1 || logits.length % numClasses !== 0) {
    throw new DataError('DATA_ERR_BAD_OPTION', `argmaxRows: ${logits.length} scores do not form rows of ${numClasses}`);
  }
  const n = logits.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (logits[i * numClasses + k] > logits[i * numClasses + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** Fraction of predictions equal to the labels. */
export function accuracy(preds: Nums, labels: Nums): number {
  checkPair('accuracy', preds, labels);
  let hit = 0;
  for (let i = 0; i < preds.length; i++) if (preds[i] === labels[i]) hit++;
  return hit / preds.length;
}

/** F1 of one class: 2tp / (2tp + fp + fn); 0 when the class appears nowhere (sklearn's zero_division=0). */
function f1Of(preds: Nums, labels: Nums, cls: number): number {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < preds.length; i++) {
    const p = preds[i] === cls, t = labels[i] === cls;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return tp + fp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Binary F1 of the positive class (sklearn `f1_score(average='binary', pos_label=positive)`). */
export function f1Binary(preds: Nums, labels: Nums, positive = 1): number {
  checkPair('f1Binary', preds, labels);
  return f1Of(preds, labels, positive);
}

/**
 * Macro F1: the unweighted mean of per-class F1 over the classes present in labels or
 * predictions (sklearn `f1_score(average='macro')`).
 */
export function macroF1(preds: Nums, labels: Nums): number {
  checkPair('macroF1', preds, labels);
  const classes = new Set<number>([...Array.from(preds), ...Array.from(labels)]);
  let sum = 0;
  for (const c of classes) sum += f1Of(preds, labels, c);
  return sum / classes.size;
}

/**
 * Matthews correlation coefficient, binary or multiclass (Gorodkin's R_K, as sklearn
 * `matthews_corrcoef`): with confusion matrix C, t = row sums, p = column sums, c = trace,
 * s = total: (c·s − t·p) / sqrt((s² − p·p)(s² − t·t)); 0 when the denominator is 0.
 */
export function matthewsCorrcoef(preds: Nums, labels: Nums): number {
  checkPair('matthewsCorrcoef', preds, labels);
  checkClasses('matthewsCorrcoef', preds);
  checkClasses('matthewsCorrcoef', labels);
  const tCount = new Map<number, number>();
  const pCount = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < preds.length; i++) {
    tCount.set(labels[i], (tCount.get(labels[i]) ?? 0) + 1);
    pCount.set(preds[i], (pCount.get(preds[i]) ?? 0) + 1);
    if (preds[i] === labels[i]) correct++;
  }
  const s = preds.length;
  let tp = 0, pp = 0, tt = 0;
  for (const [k, v] of tCount) {
    tp += v * (pCount.get(k) ?? 0);
    tt += v * v;
  }
  for (const v of pCount.values()) pp += v * v;
  const cov = correct * s - tp;
  const denom = (s * s - pp) * (s * s - tt);
  return denom === 0 ? 0 : cov / Math.sqrt(denom);
}

/** Pearson correlation (float64); NaN when either side is constant (as scipy). */
export function pearson(x: Nums, y: Nums): number {
  checkPair('pearson', x, y);
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks, ties sharing the average of their ranks (scipy `rankdata(method='average')`). */
export function averageRanks(x: Nums): Float64Array {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(x.length);
  for (let s = 0; s < idx.length; ) {
    let e = s + 1;
    while (e < idx.length && x[idx[e]] === x[idx[s]]) e++;
    const r = (s + 1 + e) / 2; // mean of ranks s+1 .. e
    for (let k = s; k < e; k++) ranks[idx[k]] = r;
    s = e;
  }
  return ranks;
}

/** Spearman rank correlation: Pearson of average ranks (ties handled as scipy `spearmanr`). */
export function spearman(x: Nums, y: Nums): number {
  checkPair('spearman', x, y);
  // NaN does not sort: propagate it, as scipy does by default.
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i]) || Number.isNaN(y[i])) return NaN;
  return pearson(averageRanks(x), averageRanks(y));
}

/** The GLUE-style metrics that fit a task, from model outputs. */
export interface TaskMetrics {
  readonly accuracy?: number;
  /** Binary tasks: F1 of class 1. Multiclass: macro F1. */
  readonly f1?: number;
  readonly mcc?: number;
  readonly pearson?: number;
  readonly spearman?: number;
}

/**
 * Metrics for `numLabels` outputs per example: regression (numLabels = 1, `outputs` are the
 * predictions) gives pearson and spearman; classification (`outputs` are row-major
 * [n, numLabels] logits) gives accuracy, F1 (binary, or macro for > 2 classes) and MCC.
 */
export function computeMetrics(outputs: Nums, labels: Nums, numLabels: number): TaskMetrics {
  if (numLabels === 1) return { pearson: pearson(outputs, labels), spearman: spearman(outputs, labels) };
  const preds = argmaxRows(outputs, numLabels);
  return {
    accuracy: accuracy(preds, labels),
    f1: numLabels === 2 ? f1Binary(preds, labels) : macroF1(preds, labels),
    mcc: matthewsCorrcoef(preds, labels),
  };
}
