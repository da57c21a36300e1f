export { moduleId, matchesTarget, type ModuleId } from './module-id';
export {
  adapterKey,
  moduleTensorKey,
  parseTrainableKey,
  type AdapterParam,
  type ModuleTensorParam,
  type TrainableKey,
  type TrainableKeyParts,
} from './trainable-key';
export { checkTensorSet, TensorSetError, type ArrivedTensor, type TensorSetProblem } from './check-tensor-set';

/**
 * @adalora/core: AdaLoRA as peft 0.21 implements it, on TensorFlow.js tensors, with no
 * knowledge of models, transport or workers. Config (an `AdaLoraConfig` from `@adalora/config`) →
 * adapters (A, E, B per linear layer) → orthogonal regulariser in the loss → AdamW →
 * RankAllocator once per global optimizer step.
 */
export { fromPeftAdapterConfig, toPeftAdapterConfig, type PeftAdapterConfig, type PeftAdapterExtras } from './peft-adapter-config';
export { SvdAdapter, type AdapterOptions, type ParamData, type SvdAdapterOptions, type SvdParamName } from './svd-adapter';
export { LoraAdapter, type LoraParamName } from './lora-adapter';
export { orthogonalRegularizer, orthogonalRegularizerGradient, type OrthogonalGradientValues } from './orthogonal-regularizer';
export { budgetSchedule, type BudgetStep } from './budget-schedule';
export { ImportanceTracker, type ImportanceState, type ModuleImportanceState, type Triplet } from './importance-tracker';
export { tripletMask } from './triplet-mask';
export { applyKeepMask, RankAllocator, type AllocationDecision, type RankAllocatorState } from './rank-allocator';
export { AdamW, type AdamWOptions, type AdamWParamState, type AdamWState } from './adamw';
export { readFloat32 } from './read-float32';
export { MeanKernel } from './mean-kernel';
export { SumKernel } from './sum-kernel';
export { mulberry32, uniform01, uniformOpen01, normalSampler, type NormalSamplerOptions } from './seeded-random';
export { DropoutStream, seededDropout, withDropoutStream } from './dropout-stream';
