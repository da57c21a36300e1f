/**
 * Every message between the coordinator and its workers (data-parallel AdaLoRA training).
 *
 * Conversation (one WebSocket per worker, the worker connects):
 *
 *   worker                                   coordinator
 *                                            ← challenge {protocolVersion, nonce}   (first, always)
 *   hello {protocolVersion, workerId, caps,  →
 *          nonce, proof}                         proof = HMAC(secret, worker context ‖ nonces ‖ id)
 *                                            ← authenticated {proof} | reject + close
 *   (checks the coordinator's proof)             proof = HMAC(secret, coordinator context ‖ nonces)
 *                                            ← welcome {runId, workerIndex, run}
 *   (fetches run.modelFiles by hash, or uses its --model copy; checks modelHash)
 *   ready {runId, modelHash, loadMs}        →
 *                                            ← state {step, tensors}   full adapter + head, masks applied
 *                                            ← compute {step, requestId, seed, microBatches, samples}
 *   gradients {step, requestId,             →   Σ over its samples of ∂(task loss)/∂θ, per trainable
 *              sampleCount, lossSum,
 *              computeMs, tensors}
 *        … coordinator averages over the global batch, adds the orthogonal-regulariser gradient,
 *          runs AdamW + rank allocation once, then sends the next `state` to every worker …
 *                                            ← evaluate {requestId, samples}
 *   evalResult {requestId, sampleIds,       →
 *               outputs}
 *   heartbeat (any time)                    →
 *   error {code, message} (any time)        →
 *                                            ← shutdown {reason}, then close
 *
 * Design decisions:
 * - `type` is a string literal; one union per direction (`WorkerToCoordinator`,
 *   `CoordinatorToWorker`); `parseWorkerMessage` / `parseCoordinatorMessage` check every field.
 *   Unknown fields are refused: changing a message means bumping `PROTOCOL_VERSION`.
 * - Workers may not have the data set, so `compute`/`evaluate` carry pre-tokenized samples
 *   (`WireSampleBatch`) plus their data set row ids (`sampleIds`) for bookkeeping.
 * - `requestId` (compute and evaluate alike) is fresh per dispatch and echoed in the reply, so a
 *   stale or duplicate reply (e.g. from a worker whose share was re-dispatched after a timeout)
 *   is recognised. Version 2 gave it this one name (version 1: `round` and `evalId`).
 * - `seed` (the run's) and `microBatches` (each micro-batch's index on the step's grid) seed every
 *   dropout of a micro-batch from (seed, step, index): a micro-batch computes the same sums on any
 *   worker, in any share, after any retry or resume.
 * - `evalResult` returns outputs (logits [n, numLabels]; extractive QA: each row's start logits
 *   then end logits, [n, 2·seq]) and echoes `sampleIds`, not the labels:
 *   the coordinator owns the labels it sent, and an echo would only add a way to disagree.
 * - `state` carries E already multiplied by the rank mask, so workers need no mask of their own.
 * - Large messages travel as `chunk` frames (see chunk.ts) that reassemble to the exact bytes of
 *   the original message, which then goes through the same guard.
 * - Tensors are raw little-endian bytes (`WireTensor`); gradients go as float64 by default (exact
 *   partial sums) or, to save bandwidth, float32/float16.
 */
import type { NamedTensor, WireTensor } from './wire-tensor';

/**
 * Version of this schema; a `hello`/`welcome` of another version is refused with PROTO_ERR_VERSION.
 * Version 3 added the challenge-response handshake (`challenge`, `authenticated`, `hello.nonce`
 * and `hello.proof`) and `run.modelFiles`.
 */
export const PROTOCOL_VERSION = 3;

/** Plain JSON, as the run config travels (no binary, finite numbers only). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/**
 * Pre-tokenized samples, row-major and padded to a common `seq`.
 * Structurally the same as `SampleBatch` in @adalora/training once decoded by `decodeSamples`.
 */
export interface WireSampleBatch {
  /** [n] data set row indices (integers ≥ 0), echoed in replies for bookkeeping. */
  readonly sampleIds: readonly number[];
  /** int32 [n, seq], token ids ≥ 0. */
  readonly inputIds: WireTensor;
  /** int32 [n, seq], 0 or 1. */
  readonly attentionMask: WireTensor;
  /** int32 [n, seq], ≥ 0; absent for models without segments. */
  readonly tokenTypeIds?: WireTensor;
  /**
   * int32 [n] class ids ≥ 0 (classification), float32 [n] finite targets (regression), or int32
   * [n, 2] answer start and end token positions ≥ 0 (extractive QA; a worker of a run without QA
   * never receives them, so the schema version stayed).
   */
  readonly labels: WireTensor;
}

