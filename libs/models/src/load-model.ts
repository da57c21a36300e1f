import { createHash } from 'node:crypto';
import path from 'node:path';
import { buildBert, buildBertForQuestionAnswering } from './bert';
import type { EncoderModel, QaModel } from './encoder-model';
import { HfConfig } from './hf-config';
import { parseSafetensors, type SafeTensor } from './safetensors';
import { WeightStore, type MismatchedWeight, type WeightStoreOptions } from './weights';
import { readFileBytes, readOptionalFileBytes } from './checkpoint-files';
import { parseJsonObject } from './json-object';

/** The HF `model_type`s {@link loadEncoder} can build. */
export const SUPPORTED_MODEL_TYPES: readonly SupportedModelType[] = ['bert', 'roberta', 'deberta-v2'];
export type SupportedModelType = 'bert' | 'roberta' | 'deberta-v2';

/** Options of {@link loadEncoder}. */
export interface LoadEncoderOptions {
  /** Overrides the checkpoint's label count (e.g. a pretrained base fine-tuned for 3 classes). */
  readonly numLabels?: number;
  /**
   * Seed to create a classification head (and BERT pooler) that the checkpoint lacks, as HF
   * does for a base checkpoint; without it a missing head is an error. Same seed, same head.
   */
  readonly headSeed?: number;
  /**
   * A checkpoint whose head has another label count than `numLabels` gets a new head from
   * `headSeed` (HF's `ignore_mismatched_sizes`), listed in `mismatchedWeights`; without it such
   * a checkpoint is an error naming both shapes.
   */
  readonly reinitHead?: boolean;
}

/** A loaded checkpoint. */
export interface LoadedEncoder {
  readonly model: EncoderModel;
  readonly config: HfConfig;
  /**
   * Run identity: sha256 (hex) of config.json's bytes followed by every safetensors file's
   * bytes (the single file, or the shards in sorted file-name order).
   */
  readonly hash: string;
  /** Checkpoint tensors the model did not use (e.g. an MLM head), as HF's "unexpected keys". */
  readonly unusedWeights: readonly string[];
  /** Weights the model created because the checkpoint lacked them (needs `headSeed`). */
  readonly initialisedWeights: readonly string[];
  /** Head weights created anew because the checkpoint's had another shape (`reinitHead`). */
  readonly mismatchedWeights: readonly MismatchedWeight[];
}

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

/**
 * Loads an HF `save_pretrained` directory: `config.json` and `model.safetensors`, or the
 * shards listed by `model.safetensors.index.json`. Dispatches on `model_type`.
 * Every missing or corrupt file fails with an error that names its path.
 */
export async function loadEncoder(dir: string, options: LoadEncoderOptions = {}): Promise<LoadedEncoder> {
  // Option and config faults are reported before any weight is read.
  const { config, modelType, weights, hash } = await readCheckpoint(dir, { initSeed: options.headSeed, reinitMismatched: options.reinitHead }, (stored, configPath) => {
    let cfg = stored;
    if (options.numLabels !== undefined) {
      if (!Number.isInteger(options.numLabels) || options.numLabels < 1) throw new Error(`loadEncoder: numLabels must be a positive integer, got ${options.numLabels}`);
      cfg = new HfConfig({ ...cfg.raw, num_labels: options.numLabels }, configPath);
    }
    if (cfg.raw['problem_type'] === 'multi_label_classification') {
      throw new Error(`${configPath}: problem_type 'multi_label_classification' is not supported (only single-label classification and regression)`);
    }
    return cfg;
  });
  const model = (await builders(modelType)).classification(config, weights);
  return { model, config, hash, unusedWeights: weights.unused(), initialisedWeights: weights.initialised(), mismatchedWeights: weights.mismatched() };
}

/** Options of {@link loadQaModel}. */
export interface LoadQaModelOptions {
  /**
   * Seed to create `qa_outputs` when the checkpoint lacks it (a base model to fine-tune for QA),
   * as HF does; without it a missing head is an error. Same seed, same head.
   */
  readonly headSeed?: number;
}

/** A loaded extractive-QA model: the same record as {@link LoadedEncoder} with a {@link QaModel}. */
export interface LoadedQaModel extends Omit<LoadedEncoder, 'model' | 'mismatchedWeights'> {
  readonly model: QaModel;
}

/**
 * Loads an HF checkpoint directory (as {@link loadEncoder}) as `*ForQuestionAnswering`: the
 * encoder without a pooler and the `qa_outputs` head (start/end logits per token). A
 * classification checkpoint's pooler and classifier are left unused (listed in `unusedWeights`).
 */
export async function loadQaModel(dir: string, options: LoadQaModelOptions = {}): Promise<LoadedQaModel> {
  const { config, modelType, weights, hash } = await readCheckpoint(dir, { initSeed: options.headSeed });
  const model = (await builders(modelType)).qa(config, weights);
  return { model, config, hash, unusedWeights: weights.unused(), initialisedWeights: weights.initialised() };
}

