// How `adalora predict` reads its data file, resolved before tfjs loads: a bad setting is refused at once.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyOverrides, parseRunConfig, readConfigFile, type DataConfig } from '@adalora/config';

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
  if (flags.tokenizer !== undefined) sets.push(`tokenizer=${JSON.stringify(flags.tokenizer)}`);
  const parsed = parseRunConfig(applyOverrides({ data: raw.data ?? {}, ...(raw.tokenizer !== undefined && { tokenizer: raw.tokenizer }) }, sets));
  return { data: parsed.data, tokenizer: parsed.tokenizer, source };
}
