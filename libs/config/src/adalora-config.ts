/**
 * AdaLoRA / LoRA hyper-parameters: one read-only object made by one parse function.
 * Names are camelCase versions of peft's `AdaLoraConfig` fields; `@adalora/core`'s
 * `fromPeftAdapterConfig` / `toPeftAdapterConfig` convert to and from peft's snake_case
 * `adapter_config.json`.
 */

/** Which adapter family: AdaLoRA (SVD triplets + rank allocation) or plain LoRA. */
export type AdapterMode = 'adalora' | 'lora';

/** The configuration of an AdaLoRA (or plain LoRA) run. Made by {@link parseAdaLoraConfig}. */
export interface AdaLoraConfig {
  readonly mode: AdapterMode;
  /** Rank of every adapted matrix at the start (peft `init_r`). In `lora` mode: LoRA's `r`. */
  readonly initR: number;
  /** Target average rank per matrix at the end (peft `target_r`); budget = targetR × #modules. */
  readonly targetR: number;
  /** Warm-up steps before any pruning (steps 0..tinit keep the full budget). */
  readonly tinit: number;
  /** Final steps that train with the frozen rank pattern. */
  readonly tfinal: number;
  /** Mask every deltaT steps while the budget decreases. */
  readonly deltaT: number;
  /** EMA factor of the sensitivity (importance) |w·g|. */
  readonly beta1: number;
  /** EMA factor of the uncertainty |ipt − ipt_bar|. */
  readonly beta2: number;
  /** Weight of the orthogonal regulariser in the loss. */
  readonly orthRegWeight: number;
  /** Number of optimizer steps of the run (peft `total_step`); the schedule depends on it. */
  readonly totalStep: number;
  readonly loraAlpha: number;
  /** Dropout on the adapter branch's input, in [0, 1). */
  readonly loraDropout: number;
  /** peft suffix targets: a module matches `t` if its path is `t` or ends with `.t`. */
  readonly targetModules: readonly string[];
  /** Modules trained fully and saved beside the adapter (the classification head). */
  readonly modulesToSave: readonly string[];
}

/**
 * A config rule was broken. `field` is the camelCase field to fix (or the unknown key, or
 * `(root)`), `rule` what it must satisfy, `value` what it was (absent for a missing field).
 * A caller that shows its users other field names (a run config's `adalora.target_r`) names
 * `field` itself and words the message its own way from these parts; fields mentioned inside
 * `rule` are already named through {@link AdaLoraParseOptions.fieldName}.
 */
export class AdaLoraConfigError extends Error {
  constructor(
    readonly field: string,
    readonly rule: string,
    readonly value?: unknown,
    /** the value was not given: it is the default */
    readonly defaulted = false,
  ) {
    super(`AdaLoraConfig.${field}: ${rule}${value === undefined ? '' : `, got ${describe(value)}${defaulted ? ' (the default)' : ''}`}`);
    this.name = 'AdaLoraConfigError';
  }
}

/** How the parse functions word their errors for a caller's users. */
export interface AdaLoraParseOptions {
  /**
   * Names a field where a rule mentions another one (`targetR` must be <= `initR`), e.g.
   * `(f) => \`'adalora.${f}'\``. Default: the camelCase field name.
   */
  readonly fieldName?: (field: keyof AdaLoraConfig) => string;
}

/**
 * An AdaLoRA config whose `totalStep` may wait for the run's step count (peft's `total_step`
 * defaults to it, and that depends on the data size). Checked by every rule that does not
 * need `totalStep`, and by that one too when `totalStep` is given. Made by
 * {@link parseAdaLoraDraft}; {@link finishAdaLoraConfig} completes it.
 */
export type AdaLoraConfigDraft = Omit<AdaLoraConfig, 'totalStep'> & { readonly totalStep?: number };