/** The model builders of one architecture, by head. */
interface Builders {
  classification(config: HfConfig, weights: WeightStore): EncoderModel;
  qa(config: HfConfig, weights: WeightStore): QaModel;
}

// DeBERTa's code is loaded on demand: BERT-family runs never need it.
async function builders(modelType: SupportedModelType): Promise<Builders> {
  switch (modelType) {
    case 'bert':
    case 'roberta':
      return { classification: (c, w) => buildBert(c, w, modelType), qa: (c, w) => buildBertForQuestionAnswering(c, w, modelType) };
    case 'deberta-v2': {
      const { buildDebertaV2, buildDebertaV2ForQuestionAnswering } = await import('./deberta-v2');
      return { classification: buildDebertaV2, qa: buildDebertaV2ForQuestionAnswering };
    }
    default:
      throw new Error(`unreachable: model_type ${modelType satisfies never}`);
  }
}

// config.json (model_type checked) and the weights, hashed as the run identity.
// `prepare` checks (or edits) the config before the weights are read.
async function readCheckpoint(
  dir: string,
  storeOptions: WeightStoreOptions,
  prepare: (config: HfConfig, configPath: string) => HfConfig = (c) => c,
): Promise<{ config: HfConfig; modelType: SupportedModelType; weights: WeightStore; hash: string }> {
  const hash = createHash('sha256');
  const configPath = path.join(dir, 'config.json');
  const configBytes = await readFileBytes(configPath);
  hash.update(configBytes);
  const config = HfConfig.parse(new TextDecoder().decode(configBytes), configPath);
  const modelType = config.string('model_type') as SupportedModelType;
  if (!SUPPORTED_MODEL_TYPES.includes(modelType)) {
    throw new Error(`${configPath}: model_type '${modelType}' is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  const prepared = prepare(config, configPath);
  const { tensors, source } = await readCheckpointTensors(dir, (bytes) => hash.update(bytes));
  return { config: prepared, modelType, weights: new WeightStore(tensors, source, storeOptions), hash: hash.digest('hex') };
}

/**
 * A checkpoint folder's float tensors: `model.safetensors`, else the shards its
 * `model.safetensors.index.json` lists; each file's bytes go to `onBytes` in that order (the run
 * identity hashes them). Errors name the file at fault.
 */
export async function readCheckpointTensors(dir: string, onBytes: (bytes: Uint8Array) => void = () => {}): Promise<{ tensors: Map<string, SafeTensor>; source: string }> {
  const singlePath = path.join(dir, SINGLE);
  const indexPath = path.join(dir, INDEX);
  const single = await readOptionalFileBytes(singlePath);
  if (single) {
    onBytes(single);
    return { tensors: parseSafetensors(single, singlePath, { nonFloat: 'skip' }), source: singlePath };
  }
  const indexBytes = await readOptionalFileBytes(indexPath);
  if (!indexBytes) throw new Error(`${dir}: no weights found: neither ${singlePath} nor ${indexPath} exists`);
  const weightMap = parseIndex(indexBytes, indexPath);
  const shards = [...new Set(weightMap.values())].sort();
  const tensors = new Map<string, SafeTensor>();
  const origin = new Map<string, string>();
  for (const shard of shards) {
    const shardPath = path.join(dir, shard);
    const bytes = await readFileBytes(shardPath);
    onBytes(bytes);
    for (const [name, t] of parseSafetensors(bytes, shardPath, { nonFloat: 'skip' })) {
      if (origin.has(name)) throw new Error(`${shardPath}: tensor '${name}' is also in ${origin.get(name)}`);
      origin.set(name, shard);
      tensors.set(name, t);
    }
  }
  for (const [name, shard] of weightMap) {
    // an int64 buffer left out by the parser is no loss; a float tensor missing is.
    if (origin.get(name) !== shard && origin.has(name)) throw new Error(`${indexPath}: weight_map puts '${name}' in ${shard} but it is in ${origin.get(name)}`);
  }
  return { tensors, source: indexPath };
}

// weight_map: tensor name -> shard file name (a plain file beside the index).
function parseIndex(bytes: Uint8Array, indexPath: string): Map<string, string> {
  const wm = parseJsonObject(bytes, indexPath).weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new Error(`${indexPath}: expected an object with a 'weight_map' object`);
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(wm)) {
    if (typeof shard !== 'string' || shard === '' || shard !== path.basename(shard) || shard === '..' || shard === '.') {
      throw new Error(`${indexPath}: weight_map['${name}'] must be a shard file name in the same folder, got ${JSON.stringify(shard)}`);
    }
    out.set(name, shard);
  }
  if (out.size === 0) throw new Error(`${indexPath}: weight_map is empty`);
  return out;
}

