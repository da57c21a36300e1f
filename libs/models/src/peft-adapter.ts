import * as tf from '@tensorflow/tfjs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AdaLoraConfig } from '@adalora/config';
import {
  adapterKey,
  checkTensorSet,
  fromPeftAdapterConfig,
  matchesTarget,
  parseTrainableKey,
  TensorSetError,
  toPeftAdapterConfig,
  type ModuleId,
  type SvdAdapter,
  type TrainableKey,
} from '@adalora/core';
import type { TaskModel } from './encoder-model';
import { collectTrainables, injectAdapters, type InjectedAdapters } from './inject-adapters';
import { parsePeftTensorName, peftTensorName, PEFT_PREFIX } from './peft-tensor-name';
import { encodeSafetensors, parseSafetensors, readSafetensors, type SafeTensor } from './safetensors';
import { readFileBytes } from './checkpoint-files';
import { parseJsonObject } from './json-object';
import { writeAdapterBase, type AdapterBase } from './adapter-base';

/** File names of a PEFT adapter directory, as `save_pretrained` writes them. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** What {@link savePeftAdapter} writes. */
export interface SavePeftAdapterOptions {
  readonly injected: InjectedAdapters;
  readonly config: AdaLoraConfig;
  /**
   * AdaLoRA's rank pattern (per module, one boolean per initial triplet, true = kept): the
   * saved tensors keep only those triplets. null: no pattern yet, full-rank tensors.
   */
  readonly rankPattern: ReadonlyMap<ModuleId, readonly boolean[]> | null;
  /** peft `task_type`; default `SEQ_CLS`. */
  readonly taskType?: string;
  /** Written as `base_model_name_or_path`. */
  readonly baseModelPath?: string;
  /** The base checkpoint's hash and the head's label names, written beside peft's files (adapter-base.ts). */
  readonly base?: AdapterBase;
}

/**
 * Writes a PEFT adapter directory that peft 0.21's `PeftModel.from_pretrained` loads:
 * `adapter_config.json` (peft's key set) and `adapter_model.safetensors` with
 * - AdaLoRA: `base_model.model.<path>.lora_A` [k, in], `.lora_B` [out, k], `.lora_E` [k, 1],
 *   keeping the k triplets the rank pattern marks true (k may be 0);
 * - LoRA: `base_model.model.<path>.lora_A.weight` [r, in], `.lora_B.weight` [out, r];
 * - the head: `base_model.model.<HF weight name>` (e.g. `classifier.weight`).
 * Files are written to a temporary name and renamed, so a crash never leaves half a file.
 */
