import * as tf from '@tensorflow/tfjs';
import { moduleId, type ModuleId } from '@adalora/core';
import { additiveAttentionMask, multiHeadAttention } from './attention';
import { bertClassifier, robertaClassificationHead, type ClassificationHead } from './classification-head';
import type { EncoderInputs, EncoderModel, EncoderOutput, QaModel } from './encoder-model';
import type { HfConfig } from './hf-config';
import { Linear } from './linear';
import { activation, dropout, embed, layerNorm } from './ops';
import { qaOutputsHead, type QaHead } from './qa-head';
import { questionAnsweringModel } from './qa-model';
import type { WeightStore } from './weights';

/** The config values a BERT-family encoder reads, with HF's defaults. */
interface BertDims {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly act: (x: tf.Tensor) => tf.Tensor;
  readonly layerNormEps: number;
  readonly maxPositions: number;
  readonly typeVocabSize: number;
  readonly padTokenId: number;
  readonly hiddenDropout: number;
  readonly attentionDropout: number;
}

type LayerNormParams = readonly [gamma: tf.Tensor1D, beta: tf.Tensor1D];

/** One `BertLayer`: self-attention, its output projection, and the feed-forward block. */
interface BertLayer {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly attentionOut: Linear;
  readonly attentionNorm: LayerNormParams;
  readonly intermediate: Linear;
  readonly output: Linear;
  readonly outputNorm: LayerNormParams;
}

/**
 * Builds `BertForSequenceClassification` ('bert') or `RobertaForSequenceClassification`
 * ('roberta') from HF config and checkpoint weights, matching transformers 5.17 in eval.
 *
 * Checkpoint names may carry the `bert.`/`roberta.` prefix (what a *ForSequenceClassification
 * saves) or not (a bare BertModel/RobertaModel); module ids always carry it, as peft sees them.
 * A head missing from the checkpoint is created only if the store has an init seed.
 */
export function buildBert(cfg: HfConfig, weights: WeightStore, modelType: 'bert' | 'roberta'): EncoderModel {
  const numLabels = cfg.numLabels();
  if (numLabels < 1) throw new Error(`${cfg.source}: num_labels must be at least 1, got ${numLabels}`);
  const encoder = buildBertEncoder(cfg, weights, modelType);
  const { dims, stored } = encoder;
  const linears = new Map(encoder.linears);
  const owned: tf.Tensor[] = []; // the pooler's, disposed if building fails half-way
  let head: ClassificationHead | null = null;
  try {
    const H = dims.hiddenSize;
    const headShape = {
      hiddenSize: H,
      numLabels,
      dropout: cfg.number('classifier_dropout', dims.hiddenDropout),
      initializerRange: cfg.number('initializer_range', 0.02),
    };
    let pooler: Linear | null = null;
    if (modelType === 'bert') {
      // The pooler belongs to BertModel: frozen, and an adapter target like any encoder linear.
      // A checkpoint without one (e.g. from BertForMaskedLM) gets a new one, as HF does.
      const init = (name: string, shape: number[], std: number | null): tf.Tensor => {
        const t = weights.takeOrInit(`${stored}${name}`, shape, std === null ? { kind: 'zeros' } : { kind: 'normal', std });
        owned.push(t);
        return t;
      };
      pooler = new Linear(
        moduleId(`${modelType}.pooler.dense`),
        init('pooler.dense.weight', [H, H], headShape.initializerRange) as tf.Tensor2D,
        init('pooler.dense.bias', [H], null) as tf.Tensor1D,
      );
      linears.set(pooler.id, pooler);
      head = bertClassifier(weights, headShape);
    } else {
      head = robertaClassificationHead(weights, headShape);
    }
    return new BertModel(encoder, numLabels, linears, head, pooler);
  } catch (e) {
    owned.forEach((t) => t.dispose());
    head?.dispose();
    encoder.dispose();
    throw e;
  }
}

/**
 * Builds `BertForQuestionAnswering` / `RobertaForQuestionAnswering`: the encoder without a
 * pooler (as HF builds it for QA) and `qa_outputs` on every token. Checkpoint names as
 * {@link buildBert}; `qa_outputs` missing from the checkpoint needs an init seed.
 */
