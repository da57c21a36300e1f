import * as tf from '@tensorflow/tfjs';
import { moduleId, type ModuleId } from '@adalora/core';
import { bertClassifier } from './classification-head';
import { disentangledSelfAttention, type DisentangledAttentionParams } from './deberta-v2-attention';
import { parseDebertaV2Config } from './deberta-v2-config';
import { debertaConvLayer, type ConvLayerParams } from './deberta-v2-conv';
import type { EncoderInputs, EncoderModel, EncoderOutput, QaModel } from './encoder-model';
import type { HfConfig } from './hf-config';
import { Linear } from './linear';
import { activation, dropout, embed, layerNorm } from './ops';
import { qaOutputsHead, type QaHead } from './qa-head';
import { questionAnsweringModel } from './qa-model';
import type { WeightStore } from './weights';

interface Norm {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
}

interface Layer {
  readonly attention: DisentangledAttentionParams;
  readonly attnOut: Linear; // attention.output.dense
  readonly attnNorm: Norm; // attention.output.LayerNorm
  readonly intermediate: Linear; // intermediate.dense
  readonly output: Linear; // output.dense
  readonly outNorm: Norm; // output.LayerNorm
}

// `DebertaV2Model`: embeddings, layers (and the ConvLayer), relative attention; no pooler.
function buildDebertaV2Encoder(cfg: HfConfig, weights: WeightStore): DebertaV2Encoder {
  const o = parseDebertaV2Config(cfg);
  const owned: tf.Tensor[] = []; // frozen tensors outside the Linears (which free their own)
  const linears = new Map<ModuleId, Linear>();
  // Checkpoints saved from the bare DebertaV2Model lack the `deberta.` prefix; HF accepts both.
  const bare = !weights.has('deberta.embeddings.word_embeddings.weight') && weights.has('embeddings.word_embeddings.weight');
  const prefix = bare ? '' : 'deberta.';

  const take = (name: string, shape: number[]): tf.Tensor => {
    const t = weights.take(prefix + name, shape);
    owned.push(t);
    return t;
  };
  const norm = (name: string): Norm => ({
    gamma: take(`${name}.weight`, [o.hiddenSize]) as tf.Tensor1D,
    beta: take(`${name}.bias`, [o.hiddenSize]) as tf.Tensor1D,
  });
  // A Linear from two weight readers; it owns (and frees) its tensors from then on.
  const addLinear = (id: string, readW: () => tf.Tensor, readB: (() => tf.Tensor) | null): Linear => {
    const w = readW() as tf.Tensor2D;
    let b: tf.Tensor1D | null = null;
    try {
      b = readB ? (readB() as tf.Tensor1D) : null;
    } catch (e) {
      w.dispose();
      throw e;
    }
    const l = new Linear(moduleId(id), w, b);
    linears.set(l.id, l);
    return l;
  };
  // An encoder linear: HF path under the (possibly absent) `deberta.` prefix, id always with it.
  const linear = (path: string, out: number, inp: number, bias = true): Linear =>
    addLinear(`deberta.${path}`, () => weights.take(`${prefix}${path}.weight`, [out, inp]), bias ? () => weights.take(`${prefix}${path}.bias`, [out]) : null);
  const disposeAll = () => {
    owned.forEach((t) => t.dispose());
    linears.forEach((l) => l.dispose());
  };

  try {
    const H = o.hiddenSize;
    const E = o.embeddingSize;
    const allHead = o.numHeads * o.headSize;
    const wordEmb = take('embeddings.word_embeddings.weight', [o.vocabSize, E]) as tf.Tensor2D;
    const posEmb = o.positionBiasedInput ? (take('embeddings.position_embeddings.weight', [o.maxPositions, E]) as tf.Tensor2D) : null;
    const typeEmb = o.typeVocabSize > 0 ? (take('embeddings.token_type_embeddings.weight', [o.typeVocabSize, E]) as tf.Tensor2D) : null;
    const embedProj = E !== H ? linear('embeddings.embed_proj', H, E, false) : null;
    const embNorm = norm('embeddings.LayerNorm');

    // rel_embeddings are frozen, so their LayerNorm (HF: once per forward) is done once here.
    let relEmb: tf.Tensor2D | null = null;
    if (o.relative) {
      const table = take('encoder.rel_embeddings.weight', [2 * o.relative.span, H]) as tf.Tensor2D;
      if (o.normRelEmbedding) {
        const n = norm('encoder.LayerNorm');
        relEmb = layerNorm(table, n.gamma, n.beta, o.layerNormEps) as tf.Tensor2D;
        owned.push(relEmb);
      } else {
        relEmb = table;
      }
    }

    const layers: Layer[] = [];
    for (let i = 0; i < o.numLayers; i++) {
      const p = `encoder.layer.${i}`;
      const query = linear(`${p}.attention.self.query_proj`, allHead, H);
      const key = linear(`${p}.attention.self.key_proj`, allHead, H);
      const value = linear(`${p}.attention.self.value_proj`, allHead, H);
      const separate = o.relative !== null && !o.shareAttKey;
      layers.push({
        attention: {
          query,
          key,
          value,
          posKey: separate && o.posAtt.c2p ? linear(`${p}.attention.self.pos_key_proj`, allHead, H) : key,
          posQuery: separate && o.posAtt.p2c ? linear(`${p}.attention.self.pos_query_proj`, allHead, H) : query,
          numHeads: o.numHeads,
          headSize: o.headSize,
          posAtt: o.posAtt,
          relative: o.relative,
          attentionDropout: o.attentionDropout,
          posDropout: o.hiddenDropout,
        },
        attnOut: linear(`${p}.attention.output.dense`, H, allHead),
        attnNorm: norm(`${p}.attention.output.LayerNorm`),
        intermediate: linear(`${p}.intermediate.dense`, o.intermediateSize, H),
        output: linear(`${p}.output.dense`, H, o.intermediateSize),
        outNorm: norm(`${p}.output.LayerNorm`),
      });
    }

    let conv: ConvLayerParams | null = null;
    if (o.conv) {
      const n = norm('encoder.conv.LayerNorm');
      conv = {
        // torch Conv1d weight [out, in, k] -> tf.conv1d filter [k, in, out]
        filter: owning(owned, transposed(weights.take(`${prefix}encoder.conv.conv.weight`, [H, H, o.conv.kernelSize]), [2, 1, 0]) as tf.Tensor3D),
        bias: take('encoder.conv.conv.bias', [H]) as tf.Tensor1D,
        gamma: n.gamma,
        beta: n.beta,
        eps: o.layerNormEps,
        act: activation(o.conv.act),
        dropout: o.hiddenDropout,
      };
    }

    const hiddenAct = activation(o.hiddenAct);

    const embeddings = (batch: EncoderInputs, maskF: tf.Tensor2D, training: boolean): tf.Tensor3D => {
      const [b, l] = batch.inputIds.shape;
      let e = embed(wordEmb, batch.inputIds); // (B, L, E)
      if (posEmb) {
        if (l > o.maxPositions) throw new Error(`deberta-v2: sequence length ${l} exceeds max_position_embeddings ${o.maxPositions}`);
        e = e.add(posEmb.slice([0, 0], [l, E])); // position_ids = 0..L-1
      }
      if (typeEmb) e = e.add(embed(typeEmb, batch.tokenTypeIds ?? tf.zeros([b, l], 'int32')));
      if (embedProj) e = embedProj.apply(e, training);
      e = layerNorm(e, embNorm.gamma, embNorm.beta, o.layerNormEps);
      return dropout(e.mul(maskF.expandDims(2)), o.hiddenDropout, training) as tf.Tensor3D; // padding rows zeroed
    };

    const layerForward = (layer: Layer, x: tf.Tensor3D, mask: tf.Tensor4D, training: boolean): tf.Tensor3D => {
      const ctx = disentangledSelfAttention(layer.attention, x, relEmb, mask, training);
      const a = layerNorm(dropout(layer.attnOut.apply(ctx, training), o.hiddenDropout, training).add(x), layer.attnNorm.gamma, layer.attnNorm.beta, o.layerNormEps);
      const inter = hiddenAct(layer.intermediate.apply(a, training));
      const out = dropout(layer.output.apply(inter, training), o.hiddenDropout, training).add(a);
      return layerNorm(out, layer.outNorm.gamma, layer.outNorm.beta, o.layerNormEps) as tf.Tensor3D;
    };

    // last_hidden_state (B, L, H), computed inside the caller's tidy.
    const hidden = (batch: EncoderInputs, training: boolean): tf.Tensor3D => {
      checkBatch(batch);
      const [b, l] = batch.inputIds.shape;
      const maskF = batch.attentionMask.toFloat() as tf.Tensor2D; // (B, L)
      // HF get_attention_mask: mask_i · mask_j, so padding rows are fully masked too.
      const mask = maskF.reshape([1, b, l, 1]).mul(maskF.reshape([1, b, 1, l])).greater(0) as tf.Tensor4D; // (1, B, L, L)
      const emb = embeddings(batch, maskF, training);
      let x = emb;
      layers.forEach((layer, i) => {
        x = layerForward(layer, x, mask, training);
        if (i === 0 && conv) x = debertaConvLayer(conv, emb, x, maskF, training); // HF: after layer 0 only
      });
      return x;
    };
    return { o, linears, hidden, dispose: disposeAll };
  } catch (e) {
    disposeAll();
    throw e;
  }
}

