import test from 'ava';
import { accuracy, argmaxRows, averageRanks, computeMetrics, f1Binary, macroF1, matthewsCorrcoef, pearson, spearman } from './metrics';

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol;

// Binary case by hand: tp = 4 (i 0,4,6,8), fn = 2 (1,9), fp = 2 (3,7), tn = 2 (2,5).
const yb = [1, 1, 0, 0, 1, 0, 1, 0, 1, 1];
const pb = [1, 0, 0, 1, 1, 0, 1, 1, 1, 0];

test('binary accuracy, F1 and MCC from the hand-counted confusion matrix', (t) => {
  t.is(accuracy(pb, yb), 0.6);
  t.true(close(f1Binary(pb, yb), 8 / 12)); // 2tp / (2tp + fp + fn)
  // (tp·tn − fp·fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) = (8 − 4) / sqrt(6·6·4·4) = 1/6
  t.true(close(matthewsCorrcoef(pb, yb), 1 / 6));
  // F1 of class 0 instead: tp = 2, fp = 2, fn = 2.
  t.true(close(f1Binary(pb, yb, 0), 0.5));
});

test('values quoted in the sklearn documentation', (t) => {
  // matthews_corrcoef([+1, +1, +1, -1], [+1, -1, +1, +1]) = -0.33...
  t.true(close(matthewsCorrcoef([1, 0, 1, 1], [1, 1, 1, 0]), -1 / 3));
  // f1_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average='macro') = 0.26...
  t.true(close(macroF1([0, 2, 1, 0, 0, 1], [0, 1, 2, 0, 1, 2]), 0.8 / 3));
});

// Multiclass case; expected from numpy over the confusion matrix (sklearn's formula):
// per-class F1 = [0.8, 1/3, 2/3, 2/3], MCC = 0.4657971306985123.
const ym = [0, 1, 2, 2, 1, 0, 2, 1, 3, 3];
const pm = [0, 2, 2, 2, 1, 0, 1, 0, 3, 1];

test('multiclass macro F1 and MCC', (t) => {
  t.is(accuracy(pm, ym), 0.6);
  t.true(close(macroF1(pm, ym), (0.8 + 1 / 3 + 2 / 3 + 2 / 3) / 4));
  t.true(close(matthewsCorrcoef(pm, ym), 0.4657971306985123));
});

test('degenerate cases follow sklearn: constant predictions give MCC 0, absent class F1 0', (t) => {
  t.is(matthewsCorrcoef([1, 1, 1], [0, 1, 0]), 0);
  t.is(matthewsCorrcoef([2, 2], [2, 2]), 0);
  t.is(f1Binary([0, 0], [0, 0]), 0);
  t.is(matthewsCorrcoef([0, 1, 2], [0, 1, 2]), 1);
  t.throws(() => accuracy([1], [1, 0]), { code: 'DATA_ERR_BAD_OPTION', message: /1 entries, labels 2/ });
  t.throws(() => matthewsCorrcoef([0.5], [1]), { code: 'DATA_ERR_BAD_OPTION', message: /expected a class id/ });
});

// Expected from scipy.stats.pearsonr / spearmanr / rankdata on the same data.
test('Pearson and Spearman with ties match scipy', (t) => {
  const x = [1.0, 2.0, 2.0, 3.5, 4.0, 4.0, 4.0, 7.0];
  const y = [2.0, 1.0, 3.0, 3.0, 5.0, 4.5, 6.0, 6.0];
  t.deepEqual(Array.from(averageRanks(x)), [1, 2.5, 2.5, 4, 6, 6, 6, 8]);
  t.deepEqual(Array.from(averageRanks(y)), [2, 1, 3.5, 3.5, 6, 5, 7.5, 7.5]);
  t.true(close(pearson(x, y), 0.824388785997885));
  t.true(close(spearman(x, y), 0.9007775105401477));
  t.true(close(pearson([0.1, 0.4, 0.35, 0.8], [1, 3, 2, 4]), 0.9579237266113428));
  t.is(spearman([0.1, 0.4, 0.35, 0.8], [1, 3, 2, 4]), 1);
  t.true(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  t.true(Number.isNaN(spearman([1, NaN, 3], [1, 2, 3])));
});

test('argmaxRows and computeMetrics pick metrics by task', (t) => {
  t.deepEqual(Array.from(argmaxRows(Float32Array.from([0.1, 0.9, 2, -1, 0.5, 0.5]), 2)), [1, 0, 0]);
  t.throws(() => argmaxRows([1, 2, 3], 2), { code: 'DATA_ERR_BAD_OPTION' });
  // Binary logits whose argmax is pb.
  const logits = pb.flatMap((p) => (p === 1 ? [0, 1] : [1, 0]));
  const m = computeMetrics(logits, yb, 2);
  t.is(m.accuracy, 0.6);
  t.true(close(m.f1!, 8 / 12));
  t.true(close(m.mcc!, 1 / 6));
  const r = computeMetrics([0.1, 0.4, 0.35, 0.8], [1, 3, 2, 4], 1);
  t.true(close(r.pearson!, 0.9579237266113428));
  t.is(r.spearman, 1);
  t.is(r.accuracy, undefined);
});