// ─── worker → coordinator ────────────────────────────────────────────────────────────────────

/** What the worker runs on, for logs and share sizing. */
export interface WorkerCapabilities {
  /** tfjs backend name, e.g. `wasm`, `cpu`, `tensorflow`. */
  readonly backend: string;
  /** Memory the worker may use, in bytes (integer ≥ 0). */
  readonly memoryBytes: number;
  readonly hostname: string;
  /** Process id (integer ≥ 0). */
  readonly pid: number;
}

/** First message of a worker. */
export interface HelloMessage {
  readonly type: 'hello';
  readonly protocolVersion: number;
  /** Worker-chosen id, stable across reconnects (1..256 chars). */
  readonly workerId: string;
  readonly capabilities: WorkerCapabilities;
  /** A fresh random nonce of the worker (AUTH_NONCE_BYTES), so the coordinator's proof is fresh too. */
  readonly nonce: Uint8Array;
  /** HMAC-SHA256 of the run secret over the worker context, both nonces and `workerId` (see auth.ts). */
  readonly proof: Uint8Array;
}

/** The worker has loaded the model of `welcome.run` and holds a fresh adapter. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly runId: string;
  /** Hash of the model the worker loaded; must equal `welcome.run.modelHash`. */
  readonly modelHash: string;
  /** Load time in milliseconds (finite, ≥ 0). */
  readonly loadMs: number;
}

/** Task-loss gradient SUMS over the samples of one `compute`. */
export interface GradientsMessage {
  readonly type: 'gradients';
  readonly runId: string;
  /** Optimizer step (integer ≥ 0), copied from `compute`. */
  readonly step: number;
  /** Copied from `compute` (integer ≥ 0): a reply with an older requestId is stale. */
  readonly requestId: number;
  /** Samples summed over (integer ≥ 0); the coordinator weights by it. */
  readonly sampleCount: number;
  /** Σ task loss over the samples (finite). */
  readonly lossSum: number;
  /** Wall time of the computation in milliseconds (finite, ≥ 0), for share balancing. */
  readonly computeMs: number;
  /**
   * One tensor per trainable (A, E, B of every module, head), unique names, all finite: float64
   * (exact partial sums, so any split of the batch adds up to the same bits) or float32/float16.
   * A reader made with gradientValues 'unchecked' leaves the finite check to its consumer.
   */
  readonly tensors: readonly NamedTensor[];
}

/** Model outputs for the samples of one `evaluate`. */
export interface EvalResultMessage {
  readonly type: 'evalResult';
  readonly runId: string;
  /** Copied from `evaluate` (integer ≥ 0): a reply with an older requestId is stale. */
  readonly requestId: number;
  /** [n] copied from `evaluate.samples.sampleIds`, same order as `outputs` rows. */
  readonly sampleIds: readonly number[];
  /** float32 [n, numLabels] logits (numLabels 1 for regression), all finite. */
  readonly outputs: WireTensor;
}

/** A fault on the worker (it may close afterwards). */
export interface WorkerErrorMessage {
  readonly type: 'error';
  /** Stable code, UPPER_SNAKE_CASE (e.g. `WORKER_ERR_OOM`, `PROTO_ERR_BAD_FIELD`). */
  readonly code: string;
  /** Human-readable, ≤ 4096 chars, no payloads. */
  readonly message: string;
}

/** Liveness while a long computation runs (WebSocket ping is not enough through some proxies). */
export interface HeartbeatMessage {
  readonly type: 'heartbeat';
}

/** Every message a worker may send. */
export type WorkerToCoordinator =
  | HelloMessage
  | ReadyMessage
  | GradientsMessage
  | EvalResultMessage
  | WorkerErrorMessage
  | HeartbeatMessage;

// ─── coordinator → worker ────────────────────────────────────────────────────────────────────

/** What a worker needs to join a run: its job, and the base model's identity and files. */
export interface RunSpec {
  /**
   * The worker's job (@adalora/config's `WorkerJob`: AdaLoRA config, micro-batch, labels, wire
   * dtype) as plain JSON (bounded depth and size); the worker checks it with `parseWorkerJob`.
   */
  readonly workerJob: JsonObject;
  /** Where the base model is on the coordinator's machine (for messages; workers fetch `modelFiles`). */
  readonly modelPath: string;
  /** The model's files (config, weights, tokenizer), which the coordinator serves by content hash. */
  readonly modelFiles: readonly ModelFile[];
  /** Hash the loaded model must have. */
  readonly modelHash: string;
  /** Hash of the tokenized data set the samples come from (for logs and checks). */
  readonly dataHash: string;
}