export function buildBertForQuestionAnswering(cfg: HfConfig, weights: WeightStore, modelType: 'bert' | 'roberta'): QaModel {
  const encoder = buildBertEncoder(cfg, weights, modelType);
  let head: QaHead;
  try {
    head = qaOutputsHead(weights, { hiddenSize: encoder.dims.hiddenSize, initializerRange: cfg.number('initializer_range', 0.02) });
  } catch (e) {
    encoder.dispose();
    throw e;
  }
  return questionAnsweringModel(
    { modelType, hiddenSize: encoder.dims.hiddenSize, linears: encoder.linears, hidden: (batch, training) => encoder.hidden(batch, training), dispose: () => encoder.dispose() },
    head,
  );
}

// Embeddings and layers (`BertModel` without its pooler), every linear under its module path.
function buildBertEncoder(cfg: HfConfig, weights: WeightStore, modelType: 'bert' | 'roberta'): BertEncoder {
  const dims = readDims(cfg, modelType);
  const base = modelType; // module-path prefix, as in peft: `bert.encoder.layer.0...`
  const stored = weights.has(`${base}.embeddings.word_embeddings.weight`) ? `${base}.` : weights.has('embeddings.word_embeddings.weight') ? '' : null;
  if (stored === null) {
    throw new Error(`${cfg.source}: the checkpoint has neither '${base}.embeddings.word_embeddings.weight' nor 'embeddings.word_embeddings.weight': not a ${modelType} checkpoint`);
  }

  const owned: tf.Tensor[] = []; // disposed if building fails half-way
  const linears = new Map<ModuleId, Linear>();
  try {
    const take = (name: string, shape: number[]): tf.Tensor => {
      const t = weights.take(`${stored}${name}`, shape);
      owned.push(t);
      return t;
    };
    const H = dims.hiddenSize;
    const norm = (path: string): LayerNormParams => [take(`${path}.weight`, [H]) as tf.Tensor1D, take(`${path}.bias`, [H]) as tf.Tensor1D];
    const linear = (path: string, out: number, inp: number): Linear => {
      const l = new Linear(moduleId(`${base}.${path}`), take(`${path}.weight`, [out, inp]) as tf.Tensor2D, take(`${path}.bias`, [out]) as tf.Tensor1D);
      linears.set(l.id, l);
      return l;
    };

    const wordEmb = take('embeddings.word_embeddings.weight', [dims.vocabSize, H]) as tf.Tensor2D;
    const posEmb = take('embeddings.position_embeddings.weight', [dims.maxPositions, H]) as tf.Tensor2D;
    const typeEmb = take('embeddings.token_type_embeddings.weight', [dims.typeVocabSize, H]) as tf.Tensor2D;
    const embNorm = norm('embeddings.LayerNorm');
    const layers: BertLayer[] = [];
    for (let i = 0; i < dims.numLayers; i++) {
      const p = `encoder.layer.${i}`;
      layers.push({
        query: linear(`${p}.attention.self.query`, H, H),
        key: linear(`${p}.attention.self.key`, H, H),
        value: linear(`${p}.attention.self.value`, H, H),
        attentionOut: linear(`${p}.attention.output.dense`, H, H),
        attentionNorm: norm(`${p}.attention.output.LayerNorm`),
        intermediate: linear(`${p}.intermediate.dense`, dims.intermediateSize, H),
        output: linear(`${p}.output.dense`, H, dims.intermediateSize),
        outputNorm: norm(`${p}.output.LayerNorm`),
      });
    }
    return new BertEncoder(modelType, dims, stored, linears, { wordEmb, posEmb, typeEmb, embNorm }, layers, owned);
  } catch (e) {
    owned.forEach((t) => t.dispose());
    throw e;
  }
}

