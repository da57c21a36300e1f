import * as tf from '@tensorflow/tfjs';
import { moduleId, moduleTensorKey } from '@adalora/core';
import type { WeightStore } from './weights';

/**
 * A head's Linears as trainable variables, each `[name, out, in]` as `<name>.weight` [out, in]
 * and `<name>.bias` [out], keyed by the HF weight name (which is also the trainable's key):
 * taken from the checkpoint, or created as HF's _init_weights does (normal(0, initializerRange)
 * weight, zero bias) when the store has an init seed.
 */
export function trainableLinears(weights: WeightStore, initializerRange: number, linears: readonly (readonly [string, number, number])[]): Map<string, tf.Variable> {
  const params = new Map<string, tf.Variable>();
  try {
    for (const [name, out, inp] of linears) {
      for (const [suffix, dims, init] of [
        ['weight', [out, inp], { kind: 'normal', std: initializerRange }],
        ['bias', [out], { kind: 'zeros' }],
      ] as const) {
        const key = moduleTensorKey(moduleId(name), suffix);
        const t = weights.takeOrInit(key, dims, init);
        params.set(key, tf.variable(t, true)); // no name: tfjs names are process-global
        t.dispose();
      }
    }
  } catch (e) {
    params.forEach((p) => p.dispose());
    throw e;
  }
  return params;
}
