import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import type { AdaLoraConfigDraft } from './adalora-config';
import { BACKEND_CHOICES, type BackendChoice } from './backend-choice';
import { ConfigReader, configError } from './config-reader';
import { optimizerSteps } from './optimizer-steps';
import { BUILTIN_MODEL, RANK_RECOVERY_SAMPLES } from './rank-recovery-defaults';
import { readAdaLoraSection, runAdaLoraConfig } from './run-adalora-config';

/** The `data` section: where the examples are and how to read them. */
export interface DataConfig {
  /** train file; unused for the built-in job */
  readonly train?: string;
  readonly dev?: string;
  readonly format: 'auto' | 'tsv' | 'csv' | 'jsonl' | 'pretokenized';
  readonly textColumn: string;
  readonly textPairColumn?: string;
  readonly labelColumn: string;
  /** label names in class-id order; default: sorted distinct values of the train labels */
  readonly labels?: string[];
  readonly maxLength: number;
  /** classification (labels are classes), regression (numeric labels, one output) or qa (extractive, SQuAD) */
  readonly task: 'classification' | 'regression' | 'qa';
  /** the dev metric reported in logs (all fitting metrics are computed); qa: em or f1 (SQuAD's) */
  readonly metric: 'accuracy' | 'f1' | 'mcc' | 'pearson' | 'spearman' | 'em';
  /** present exactly when task is qa: windows and post-processing as HF's run_qa.py */
  readonly qa?: QaDataConfig;
}

/** Extractive QA's settings (`data.squadVersion`, `data.docStride`, …; HF run_qa.py's names and defaults). */
export interface QaDataConfig {
  /** '2.0' allows unanswerable questions (null answers); 'auto': '2.0' when the data has any */
  readonly squadVersion: 'auto' | '1.1' | '2.0';
  /** context tokens shared by consecutive windows of a long context (doc_stride) */
  readonly docStride: number;
  /** best start and end indices tried per window, answers kept per question (n_best_size) */
  readonly nBest: number;
  /** longest answer in tokens (max_answer_length) */
  readonly maxAnswerLength: number;
  /** v2: answer "" when the null score beats the best span by more than this (null_score_diff_threshold) */
  readonly nullScoreThreshold: number;
}

/** The `data` fields that only extractive QA reads. */
const QA_FIELDS = ['squadVersion', 'docStride', 'nBest', 'maxAnswerLength', 'nullScoreThreshold'] as const;

/** The `training` section: batches, optimizer (torch AdamW's knobs), schedule, evaluation and checkpoints. */
export interface TrainingConfig {
  readonly batchSize: number;
  readonly epochs: number;
  /** stop after this many optimizer steps (default: epochs × batches per epoch) */
  readonly maxSteps?: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly schedule: 'constant' | 'linear';
  readonly warmupSteps: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** rows per forward/backward on a worker: bounds its memory whatever its share */
  readonly microBatch: number;
  /** evaluate on the dev split every N steps (0 = only at the end) */
  readonly evalEvery: number;
  /** save a checkpoint every N steps (0 = only at the end) */
  readonly checkpointEvery: number;
  /** keep only the newest N `checkpoint-<step>` folders (HF's save_total_limit); default: all */
  readonly saveTotalLimit?: number;
  /** stop once this many evaluations in a row did not improve the dev metric (HF's early_stopping_patience); default: never */
  readonly earlyStoppingPatience?: number;
  /** an improvement must exceed the best so far by more than this (HF's early_stopping_threshold) */
  readonly earlyStoppingThreshold: number;
}

/** The `cluster` section: where the coordinator listens, whom it waits for, what goes on the wire. */
export interface ClusterConfig {
  readonly host: string;
  readonly port: number;
  readonly minWorkers: number;
  readonly backend: BackendChoice;
  /**
   * encoding of gradient sums on the wire: float64 (default) makes runs on any number of
   * workers bit-identical; float32/float16 halve/quarter the traffic. State always goes float32.
   */
  readonly wire: 'float64' | 'float32' | 'float16';
  /**
   * a worker that has not answered a request by then is dropped and its share redone: a fixed
   * number of ms, or 'auto': three times what the request should take at the slowest per-row
   * time of recent replies, at least `stepTimeoutFloorMs` (60 × that for a worker's first request
   * and before any reply, which include warm-up)
   */
  readonly stepTimeoutMs: number | 'auto';
  readonly stepTimeoutFloorMs: number;
  /**
   * ping interval: an idle ready worker that answered no ping nor message for two intervals is
   * dropped (it may rejoin). A worker busy on a request is judged by the request's deadline
   * instead, since a long synchronous step blocks its pongs.
   */
  readonly heartbeatMs: number;
  /** file holding the run secret workers must prove (else ADALORA_SECRET); never the secret itself */
  readonly secretFile?: string;
  /** PEM certificate and key: the coordinator serves wss (both or neither) */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** authenticated worker connections at most; more are told to try again later */
  readonly maxConnections: number;
  /** a connection that has not proved the secret by then (from its TCP connect) is closed */
  readonly handshakeTimeoutMs: number;
}