function readDims(cfg: HfConfig, modelType: 'bert' | 'roberta'): BertDims {
  const posType = cfg.string('position_embedding_type', 'absolute');
  if (posType !== 'absolute') throw new Error(`${cfg.source}: position_embedding_type '${posType}' is not supported (only 'absolute')`);
  if (cfg.boolean('is_decoder', false)) throw new Error(`${cfg.source}: is_decoder is true; only encoders are supported`);
  const dims: BertDims = {
    vocabSize: cfg.integer('vocab_size'),
    hiddenSize: cfg.integer('hidden_size'),
    numLayers: cfg.integer('num_hidden_layers'),
    numHeads: cfg.integer('num_attention_heads'),
    intermediateSize: cfg.integer('intermediate_size'),
    act: activation(cfg.string('hidden_act', 'gelu')),
    layerNormEps: cfg.number('layer_norm_eps', 1e-12),
    maxPositions: cfg.integer('max_position_embeddings', 512),
    typeVocabSize: cfg.integer('type_vocab_size', 2),
    padTokenId: cfg.integer('pad_token_id', modelType === 'roberta' ? 1 : 0),
    hiddenDropout: cfg.number('hidden_dropout_prob', 0.1),
    attentionDropout: cfg.number('attention_probs_dropout_prob', 0.1),
  };
  if (dims.hiddenSize % dims.numHeads !== 0) {
    throw new Error(`${cfg.source}: hidden_size ${dims.hiddenSize} is not a multiple of num_attention_heads ${dims.numHeads}`);
  }
  return dims;
}

interface Embeddings {
  readonly wordEmb: tf.Tensor2D; // [vocab, H]
  readonly posEmb: tf.Tensor2D; // [maxPositions, H]
  readonly typeEmb: tf.Tensor2D; // [typeVocab, H]
  readonly embNorm: LayerNormParams;
}

// Sequence classification: the encoder, then [CLS] / <s> through the pooler (BERT) and the head.
class BertModel implements EncoderModel {
  readonly modelType: 'bert' | 'roberta';
  readonly hiddenSize: number;
  readonly headParams: ReadonlyMap<string, tf.Variable>;

  constructor(
    private readonly encoder: BertEncoder,
    readonly numLabels: number,
    readonly linears: ReadonlyMap<ModuleId, Linear>,
    private readonly head: ClassificationHead,
    private readonly pooler: Linear | null,
  ) {
    this.modelType = encoder.modelType;
    this.hiddenSize = encoder.dims.hiddenSize;
    this.headParams = head.params;
  }

  forward(batch: EncoderInputs, training: boolean): EncoderOutput {
    return tf.tidy(() => {
      const h = this.encoder.hidden(batch, training); // (B, S, H)
      const first = h.slice([0, 0, 0], [-1, 1, -1]).squeeze([1]) as tf.Tensor2D; // (B, H): [CLS] / <s>
      const features = this.pooler ? (tf.tanh(this.pooler.apply(first, training)) as tf.Tensor2D) : first;
      return { lastHiddenState: h, logits: this.head.apply(features, training) };
    });
  }

  dispose(): void {
    this.encoder.dispose();
    this.pooler?.dispose();
    this.head.dispose();
  }
}

// `BertModel` / `RobertaModel` without the pooler: embeddings and layers.
class BertEncoder {
  constructor(
    readonly modelType: 'bert' | 'roberta',
    readonly dims: BertDims,
    /** The checkpoint's name prefix: `bert.` / `roberta.`, or '' for a bare model. */
    readonly stored: string,
    readonly linears: ReadonlyMap<ModuleId, Linear>,
    private readonly emb: Embeddings,
    private readonly layers: readonly BertLayer[],
    private readonly owned: readonly tf.Tensor[],
  ) {}

  /** last_hidden_state (B, S, H); checks the batch first (throwing inside a tidy frees its tensors). */
  hidden(batch: EncoderInputs, training: boolean): tf.Tensor3D {
    this.check(batch);
    const maskAdd = additiveAttentionMask(batch.attentionMask); // (B, 1, 1, S)
    let h = this.embed(batch, training); // (B, S, H)
    for (const layer of this.layers) h = this.layer(layer, h, maskAdd, training);
    return h as tf.Tensor3D;
  }