/**
 * HF `DebertaV2ForSequenceClassification` (DeBERTa-v2 and -v3) in TF.js, matching
 * transformers 5.x: embeddings (masked by the attention mask), disentangled relative attention
 * (log-bucketed positions, c2p/p2c terms, shared or separate position projections), the
 * optional ConvLayer after layer 0, ContextPooler (first token, dense, activation), and the
 * classifier. Every linear layer is a {@link Linear} under its HF module path
 * (`deberta.encoder.layer.0.attention.self.query_proj`, …, `pooler.dense`); only
 * `classifier.weight|bias` train. A checkpoint without pooler or classifier gets them
 * initialised as HF does when the WeightStore has an init seed.
 */
export function buildDebertaV2(cfg: HfConfig, weights: WeightStore): EncoderModel {
  const encoder = buildDebertaV2Encoder(cfg, weights);
  const { o } = encoder;
  const H = o.hiddenSize;
  const linears = new Map(encoder.linears);
  let pooler: Linear | null = null;
  try {
    // The pooler is frozen (peft leaves it out of modules_to_save); a base checkpoint lacks it,
    // so HF initialises it: weight ~ N(0, initializer_range²), bias 0.
    const w = weights.takeOrInit('pooler.dense.weight', [H, H], { kind: 'normal', std: o.initializerRange }) as tf.Tensor2D;
    let b: tf.Tensor1D;
    try {
      b = weights.takeOrInit('pooler.dense.bias', [H], { kind: 'zeros' }) as tf.Tensor1D;
    } catch (e) {
      w.dispose();
      throw e;
    }
    const dense = new Linear(moduleId('pooler.dense'), w, b);
    pooler = dense;
    linears.set(dense.id, dense);
    const poolerAct = activation(o.poolerAct);
    const head = bertClassifier(weights, { hiddenSize: H, numLabels: o.numLabels, dropout: o.classifierDropout, initializerRange: o.initializerRange });
    const forward = (batch: EncoderInputs, training: boolean): EncoderOutput =>
      tf.tidy(() => {
        const x = encoder.hidden(batch, training); // (B, L, H)
        const [b] = batch.inputIds.shape;
        const first = x.slice([0, 0, 0], [b, 1, H]).reshape([b, H]); // ContextPooler: token 0
        const pooled = poolerAct(dense.apply(dropout(first, o.poolerDropout, training), training)) as tf.Tensor2D;
        return { lastHiddenState: x, logits: head.apply(pooled, training) };
      });
    return {
      modelType: 'deberta-v2',
      numLabels: o.numLabels,
      hiddenSize: H,
      linears,
      headParams: head.params,
      forward,
      dispose() {
        encoder.dispose();
        dense.dispose();
        head.dispose();
      },
    };
  } catch (e) {
    pooler?.dispose();
    encoder.dispose();
    throw e;
  }
}