// peft 0.21 defaults (AdaLoraConfig / LoraConfig); totalStep and targetModules have none
// there that would suit us (peft guesses targets per model type), so they are required.
const DEFAULTS = {
  mode: 'adalora',
  initR: 12,
  targetR: 8,
  tinit: 0,
  tfinal: 0,
  deltaT: 1,
  beta1: 0.85,
  beta2: 0.85,
  orthRegWeight: 0.5,
  loraAlpha: 8,
  loraDropout: 0,
  // what peft adds for task_type SEQ_CLS (every *ForSequenceClassification head is one of these)
  modulesToSave: ['classifier', 'score'],
} as const;

/** Every field of {@link AdaLoraConfig}, in the order the parsed object has them. */
export const ADALORA_CONFIG_FIELDS: readonly (keyof AdaLoraConfig)[] = Object.freeze([
  'mode',
  'initR',
  'targetR',
  'tinit',
  'tfinal',
  'deltaT',
  'beta1',
  'beta2',
  'orthRegWeight',
  'totalStep',
  'loraAlpha',
  'loraDropout',
  'targetModules',
  'modulesToSave',
]);

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function integer(raw: Record<string, unknown>, field: keyof AdaLoraConfig, min: number, fallback?: number): number {
  const v = raw[field] ?? fallback;
  if (v === undefined) throw new AdaLoraConfigError(field, `is required (an integer >= ${min})`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new AdaLoraConfigError(field, `must be an integer >= ${min}`, v);
  return v;
}

function real(raw: Record<string, unknown>, field: keyof AdaLoraConfig, fallback: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new AdaLoraConfigError(field, 'must be a finite number', v);
  return v;
}

function strings(raw: Record<string, unknown>, field: keyof AdaLoraConfig, fallback?: readonly string[]): readonly string[] {
  const v = raw[field] ?? fallback;
  if (v === undefined) throw new AdaLoraConfigError(field, 'is required (a list of module names)');
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new AdaLoraConfigError(field, 'must be an array of non-empty strings', v);
  }
  return Object.freeze([...(v as string[])]);
}

/**
 * Validates a raw (camelCase) config and fills peft's defaults, leaving `totalStep` as given
 * (possibly absent). Throws {@link AdaLoraConfigError} naming the field and the rule for:
 * unknown keys, wrong types, non-positive-integer ranks / totalStep / deltaT, negative
 * tinit / tfinal, `targetR > initR`, `orthRegWeight < 0`, `loraDropout` outside [0, 1),
 * `beta1` / `beta2` outside [0, 1), `loraAlpha <= 0`, empty `targetModules`, and, when
 * `totalStep` is given, `tinit < totalStep − tfinal` broken.
 * In `lora` mode `targetR` defaults to `initR` (LoRA's rank never changes).
 */
