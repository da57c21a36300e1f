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
// Read, then parse, each failure naming the file: the shape of @adalora/config's readConfigFile,
// kept apart because that one parses YAML too and words its errors as config errors.
export function readStateFiles(jsonPath: string, tensorsPath: string): unknown {
  const tensors = readSafetensors(tensorsPath);
  let text: string;
  try {
    text = readFileSync(jsonPath, 'utf8');
  } catch (e) {
    throw new Error(`trainer state ${jsonPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`trainer state ${jsonPath}: not valid JSON (${(e as Error).message})`);
  }
  return resolveTensors(parsed, '', (key, name) => {
    const t = typeof name === 'string' ? tensors.get(name) : undefined;
    if (!t) throw new Error(`trainer state ${jsonPath}: '${key}' refers to tensor ${JSON.stringify(name)}, absent from ${tensorsPath}`);
    return t.data;
  });
}

// replaces every {"$tensor": name} by its data; `path` is the dotted field name, for errors
function resolveTensors(value: unknown, path: string, tensor: (path: string, name: unknown) => Float32Array): unknown {
  if (value === null || typeof value !== 'object') return value;
  if ('$tensor' in value) return tensor(path, (value as { $tensor: unknown }).$tensor);
  if (Array.isArray(value)) return value.map((v, i) => resolveTensors(v, `${path}[${i}]`, tensor));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTensors(v, path ? `${path}.${k}` : k, tensor)]));
}