export async function savePeftAdapter(dir: string, options: SavePeftAdapterOptions): Promise<void> {
  const { injected, config, rankPattern } = options;
  if (injected.mode !== config.mode) throw new Error(`savePeftAdapter: the adapters are ${injected.mode} but the config's mode is ${config.mode}`);
  if (config.mode === 'lora' && rankPattern) throw new Error('savePeftAdapter: a rank pattern was given for LoRA adapters (only AdaLoRA has one)');
  const tensors = new Map<string, SafeTensor>();
  if (rankPattern) {
    for (const id of rankPattern.keys()) {
      if (!injected.adapters.has(id)) throw new Error(`savePeftAdapter: the rank pattern names module '${id}', which has no adapter`);
    }
  }
  for (const [id, adapter] of injected.adapters) {
    const keep = rankPattern ? rankPattern.get(id) : undefined;
    if (rankPattern && !keep) throw new Error(`savePeftAdapter: the rank pattern has no entry for module '${id}'`);
    const rows = keptTriplets(id, adapter.rank, config.initR, keep); // null for LoRA: no rank pattern
    for (const [key, v] of adapter.params()) {
      const full = snapshot(v);
      const kept = rows === null ? full : parseTrainableKey(key).param === 'lora_B' ? selectColumns(full, rows) : selectRows(full, rows);
      tensors.set(peftTensorName(key, config.mode), kept);
    }
  }
  for (const [key, v] of injected.trainables) {
    const head = parseTrainableKey(key);
    if (head.kind === 'adapter') continue;
    if (!coveredByModulesToSave(head.module, config.modulesToSave)) {
      throw new Error(
        `savePeftAdapter: head tensor '${key}' trains but no module of modules_to_save [${config.modulesToSave.join(', ')}] contains it; add its module (e.g. '${head.module.split('.')[0]}') to modulesToSave`,
      );
    }
    tensors.set(peftTensorName(key, config.mode), snapshot(v));
  }
  const json = toPeftAdapterConfig(config, { taskType: options.taskType, rankPattern, baseModelNameOrPath: options.baseModelPath ?? null });
  await mkdir(dir, { recursive: true });
  await writeAtomically(path.join(dir, ADAPTER_CONFIG_FILE), new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`));
  await writeAtomically(path.join(dir, ADAPTER_WEIGHTS_FILE), encodeSafetensors(tensors));
  if (options.base) await writeAdapterBase(dir, options.base);
}

/** Options of {@link loadPeftAdapter}. */
export interface LoadPeftAdapterOptions {
  /** Seed of the adapters' initial values before the file's are loaded (irrelevant to the result). */
  readonly seed?: number;
  /**
   * Config fields the file may lack (camelCase), e.g. `totalStep` of a LoRA adapter. Default
   * `{ totalStep: 1 }`: enough to load an adapter for inference or merging.
   */
  readonly configDefaults?: Partial<Record<keyof AdaLoraConfig, unknown>>;
}

/** A PEFT adapter attached to a model. */
export interface LoadedPeftAdapter {
  readonly injected: InjectedAdapters;
  readonly config: Readonly<AdaLoraConfig>;
  /** The file's rank pattern (per module, true = kept); null when it has none. */
  readonly rankPattern: ReadonlyMap<ModuleId, readonly boolean[]> | null;
  readonly taskType: string | null;
  readonly baseModelPath: string | null;
}

/**
 * Loads a PEFT adapter directory (`adapter_config.json` + `adapter_model.safetensors`, as peft
 * 0.21 or {@link savePeftAdapter} writes it) onto `model`:
 * checks that the base model fits (every adapter tensor's module is one of the model's linears
 * with the right in/out sizes and rank, every targeted linear has tensors, head tensors exist in
 * the model with the same shapes) before touching it, then attaches adapters, shrinks each to
 * its kept rank (AdaLoRA rank pattern; the scale stays lora_alpha / init_r), and loads the
 * adapter and head values. peft's in-memory names (`.lora_A.default`,
 * `classifier.modules_to_save.default.weight`) are accepted too.
 */
export async function loadPeftAdapter(dir: string, model: TaskModel, options: LoadPeftAdapterOptions = {}): Promise<LoadedPeftAdapter> {
  const configPath = path.join(dir, ADAPTER_CONFIG_FILE);
  const json = parseJsonObject(await readFileBytes(configPath, `not a PEFT adapter directory: ${ADAPTER_CONFIG_FILE} is missing`), configPath);
  let parsed: ReturnType<typeof fromPeftAdapterConfig>;
  try {
    parsed = fromPeftAdapterConfig(json, { totalStep: 1, ...options.configDefaults });
  } catch (e) {
    throw new Error(`${configPath}: ${(e as Error).message}`);
  }
  const { config, rankPattern } = parsed;
  const weightsPath = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const file = parseSafetensors(await readFileBytes(weightsPath, `${ADAPTER_WEIGHTS_FILE} is missing`), weightsPath);
  const values = planLoad(file, weightsPath, model, config, rankPattern);

  const injected = injectAdapters(model, config, options.seed ?? 0);
  let trainables: Map<TrainableKey, tf.Variable>;
  try {
    for (const [id, adapter] of injected.adapters) {
      const keep = rankPattern?.get(id);
      if (keep && keep.some((k: boolean) => !k)) (adapter as SvdAdapter).resize([...keep]); // rank patterns are AdaLoRA-only (parsed so)
    }
    // resize replaced A, E and B with new variables: the trainables are read after it, once
    trainables = collectTrainables(injected.adapters, model);
    for (const [key, t] of values) assignChecked(trainables.get(key)!, t, `${weightsPath}: '${key}'`);
  } catch (e) {
    injected.dispose();
    throw e;
  }
  const loaded: InjectedAdapters = { mode: injected.mode, adapters: injected.adapters, trainables, dispose: () => injected.dispose() };
  return { injected: loaded, config, rankPattern, taskType: parsed.taskType, baseModelPath: parsed.baseModelNameOrPath };
}

/** The tensors of a PEFT adapter directory's `adapter_model.safetensors`, by their names in the file. */
export function readPeftAdapterTensors(dir: string): Map<string, SafeTensor> {
  return readSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE));
}

/**
 * Loads a safetensors file of trainable tensors (e.g. a training trace's
 * `initial_trainable.safetensors`, peft's in-memory names such as
 * `base_model.model.<path>.lora_A.default` and `…classifier.modules_to_save.default.weight`,
 * or the saved names) into `injected.trainables`, shapes as they are now. Every trainable must
 * be in the file and every file tensor must be a trainable; errors name the tensor.
 */
export function loadTrainableState(file: string, injected: InjectedAdapters): void {
  const trainables = injected.trainables;
  // a name that stands for no trainable is checked as it is, and so reported as unknown
  const arrived = [...readSafetensors(file)].map(([name, t]) => ({ name: parsePeftTensorName(name)?.key ?? name, shape: t.shape, values: t }));
  for (const [key, t] of checkTensorSet(trainables, arrived, file)) assignChecked(trainables.get(key)!, t.values, `${file}: '${key}'`);
}

// --- load planning: every check before the model is touched ---------------------------

/**
 * The file's tensors by trainable key, once they are known to fit: every adapter tensor is for
 * a linear of this model that target_modules select, every other tensor is one of the model's
 * head tensors, and the adapter tensors are exactly those the config makes on this model, each
 * with its shape (rank from the rank pattern). Head tensors are optional: a head the file lacks
 * keeps the model's values.
 */
function planLoad(
  file: ReadonlyMap<string, SafeTensor>,
  source: string,
  model: TaskModel,
  config: AdaLoraConfig,
  rankPattern: ReadonlyMap<ModuleId, readonly boolean[]> | null,
): Map<TrainableKey, SafeTensor> {
  const lora = config.mode === 'lora';
  const someLinears = () => [...model.linears.keys()].slice(0, 3).join(', ');
  const arrived: { name: TrainableKey; shape: readonly number[]; values: SafeTensor }[] = [];
  const expected = new Map<TrainableKey, { readonly shape: readonly number[] }>();
  const fileModules = new Set<ModuleId>();
  for (const [name, t] of file) {
    if (!name.startsWith(PEFT_PREFIX)) throw new Error(`${source}: tensor '${name}' does not start with '${PEFT_PREFIX}' (not a PEFT adapter file)`);
    const parts = parsePeftTensorName(name);
    if (parts?.kind === 'adapter') {
      const id = parts.module;
      if (lora && parts.param === 'lora_E') throw new Error(`${source}: tensor '${name}' is an AdaLoRA singular-value tensor but the config's peft_type is LORA`);
      if (!model.linears.has(id)) {
        throw new Error(`${source}: tensor '${name}' is for module '${id}', which this ${model.modelType} model does not have (its linear layers are named like ${someLinears()}): the adapter was made for another base model`);
      }
      if (!matchesTarget(id, config.targetModules)) {
        throw new Error(`${source}: tensor '${name}' is for module '${id}', which target_modules [${config.targetModules.join(', ')}] do not select`);
      }
      fileModules.add(id);
    } else {
      const head = parts ? model.headParams.get(parts.key) : undefined;
      if (!parts || !head) {
        throw new Error(`${source}: tensor '${name}' is neither an adapter tensor nor a head tensor of this ${model.modelType} model (its head: ${[...model.headParams.keys()].join(', ')})`);
      }
      expected.set(parts.key, head);
    }
    arrived.push({ name: parts.key, shape: t.shape, values: t });
  }

  // why each adapter tensor has its expected shape, for the error
  const why = new Map<TrainableKey, string>();
  for (const [id, linear] of model.linears) {
    if (!matchesTarget(id, config.targetModules)) continue;
    if (!fileModules.has(id)) throw new Error(`${source}: no adapter tensors for module '${id}', which target_modules select (the adapter was made for another base model?)`);
    const keep = rankPattern?.get(id);
    const k = lora ? config.initR : keep ? keep.filter(Boolean).length : config.initR;
    const reason = `module ${linear.inFeatures} -> ${linear.outFeatures}, ${keep ? `its rank_pattern keeps ${k} of ${config.initR}` : `${lora ? 'r' : 'init_r'} = ${k}`}`;
    const shapes: [TrainableKey, number[]][] = [[adapterKey(id, 'lora_A'), [k, linear.inFeatures]]];
    if (!lora) shapes.push([adapterKey(id, 'lora_E'), [k, 1]]);
    shapes.push([adapterKey(id, 'lora_B'), [linear.outFeatures, k]]);
    for (const [key, shape] of shapes) {
      expected.set(key, { shape });
      why.set(key, reason);
    }
  }
  if (rankPattern) {
    for (const id of rankPattern.keys()) {
      if (!fileModules.has(id)) throw new Error(`${source}: rank_pattern names module '${id}', which has no adapter tensors`);
    }
  }
  try {
    return new Map([...checkTensorSet(expected, arrived, source)].map(([key, t]) => [key, t.values]));
  } catch (e) {
    const reason = e instanceof TensorSetError && e.problem === 'shape' ? why.get(e.tensor as TrainableKey) : undefined;
    throw reason ? new Error(`${e instanceof Error ? e.message : e} (${reason})`) : e;
  }
}