export function parseAdaLoraDraft(raw: unknown, options: AdaLoraParseOptions = {}): AdaLoraConfigDraft {
  const name = options.fieldName ?? ((f) => f);
  if (raw === undefined) throw new AdaLoraConfigError('(root)', 'is required (expected an object of config fields)');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AdaLoraConfigError('(root)', 'expected an object of config fields', raw);
  }
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !(ADALORA_CONFIG_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new AdaLoraConfigError(unknown[0], `unknown key${unknown.length > 1 ? `s ${unknown.join(', ')}` : ''} (known: ${ADALORA_CONFIG_FIELDS.join(', ')})`);
  }

  const mode = r.mode ?? DEFAULTS.mode;
  if (mode !== 'adalora' && mode !== 'lora') throw new AdaLoraConfigError('mode', "must be 'adalora' or 'lora'", mode);
  const initR = integer(r, 'initR', 1, DEFAULTS.initR);
  const targetR = integer(r, 'targetR', 1, mode === 'lora' ? initR : DEFAULTS.targetR);
  const tinit = integer(r, 'tinit', 0, DEFAULTS.tinit);
  const tfinal = integer(r, 'tfinal', 0, DEFAULTS.tfinal);
  const deltaT = integer(r, 'deltaT', 1, DEFAULTS.deltaT);
  const totalStep = r.totalStep === undefined || r.totalStep === null ? undefined : integer(r, 'totalStep', 1);
  const beta1 = real(r, 'beta1', DEFAULTS.beta1);
  const beta2 = real(r, 'beta2', DEFAULTS.beta2);
  const orthRegWeight = real(r, 'orthRegWeight', DEFAULTS.orthRegWeight);
  const loraAlpha = real(r, 'loraAlpha', DEFAULTS.loraAlpha);
  const loraDropout = real(r, 'loraDropout', DEFAULTS.loraDropout);
  const targetModules = strings(r, 'targetModules');
  const modulesToSave = strings(r, 'modulesToSave', DEFAULTS.modulesToSave);

  if (targetR > initR) throw new AdaLoraConfigError('targetR', `must be <= ${name('initR')} (${initR})`, targetR, r.targetR === undefined || r.targetR === null);
  if (totalStep !== undefined) checkSchedule(tinit, tfinal, totalStep, name);
  if (orthRegWeight < 0) throw new AdaLoraConfigError('orthRegWeight', 'must be >= 0', orthRegWeight);
  if (!(beta1 >= 0 && beta1 < 1)) throw new AdaLoraConfigError('beta1', 'must be in [0, 1)', beta1);
  if (!(beta2 >= 0 && beta2 < 1)) throw new AdaLoraConfigError('beta2', 'must be in [0, 1)', beta2);
  if (!(loraDropout >= 0 && loraDropout < 1)) throw new AdaLoraConfigError('loraDropout', 'must be in [0, 1)', loraDropout);
  if (!(loraAlpha > 0)) throw new AdaLoraConfigError('loraAlpha', 'must be > 0', loraAlpha);
  if (targetModules.length === 0) throw new AdaLoraConfigError('targetModules', 'must name at least one module (e.g. query, value)', targetModules);

  return Object.freeze({ mode, initR, targetR, tinit, tfinal, deltaT, beta1, beta2, orthRegWeight, totalStep, loraAlpha, loraDropout, targetModules, modulesToSave });
}

/** The one rule that needs the run's length: the budget must have steps in which to fall. */
function checkSchedule(tinit: number, tfinal: number, totalStep: number, name: (field: keyof AdaLoraConfig) => string): void {
  if (!(tinit < totalStep - tfinal)) {
    throw new AdaLoraConfigError('tinit', `must be < ${name('totalStep')} - ${name('tfinal')} (${totalStep} - ${tfinal} = ${totalStep - tfinal}) so the budget has steps to fall`, tinit);
  }
}

/**
 * Completes a draft: `totalStep` is the draft's, else `runSteps` (the run's optimizer steps,
 * as peft defaults it), and `tinit < totalStep − tfinal` is checked with it.
 */
export function finishAdaLoraConfig(draft: AdaLoraConfigDraft, runSteps: number, options: AdaLoraParseOptions = {}): Readonly<AdaLoraConfig> {
  const totalStep = draft.totalStep ?? runSteps;
  if (!Number.isInteger(totalStep) || totalStep < 1) throw new AdaLoraConfigError('totalStep', 'must be an integer >= 1', totalStep);
  checkSchedule(draft.tinit, draft.tfinal, totalStep, options.fieldName ?? ((f) => f));
  // the field order of ADALORA_CONFIG_FIELDS: resume compares configs as JSON text
  const { mode, initR, targetR, tinit, tfinal, deltaT, beta1, beta2, orthRegWeight, loraAlpha, loraDropout, targetModules, modulesToSave } = draft;
  return Object.freeze({ mode, initR, targetR, tinit, tfinal, deltaT, beta1, beta2, orthRegWeight, totalStep, loraAlpha, loraDropout, targetModules, modulesToSave });
}

/**
 * Validates a raw (camelCase) config with its `totalStep` and fills peft's defaults: the
 * rules of {@link parseAdaLoraDraft}, `totalStep` required. Throws {@link AdaLoraConfigError}.
 */
export function parseAdaLoraConfig(raw: unknown, options: AdaLoraParseOptions = {}): Readonly<AdaLoraConfig> {
  const draft = parseAdaLoraDraft(raw, options);
  if (draft.totalStep === undefined) throw new AdaLoraConfigError('totalStep', 'is required (an integer >= 1)');
  return finishAdaLoraConfig(draft, draft.totalStep, options);
}