/** A whole run, as {@link parseRunConfig} returns it: every field checked, defaults filled in. */
export interface RunConfig {
  /** HF checkpoint dir (config.json + model.safetensors), or 'builtin:rank-recovery' */
  readonly model: string;
  /** dir or file of tokenizer.json; default: the model dir */
  readonly tokenizer?: string;
  /** PEFT adapter dir to start from (its initial state) */
  readonly initAdapter?: string;
  /** checkpoint dir (checkpoint-<step> or final) of an earlier run to continue, or 'latest': the newest intact one of outputDir */
  readonly resume?: string;
  /**
   * a checkpoint whose classification head has another label count than the data gets a new
   * head (HF's ignore_mismatched_sizes), with a warning naming both shapes; without it such a
   * checkpoint is refused
   */
  readonly reinitHead: boolean;
  readonly data: DataConfig;
  /**
   * the AdaLoRA section, checked by every rule; `totalStep` absent unless given: it defaults to
   * the run's optimizer steps once the data is counted ({@link runAdaLoraConfig})
   */
  readonly adalora: AdaLoraConfigDraft;
  readonly training: TrainingConfig;
  readonly cluster: ClusterConfig;
  readonly outputDir: string;
}

/**
 * Reads a JSON or YAML config file (by extension; YAML is a superset of JSON otherwise).
 * An empty (or all-comment) file is `{}`; a top level that is not a mapping is refused.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`config file ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = extname(path) === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new Error(`config file ${path}: not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'} (${(e as Error).message})`);
  }
  // callers read `raw.model` before validation: null (an empty YAML file) would crash them
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`config file ${path}: expected a mapping of fields at the top level, got ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Applies `--set a.b=value` overrides (value parsed as YAML, so numbers and booleans keep
 * their type) on a copy of the raw config.
 */
