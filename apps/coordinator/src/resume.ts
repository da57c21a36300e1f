import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { AdaLoraConfig } from '@adalora/config';
import type { InjectedAdapters } from '@adalora/models';
import type { GlobalStep, GlobalStepState } from '@adalora/training';
import { readStateFiles } from './trainer-state-file';

/** What must match between a checkpoint and the run that resumes from it. */
export interface ResumeTarget {
  readonly global: GlobalStep;
  readonly injected: InjectedAdapters;
  readonly adalora: AdaLoraConfig;
  readonly modelHash: string;
  readonly dataHash: string;
}

/**
 * Restores trainables, optimizer, allocator and step from a checkpoint folder written by
 * saveCheckpoint. The checkpoint must come from the same model, data and AdaLoRA schedule:
 * then the resumed run continues exactly where the saved one was (same batches, same bits).
 * Everything is checked before anything is changed.
 */
export function resumeFromCheckpoint(dir: string, target: ResumeTarget): number {
  const fail = (why: string): never => {
    throw new Error(`cannot resume from ${dir}: ${why}`);
  };
  const raw = readStateFiles(join(dir, 'trainer_state.json'), join(dir, 'trainer_state.safetensors'));
  if (typeof raw !== 'object' || raw === null) fail('trainer_state.json is not an object');
  const state = raw as Record<string, unknown>;
  if (state.modelHash !== target.modelHash) fail('it was trained on another base model (model hash differs)');
  if (state.dataHash !== target.dataHash) fail('it was trained on other data (data hash differs)');
  if (JSON.stringify(state.adalora) !== JSON.stringify(target.adalora)) fail('its adalora config differs from this run’s (the schedule would not continue)');
  const trainables = state.trainables as Record<string, unknown> | undefined;
  if (typeof trainables !== 'object' || trainables === null) fail('no trainables in trainer_state.json');
  const current = target.injected.trainables;
  for (const [name, v] of current) {
    const values = trainables![name];
    if (!(values instanceof Float32Array) || values.length !== v.size) fail(`trainable '${name}' is missing or has the wrong size`);
  }
  const extra = Object.keys(trainables!).filter((n) => !current.has(n));
  if (extra.length > 0) fail(`it has trainables this model lacks, e.g. '${extra[0]}'`);
  target.global.importState(state.global as GlobalStepState);
  for (const [name, v] of current) {
    tf.tidy(() => v.assign(tf.tensor(trainables![name] as Float32Array, v.shape, 'float32')));
  }
  return target.global.step;
}