  dispose(): void {
    this.owned.forEach((t) => t.dispose());
    // Linears own what they derived (Wᵀ, a merged W); tfjs ignores a second dispose of W.
    this.linears.forEach((l) => l.dispose());
  }

  // word + token type + position embeddings, then LayerNorm and dropout (BertEmbeddings).
  private embed(batch: EncoderInputs, training: boolean): tf.Tensor {
    const [b, s] = batch.inputIds.shape;
    const types = batch.tokenTypeIds ?? tf.zeros([b, s], 'int32');
    const x = embed(this.emb.wordEmb, batch.inputIds).add(embed(this.emb.typeEmb, types)).add(embed(this.emb.posEmb, this.positionIds(batch.inputIds)));
    return dropout(layerNorm(x, ...this.emb.embNorm, this.dims.layerNormEps), this.dims.hiddenDropout, training);
  }

  // BERT: 0..S-1. RoBERTa (create_position_ids_from_input_ids): padding_idx + running count of
  // non-pad ids, and padding_idx itself at pad ids; it looks at the ids, not the attention mask.
  private positionIds(ids: tf.Tensor2D): tf.Tensor {
    const [, s] = ids.shape;
    if (this.modelType === 'bert') return tf.range(0, s, 1, 'int32').reshape([1, s]);
    const notPad = tf.notEqual(ids, this.dims.padTokenId).toInt(); // (B, S)
    return tf.cumsum(notPad, 1).mul(notPad).add(this.dims.padTokenId);
  }

  private layer(l: BertLayer, h: tf.Tensor, maskAdd: tf.Tensor4D, training: boolean): tf.Tensor {
    const { act, layerNormEps: eps, hiddenDropout: p } = this.dims;
    const ctx = multiHeadAttention(l.query.apply(h, training), l.key.apply(h, training), l.value.apply(h, training), maskAdd, this.dims.numHeads, this.dims.attentionDropout, training);
    const a = layerNorm(dropout(l.attentionOut.apply(ctx, training), p, training).add(h), ...l.attentionNorm, eps); // (B, S, H)
    const inter = act(l.intermediate.apply(a, training)); // (B, S, I)
    return layerNorm(dropout(l.output.apply(inter, training), p, training).add(a), ...l.outputNorm, eps); // (B, S, H)
  }

  // Shapes, dtypes and id ranges, checked before any kernel runs: an id past the table would
  // read zeros (or garbage) silently on some backends instead of failing.
  private check(batch: EncoderInputs): void {
    const { inputIds, attentionMask, tokenTypeIds } = batch;
    const where = `${this.modelType} forward`;
    if (inputIds.rank !== 2 || inputIds.dtype !== 'int32') throw new Error(`${where}: inputIds must be int32 [batch, seq], got ${inputIds.dtype} [${inputIds.shape}]`);
    const [b, s] = inputIds.shape;
    for (const [name, t] of [['attentionMask', attentionMask], ['tokenTypeIds', tokenTypeIds]] as const) {
      if (t && (t.dtype !== 'int32' || t.rank !== 2 || t.shape[0] !== b || t.shape[1] !== s)) {
        throw new Error(`${where}: ${name} must be int32 [${b}, ${s}] like inputIds, got ${t.dtype} [${t.shape}]`);
      }
    }
    // RoBERTa positions run from pad+1 to pad+S.
    const maxSeq = this.modelType === 'roberta' ? this.dims.maxPositions - this.dims.padTokenId - 1 : this.dims.maxPositions;
    if (s > maxSeq) throw new Error(`${where}: sequence length ${s} exceeds the ${maxSeq} positions this model has (max_position_embeddings ${this.dims.maxPositions})`);
    checkRange(where, 'inputIds', inputIds, this.dims.vocabSize, 'vocab_size');
    if (tokenTypeIds) checkRange(where, 'tokenTypeIds', tokenTypeIds, this.dims.typeVocabSize, 'type_vocab_size');
  }
}

function checkRange(where: string, name: string, t: tf.Tensor, size: number, field: string): void {
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (data[i] < 0 || data[i] >= size) throw new Error(`${where}: ${name} holds ${data[i]}, outside [0, ${size}) (${field})`);
  }
}
