/**
 * A JSON file's text (or bytes) as an object, or an error naming the file: every JSON file a
 * checkpoint or an adapter holds (config.json, adapter_config.json, a shard index) is an object.
 */
export function parseJsonObject(json: string | Uint8Array, source: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(typeof json === 'string' ? json : new TextDecoder().decode(json));
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${source}: expected a JSON object`);
  return v as Record<string, unknown>;
}
