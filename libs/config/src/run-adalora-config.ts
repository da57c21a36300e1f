import { ADALORA_CONFIG_FIELDS, AdaLoraConfigError, finishAdaLoraConfig, parseAdaLoraDraft, type AdaLoraConfig, type AdaLoraConfigDraft } from './adalora-config';
import { configError, type ConfigReader } from './config-reader';

/**
 * What a run adapts and saves unless the config says otherwise: every encoder linear of BERT,
 * RoBERTa and DeBERTa-v2/v3 (peft suffixes), and the classification head.
 */
const RUN_DEFAULTS = {
  targetModules: ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense', 'query_proj', 'key_proj', 'value_proj'],
  modulesToSave: ['classifier'],
};

/** peft's spelling of a field: initR → init_r, orthRegWeight → orth_reg_weight. */
const snakeCase = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Reads the `adalora` section, written with peft's snake_case names or camelCase ones, and
 * checks it by @adalora/core's rules (`taskDefaults`: the task's own saved head, e.g. QA's `qa_outputs`); errors name each field as the user wrote it
 * (`config: 'adalora.target_r' must be <= 'adalora.init_r' (6), got 99`). `total_step` stays
 * absent unless given: {@link runAdaLoraConfig} fills it once the run's steps are known.
 */
export function readAdaLoraSection(r: ConfigReader, taskDefaults: { readonly modulesToSave?: readonly string[] } = {}): AdaLoraConfigDraft {
  const a = r.section('adalora');
  const written = new Map<keyof AdaLoraConfig, string>();
  const raw: Record<string, unknown> = { ...RUN_DEFAULTS, ...taskDefaults };
  for (const field of ADALORA_CONFIG_FIELDS) {
    const key = a.writtenKey([...new Set([snakeCase(field), field])]);
    if (key === undefined) continue;
    written.set(field, key);
    raw[field] = a.raw(key);
  }
  a.done();
  // a field the user left out is named as peft (and the README) spell it
  const path = (field: keyof AdaLoraConfig) => a.field(written.get(field) ?? snakeCase(field));
  return inRunConfigWords(path, (field) => `'${path(field)}'`, (fieldName) => parseAdaLoraDraft(raw, { fieldName }));
}

/**
 * The run's AdaLoRA config: `total_step` defaults to the run's optimizer steps, and
 * `tinit < total_step − tfinal` is checked with them, in the words of {@link readAdaLoraSection}.
 * A given `total_step` was checked with the rest already, so only a defaulted one can fail
 * here, named as what it stands for.
 */
export function runAdaLoraConfig(draft: AdaLoraConfigDraft, runSteps: number): AdaLoraConfig {
  const path = (field: keyof AdaLoraConfig) => `adalora.${snakeCase(field)}`;
  const mention = (field: keyof AdaLoraConfig) => (field === 'totalStep' && draft.totalStep === undefined ? "the run's optimizer steps" : `'${path(field)}'`);
  return inRunConfigWords(path, mention, (fieldName) => finishAdaLoraConfig(draft, runSteps, { fieldName }));
}

/**
 * Runs a core parse with fields named by `mention` inside its rules, and turns its error into
 * the run config's wording, headed by the field's `path`.
 */
function inRunConfigWords<T>(
  path: (field: keyof AdaLoraConfig) => string,
  mention: (field: keyof AdaLoraConfig) => string,
  parse: (fieldName: (field: keyof AdaLoraConfig) => string) => T,
): T {
  try {
    return parse(mention);
  } catch (e) {
    // every field reaches the core parser under its camelCase name, so e.field is one of them
    if (e instanceof AdaLoraConfigError) throw configError(path(e.field as keyof AdaLoraConfig), e.rule, e.value, e.defaulted);
    throw e;
  }
}
