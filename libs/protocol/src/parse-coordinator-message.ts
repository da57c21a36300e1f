/**
 * The guard for coordinator → worker messages: one parser per message type, each checking every
 * field. Returns a fresh object holding only the known fields (tensor data stays a view).
 */
import { AUTH_NONCE_BYTES, AUTH_PROOF_BYTES } from './auth';
import { array, fail, fixedBytes, indexArray, integer, object, string, type Ctx } from './fields';
import { PROTOCOL_LIMITS } from './limits';
import {
  COORDINATOR_MESSAGE_TYPES,
  type AuthenticatedMessage,
  type ChallengeMessage,
  type ComputeMessage,
  type ModelFile,
  type CoordinatorToWorker,
  type EvaluateMessage,
  type RejectMessage,
  type ShutdownMessage,
  type StateMessage,
  type WelcomeMessage,
} from './messages';
import { checkVersion, code, id, parseMessage, text, type MessageParsers } from './parse-common';
import { jsonObject, namedTensorList, sampleBatch } from './tensor-guard';

/**
 * Checks an untrusted decoded value as a coordinator → worker message.
 * @throws ProtocolError MALFORMED, UNKNOWN_TYPE, VERSION (welcome of another version), BAD_FIELD,
 *   TOO_LARGE, NON_FINITE
 */
export function parseCoordinatorMessage(u: unknown): CoordinatorToWorker {
  return parseMessage<CoordinatorToWorker>(u, 'coordinator', COORDINATOR_MESSAGE_TYPES, PARSERS);
}

// One parser per type of this direction; the table in parse-worker-message.ts has the same shape by design
// (parseMessage is the one dispatch both use).
const PARSERS: MessageParsers<CoordinatorToWorker> = {
  challenge: parseChallenge,
  authenticated: parseAuthenticated,
  welcome: parseWelcome,
  reject: parseReject,
  state: parseState,
  compute: parseCompute,
  evaluate: parseEvaluate,
  shutdown: parseShutdown,
};

function parseChallenge(ctx: Ctx, u: Record<string, unknown>): ChallengeMessage {
  const protocolVersion = checkVersion(ctx, u, 'coordinator');
  const o = object(ctx, '', u, ['type', 'protocolVersion', 'nonce']);
  return { type: 'challenge', protocolVersion, nonce: fixedBytes(ctx, 'nonce', o.nonce, AUTH_NONCE_BYTES) };
}

function parseAuthenticated(ctx: Ctx, u: Record<string, unknown>): AuthenticatedMessage {
  const o = object(ctx, '', u, ['type', 'proof']);
  return { type: 'authenticated', proof: fixedBytes(ctx, 'proof', o.proof, AUTH_PROOF_BYTES) };
}

/** A plain file name: a worker writes it inside its cache folder, so no separators and no `..`. */
const FILE_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]{1,255}$/;

function modelFiles(ctx: Ctx, field: string, u: unknown): ModelFile[] {
  const names = new Set<string>();
  return array(ctx, field, u, PROTOCOL_LIMITS.maxModelFiles).map((f, i) => {
    const at = `${field}[${i}]`;
    const o = object(ctx, at, f, ['name', 'sha256', 'bytes']);
    const name = string(ctx, `${at}.name`, o.name, { max: 255, pattern: FILE_NAME, patternText: 'a plain file name ([A-Za-z0-9._-], not . or ..)' });
    if (names.has(name)) fail(ctx, `${at}.name`, 'PROTO_ERR_BAD_FIELD', 'names a file listed before');
    names.add(name);
    return {
      name,
      sha256: string(ctx, `${at}.sha256`, o.sha256, { min: 64, max: 64, pattern: /^[0-9a-f]{64}$/, patternText: '64 lowercase hex digits' }),
      bytes: integer(ctx, `${at}.bytes`, o.bytes),
    };
  });
}

