import type * as tf from '@tensorflow/tfjs';
import type { AdaLoraConfig } from '@adalora/config';
import { LoraAdapter, matchesTarget, parseTrainableKey, SvdAdapter, type ModuleId, type TrainableKey } from '@adalora/core';
import type { EncoderModel, QaModel } from './encoder-model';

/** The adapters attached to one model, by module id, and every tensor that trains. */
export interface InjectedAdapters {
  readonly mode: 'adalora' | 'lora';
  readonly adapters: ReadonlyMap<ModuleId, SvdAdapter | LoraAdapter>;
  /**
   * Every trainable tensor by its key (peft's name without the `base_model.model.` prefix):
   * `<module path>.lora_A|lora_E|lora_B` for adapters, the HF weight name for head tensors.
   * Insertion order is stable (adapters in model order, then the head). Read afresh after a
   * resize: resizing an adapter replaces its variables.
   */
  readonly trainables: ReadonlyMap<TrainableKey, tf.Variable>;
  /** Takes the adapters off the model's linears and frees their tensors. */
  dispose(): void;
}

/**
 * Attaches an adapter to every encoder linear whose module path matches `cfg.targetModules`
 * (peft's suffix rule); everything else stays frozen and the head trains fully. Works on a
 * classification model and on a {@link QaModel} alike.
 */
export function injectAdapters(model: Pick<EncoderModel, 'modelType' | 'linears' | 'headParams'>, cfg: AdaLoraConfig, seed = 0): InjectedAdapters {
  const adapters = new Map<ModuleId, SvdAdapter | LoraAdapter>();
  let index = 0;
  for (const [id, linear] of model.linears) {
    if (!matchesTarget(id, cfg.targetModules)) continue;
    const shape = { id, inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, rank: cfg.initR, loraAlpha: cfg.loraAlpha, dropout: cfg.loraDropout, seed: seed + index++ };
    const adapter = cfg.mode === 'lora' ? new LoraAdapter(shape) : new SvdAdapter(shape);
    linear.adapter = adapter;
    adapters.set(id, adapter);
  }
  if (adapters.size === 0) {
    const some = [...model.linears.keys()].slice(0, 4).join(', ');
    throw new Error(`target_modules [${cfg.targetModules.join(', ')}] match no linear layer of this ${model.modelType} model (its layers are named like ${some})`);
  }
  return {
    mode: cfg.mode,
    adapters,
    get trainables() {
      return collectTrainables(adapters, model);
    },
    dispose() {
      for (const [id, adapter] of adapters) {
        const linear = model.linears.get(id);
        if (linear && linear.adapter === adapter) linear.adapter = null;
        adapter.dispose();
      }
    },
  };
}

/**
 * The adapters' variables and then the head's, by trainable key. A resize replaces an
 * adapter's variables, so this is read afresh rather than kept.
 */
export function collectTrainables(adapters: ReadonlyMap<ModuleId, SvdAdapter | LoraAdapter>, model: Pick<EncoderModel, 'headParams'>): Map<TrainableKey, tf.Variable> {
  const trainables = new Map<TrainableKey, tf.Variable>();
  for (const adapter of adapters.values()) {
    for (const [key, v] of adapter.params()) trainables.set(key, v);
  }
  for (const [name, v] of model.headParams) {
    const head = parseTrainableKey(name);
    if (head.kind !== 'module') throw new Error(`head tensor '${name}' is named like an adapter parameter`);
    trainables.set(head.key, v);
  }
  return trainables;
}
