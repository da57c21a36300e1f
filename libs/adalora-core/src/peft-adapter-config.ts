/**
 * Conversion between {@link AdaLoraConfig} and peft's `adapter_config.json` (snake_case), so
 * adapters we save load in peft (`PeftModel.from_pretrained`) and peft's load here.
 */
import { AdaLoraConfigError, parseAdaLoraConfig, type AdaLoraConfig } from '@adalora/config';
import type { ModuleId } from './module-id';
import { adapterKey, parseTrainableKey, type TrainableKeyParts } from './trainable-key';

/** What `adapter_config.json` holds besides the hyper-parameters. */
export interface PeftAdapterExtras {
  /** peft `task_type`; default `'SEQ_CLS'`. */
  readonly taskType?: string;
  /** AdaLoRA's final rank pattern (true = kept), one boolean per initial triplet; null = none yet. */
  readonly rankPattern?: ReadonlyMap<ModuleId, readonly boolean[]> | null;
  readonly baseModelNameOrPath?: string | null;
  /** default true: what we save is a finished adapter. */
  readonly inferenceMode?: boolean;
}

/** What {@link fromPeftAdapterConfig} reads from an `adapter_config.json`. */
export interface PeftAdapterConfig {
  readonly config: Readonly<AdaLoraConfig>;
  /** per module, true = the triplet is kept; null when the file has none (LoRA, or AdaLoRA before its end). */
  readonly rankPattern: ReadonlyMap<ModuleId, readonly boolean[]> | null;
  readonly taskType: string | null;
  readonly baseModelNameOrPath: string | null;
}

const PEFT_VERSION = '0.21.0';

// Every LoraConfig field peft 0.21 writes, at its default (AdaLoraConfig extends LoraConfig).
function loraBaseFields(): Record<string, unknown> {
  return {
    alora_invocation_tokens: null,
    alpha_pattern: {},
    arrow_config: null,
    auto_mapping: null,
    base_model_name_or_path: null,
    bias: 'none',
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    kasa_config: null,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: 8,
    lora_bias: false,
    lora_dropout: 0.0,
    lora_ga_config: null,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    monteclora_config: null,
    peft_type: 'LORA',
    peft_version: PEFT_VERSION,
    qalora_group_size: 16,
    r: 8,
    rank_pattern: {},
    revision: null,
    target_modules: null,
    target_parameters: null,
    task_type: null,
    trainable_token_indices: null,
    use_bdlora: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: false,
    velora_config: null,
  };
}

/**
 * The `adapter_config.json` object peft 0.21 would write for this config (same key set as
 * `save_pretrained`). AdaLoRA: `peft_type "ADALORA"` with `init_r`, `target_r`, …, and
 * `rank_pattern` `{"<path>.lora_E": [bool × init_r]}` (or null). LoRA: `peft_type "LORA"`, `r = initR`.
 */
export function toPeftAdapterConfig(cfg: AdaLoraConfig, extras: PeftAdapterExtras = {}): Record<string, unknown> {
  const out = loraBaseFields();
  Object.assign(out, {
    base_model_name_or_path: extras.baseModelNameOrPath ?? null,
    inference_mode: extras.inferenceMode ?? true,
    lora_alpha: cfg.loraAlpha,
    lora_dropout: cfg.loraDropout,
    modules_to_save: cfg.modulesToSave.length > 0 ? [...cfg.modulesToSave] : null,
    target_modules: [...cfg.targetModules],
    task_type: extras.taskType ?? 'SEQ_CLS',
  });
  if (cfg.mode === 'lora') {
    if (extras.rankPattern) throw new Error('toPeftAdapterConfig: a rank pattern was given for a LoRA config (only AdaLoRA has one)');
    out.r = cfg.initR;
    return sortedKeys(out);
  }
  let rankPattern: Record<string, boolean[]> | null = null;
  if (extras.rankPattern) {
    rankPattern = {};
    for (const [id, keep] of extras.rankPattern) {
      if (keep.length !== cfg.initR) {
        throw new Error(`toPeftAdapterConfig: rank pattern of '${id}' has ${keep.length} entries, expected init_r = ${cfg.initR}`);
      }
      rankPattern[adapterKey(id, 'lora_E')] = [...keep];
    }
  }
  Object.assign(out, {
    peft_type: 'ADALORA',
    init_r: cfg.initR,
    target_r: cfg.targetR,
    tinit: cfg.tinit,
    tfinal: cfg.tfinal,
    deltaT: cfg.deltaT,
    beta1: cfg.beta1,
    beta2: cfg.beta2,
    orth_reg_weight: cfg.orthRegWeight,
    total_step: cfg.totalStep,
    rank_pattern: rankPattern,
  });
  return sortedKeys(out);
}

// peft writes with sort_keys=True; the same order makes files diff cleanly against peft's.
function sortedKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

// snake_case key of the json -> camelCase config field, per peft type
const ADALORA_KEYS: Record<string, keyof AdaLoraConfig> = {
  init_r: 'initR',
  target_r: 'targetR',
  tinit: 'tinit',
  tfinal: 'tfinal',
  deltaT: 'deltaT',
  beta1: 'beta1',
  beta2: 'beta2',
  orth_reg_weight: 'orthRegWeight',
  total_step: 'totalStep',
  lora_alpha: 'loraAlpha',
  lora_dropout: 'loraDropout',
  target_modules: 'targetModules',
  modules_to_save: 'modulesToSave',
};
const LORA_KEYS: Record<string, keyof AdaLoraConfig> = {
  r: 'initR',
  lora_alpha: 'loraAlpha',
  lora_dropout: 'loraDropout',
  target_modules: 'targetModules',
  modules_to_save: 'modulesToSave',
};

