import * as tf from '@tensorflow/tfjs';
import { matMulPerBatch } from './attention-wasm';
import type { PositionAttention, RelativePositions } from './deberta-v2-config';
import type { Linear } from './linear';
import { dropout, FLOAT32_MIN } from './ops';

const f32 = Math.fround;

/**
 * HF's `make_log_bucket_position` for one distance: exact within ±bucketSize/2, log-spaced
 * beyond, up to maxPosition. torch evaluates the log part in float32, so each step is rounded
 * to float32 here too (the final ceil would otherwise differ where a value sits near an integer).
 */
export function logBucketPosition(rel: number, bucketSize: number, maxPosition: number): number {
  const mid = Math.floor(bucketSize / 2);
  const absPos = rel < mid && rel > -mid ? mid - 1 : Math.abs(rel);
  if (absPos <= mid) return rel;
  const logRatio = f32(f32(Math.log(f32(absPos / mid))) / f32(Math.log(f32((maxPosition - 1) / mid))));
  return (Math.ceil(f32(logRatio * (mid - 1))) + mid) * Math.sign(rel);
}

/** HF's `build_relative_position` entry for query i, key j (delta = i - j). */
export function relativePosition(delta: number, rel: RelativePositions): number {
  return rel.buckets > 0 ? logBucketPosition(delta, rel.buckets, rel.maxRelative) : delta;
}

const clampRow = (r: number, span: number): number => Math.min(Math.max(r, 0), 2 * span - 1);

/**
 * The rel_embeddings rows each term needs, by column of the un-shifted score table:
 * column c of a length-L table stands for the distance d = L - 1 - c, c = 0..2L-1 (the last
 * column is never read; it keeps the shift well defined for L = 1).
 * - c2p: score(i, j) = q_i · k_pos[clamp(rp(i - j) + span)]   (HF's c2p_pos gather)
 * - p2c: score(i, j) = k_j · q_pos[clamp(span - rp(j - i))]    (HF's p2c_pos gather, transposed)
 * For p2c the shifted table is indexed [key j, query i], so its distance d = L-1-c is j - i.
 */
export function relativeRows(seqLen: number, rel: RelativePositions): { c2p: Int32Array; p2c: Int32Array } {
  const c2p = new Int32Array(2 * seqLen);
  const p2c = new Int32Array(2 * seqLen);
  for (let c = 0; c < 2 * seqLen; c++) {
    const rp = relativePosition(seqLen - 1 - c, rel);
    c2p[c] = clampRow(rp + rel.span, rel.span);
    p2c[c] = clampRow(rel.span - rp, rel.span);
  }
  return { c2p, p2c };
}

/**
 * The Transformer-XL shift: out[n, i, j] = y[n, i, j + L - 1 - i], y [N, L, 2L] -> [N, L, L].
 * It replaces HF's torch.gather along the score table with reshape and slice, whose gradients
 * (pad) exist on every backend, unlike gather's (unsorted segment sum, missing on wasm).
 */
export function relativeShift(y: tf.Tensor3D): tf.Tensor3D {
  const [n, l, w] = y.shape;
  if (w !== 2 * l) throw new Error(`relativeShift: expected a [N, L, 2L] table, got [${y.shape}]`);
  return tf.tidy(() =>
    y
      .reshape([n, l * w])
      .slice([0, l - 1], [n, l * (w - 1)]) // row i now starts at its column L - 1 - i
      .reshape([n, l, w - 1])
      .slice([0, 0, 0], [n, l, l]) as tf.Tensor3D,
  );
}

/** One `DisentangledSelfAttention` (HF deberta_v2) over frozen linears that may carry adapters. */
export interface DisentangledAttentionParams {
  readonly query: Linear; // query_proj
  readonly key: Linear; // key_proj
  readonly value: Linear; // value_proj
  /** Projections of the relative embeddings: key/query themselves when share_att_key. */
  readonly posKey: Linear; // c2p: key_proj or pos_key_proj
  readonly posQuery: Linear; // p2c: query_proj or pos_query_proj
  readonly numHeads: number;
  readonly headSize: number;
  readonly posAtt: PositionAttention;
  readonly relative: RelativePositions | null;
  readonly attentionDropout: number;
  readonly posDropout: number; // hidden_dropout_prob, on rel_embeddings
}

/**
 * Disentangled self-attention, as HF transformers 5.x computes it:
 * scores = q kᵀ/s + c2p/s + p2c/s with s = sqrt(headSize · (1 + #terms)) in float32; masked
 * entries set to float32 min before the softmax (a fully masked row becomes uniform, as in HF).
 * x [B, L, hidden]; relEmb [2·span, hidden] (already layer-normed) or null;
 * mask [1, B, L, L] bool (mask_i · mask_j) -> context [B, L, heads · headSize]
 * @param perBatch run the batched products (content, c2p, p2c, probabilities · values) as plain
 *   2-D matmuls ({@link matMulPerBatch}): the default on wasm, where tf.matMul of a batch (and of
 *   a transposed operand, as its autodiff does) leaves XNNPACK and is many times slower.
 *   Results agree up to float summation order.
 */
