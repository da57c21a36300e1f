import { readFileSync, writeFileSync } from 'node:fs';
import { readSafetensors, writeSafetensors, type SafeTensor } from '@adalora/models';

/**
 * Writes a plain-data state (numbers, strings, arrays, objects, Float32Arrays) as a JSON file
 * whose typed arrays live in a safetensors file beside it, referenced by `{"$tensor": name}`.
 */
export function writeStateFiles(jsonPath: string, tensorsPath: string, state: unknown): void {
  const tensors = new Map<string, SafeTensor>();
  const json = JSON.stringify(
    state,
    function replace(this: unknown, key: string, value: unknown) {
      if (value instanceof Float32Array) {
        const name = `t${tensors.size}`;
        tensors.set(name, { shape: [value.length], data: value });
        return { $tensor: name };
      }
      return value;
    },
    1,
  );
  writeSafetensors(tensorsPath, tensors);
  writeFileSync(jsonPath, json);
}

/** Reads what writeStateFiles wrote; a missing tensor reference is an error naming it. */
export function readStateFiles(jsonPath: string, tensorsPath: string): unknown {
  const tensors = readSafetensors(tensorsPath);
  let text: string;
  try {
    text = readFileSync(jsonPath, 'utf8');
  } catch (e) {
    throw new Error(`trainer state ${jsonPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return JSON.parse(text, (key, value: unknown) => {
    if (value && typeof value === 'object' && '$tensor' in value) {
      const name = (value as { $tensor: unknown }).$tensor;
      const t = typeof name === 'string' ? tensors.get(name) : undefined;
      if (!t) throw new Error(`trainer state ${jsonPath}: '${key}' refers to tensor ${JSON.stringify(name)}, absent from ${tensorsPath}`);
      return t.data;
    }
    return value;
  });
}
