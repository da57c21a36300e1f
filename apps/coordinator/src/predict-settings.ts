// How `adalora predict` reads its data file, resolved before tfjs loads: a bad setting is refused at once.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyOverrides, parseRunConfig, readConfigFile, type DataConfig } from '@adalora/config';
import { adapterTaskType } from './adapter-task-type';

export interface PredictDataFlags {
  readonly adapter: string;
  /** A run config (JSON or YAML) whose `data` section says how to read the file. */
  readonly config?: string;
  readonly format?: string;
  readonly textColumn?: string;
  readonly textPairColumn?: string;
  readonly labelColumn?: string;
  readonly maxLength?: number;
  readonly task?: string;
  readonly tokenizer?: string;
  // question answering (data.task qa)
  readonly squadVersion?: string;
  readonly docStride?: number;
  readonly nBest?: number;
  readonly maxAnswerLength?: number;
  readonly nullScoreThreshold?: number;
}

/** The data settings and tokenizer to read a file with, and where they came from (for the log). */
export interface PredictDataSettings {
  readonly data: DataConfig;
  readonly tokenizer?: string;
  readonly source: string;
}

/** The run config a checkpoint folder holds (`<checkpoint>/run_config.json`, beside its `adapter/`), or null. */
function recordedRunConfig(adapterDir: string): { raw: Record<string, unknown>; file: string } | null {
  const file = join(adapterDir, '..', 'run_config.json');
  if (!existsSync(file)) return null;
  try {
    return { raw: JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>, file };
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * The data section to read a file with: from --config, else from the run config saved with the
 * adapter's checkpoint (so a run's own adapter reads its data as the run did), else the defaults;
 * each flag given overrides its field. Checked by the same rules as a run's config.
 */
export function predictDataSettings(flags: PredictDataFlags): PredictDataSettings {
  const recorded = flags.config === undefined ? recordedRunConfig(flags.adapter) : null;
  const raw = flags.config !== undefined ? (readConfigFile(flags.config) as Record<string, unknown>) : (recorded?.raw ?? {});
  const source = flags.config ?? recorded?.file ?? 'the defaults';
  const sets: string[] = [];
  const set = (key: string, v: string | number | undefined) => v !== undefined && sets.push(`data.${key}=${JSON.stringify(v)}`);
  set('format', flags.format);
  set('textColumn', flags.textColumn);
  set('textPairColumn', flags.textPairColumn);
  set('labelColumn', flags.labelColumn);
  set('maxLength', flags.maxLength);
  set('task', flags.task);
  set('squadVersion', flags.squadVersion);
  set('docStride', flags.docStride);
  set('nBest', flags.nBest);
  set('maxAnswerLength', flags.maxAnswerLength);
  set('nullScoreThreshold', flags.nullScoreThreshold);
  // a QA adapter reads its file as SQuAD whatever the defaults say (a config or --task naming another task is refused below)
  const qaAdapter = adapterTaskType(flags.adapter) === 'QUESTION_ANS';
  const data = flattenQaSection((raw.data ?? {}) as Record<string, unknown>);
  // v1.1 has no null answer: a recorded threshold (always written, 0 by default) would be refused with it
  if (flags.squadVersion === '1.1' && flags.nullScoreThreshold === undefined) delete data.nullScoreThreshold;
  if (qaAdapter && flags.task === undefined && data.task === undefined) sets.push('data.task="qa"');
  // checked before the config rules, which would name a QA field of the other task first
  const task = flags.task ?? data.task ?? (qaAdapter ? 'qa' : 'classification');
  if (qaAdapter !== (task === 'qa')) {
    const adapter = qaAdapter ? 'is a question-answering adapter (task_type QUESTION_ANS)' : 'is not a question-answering adapter (task_type is not QUESTION_ANS)';
    throw new Error(`${flags.adapter} ${adapter} but data.task is ${String(task)} (from ${flags.task !== undefined ? '--task' : source})`);
  }
  if (flags.tokenizer !== undefined) sets.push(`tokenizer=${JSON.stringify(flags.tokenizer)}`);
  const parsed = parseRunConfig(applyOverrides({ data, ...(raw.tokenizer !== undefined && { tokenizer: raw.tokenizer }) }, sets));
  return { data: parsed.data, tokenizer: parsed.tokenizer, source };
}

/**
 * A recorded run config holds the parsed config, whose QA fields sit in `data.qa`
 * (`{squadVersion, docStride, …}`); a config file has them in `data` itself: moved back there.
 */
function flattenQaSection(data: Record<string, unknown>): Record<string, unknown> {
  const { qa, ...rest } = data;
  if (qa === undefined || qa === null) return rest;
  if (typeof qa !== 'object' || Array.isArray(qa)) return data; // the config rules name it
  const { nullScoreThreshold, ...fields } = qa as Record<string, unknown>;
  // a v1.1 run records the default threshold too, which the rules refuse beside squadVersion '1.1'
  return { ...fields, ...(fields.squadVersion !== '1.1' && { nullScoreThreshold }), ...rest };
}