function parseWelcome(ctx: Ctx, u: Record<string, unknown>): WelcomeMessage {
  const protocolVersion = checkVersion(ctx, u, 'coordinator');
  const o = object(ctx, '', u, ['type', 'protocolVersion', 'runId', 'workerIndex', 'run']);
  const r = object(ctx, 'run', o.run, ['workerJob', 'modelPath', 'modelFiles', 'modelHash', 'dataHash']);
  return {
    type: 'welcome',
    protocolVersion,
    runId: id(ctx, 'runId', o.runId),
    workerIndex: integer(ctx, 'workerIndex', o.workerIndex),
    run: {
      workerJob: jsonObject(ctx, 'run.workerJob', r.workerJob),
      modelPath: text(ctx, 'run.modelPath', r.modelPath),
      modelFiles: modelFiles(ctx, 'run.modelFiles', r.modelFiles),
      modelHash: id(ctx, 'run.modelHash', r.modelHash),
      dataHash: id(ctx, 'run.dataHash', r.dataHash),
    },
  };
}

function parseReject(ctx: Ctx, u: Record<string, unknown>): RejectMessage {
  const o = object(ctx, '', u, ['type', 'code', 'reason']);
  return { type: 'reject', code: code(ctx, 'code', o.code), reason: text(ctx, 'reason', o.reason) };
}

function parseState(ctx: Ctx, u: Record<string, unknown>): StateMessage {
  const o = object(ctx, '', u, ['type', 'runId', 'step', 'tensors']);
  return {
    type: 'state',
    runId: id(ctx, 'runId', o.runId),
    step: integer(ctx, 'step', o.step),
    tensors: namedTensorList(ctx, 'tensors', o.tensors, { dtypes: ['float32', 'float16'] }),
  };
}

function parseCompute(ctx: Ctx, u: Record<string, unknown>): ComputeMessage {
  const o = object(ctx, '', u, ['type', 'runId', 'step', 'requestId', 'seed', 'microBatches', 'samples']);
  const microBatches = indexArray(ctx, 'microBatches', o.microBatches, PROTOCOL_LIMITS.maxRows);
  const samples = sampleBatch(ctx, 'samples', o.samples);
  if (microBatches.length === 0) fail(ctx, 'microBatches', 'PROTO_ERR_BAD_FIELD', 'is empty; a share has at least one micro-batch');
  microBatches.forEach((m, i) => {
    if (i > 0 && m <= microBatches[i - 1]) fail(ctx, `microBatches[${i}]`, 'PROTO_ERR_BAD_FIELD', `is ${m}, not above the previous ${microBatches[i - 1]} (indices ascend strictly)`);
  });
  if (microBatches.length > samples.sampleIds.length) {
    fail(ctx, 'microBatches', 'PROTO_ERR_BAD_FIELD', `names ${microBatches.length} micro-batches for ${samples.sampleIds.length} sample(s)`);
  }
  return {
    type: 'compute',
    runId: id(ctx, 'runId', o.runId),
    step: integer(ctx, 'step', o.step),
    requestId: integer(ctx, 'requestId', o.requestId),
    seed: integer(ctx, 'seed', o.seed, 0, 0xffffffff),
    microBatches,
    samples,
  };
}

function parseEvaluate(ctx: Ctx, u: Record<string, unknown>): EvaluateMessage {
  const o = object(ctx, '', u, ['type', 'runId', 'requestId', 'samples']);
  return {
    type: 'evaluate',
    runId: id(ctx, 'runId', o.runId),
    requestId: integer(ctx, 'requestId', o.requestId),
    samples: sampleBatch(ctx, 'samples', o.samples),
  };
}

function parseShutdown(ctx: Ctx, u: Record<string, unknown>): ShutdownMessage {
  const o = object(ctx, '', u, ['type', 'reason']);
  return { type: 'shutdown', reason: text(ctx, 'reason', o.reason) };
}