export function disentangledSelfAttention(
  p: DisentangledAttentionParams,
  x: tf.Tensor3D,
  relEmb: tf.Tensor2D | null,
  mask: tf.Tensor4D,
  training: boolean,
  perBatch = tf.getBackend() === 'wasm',
): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, l] = x.shape;
    const h = p.numHeads;
    const d = p.headSize;
    // a [n, m, k] · b [n, k, p] -> [n, m, p], leading dims of the operands merged into n
    const bmm = (a: tf.Tensor, c: tf.Tensor): tf.Tensor3D => {
      const [m, k] = a.shape.slice(-2);
      const n = a.size / (m * k);
      const [a3, c3] = [a.reshape([n, m, k]) as tf.Tensor3D, c.reshape([n, k, c.shape[c.rank - 1]]) as tf.Tensor3D];
      return perBatch ? matMulPerBatch(a3, c3) : tf.matMul(a3, c3);
    };
    const scaleFactor = 1 + (p.posAtt.c2p ? 1 : 0) + (p.posAtt.p2c ? 1 : 0);
    const scale = f32(Math.sqrt(f32(d * scaleFactor))); // torch: sqrt(tensor(d, float32) * factor)

    // Head-major layout (H, B, ...) so that the position terms are one batched matmul per head.
    const heads = (t: tf.Tensor, perm: number[]) => t.reshape([b, l, h, d]).transpose(perm);
    const q = heads(p.query.apply(x, training), [2, 0, 1, 3]); // (H, B, L, d)
    const k = p.key.apply(x, training);
    // kᵀ made explicitly (wasm's matmul with a transposed operand is slow); HF divides k by s first.
    const kt = heads(k, [2, 0, 3, 1]).div(scale); // (H, B, d, L)
    const v = heads(p.value.apply(x, training), [2, 0, 1, 3]); // (H, B, L, d)
    let scores = bmm(q, kt).reshape([h, b, l, l]); // (H·B, L, L) -> (H, B, L, L)

    if (p.relative && relEmb && (p.posAtt.c2p || p.posAtt.p2c)) {
      const rel = dropout(relEmb, p.posDropout, training); // HF: pos_dropout once per layer
      const rows = relativeRows(l, p.relative);
      // rel rows [2L, hidden] -> projected per head, transposed: (H, d, 2L)
      const posT = (proj: Linear, idx: Int32Array) =>
        proj.apply(tf.gather(rel, tf.tensor1d(idx, 'int32')), training).reshape([2 * l, h, d]).transpose([1, 2, 0]);
      // (H, B·L, d) x (H, d, 2L) -> the score of every row against every distance, then shifted.
      const table = (content: tf.Tensor, pos: tf.Tensor) =>
        relativeShift(bmm(content.reshape([h, b * l, d]), pos).reshape([h * b, l, 2 * l]) as tf.Tensor3D);
      const terms: tf.Tensor[] = []; // HF: score = c2p / s, then += p2c / s
      if (p.posAtt.c2p) {
        const c2p = table(q, posT(p.posKey, rows.c2p)).reshape([h, b, l, l]); // [i, j]
        terms.push(c2p.div(scale));
      }
      if (p.posAtt.p2c) {
        const kh = heads(k, [2, 0, 1, 3]); // (H, B, L, d)
        const p2c = table(kh, posT(p.posQuery, rows.p2c)).transpose([0, 2, 1]).reshape([h, b, l, l]); // [j, i] -> [i, j]
        terms.push(p2c.div(scale));
      }
      scores = scores.add(terms.length === 2 ? terms[0].add(terms[1]) : terms[0]);
    }

    // HF's masked_fill as scores · keep + fill: the same values and gradient (0 where masked) for
    // finite scores, without the two Tiles tf.where makes to broadcast mask and scalar (on wasm
    // ≈ 0.2 s of a layer's 0.9 s forward + backward at B 8, L 128, 12 heads).
    const keep = mask.toFloat(); // (1, B, L, L): 1 attended, 0 masked
    const masked = scores.mul(keep).add(tf.sub(1, keep).mul(FLOAT32_MIN)); // (H, B, L, L)
    const probs = dropout(tf.softmax(masked, -1), p.attentionDropout, training); // (H, B, L, L)
    const ctx = bmm(probs, v).reshape([h, b, l, d]); // (H·B, L, d) -> (H, B, L, d)
    return ctx.transpose([1, 2, 0, 3]).reshape([b, l, h * d]) as tf.Tensor3D; // (B, L, H·d)
  });
}
