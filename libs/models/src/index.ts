export { parseSafetensors, readSafetensors, encodeSafetensors, writeSafetensors, type SafeTensor, type ParseSafetensorsOptions } from './safetensors';
export { WeightStore, type WeightInit, type WeightStoreOptions, type MismatchedWeight } from './weights';
export { Linear, type LinearAdapter } from './linear';
export { layerNorm, gelu, activation, embed, dropout, FLOAT32_MIN } from './ops';
export { isQaModel, type EncoderInputs, type EncoderOutput, type EncoderModel, type QaModel, type QaOutput, type TaskModel } from './encoder-model';
export { HfConfig } from './hf-config';
export { inputLimits, type InputLimits } from './input-limits';
export { additiveAttentionMask, multiHeadAttention } from './attention';
export { bertClassifier, robertaClassificationHead, type ClassificationHead, type HeadShape } from './classification-head';
export { buildBert, buildBertForQuestionAnswering } from './bert';
export { buildDebertaV2, buildDebertaV2ForQuestionAnswering } from './deberta-v2';
export { qaOutputsHead, type QaHead, type QaHeadShape } from './qa-head';
export { questionAnsweringLoss } from './qa-loss';
export { sequenceClassificationLoss } from './loss';
export {
  loadEncoder,
  loadQaModel,
  SUPPORTED_MODEL_TYPES,
  type SupportedModelType,
  type LoadEncoderOptions,
  type LoadedEncoder,
  type LoadQaModelOptions,
  type LoadedQaModel,
} from './load-model';
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
export { ADAPTER_BASE_FILE, checkAdapterBase, loadBaseForAdapter, readAdapterBase, writeAdapterBase, type AdapterBase } from './adapter-base';
