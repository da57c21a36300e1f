export { parseSafetensors, readSafetensors, encodeSafetensors, writeSafetensors, type SafeTensor, type ParseSafetensorsOptions } from './safetensors';
export { WeightStore, type WeightInit, type WeightStoreOptions } from './weights';
export { Linear, type LinearAdapter } from './linear';
export { layerNorm, gelu, activation, embed, dropout, FLOAT32_MIN } from './ops';
export type { EncoderBatch, EncoderOutput, EncoderModel } from './encoder-model';
export { HfConfig } from './hf-config';
export { inputLimits, type InputLimits } from './input-limits';
export { additiveAttentionMask, multiHeadAttention } from './attention';
export { bertClassifier, robertaClassificationHead, type ClassificationHead, type HeadShape } from './classification-head';
export { buildBert } from './bert';
export { buildDebertaV2 } from './deberta-v2';
export { sequenceClassificationLoss } from './loss';
export { loadEncoder, SUPPORTED_MODEL_TYPES, type SupportedModelType, type LoadEncoderOptions, type LoadedEncoder } from './load-model';
export { injectAdapters, type InjectedAdapters } from './inject-adapters';
export { frozenLinear, adaptedLinear, transposeWeight, type FrozenLinearWeights, type LowRankFactors } from './adapted-linear-op';
export {
  savePeftAdapter,
  loadPeftAdapter,
  readPeftAdapterTensors,
  loadTrainableState,
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  type SavePeftAdapterOptions,
  type LoadPeftAdapterOptions,
  type LoadedPeftAdapter,
} from './peft-adapter';
export { mergeAdapters, saveMergedCheckpoint } from './merge-export';