/**
 * HF `DebertaV2ForQuestionAnswering` (DeBERTa-v2 and -v3): the encoder, without a pooler, and
 * `qa_outputs` on every token. Checkpoint names as {@link buildDebertaV2}; `qa_outputs`
 * missing from the checkpoint needs an init seed.
 */
export function buildDebertaV2ForQuestionAnswering(cfg: HfConfig, weights: WeightStore): QaModel {
  const encoder = buildDebertaV2Encoder(cfg, weights);
  let head: QaHead;
  try {
    head = qaOutputsHead(weights, { hiddenSize: encoder.o.hiddenSize, initializerRange: encoder.o.initializerRange });
  } catch (e) {
    encoder.dispose();
    throw e;
  }
  return questionAnsweringModel({ modelType: 'deberta-v2', hiddenSize: encoder.o.hiddenSize, linears: encoder.linears, hidden: encoder.hidden, dispose: encoder.dispose }, head);
}

interface DebertaV2Encoder {
  readonly o: ReturnType<typeof parseDebertaV2Config>;
  readonly linears: ReadonlyMap<ModuleId, Linear>;
  hidden(batch: EncoderInputs, training: boolean): tf.Tensor3D;
  dispose(): void;
}

// t transposed into a new tensor; t itself is freed.
function transposed(t: tf.Tensor, perm: number[]): tf.Tensor {
  const out = t.transpose(perm);
  t.dispose();
  return out;
}

function owning<T extends tf.Tensor>(owned: tf.Tensor[], t: T): T {
  owned.push(t);
  return t;
}

function checkBatch(batch: EncoderInputs): void {
  const { inputIds, attentionMask, tokenTypeIds } = batch;
  if (inputIds.rank !== 2) throw new Error(`deberta-v2: inputIds must be [batch, seq], got [${inputIds.shape}]`);
  const same = (t: tf.Tensor) => t.rank === 2 && t.shape[0] === inputIds.shape[0] && t.shape[1] === inputIds.shape[1];
  if (!same(attentionMask)) throw new Error(`deberta-v2: attentionMask has shape [${attentionMask.shape}], expected [${inputIds.shape}]`);
  if (tokenTypeIds && !same(tokenTypeIds)) throw new Error(`deberta-v2: tokenTypeIds has shape [${tokenTypeIds.shape}], expected [${inputIds.shape}]`);
}
