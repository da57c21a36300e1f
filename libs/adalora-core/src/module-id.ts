/**
 * A typed id for one adapted linear layer: its Hugging Face module path,
 * e.g. `bert.encoder.layer.0.attention.self.query`. Adapters are kept in
 * `Map<ModuleId, …>`; nothing is found by matching parts of variable names.
 */
export type ModuleId = string & { readonly __brand: 'ModuleId' };

const MODULE_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

/** Makes a ModuleId from an HF module path, refusing anything that is not a dotted path. */
export function moduleId(path: string): ModuleId {
  if (!MODULE_PATH.test(path)) {
    throw new Error(`moduleId: '${path}' is not a dotted module path like 'bert.encoder.layer.0.attention.self.query'`);
  }
  return path as ModuleId;
}

/** peft's target matching: a module matches target `t` when its path equals `t` or ends with `.t`. */
export function matchesTarget(id: ModuleId, targets: readonly string[]): boolean {
  return targets.some((t) => id === t || id.endsWith(`.${t}`));
}
