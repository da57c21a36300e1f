import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AdaLoraConfig } from '@adalora/config';
import {
  fromPeftAdapterConfig,
  matchesTarget,
  moduleId,
  toPeftAdapterConfig,
  type ModuleId,
  type SvdAdapter,
} from '@adalora/core';
import type { EncoderModel } from './encoder-model';
import { injectAdapters, type InjectedAdapters } from './inject-adapters';
import { encodeSafetensors, parseSafetensors, readSafetensors, type SafeTensor } from './safetensors';

/** File names of a PEFT adapter directory, as `save_pretrained` writes them. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** Every tensor name in a PEFT file starts with this (peft's wrapper modules). */
const PEFT_PREFIX = 'base_model.model.';

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
  const adapterKeys = new Set<string>();
  if (rankPattern) {
    for (const id of rankPattern.keys()) {
      if (!injected.adapters.has(id)) throw new Error(`savePeftAdapter: the rank pattern names module '${id}', which has no adapter`);
    }
  }
  for (const [id, adapter] of injected.adapters) {
    const params = adapter.params() as ReadonlyMap<string, tf.Variable>;
    for (const name of params.keys()) adapterKeys.add(`${id}.${name}`);
    if (config.mode === 'lora') {
      for (const [name, v] of params) tensors.set(`${PEFT_PREFIX}${id}.${name}.weight`, snapshot(v));
      continue;
    }
    const keep = rankPattern ? rankPattern.get(id) : undefined;
    if (rankPattern && !keep) throw new Error(`savePeftAdapter: the rank pattern has no entry for module '${id}'`);
    const rows = keptTriplets(id, adapter.rank, config.initR, keep);
    for (const [name, v] of params) {
      const full = snapshot(v);
      const kept = rows === null ? full : name === 'lora_B' ? selectColumns(full, rows) : selectRows(full, rows);
      tensors.set(`${PEFT_PREFIX}${id}.${name}`, kept);
    }
  }
  for (const [name, v] of injected.trainables) {
    if (adapterKeys.has(name)) continue;
    if (!coveredByModulesToSave(name, config.modulesToSave)) {
      throw new Error(
        `savePeftAdapter: head tensor '${name}' trains but no module of modules_to_save [${config.modulesToSave.join(', ')}] contains it; add its module (e.g. '${name.split('.')[0]}') to modulesToSave`,
      );
    }
    tensors.set(`${PEFT_PREFIX}${name}`, snapshot(v));
  }
  const json = toPeftAdapterConfig(config, { taskType: options.taskType, rankPattern, baseModelNameOrPath: options.baseModelPath ?? null });
  await mkdir(dir, { recursive: true });
  await writeAtomically(path.join(dir, ADAPTER_CONFIG_FILE), new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`));
  await writeAtomically(path.join(dir, ADAPTER_WEIGHTS_FILE), encodeSafetensors(tensors));
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
export async function loadPeftAdapter(dir: string, model: EncoderModel, options: LoadPeftAdapterOptions = {}): Promise<LoadedPeftAdapter> {
  const configPath = path.join(dir, ADAPTER_CONFIG_FILE);
  const json = parseJson(await readBytes(configPath, `not a PEFT adapter directory: ${ADAPTER_CONFIG_FILE} is missing`), configPath);
  let parsed: ReturnType<typeof fromPeftAdapterConfig>;
  try {
    parsed = fromPeftAdapterConfig(json, { totalStep: 1, ...options.configDefaults });
  } catch (e) {
    throw new Error(`${configPath}: ${(e as Error).message}`);
  }
  const { config, rankPattern } = parsed;
  const weightsPath = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const file = parseSafetensors(await readBytes(weightsPath, `${ADAPTER_WEIGHTS_FILE} is missing`), weightsPath);
  const plan = planLoad(file, weightsPath, model, config, rankPattern);

  const injected = injectAdapters(model, config, options.seed ?? 0);
  try {
    for (const [id, adapter] of injected.adapters) {
      const keep = rankPattern?.get(id);
      if (keep && keep.some((k: boolean) => !k)) (adapter as SvdAdapter).resize([...keep]); // rank patterns are AdaLoRA-only (parsed so)
      const values = plan.adapters.get(id)!;
      for (const [name, v] of adapter.params() as ReadonlyMap<string, tf.Variable>) {
        const t = values.get(name);
        if (!t) throw new Error(`${weightsPath}: no tensor for '${id}.${name}'`);
        assignChecked(v, t, `${weightsPath}: '${id}.${name}'`);
      }
    }
    for (const [name, t] of plan.heads) assignChecked(model.headParams.get(name)!, t, `${weightsPath}: '${name}'`);
  } catch (e) {
    injected.dispose();
    throw e;
  }
  return { injected: withCurrentTrainables(injected, model), config, rankPattern, taskType: parsed.taskType, baseModelPath: parsed.baseModelNameOrPath };
}

// SvdAdapter.resize replaces A, E and B with new variables, so the trainables map made at
// injection is rebuilt from the adapters (same keys and order: adapters, then the head).
function withCurrentTrainables(injected: InjectedAdapters, model: EncoderModel): InjectedAdapters {
  const trainables = new Map<string, tf.Variable>();
  for (const [id, adapter] of injected.adapters) {
    for (const [name, v] of adapter.params() as ReadonlyMap<string, tf.Variable>) trainables.set(`${id}.${name}`, v);
  }
  for (const [name, v] of model.headParams) trainables.set(name, v);
  return { mode: injected.mode, adapters: injected.adapters, trainables, dispose: () => injected.dispose() };
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
  const tensors = readSafetensors(file);
  const byKey = new Map<string, SafeTensor>();
  for (const [name, t] of tensors) {
    const key = trainableKey(name);
    if (!injected.trainables.has(key)) {
      const some = [...injected.trainables.keys()].slice(0, 3).join(', ');
      throw new Error(`${file}: tensor '${name}' (trainable '${key}') is not a trainable of this model (they are named like ${some})`);
    }
    if (byKey.has(key)) throw new Error(`${file}: two tensors map to trainable '${key}'`);
    byKey.set(key, t);
  }
  for (const key of injected.trainables.keys()) {
    if (!byKey.has(key)) throw new Error(`${file}: no tensor for trainable '${key}'`);
  }
  for (const [key, t] of byKey) assignChecked(injected.trainables.get(key)!, t, `${file}: '${key}'`);
}

// --- naming ----------------------------------------------------------------------------

const ADAPTER_PARAM = /^(.+)\.(lora_A|lora_B|lora_E)(\.weight)?$/;

/**
 * A file tensor name -> our trainable key: drops `base_model.model.`, peft's adapter name
 * (`.default`), the `modules_to_save.default.` wrapper and LoRA's `.weight` suffix.
 */
function trainableKey(name: string): string {
  let n = name.startsWith(PEFT_PREFIX) ? name.slice(PEFT_PREFIX.length) : name;
  n = n.replace(/\.modules_to_save\.default\./, '.');
  n = n.replace(/\.(lora_A|lora_B|lora_E)\.default(\.weight)?$/, '.$1$2');
  const m = ADAPTER_PARAM.exec(n);
  return m ? `${m[1]}.${m[2]}` : n;
}

// --- load planning: every check before the model is touched ---------------------------

interface LoadPlan {
  readonly adapters: Map<ModuleId, Map<string, SafeTensor>>; // module -> lora_A|lora_B|lora_E -> values
  readonly heads: Map<string, SafeTensor>; // HF weight name -> values
}

function planLoad(
  file: ReadonlyMap<string, SafeTensor>,
  source: string,
  model: EncoderModel,
  config: AdaLoraConfig,
  rankPattern: ReadonlyMap<ModuleId, readonly boolean[]> | null,
): LoadPlan {
  const adapters = new Map<ModuleId, Map<string, SafeTensor>>();
  const heads = new Map<string, SafeTensor>();
  const lora = config.mode === 'lora';
  const someLinears = () => [...model.linears.keys()].slice(0, 3).join(', ');
  for (const [name, t] of file) {
    if (!name.startsWith(PEFT_PREFIX)) throw new Error(`${source}: tensor '${name}' does not start with '${PEFT_PREFIX}' (not a PEFT adapter file)`);
    const key = trainableKey(name);
    const m = ADAPTER_PARAM.exec(key);
    if (m) {
      const param = m[2];
      if (lora && param === 'lora_E') throw new Error(`${source}: tensor '${name}' is an AdaLoRA singular-value tensor but the config's peft_type is LORA`);
      let id: ModuleId;
      try {
        id = moduleId(m[1]);
      } catch {
        throw new Error(`${source}: tensor '${name}' has no valid module path`);
      }
      if (!model.linears.has(id)) {
        throw new Error(`${source}: tensor '${name}' is for module '${id}', which this ${model.modelType} model does not have (its linear layers are named like ${someLinears()}): the adapter was made for another base model`);
      }
      if (!matchesTarget(id, config.targetModules)) {
        throw new Error(`${source}: tensor '${name}' is for module '${id}', which target_modules [${config.targetModules.join(', ')}] do not select`);
      }
      const group = adapters.get(id) ?? new Map<string, SafeTensor>();
      if (group.has(param)) throw new Error(`${source}: two tensors for '${id}.${param}'`);
      group.set(param, t);
      adapters.set(id, group);
      continue;
    }
    const param = model.headParams.get(key);
    if (!param) {
      const head = [...model.headParams.keys()].join(', ');
      throw new Error(`${source}: tensor '${name}' is neither an adapter tensor nor a head tensor of this ${model.modelType} model (its head: ${head})`);
    }
    if (!sameShape(param.shape, t.shape)) {
      throw new Error(`${source}: head tensor '${name}' has shape [${t.shape}] but the model's '${key}' is [${param.shape}]`);
    }
    heads.set(key, t);
  }

  const params = lora ? ['lora_A', 'lora_B'] : ['lora_A', 'lora_E', 'lora_B'];
  for (const [id, linear] of model.linears) {
    if (!matchesTarget(id, config.targetModules)) continue;
    const group = adapters.get(id);
    if (!group) throw new Error(`${source}: no adapter tensors for module '${id}', which target_modules select (the adapter was made for another base model?)`);
    for (const p of params) if (!group.has(p)) throw new Error(`${source}: missing tensor '${PEFT_PREFIX}${id}.${p}${lora ? '.weight' : ''}'`);
    const keep = rankPattern?.get(id);
    const k = lora ? config.initR : keep ? keep.filter(Boolean).length : config.initR;
    const why = keep ? `its rank_pattern keeps ${k} of ${config.initR}` : `${lora ? 'r' : 'init_r'} = ${k}`;
    const expect: Record<string, number[]> = { lora_A: [k, linear.inFeatures], lora_B: [linear.outFeatures, k], lora_E: [k, 1] };
    for (const p of params) {
      const t = group.get(p)!;
      if (!sameShape(t.shape, expect[p])) {
        throw new Error(`${source}: '${id}.${p}' has shape [${t.shape}], expected [${expect[p]}] (module ${linear.inFeatures} -> ${linear.outFeatures}, ${why})`);
      }
    }
  }
  if (rankPattern) {
    for (const id of rankPattern.keys()) {
      if (!adapters.has(id)) throw new Error(`${source}: rank_pattern names module '${id}', which has no adapter tensors`);
    }
  }
  return { adapters, heads };
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
function coveredByModulesToSave(name: string, modulesToSave: readonly string[]): boolean {
  const parts = name.split('.').slice(0, -1);
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

function parseJson(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
  }
}

async function readBytes(file: string, whenMissing: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: ${whenMissing}` : `${file}: cannot read file (${code ?? (e as Error).message})`);
  }
}

async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}