function fail(key: string, message: string): never {
  throw new Error(`adapter_config.json ${key}: ${message}`);
}

// peft features whose effect we do not reproduce: refuse rather than load something else.
function refuseUnsupported(json: Record<string, unknown>, peftType: string): void {
  const isSet = (v: unknown) => v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0);
  const nonEmptyObject = (v: unknown) => typeof v === 'object' && v !== null && Object.keys(v).length > 0;
  for (const key of ['use_dora', 'use_rslora', 'use_qalora', 'fan_in_fan_out', 'lora_bias']) {
    if (isSet(json[key])) fail(key, `is ${JSON.stringify(json[key])}; only false is supported`);
  }
  for (const key of ['layers_to_transform', 'layers_pattern', 'exclude_modules', 'layer_replication', 'target_parameters', 'trainable_token_indices']) {
    if (isSet(json[key])) fail(key, 'is set; only null is supported');
  }
  if (json.bias !== undefined && json.bias !== 'none') fail('bias', `is ${JSON.stringify(json.bias)}; only "none" is supported`);
  if (nonEmptyObject(json.alpha_pattern)) fail('alpha_pattern', 'per-module alphas are not supported (expected {})');
  if (peftType === 'LORA' && nonEmptyObject(json.rank_pattern)) fail('rank_pattern', 'per-module LoRA ranks are not supported (expected {})');
  if (typeof json.target_modules === 'string') fail('target_modules', 'a regular expression is not supported; list the module names');
}

// the parts of a `<module path>.lora_E` key, or null for any other name
function singularValuesKey(name: string): TrainableKeyParts | null {
  try {
    const parts = parseTrainableKey(name);
    return parts.kind === 'adapter' && parts.param === 'lora_E' ? parts : null;
  } catch {
    return null;
  }
}

function parseRankPattern(raw: unknown, initR: number): Map<ModuleId, boolean[]> | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('rank_pattern', 'expected an object {"<module path>.lora_E": [bool, …]} or null');
  const out = new Map<ModuleId, boolean[]>();
  for (const [key, keep] of Object.entries(raw as Record<string, unknown>)) {
    // peft writes "<path>.lora_E"; in memory it also uses "<path>.lora_E.<adapter name>"
    const parts = singularValuesKey(key.replace(/(\.lora_E)\.[A-Za-z0-9_]+$/, '$1'));
    if (!parts) fail('rank_pattern', `key '${key}' does not end with '.lora_E'`);
    if (!Array.isArray(keep) || keep.length !== initR || keep.some((b) => typeof b !== 'boolean')) {
      fail('rank_pattern', `'${key}' must be an array of ${initR} booleans (init_r)`);
    }
    out.set(parts.module, [...(keep as boolean[])]);
  }
  return out;
}

/**
 * Reads peft's `adapter_config.json` (`peft_type` "ADALORA" or "LORA") into a validated config.
 * Fields the file lacks or has as null (e.g. `total_step` of a LoRA adapter) come from
 * `defaults` (camelCase), else from {@link parseAdaLoraConfig}'s defaults. Refuses peft features
 * we do not reproduce (DoRA, rsLoRA, bias, fan_in_fan_out, alpha/rank patterns for LoRA, …).
 */
export function fromPeftAdapterConfig(json: unknown, defaults: Partial<Record<keyof AdaLoraConfig, unknown>> = {}): PeftAdapterConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('(root)', 'expected a JSON object');
  const j = json as Record<string, unknown>;
  const peftType = j.peft_type;
  if (peftType !== 'ADALORA' && peftType !== 'LORA') fail('peft_type', `expected "ADALORA" or "LORA", got ${JSON.stringify(peftType)}`);
  refuseUnsupported(j, peftType);
  const keys = peftType === 'ADALORA' ? ADALORA_KEYS : LORA_KEYS;
  const raw: Record<string, unknown> = { ...defaults, mode: peftType === 'ADALORA' ? 'adalora' : 'lora' };
  for (const [snake, camel] of Object.entries(keys)) {
    const v = j[snake];
    if (v === null && camel === 'modulesToSave') raw[camel] = [];
    else if (v !== undefined && v !== null) raw[camel] = v;
  }
  let config: Readonly<AdaLoraConfig>;
  try {
    config = parseAdaLoraConfig(raw);
  } catch (e) {
    if (!(e instanceof AdaLoraConfigError)) throw e;
    const snake = Object.entries(keys).find(([, camel]) => camel === e.field)?.[0];
    const why = e.message.slice(e.message.indexOf(':') + 2);
    if (snake) fail(snake, why);
    fail(`(no ${e.field} in a ${peftType} config)`, `${why}; pass it in defaults.${e.field}`);
  }
  const taskType = typeof j.task_type === 'string' ? j.task_type : null;
  const baseModelNameOrPath = typeof j.base_model_name_or_path === 'string' ? j.base_model_name_or_path : null;
  const rankPattern = peftType === 'ADALORA' ? parseRankPattern(j.rank_pattern, config.initR) : null;
  return { config, rankPattern, taskType, baseModelNameOrPath };
}
