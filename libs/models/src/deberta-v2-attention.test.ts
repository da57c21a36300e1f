import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { logBucketPosition, relativePosition, relativeRows, relativeShift } from './deberta-v2-attention';
import type { RelativePositions } from './deberta-v2-config';

// Ground truth: HF's make_log_bucket_position evaluated in float32 (numpy) on these distances.
test('logBucketPosition reproduces HF buckets (16 buckets over 64, 256 over 512)', (t) => {
  const small = [0, 1, -1, 7, 8, 9, -9, 10, 11, 12, 20, 30, 40, 62, 63, 64, 100, -100, 1000];
  const smallHf = [0, 1, -1, 7, 8, 9, -9, 9, 10, 10, 12, 13, 14, 15, 15, 16, 17, -17, 25];
  t.deepEqual(small.map((r) => logBucketPosition(r, 16, 64)), smallHf);
  const v3 = [0, 127, 128, 129, -129, 130, 200, -200, 300, 511, 512, 513, -1000, 3000];
  const v3Hf = [0, 127, 128, 129, -129, 130, 169, -169, 207, 255, 256, 256, -317, 418];
  t.deepEqual(v3.map((r) => logBucketPosition(r, 256, 512)), v3Hf);
});

// HF's disentangled_attention_bias written out literally on plain arrays: score tables over
// all 2·span rows, then torch.gather with c2p_pos / p2c_pos, p2c transposed at the end.
function hfRelativeTerms(q: number[][], k: number[][], posKey: number[][], posQuery: number[][], rel: RelativePositions) {
  const span = rel.span;
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  const clamp = (x: number) => Math.min(Math.max(x, 0), 2 * span - 1);
  const rp = (a: number, b: number) => relativePosition(a - b, rel); // build_relative_position[a][b]
  const c2pAtt = q.map((qi) => posKey.slice(0, 2 * span).map((r) => dot(qi, r))); // [L, 2span]
  const p2cAtt = k.map((kj) => posQuery.slice(0, 2 * span).map((r) => dot(kj, r))); // [L, 2span]
  const c2p = q.map((_, i) => k.map((_, j) => c2pAtt[i][clamp(rp(i, j) + span)]));
  const gathered = k.map((_, a) => k.map((_, b) => p2cAtt[a][clamp(-rp(a, b) + span)]));
  const p2c = q.map((_, i) => k.map((_, j) => gathered[j][i]));
  return { c2p, p2c };
}

function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

// Ours: rows of the position table picked per distance, one matmul, then the relative shift.
function shiftedTerms(q: number[][], k: number[][], posKey: number[][], posQuery: number[][], rel: RelativePositions) {
  return tf.tidy(() => {
    const l = q.length;
    const rows = relativeRows(l, rel);
    const term = (content: number[][], pos: number[][], idx: Int32Array) =>
      relativeShift(tf.matMul(tf.tensor2d(content), tf.gather(tf.tensor2d(pos), tf.tensor1d(idx, 'int32')), false, true).reshape([1, l, 2 * l]) as tf.Tensor3D).reshape([l, l]);
    return {
      c2p: term(q, posKey, rows.c2p).arraySync() as number[][],
      p2c: term(k, posQuery, rows.p2c).transpose().arraySync() as number[][],
    };
  });
}

const cases: [string, RelativePositions, number[]][] = [
  ['log buckets (16 over 64), L past the exact range and past the span', { buckets: 16, maxRelative: 64, span: 16 }, [1, 2, 7, 12, 40]],
  ['no buckets, distances clamped at span 6', { buckets: -1, maxRelative: 6, span: 6 }, [1, 5, 15]],
];

for (const [name, rel, lengths] of cases) {
  test(`relativeRows + relativeShift equal HF's gathers: ${name}`, (t) => {
    for (const l of lengths) {
      const d = 3;
      const [q, k] = [randomMatrix(l, d, 1 + l), randomMatrix(l, d, 2 + l)];
      const [pk, pq] = [randomMatrix(2 * rel.span, d, 3 + l), randomMatrix(2 * rel.span, d, 4 + l)];
      const want = hfRelativeTerms(q, k, pk, pq, rel);
      const got = shiftedTerms(q, k, pk, pq, rel);
      let worst = 0;
      for (const term of ['c2p', 'p2c'] as const) {
        for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) worst = Math.max(worst, Math.abs(got[term][i][j] - want[term][i][j]));
      }
      t.true(worst < 1e-5, `L=${l}: max error ${worst}`);
    }
  });
}

test('relativeShift picks y[n, i, j + L - 1 - i] and rejects a table of the wrong width', (t) => {
  const y = tf.range(0, 2 * 3 * 6).reshape([2, 3, 6]) as tf.Tensor3D; // value = flat index
  const out = relativeShift(y).arraySync();
  for (let n = 0; n < 2; n++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) t.is(out[n][i][j], n * 18 + i * 6 + (j + 2 - i));
  t.throws(() => relativeShift(tf.zeros([1, 3, 5]) as tf.Tensor3D), { message: /\[N, L, 2L\]/ });
});