export function applyOverrides(raw: unknown, overrides: readonly string[]): Record<string, unknown> {
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new Error(`overrides: the config must be a mapping of fields, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  const root: Record<string, unknown> = structuredClone((raw ?? {}) as Record<string, unknown>);
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new Error(`override '${o}' must look like key.path=value`);
    const keys = o.slice(0, eq).split('.');
    // '__proto__' would walk into Object.prototype and pollute every object
    if (keys.some((k) => k === '' || k === '__proto__')) throw new Error(`override '${o}': every part of the key path must be a non-empty field name`);
    let value: unknown;
    try {
      value = YAML.parse(o.slice(eq + 1));
    } catch (e) {
      throw new Error(`override '${o}': the value is not valid YAML (${(e as Error).message.split('\n')[0].replace(/:$/, '')})`);
    }
    let node = root;
    for (const k of keys.slice(0, -1)) {
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
  return root;
}

/** `over` laid on `base`, objects merged key by key (arrays and scalars replace). */
export function mergeConfig(base: unknown, over: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === '__proto__') continue; // JSON may carry it as a plain key; never let it reach a prototype
    out[k] = mergeConfig(base[k], v);
  }
  return out;
}

/**
 * Validates a whole run config, with errors that name the field to fix as the user wrote it,
 * before anything is read or written. The one rule that depends on the data size (AdaLoRA's
 * `tinit < total_step − tfinal` with `total_step` defaulted to the run's steps) is checked here
 * whenever the steps are known without the data: `total_step` or `training.maxSteps` given, or
 * the built-in job; otherwise by {@link runAdaLoraConfig} once the data is counted.
 */
export function parseRunConfig(raw: unknown): RunConfig {
  const r = ConfigReader.of(raw, '');
  const model = r.string('model', BUILTIN_MODEL);
  const tokenizer = r.optionalString('tokenizer');
  const initAdapter = r.optionalString('initAdapter');
  const resume = r.optionalString('resume');
  const reinitHead = r.boolean('reinitHead', false);
  const d = r.section('data');
  const task = d.oneOf('task', ['classification', 'regression', 'qa'] as const, 'classification');
  let data: DataConfig = {
    train: d.optionalString('train'),
    dev: d.optionalString('dev'),
    format: d.oneOf('format', ['auto', 'tsv', 'csv', 'jsonl', 'pretokenized'] as const, 'auto'),
    textColumn: d.string('textColumn', 'sentence'),
    textPairColumn: d.optionalString('textPairColumn'),
    labelColumn: d.string('labelColumn', 'label'),
    labels: d.optionalStringList('labels'),
    maxLength: d.number('maxLength', task === 'qa' ? 384 : 128, { integer: true, min: 2 }),
    task,
    metric: 'accuracy',
  };
  const defaultMetric = task === 'regression' ? 'pearson' : task === 'qa' ? 'f1' : 'accuracy';
  data = { ...data, metric: d.oneOf('metric', ['accuracy', 'f1', 'mcc', 'pearson', 'spearman', 'em'] as const, defaultMetric) };
  const fits = task === 'regression' ? ['pearson', 'spearman'] : task === 'qa' ? ['em', 'f1'] : ['accuracy', 'f1', 'mcc'];
  if (!fits.includes(data.metric)) d.fail('metric', `does not fit a ${task} task`, data.metric);
  if (task === 'qa') data = { ...data, qa: readQaFields(d, data) };
  else for (const key of QA_FIELDS) if (d.raw(key) !== undefined) d.fail(key, "only applies to data.task 'qa'", d.raw(key));
  d.done();
  if (model !== BUILTIN_MODEL && !data.train) d.fail('train', 'is required unless model is builtin:rank-recovery', undefined);
  const adalora = readAdaLoraSection(r, task === 'qa' ? { modulesToSave: [QA_HEAD] } : {});
  if (task === 'qa' && !adalora.modulesToSave.some((m) => m === QA_HEAD || QA_HEAD.endsWith(`.${m}`))) {
    throw configError('adalora.modules_to_save', `must include '${QA_HEAD}' for data.task 'qa' (the QA head trains and is saved with the adapter)`, [...adalora.modulesToSave]);
  }
  const t = r.section('training');
  const training: TrainingConfig = {
    batchSize: t.number('batchSize', 32, { integer: true, min: 1 }),
    epochs: t.number('epochs', 3, { integer: true, min: 1 }),
    maxSteps: t.optionalNumber('maxSteps', { integer: true, min: 1 }),
    lr: t.number('lr', 1e-3, { min: 0, exclusiveMin: true }),
    weightDecay: t.number('weightDecay', 0.01, { min: 0 }),
    beta1: t.number('beta1', 0.9, { min: 0, max: 0.999999 }),
    beta2: t.number('beta2', 0.999, { min: 0, max: 0.999999 }),
    eps: t.number('eps', 1e-8, { min: 0, exclusiveMin: true }),
    schedule: t.oneOf('schedule', ['constant', 'linear'] as const, 'linear'),
    warmupSteps: t.number('warmupSteps', 0, { integer: true, min: 0 }),
    seed: t.number('seed', 42, { integer: true, min: 0 }),
    shuffle: t.boolean('shuffle', true),
    dropLast: t.boolean('dropLast', false),
    microBatch: t.number('microBatch', 16, { integer: true, min: 1 }),
    evalEvery: t.number('evalEvery', 0, { integer: true, min: 0 }),
    checkpointEvery: t.number('checkpointEvery', 0, { integer: true, min: 0 }),
    saveTotalLimit: t.optionalNumber('saveTotalLimit', { integer: true, min: 1 }),
    earlyStoppingPatience: t.optionalNumber('earlyStoppingPatience', { integer: true, min: 1 }),
    earlyStoppingThreshold: t.number('earlyStoppingThreshold', 0, { min: 0 }),
  };
  // patience counts evaluations: without periodic ones there is only the last, nothing to stop early
  if (training.earlyStoppingPatience !== undefined && training.evalEvery === 0) {
    t.fail('earlyStoppingPatience', "needs 'training.evalEvery' > 0 (patience counts evaluations)", training.earlyStoppingPatience);
  }
  t.done();
  const c = r.section('cluster');
  const secretFile = c.optionalString('secretFile');
  const tlsCert = c.optionalString('tlsCert');
  const tlsKey = c.optionalString('tlsKey');
  const cluster: ClusterConfig = {
    host: c.string('host', '127.0.0.1'),
    port: c.number('port', 7070, { integer: true, min: 0, max: 65535 }),
    minWorkers: c.number('minWorkers', 1, { integer: true, min: 1 }),
    backend: c.oneOf('backend', BACKEND_CHOICES, 'auto'),
    wire: c.oneOf('wire', ['float64', 'float32', 'float16'] as const, 'float64'),
    stepTimeoutMs: autoOrMs(c, 'stepTimeoutMs'),
    stepTimeoutFloorMs: c.number('stepTimeoutFloorMs', 10_000, { integer: true, min: 1 }),
    heartbeatMs: c.number('heartbeatMs', 2_000, { integer: true, min: 10 }),
    // absent, not undefined, when not given: the parsed config reads like the file
    ...(secretFile !== undefined && { secretFile }),
    ...(tlsCert !== undefined && { tlsCert }),
    ...(tlsKey !== undefined && { tlsKey }),
    maxConnections: c.number('maxConnections', 64, { integer: true, min: 1 }),
    handshakeTimeoutMs: c.number('handshakeTimeoutMs', 5000, { integer: true, min: 100 }),
  };
  if ((cluster.tlsCert === undefined) !== (cluster.tlsKey === undefined)) {
    c.fail(cluster.tlsCert === undefined ? 'tlsCert' : 'tlsKey', 'is required with cluster.tlsCert/tlsKey (a certificate and its key go together)', undefined);
  }
  c.done();
  // the schedule rule with the run's steps, when they are known without reading data (a given
  // total_step was checked with the section); the result is made again by prepareJob
  const runSteps = training.maxSteps ?? (model === BUILTIN_MODEL ? optimizerSteps(training, RANK_RECOVERY_SAMPLES.train).totalSteps : undefined);
  if (runSteps !== undefined) runAdaLoraConfig(adalora, runSteps);
  const outputDir = r.string('outputDir', 'runs/latest');
  r.done();
  return { model, tokenizer, initAdapter, resume, reinitHead, data, adalora, training, cluster, outputDir };
}

/** HF's extractive-QA head, trained fully and saved with the adapter (peft modules_to_save). */
const QA_HEAD = 'qa_outputs';

/** The QA fields of `data`, with run_qa.py's defaults, and the rules between them. */
function readQaFields(d: ConfigReader, data: DataConfig): QaDataConfig {
  if (data.format === 'tsv' || data.format === 'csv' || data.format === 'pretokenized') {
    d.fail('format', "must be auto (.json: SQuAD JSON, .jsonl: HF datasets' rows) or jsonl for data.task 'qa'", data.format);
  }
  const qa: QaDataConfig = {
    squadVersion: d.oneOf('squadVersion', ['auto', '1.1', '2.0'] as const, 'auto'),
    docStride: d.number('docStride', Math.min(128, Math.floor(data.maxLength / 3)), { integer: true, min: 0 }),
    nBest: d.number('nBest', 20, { integer: true, min: 1 }),
    maxAnswerLength: d.number('maxAnswerLength', 30, { integer: true, min: 1 }),
    nullScoreThreshold: d.number('nullScoreThreshold', 0),
  };
  // a window holds [CLS] question [SEP] context [SEP]: the stride must leave context tokens to move on by
  if (qa.docStride >= data.maxLength - 3) d.fail('docStride', `must be < 'data.maxLength' - 3 (${data.maxLength - 3}), so each window moves on`, qa.docStride);
  if (qa.squadVersion === '1.1' && d.raw('nullScoreThreshold') !== undefined) {
    d.fail('nullScoreThreshold', "only applies to SQuAD v2.0 (data.squadVersion '2.0' or 'auto')", qa.nullScoreThreshold);
  }
  return qa;
}

/** A field that is 'auto' (also when absent) or an integer number of ms >= 1. */
function autoOrMs(c: ConfigReader, key: string): number | 'auto' {
  const v = c.raw(key);
  if (v === undefined || v === 'auto') return 'auto';
  if (typeof v !== 'number') c.fail(key, "must be 'auto' or an integer >= 1", v);
  return c.number(key, undefined, { integer: true, min: 1 });
}
