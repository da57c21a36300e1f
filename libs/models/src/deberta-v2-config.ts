import type { HfConfig } from './hf-config';
import { activation } from './ops';

/** Which disentangled terms are added to the content attention (HF `pos_att_type`). */
export interface PositionAttention {
  readonly c2p: boolean; // content -> position
  readonly p2c: boolean; // position -> content
}

/** How relative distances map to rows of `rel_embeddings` (HF encoder and attention). */
export interface RelativePositions {
  /** Log buckets per side (`position_buckets`); ≤ 0 means plain clamped distances. */
  readonly buckets: number;
  /** `max_relative_positions`, with HF's "< 1 means max_position_embeddings" resolved. */
  readonly maxRelative: number;
  /** att_span = pos_ebd_size: buckets when bucketed, else maxRelative; the table has 2·span rows. */
  readonly span: number;
}

/** The DeBERTa-v2/v3 settings the TF.js model reproduces, read once from `config.json`. */
export interface DebertaV2Options {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly embeddingSize: number; // != hiddenSize adds embeddings.embed_proj
  readonly numLayers: number;
  readonly numHeads: number;
  readonly headSize: number; // attention_head_size, default hidden / heads
  readonly intermediateSize: number;
  readonly hiddenAct: string;
  readonly layerNormEps: number;
  readonly maxPositions: number; // max_position_embeddings
  readonly typeVocabSize: number; // 0: no token type embeddings
  readonly positionBiasedInput: boolean; // absolute position embeddings added to the input
  /** null when `relative_attention` is false (plain scaled content attention). */
  readonly relative: RelativePositions | null;
  readonly posAtt: PositionAttention;
  readonly shareAttKey: boolean; // positions projected by query_proj/key_proj themselves
  readonly normRelEmbedding: boolean; // norm_rel_ebd contains 'layer_norm'
  /** The encoder's ConvLayer after layer 0 (`conv_kernel_size` > 0), else null. */
  readonly conv: { readonly kernelSize: number; readonly act: string } | null;
  readonly poolerAct: string;
  readonly hiddenDropout: number;
  readonly attentionDropout: number;
  readonly poolerDropout: number;
  readonly classifierDropout: number; // cls_dropout ?? hidden_dropout_prob
  readonly initializerRange: number;
  readonly numLabels: number;
}

/**
 * Reads and checks a `deberta-v2` config with the defaults of transformers'
 * DebertaV2Config; anything the model cannot reproduce fails here, naming the field.
 */
export function parseDebertaV2Config(cfg: HfConfig): DebertaV2Options {
  const fail = (field: string, why: string): never => {
    throw new Error(`${cfg.source}: field '${field}' ${why}`);
  };
  const positive = (field: string, fallback?: number): number => {
    const v = cfg.integer(field, fallback);
    if (v < 1) fail(field, `must be a positive integer, got ${v}`);
    return v;
  };
  const rate = (field: string, fallback: number): number => {
    const v = cfg.number(field, fallback);
    if (!(v >= 0 && v < 1)) fail(field, `must be a dropout rate in [0, 1), got ${v}`);
    return v;
  };
  const act = (field: string, fallback: string): string => {
    const name = cfg.string(field, fallback);
    try {
      activation(name);
    } catch (e) {
      fail(field, `names an unsupported activation (${(e as Error).message})`);
    }
    return name;
  };

  const hiddenSize = positive('hidden_size', 1536);
  const numHeads = positive('num_attention_heads', 24);
  if (!cfg.has('attention_head_size') && hiddenSize % numHeads !== 0) {
    fail('num_attention_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`);
  }
  const headSize = positive('attention_head_size', hiddenSize / numHeads);
  const maxPositions = positive('max_position_embeddings', 512);

  const posAttList = cfg.stringList('pos_att_type', []).map((s) => s.toLowerCase());
  for (const kind of posAttList) {
    if (kind !== 'c2p' && kind !== 'p2c') fail('pos_att_type', `contains '${kind}'; supported terms are 'c2p' and 'p2c'`);
  }
  const posAtt = { c2p: posAttList.includes('c2p'), p2c: posAttList.includes('p2c') };

  let relative: RelativePositions | null = null;
  if (cfg.boolean('relative_attention', false)) {
    const maxRel = cfg.integer('max_relative_positions', -1);
    const maxRelative = maxRel < 1 ? maxPositions : maxRel;
    const buckets = cfg.integer('position_buckets', -1);
    if (buckets > 0 && buckets < 4) fail('position_buckets', `must be at least 4 for log buckets, got ${buckets}`);
    if (buckets > 0 && maxRelative - 1 <= Math.floor(buckets / 2)) {
      fail('max_relative_positions', `(${maxRelative}) must exceed position_buckets / 2 + 1 (${Math.floor(buckets / 2) + 1}) for log buckets`);
    }
    relative = { buckets, maxRelative, span: buckets > 0 ? buckets : maxRelative };
  }

  const norms = cfg.string('norm_rel_ebd', 'none').toLowerCase().split('|').map((s) => s.trim());
  for (const n of norms) {
    if (n !== 'none' && n !== 'layer_norm') fail('norm_rel_ebd', `contains '${n}'; supported: 'none', 'layer_norm'`);
  }

  let conv: DebertaV2Options['conv'] = null;
  const kernelSize = cfg.integer('conv_kernel_size', 0);
  if (kernelSize > 0) {
    if (kernelSize % 2 === 0) fail('conv_kernel_size', `must be odd (HF pads by (k - 1) / 2), got ${kernelSize}`);
    const groups = cfg.integer('conv_groups', 1);
    if (groups !== 1) fail('conv_groups', `must be 1 (grouped convolutions are not supported), got ${groups}`);
    conv = { kernelSize, act: act('conv_act', 'tanh') };
  }

  const poolerHidden = cfg.integer('pooler_hidden_size', hiddenSize);
  if (poolerHidden !== hiddenSize) {
    fail('pooler_hidden_size', `(${poolerHidden}) must equal hidden_size (${hiddenSize}): the pooler reads hidden states and the classifier takes hidden_size inputs`);
  }
  const hiddenDropout = rate('hidden_dropout_prob', 0.1);

  return {
    vocabSize: positive('vocab_size', 128100),
    hiddenSize,
    embeddingSize: positive('embedding_size', hiddenSize),
    numLayers: positive('num_hidden_layers', 24),
    numHeads,
    headSize,
    intermediateSize: positive('intermediate_size', 6144),
    hiddenAct: act('hidden_act', 'gelu'),
    layerNormEps: cfg.number('layer_norm_eps', 1e-7),
    maxPositions,
    typeVocabSize: cfg.integer('type_vocab_size', 0),
    positionBiasedInput: cfg.boolean('position_biased_input', true),
    relative,
    posAtt,
    shareAttKey: cfg.boolean('share_att_key', false),
    normRelEmbedding: norms.includes('layer_norm'),
    conv,
    poolerAct: act('pooler_hidden_act', 'gelu'),
    hiddenDropout,
    attentionDropout: rate('attention_probs_dropout_prob', 0.1),
    poolerDropout: rate('pooler_dropout', 0),
    classifierDropout: rate('cls_dropout', hiddenDropout),
    initializerRange: cfg.number('initializer_range', 0.02),
    numLabels: cfg.numLabels(),
  };
}