/**
 * Where the coordinator serves model files on its port: `GET ${MODEL_FILES_PATH}/<sha256>` with
 * `Authorization: Bearer <modelFileToken>` of a live authenticated connection.
 */
export const MODEL_FILES_PATH = '/adalora/model-files';

/** One file of the base model, as the coordinator serves it. */
export interface ModelFile {
  /** File name inside the model folder (no folders: `[A-Za-z0-9._-]`, 1..255 chars, not `.`/`..`). */
  readonly name: string;
  /** SHA-256 of the file's bytes, 64 lowercase hex digits. */
  readonly sha256: string;
  /** Size in bytes (integer ≥ 0). */
  readonly bytes: number;
}

/** The coordinator's first message on every connection: prove the run secret over this nonce. */
export interface ChallengeMessage {
  readonly type: 'challenge';
  readonly protocolVersion: number;
  /** A fresh random nonce (AUTH_NONCE_BYTES). */
  readonly nonce: Uint8Array;
}

/** The worker's proof was right; the coordinator proves the secret in turn (mutual authentication). */
export interface AuthenticatedMessage {
  readonly type: 'authenticated';
  /** HMAC-SHA256 of the run secret over the coordinator context and both nonces (see auth.ts). */
  readonly proof: Uint8Array;
}

/** Accepts a `hello`. */
export interface WelcomeMessage {
  readonly type: 'welcome';
  readonly protocolVersion: number;
  readonly runId: string;
  /** Index of this worker in the run (integer ≥ 0). */
  readonly workerIndex: number;
  readonly run: RunSpec;
}

/** Refuses a `hello`; the coordinator closes right after. */
export interface RejectMessage {
  readonly type: 'reject';
  /** Stable code, UPPER_SNAKE_CASE (e.g. `PROTO_ERR_VERSION`, `COORD_ERR_FULL`). */
  readonly code: string;
  readonly reason: string;
}

/** The full adapter + head values to load (E already masked): after it every worker holds the same state. */
export interface StateMessage {
  readonly type: 'state';
  readonly runId: string;
  /** The optimizer step these values start (integer ≥ 0): the next `compute` has this step. */
  readonly step: number;
  /** float32 (or float16) tensors by trainable name, unique names, all finite. */
  readonly tensors: readonly NamedTensor[];
}

/** Compute gradient sums over these samples with the current state. */
export interface ComputeMessage {
  readonly type: 'compute';
  readonly runId: string;
  /** Must equal the step of the last `state`. */
  readonly step: number;
  /** Fresh per dispatch (integer ≥ 0), echoed in `gradients`. */
  readonly requestId: number;
  /** The run's uint32 seed: with `step` and `microBatches` it seeds every dropout. */
  readonly seed: number;
  /**
   * Grid index of each micro-batch in `samples`, strictly ascending (so a short last micro-batch
   * can only end a share): rows are cut into training.microBatch-row micro-batches in order.
   */
  readonly microBatches: readonly number[];
  readonly samples: WireSampleBatch;
}

/** Run the model (eval mode) on these samples and return the outputs. */
export interface EvaluateMessage {
  readonly type: 'evaluate';
  readonly runId: string;
  /** Fresh per dispatch (integer ≥ 0), echoed in `evalResult`. */
  readonly requestId: number;
  readonly samples: WireSampleBatch;
}

/** Stop: the worker finishes nothing more and closes. */
export interface ShutdownMessage {
  readonly type: 'shutdown';
  readonly reason: string;
}

/** Every message the coordinator may send. */
export type CoordinatorToWorker =
  | ChallengeMessage
  | AuthenticatedMessage
  | WelcomeMessage
  | RejectMessage
  | StateMessage
  | ComputeMessage
  | EvaluateMessage
  | ShutdownMessage;

/** Any application message (either direction). */
export type ProtocolMessage = WorkerToCoordinator | CoordinatorToWorker;

// Records (not arrays) so that the compiler checks that every type is listed exactly once.
const WORKER_TYPES = { hello: 1, ready: 1, gradients: 1, evalResult: 1, error: 1, heartbeat: 1 } satisfies Record<WorkerToCoordinator['type'], 1>;
const COORDINATOR_TYPES = { challenge: 1, authenticated: 1, welcome: 1, reject: 1, state: 1, compute: 1, evaluate: 1, shutdown: 1 } satisfies Record<CoordinatorToWorker['type'], 1>;

/** The `type`s a worker may send, for checks before reassembling a chunked message. */
export const WORKER_MESSAGE_TYPES = Object.keys(WORKER_TYPES) as readonly WorkerToCoordinator['type'][];

/** The `type`s the coordinator may send. */
export const COORDINATOR_MESSAGE_TYPES = Object.keys(COORDINATOR_TYPES) as readonly CoordinatorToWorker['type'][];
