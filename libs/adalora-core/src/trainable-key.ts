import { moduleId, type ModuleId } from './module-id';

/**
 * The name of one trainable tensor, the same on the wire, in checkpoints and in every map of
 * trainables. Two kinds, each made by its one builder and taken apart only by
 * {@link parseTrainableKey}:
 * - an adapter parameter, `<module path>.lora_A|lora_E|lora_B` ({@link adapterKey});
 * - a tensor of a module that trains fully (the head, peft `modules_to_save`), under its HF
 *   weight name `<module path>.weight|bias` ({@link moduleTensorKey}).
 */
export type TrainableKey = string & { readonly __brand: 'TrainableKey' };

/** peft's parameter names of an adapter: AdaLoRA has all three, LoRA only `lora_A` and `lora_B`. */
export type AdapterParam = 'lora_A' | 'lora_E' | 'lora_B';

/** The tensors of a fully trained module (an HF Linear's). */
export type ModuleTensorParam = 'weight' | 'bias';

/** What a trainable key names. */
export type TrainableKeyParts =
  | { readonly kind: 'adapter'; readonly module: ModuleId; readonly param: AdapterParam }
  | { readonly kind: 'module'; readonly module: ModuleId; readonly param: ModuleTensorParam };

const ADAPTER_PARAMS: readonly string[] = ['lora_A', 'lora_E', 'lora_B'] satisfies AdapterParam[];
const MODULE_TENSOR_PARAMS: readonly string[] = ['weight', 'bias'] satisfies ModuleTensorParam[];

/** The key of adapter parameter `param` of module `module`, e.g. `bert.encoder.layer.0.attention.self.query.lora_E`. */
export function adapterKey(module: ModuleId, param: AdapterParam): TrainableKey {
  return `${module}.${param}` as TrainableKey;
}

/**
 * The key of a fully trained module's tensor, which is its HF weight name, e.g.
 * `classifier.weight` or `classifier.out_proj.bias`.
 */
export function moduleTensorKey(module: ModuleId, param: ModuleTensorParam): TrainableKey {
  return `${module}.${param}` as TrainableKey;
}

/**
 * Reads a trainable key (from a wire message, a checkpoint or a file) into its kind, module
 * and parameter, with the key itself typed; refuses anything that is not one of the two forms.
 */
export function parseTrainableKey(name: string): TrainableKeyParts & { readonly key: TrainableKey } {
  const dot = name.lastIndexOf('.');
  const path = dot > 0 ? name.slice(0, dot) : '';
  const param = name.slice(dot + 1);
  const kind = ADAPTER_PARAMS.includes(param) ? 'adapter' : MODULE_TENSOR_PARAMS.includes(param) ? 'module' : null;
  if (kind === null || path === '') {
    throw new Error(
      `trainable key '${name}' is neither '<module path>.lora_A|lora_E|lora_B' (an adapter parameter) nor '<module path>.weight|bias' (a fully trained module's tensor)`,
    );
  }
  let module: ModuleId;
  try {
    module = moduleId(path);
  } catch {
    throw new Error(`trainable key '${name}': '${path}' is not a dotted module path`);
  }
  // peft's LoRA file names end in `.lora_A.weight`: they name an adapter, not a module's tensor
  const last = path.slice(path.lastIndexOf('.') + 1);
  if (ADAPTER_PARAMS.includes(last)) throw new Error(`trainable key '${name}' is peft's file name of adapter parameter '${path}', not a trainable key`);
  const key = name as TrainableKey;
  return kind === 'adapter' ? { kind, module, param: param as AdapterParam, key } : { kind, module, param: param as ModuleTensorParam, key };
}
