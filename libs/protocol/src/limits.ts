/** Frame and message size defaults; all are overridable per reader/writer. */

const MiB = 1024 * 1024;

/** Largest frame a `FrameWriter` emits by default; bigger messages go as `chunk` frames. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * MiB;

/**
 * Largest single WebSocket message a `FrameReader` accepts by default, and the value to give
 * ws as `maxPayload`: twice the default frame so that a peer with a slightly larger frame
 * setting still gets through, while a runaway frame is cut off by ws itself (close 1009).
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * MiB;

/**
 * Largest frame a worker sends, and the coordinator's ws `maxPayload`: bigger messages go as
 * chunks. Small, because the coordinator may buffer one such frame per connection that has not
 * authenticated yet (ws refuses a larger one from its header, before buffering it).
 */
export const WORKER_MAX_FRAME_BYTES = 1 * MiB;

/**
 * Largest message (after reassembling its chunks) a reader accepts by default. An AdaLoRA
 * adapter + head for BERT-base with r = 12 on all six matrices is ≈ 2 M floats (8 MB); this
 * leaves room for large models without letting a peer make us buffer gigabytes.
 */
export const DEFAULT_MAX_TRANSFER_BYTES = 256 * MiB;

/** Bounds every guard enforces; messages beyond them are refused with PROTO_ERR_TOO_LARGE or BAD_FIELD. */
export const PROTOCOL_LIMITS = {
  /** Ids (`runId`, `workerId`), hashes, hostnames, error codes. */
  maxIdChars: 256,
  /** Free text: error messages, reasons, file paths, backend names. */
  maxTextChars: 4096,
  /** Tensor names (HF module paths plus `.lora_A` …). */
  maxNameChars: 512,
  /** Tensors in one message (BERT-large, 24 layers × 6 modules × 3 + head ≈ 440). */
  maxTensors: 16384,
  /** Rank of one tensor. */
  maxRank: 8,
  /** Rows (samples) in one `compute` / `evaluate` / `evalResult`. */
  maxRows: 1 << 20,
  /** Chunks in one transfer. */
  maxChunks: 1 << 16,
  /** Files of a base model (config, weights or their shards, tokenizer files). */
  maxModelFiles: 1024,
  /** Nesting depth of the JSON run config. */
  maxJsonDepth: 32,
  /** Values (object entries + array items + scalars) in the JSON run config. */
  maxJsonNodes: 100_000,
} as const;
