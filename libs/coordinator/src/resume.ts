import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { AdaLoraConfig } from '@adalora/config';
import { checkTensorSet, TensorSetError } from '@adalora/core';
import type { InjectedAdapters } from '@adalora/models';
import type { ClusterOptimizer, ClusterOptimizerState } from '@adalora/training';
import { checkManifest, CheckpointIntegrityError } from './checkpoint-manifest';
import { readStateFiles } from './trainer-state-file';

/** What must match between a checkpoint and the run that resumes from it. */
export interface ResumeTarget {
  readonly optimizer: ClusterOptimizer;
  readonly injected: InjectedAdapters;
  readonly adalora: AdaLoraConfig;
  readonly modelHash: string;
  readonly dataHash: string;
}

/**
 * Restores trainables, optimizer, allocator and step from a checkpoint folder written by
 * saveCheckpoint. The checkpoint must come from the same model, data and AdaLoRA schedule:
 * then the resumed run continues exactly where the saved one was (same batches, same bits).
 * Everything is checked before anything is changed: the files against the checkpoint's
 * manifest, then the state (every saved number finite, every tensor this run's).
 */
export function resumeFromCheckpoint(dir: string, target: ResumeTarget): number {
  const fail = (why: string): never => {
    throw new Error(`cannot resume from ${dir}: ${why}`);
  };
  try {
    checkManifest(dir);
  } catch (e) {
    if (!(e instanceof CheckpointIntegrityError)) throw e;
    fail(`${e.file}: ${e.why}`);
  }
  let raw: unknown;
  try {
    raw = readStateFiles(join(dir, 'trainer_state.json'), join(dir, 'trainer_state.safetensors'));
  } catch (e) {
    fail((e as Error).message);
  }
  if (typeof raw !== 'object' || raw === null) fail('trainer_state.json is not an object');
  const state = raw as Record<string, unknown>;
  if (state.modelHash !== target.modelHash) fail('it was trained on another base model (model hash differs)');
  if (state.dataHash !== target.dataHash) fail('it was trained on other data (data hash differs)');
  if (JSON.stringify(state.adalora) !== JSON.stringify(target.adalora)) fail('its adalora config differs from this run’s (the schedule would not continue)');
  const trainables = state.trainables as Record<string, unknown> | undefined;
  if (typeof trainables !== 'object' || trainables === null) fail('no trainables in trainer_state.json');
  const saved = Object.entries(trainables!).map(([name, values]) => {
    if (!(values instanceof Float32Array)) fail(`trainable '${name}' in trainer_state.json is not a tensor`);
    return { name, size: (values as Float32Array).length, values: values as Float32Array };
  });
  for (const field of ['optimizer', 'trainables'] as const) {
    const bad = firstNonFinite(state[field], field);
    if (bad) fail(`trainer_state: '${bad.path}' holds ${bad.value}${bad.index === null ? '' : ` at index ${bad.index}`}; a step with it would fail or spread it into the adapter`);
  }
  const current = target.injected.trainables;
  let checked;
  try {
    checked = checkTensorSet(current, saved, 'trainer_state');
  } catch (e) {
    throw e instanceof TensorSetError ? new Error(`cannot resume from ${dir}: ${e.message}`) : e;
  }
  target.optimizer.importState(state.optimizer as ClusterOptimizerState);
  for (const [key, t] of checked) {
    const v = current.get(key)!;
    tf.tidy(() => v.assign(tf.tensor(t.values, v.shape, 'float32')));
  }
  return target.optimizer.step;
}

interface NonFinite {
  readonly path: string;
  readonly value: number;
  readonly index: number | null;
}

// the first NaN or ±Infinity in a parsed state (numbers and Float32Arrays), with its dotted field name
function firstNonFinite(value: unknown, path: string): NonFinite | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : { path, value, index: null };
  if (value instanceof Float32Array) {
    const i = value.findIndex((x) => !Number.isFinite(x));
    return i < 0 ? null : { path, value: value[i], index: i };
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const bad = firstNonFinite(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`);
    if (bad) return bad;
  }
  return null;
}
