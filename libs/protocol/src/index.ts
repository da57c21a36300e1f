/**
 * @adalora/protocol — the messages between the coordinator and its workers, their MessagePack
 * encoding, guards, tensor wire format and chunked transfers. Pure TypeScript + msgpackr: no
 * tfjs, no ws. Typical use on a connection:
 *
 *   const writer = new FrameWriter();                  // one per connection
 *   const reader = workerMessageReader();              // coordinator side (worker: coordinatorMessageReader)
 *   for (const f of writer.encode(msg)) ws.send(f);
 *   ws.on('message', (data) => {                      // ws binaryType 'nodebuffer': data is a Buffer
 *     try { const m = reader.read(data as Uint8Array); if (m) handle(m); }
 *     catch (e) { if (isProtocolError(e)) ws.close(e.closeCode, e.code); else throw e; }
 *   });
 */
export {
  PROTOCOL_VERSION,
  MODEL_FILES_PATH,
  WORKER_MESSAGE_TYPES,
  COORDINATOR_MESSAGE_TYPES,
  type JsonValue,
  type JsonObject,
  type WireSampleBatch,
  type WorkerCapabilities,
  type HelloMessage,
  type ChallengeMessage,
  type AuthenticatedMessage,
  type ModelFile,
  type ReadyMessage,
  type GradientsMessage,
  type EvalResultMessage,
  type WorkerErrorMessage,
  type HeartbeatMessage,
  type WorkerToCoordinator,
  type RunSpec,
  type WelcomeMessage,
  type RejectMessage,
  type StateMessage,
  type ComputeMessage,
  type EvaluateMessage,
  type ShutdownMessage,
  type CoordinatorToWorker,
  type ProtocolMessage,
} from './messages';
export {
  ProtocolError,
  protocolError,
  isProtocolError,
  CLOSE_CODES,
  isDropClose,
  isRefusalClose,
  type CloseReason,
  type EndpointCloseReason,
  type ProtocolErrorCode,
  type ProtocolErrorWhere,
} from './protocol-error';
export { WORKER_MAX_FRAME_BYTES, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_TRANSFER_BYTES, PROTOCOL_LIMITS } from './limits';
export {
  DTYPE_BYTES,
  isWireDtype,
  elementCount,
  firstNonFinite,
  wireFromFloat32,
  wireViewOfFloat32,
  wireFromInt32,
  tensorFromFloat32,
  tensorFromFloat64,
  wireFromFloat64,
  float64FromTensor,
  floatValuesOf,
  type FloatWire,
  type ExactWire,
  tensorFromInt32,
  float32FromTensor,
  int32FromTensor,
  type WireDtype,
  type WireTensor,
  type NamedTensor,
} from './wire-tensor';
export { addInto, squaresOf } from './wire-arithmetic';
export { TransferBuffers, type ArenaUse } from './transfer-buffers';
export { nativeFrameMasking } from './native-masking';
export { toFloat16Bits, fromFloat16Bits, float32ToFloat16Bits, float16BitsToFloat32, allFiniteFloat16Bits } from './float16';
export { encodeMessage, decodeMessage } from './codec';
export { parseWorkerMessage, type GradientValues } from './parse-worker-message';
export { parseCoordinatorMessage } from './parse-coordinator-message';
export {
  splitIntoChunks,
  parseChunk,
  isChunkLike,
  ChunkAssembler,
  CHUNK_OVERHEAD_BYTES,
  MIN_FRAME_BYTES,
  type ChunkMessage,
  type ChunkAssemblerOptions,
  type TransferProgress,
} from './chunk';
export {
  FrameWriter,
  FrameReader,
  workerMessageReader,
  coordinatorMessageReader,
  type FrameWriterOptions,
  type FrameReaderOptions,
} from './frame-io';
export {
  AUTH_NONCE_BYTES,
  AUTH_PROOF_BYTES,
  MIN_SECRET_BYTES,
  authNonce,
  workerProof,
  coordinatorProof,
  modelFileToken,
  proofMatches,
  type HandshakeNonces,
} from './auth';
export { readRunSecret, SECRET_ENV } from './run-secret';
export { encodeSamples, decodeSamples, labelsPerRow, type SampleBatch } from './sample-batch';
export { summarizeMessage } from './summarize-message';
/** SHA-256 of a file, streamed: model files are named and checked by it. */
export { sha256OfFile } from './file-sha256';
