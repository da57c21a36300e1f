export { parseSafetensors, readSafetensors, encodeSafetensors, writeSafetensors, type SafeTensor } from './safetensors';
export { WeightStore } from './weights';
export { Linear, type LinearAdapter } from './linear';
export { layerNorm, gelu, activation, embed } from './ops';
export type { EncoderBatch, EncoderOutput, EncoderModel } from './encoder-model';
