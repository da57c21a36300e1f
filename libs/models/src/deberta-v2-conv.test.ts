import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { debertaConvLayer } from './deberta-v2-conv';

// HF ConvLayer.forward written out with loops over a torch-layout Conv1d weight [out, in, k].
function naiveConvLayer(emb: number[][][], residual: number[][][], mask: number[][], w: number[][][], bias: number[], gamma: number[], beta: number[], eps: number) {
  const k = w[0][0].length;
  const pad = (k - 1) / 2;
  return emb.map((seq, b) =>
    seq.map((_, t) => {
      const conv = bias.map((bo, o) => {
        let s = bo;
        for (let i = 0; i < seq[0].length; i++) {
          for (let kk = 0; kk < k; kk++) {
            const src = t + kk - pad; // zero padding outside the sequence
            if (src >= 0 && src < seq.length) s += w[o][i][kk] * seq[src][i];
          }
        }
        return mask[b][t] ? Math.tanh(s) : 0; // masked_fill(rmask, 0), then conv_act
      });
      const x = conv.map((c, o) => residual[b][t][o] + c);
      const mean = x.reduce((a, v) => a + v, 0) / x.length;
      const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
      return x.map((v, o) => (((v - mean) / Math.sqrt(variance + eps)) * gamma[o] + beta[o]) * mask[b][t]);
    }),
  );
}

test('debertaConvLayer matches HF ConvLayer (Conv1d k=3, padding 1, masked, tanh, LayerNorm)', (t) => {
  const [B, L, H, K] = [2, 5, 4, 3];
  const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const emb = rand([B, L, H], 1);
  const residual = rand([B, L, H], 2);
  const torchW = rand([H, H, K], 3); // [out, in, k]
  const bias = rand([H], 4);
  const gamma = rand([H], 5);
  const beta = rand([H], 6);
  const mask = [
    [1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0],
  ];
  const got = debertaConvLayer(
    { filter: torchW.transpose([2, 1, 0]) as tf.Tensor3D, bias: bias as tf.Tensor1D, gamma: gamma as tf.Tensor1D, beta: beta as tf.Tensor1D, eps: 1e-7, act: (x) => tf.tanh(x), dropout: 0 },
    emb as tf.Tensor3D,
    residual as tf.Tensor3D,
    tf.tensor2d(mask),
    false,
  ).arraySync();
  const want = naiveConvLayer(
    emb.arraySync() as number[][][],
    residual.arraySync() as number[][][],
    mask,
    torchW.arraySync() as number[][][],
    bias.arraySync() as number[],
    gamma.arraySync() as number[],
    beta.arraySync() as number[],
    1e-7,
  );
  let worst = 0;
  for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) worst = Math.max(worst, Math.abs(got[b][l][h] - want[b][l][h]));
  t.true(worst < 1e-5, `max error ${worst}`);
  t.true(got[1][4].every((v) => v === 0)); // padding row zeroed
});