// --- helpers ---------------------------------------------------------------------------

/** Which triplets (rows of A and E, columns of B) to save; null = all of them as they are. */
function keptTriplets(id: ModuleId, rank: number, initR: number, keep: readonly boolean[] | undefined): number[] | null {
  if (!keep) return null;
  if (keep.length !== initR) throw new Error(`savePeftAdapter: the rank pattern of '${id}' has ${keep.length} entries, expected init_r = ${initR}`);
  const rows = keep.flatMap((k, i) => (k ? [i] : []));
  if (rank === initR) return rows.length === initR ? null : rows;
  if (rank === rows.length) return null; // already shrunk to the kept triplets (as peft does, by rank)
  throw new Error(`savePeftAdapter: module '${id}' has rank ${rank}, but its rank pattern keeps ${rows.length} of init_r ${initR}`);
}

function snapshot(v: tf.Tensor): SafeTensor {
  return { shape: [...v.shape], data: v.dataSync() as Float32Array };
}

function selectRows(t: SafeTensor, rows: readonly number[]): SafeTensor {
  const width = t.shape[1];
  const data = new Float32Array(rows.length * width);
  rows.forEach((r, i) => data.set(t.data.subarray(r * width, (r + 1) * width), i * width));
  return { shape: [rows.length, width], data };
}

function selectColumns(t: SafeTensor, cols: readonly number[]): SafeTensor {
  const [height, width] = t.shape;
  const data = new Float32Array(height * cols.length);
  for (let i = 0; i < height; i++) cols.forEach((c, j) => (data[i * cols.length + j] = t.data[i * width + c]));
  return { shape: [height, cols.length], data };
}

// peft wraps a whole module (e.g. RoBERTa's `classifier`): a tensor is saved when some
// prefix of its module path matches a modules_to_save entry by the suffix rule.
function coveredByModulesToSave(module: ModuleId, modulesToSave: readonly string[]): boolean {
  const parts = module.split('.');
  for (let i = 1; i <= parts.length; i++) {
    if (matchesTarget(parts.slice(0, i).join('.') as ModuleId, modulesToSave)) return true;
  }
  return false;
}

function assignChecked(v: tf.Variable, t: SafeTensor, what: string): void {
  if (!sameShape(v.shape, t.shape)) throw new Error(`${what} has shape [${t.shape}], expected [${v.shape}]`);
  tf.tidy(() => v.assign(tf.tensor(t.data, [...t.shape], 'float32')));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}


async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}
