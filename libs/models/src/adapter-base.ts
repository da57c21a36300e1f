import { writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { readOptionalFileBytes } from './checkpoint-files';
import { parseJsonObject } from './json-object';

/**
 * What a PEFT adapter folder cannot say in peft's own `adapter_config.json` (peft would refuse
 * keys it does not know): which base model the adapter was trained on, by the SHA-256 that
 * {@link loadEncoder} computes over its config and weights, and the label names of its head.
 * merge and predict check the hash, so an adapter is never applied to another base of the same
 * shape without a word; merge writes the names as `id2label` / `label2id`.
 */
export const ADAPTER_BASE_FILE = 'adalora_base.json';

export interface AdapterBase {
  /** SHA-256 (hex) of the base checkpoint, as `loadEncoder(...).hash`. */
  readonly baseModelSha256: string;
  /** The head's outputs: classes, or 1 for regression. */
  readonly numLabels: number;
  /** `labels[id]` is the name of class `id`; null when the training data had none (regression, pre-tokenized ids). */
  readonly labels: readonly string[] | null;
}

/** Writes `adalora_base.json` into an adapter folder (atomically: a temporary name, then renamed). */
export async function writeAdapterBase(dir: string, base: AdapterBase): Promise<void> {
  if (base.labels !== null && base.labels.length !== base.numLabels) {
    throw new Error(`writeAdapterBase: ${base.labels.length} label names for a head of ${base.numLabels} outputs`);
  }
  const json = { base_model_sha256: base.baseModelSha256, num_labels: base.numLabels, ...(base.labels && { id2label: Object.fromEntries(base.labels.map((l, i) => [String(i), l])) }) };
  const file = path.join(dir, ADAPTER_BASE_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(json, null, 2)}\n`);
  await rename(tmp, file);
}

/** The adapter folder's `adalora_base.json`, or null when it has none (e.g. an adapter peft saved); a bad file is an error naming it. */
export async function readAdapterBase(dir: string): Promise<AdapterBase | null> {
  const file = path.join(dir, ADAPTER_BASE_FILE);
  const bytes = await readOptionalFileBytes(file);
  if (bytes === null) return null;
  const o = parseJsonObject(bytes, file);
  const hash = o.base_model_sha256;
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new Error(`${file}: base_model_sha256 must be 64 hex digits`);
  const numLabels = o.num_labels;
  if (typeof numLabels !== 'number' || !Number.isInteger(numLabels) || numLabels < 1) throw new Error(`${file}: num_labels must be an integer >= 1`);
  let labels: string[] | null = null;
  if (o.id2label !== undefined) {
    const map = o.id2label;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error(`${file}: id2label must be an object`);
    labels = Array.from({ length: numLabels }, (_, i) => {
      const name = (map as Record<string, unknown>)[String(i)];
      if (typeof name !== 'string') throw new Error(`${file}: id2label has no name for class ${i} (num_labels ${numLabels})`);
      return name;
    });
  }
  return { baseModelSha256: hash, numLabels, labels };
}

/**
 * Refuses an adapter recorded as trained on a base other than the one loaded (`modelHash`):
 * the shapes may fit, the numbers would be wrong.
 */
export function checkAdapterBase(base: AdapterBase, modelHash: string, adapterDir: string, modelDir: string): void {
  if (base.baseModelSha256 !== modelHash) {
    throw new Error(
      `the adapter ${adapterDir} was trained on another base model: its base has SHA-256 ${base.baseModelSha256.slice(0, 12)}…, ${modelDir} has ${modelHash.slice(0, 12)}… (give the base checkpoint it was trained on)`,
    );
  }
}

/**
 * The base model an adapter is to be used with (loaded by `load`, which sees what the adapter
 * recorded of its base, e.g. to size the head), checked against that record: a base other than
 * the one the adapter was trained on is refused (the model disposed first); an adapter that
 * records none (saved by peft) is used with a logged warning. What predict and merge share.
 */
export async function loadBaseForAdapter<L extends { readonly model: { dispose(): void }; readonly hash: string }>(
  baseDir: string,
  adapterDir: string,
  load: (recorded: AdapterBase | null) => Promise<L>,
  log: (line: string) => void,
): Promise<L & { readonly recorded: AdapterBase | null }> {
  const recorded = await readAdapterBase(adapterDir);
  const loaded = await load(recorded);
  if (recorded) {
    try {
      checkAdapterBase(recorded, loaded.hash, adapterDir, baseDir);
    } catch (e) {
      loaded.model.dispose();
      throw e;
    }
  } else log(`${adapterDir} records no base model (no adalora_base.json, e.g. saved by peft): its base cannot be checked, make sure it is ${baseDir}`);
  return { ...loaded, recorded };
}
