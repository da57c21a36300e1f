import type { AdapterMode } from '@adalora/config';
import { parseTrainableKey, type TrainableKey, type TrainableKeyParts } from '@adalora/core';

/** Every tensor name in a PEFT file starts with this (peft's wrapper modules). */
export const PEFT_PREFIX = 'base_model.model.';

/**
 * The name peft 0.21's `save_pretrained` gives a trainable in `adapter_model.safetensors`:
 * `base_model.model.<key>`, plus `.weight` for a LoRA adapter parameter (in peft LoRA's A and
 * B are `nn.Linear` layers; AdaLoRA's are bare parameters).
 */
export function peftTensorName(key: TrainableKey, mode: AdapterMode): string {
  const suffix = mode === 'lora' && parseTrainableKey(key).kind === 'adapter' ? '.weight' : '';
  return `${PEFT_PREFIX}${key}${suffix}`;
}

/**
 * The trainable a tensor name of a PEFT file stands for, as saved (`base_model.model.<path>.lora_A`,
 * `….lora_A.weight`) or as peft holds it in memory (`….lora_A.default`,
 * `classifier.modules_to_save.default.weight`); the prefix may be absent. Null when the name
 * stands for no trainable.
 */
export function parsePeftTensorName(name: string): (TrainableKeyParts & { readonly key: TrainableKey }) | null {
  let n = name.startsWith(PEFT_PREFIX) ? name.slice(PEFT_PREFIX.length) : name;
  n = n.replace(/\.modules_to_save\.default\./, '.'); // peft's copy of a fully trained module
  n = n.replace(/\.(lora_A|lora_B|lora_E)(\.default)?(\.weight)?$/, '.$1'); // adapter name `default`; LoRA's nn.Linear
  try {
    return parseTrainableKey(n);
  } catch {
    return null;
  }
}
