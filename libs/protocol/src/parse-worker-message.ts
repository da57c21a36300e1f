/**
 * The guard for worker → coordinator messages: one parser per message type, each checking every
 * field. Returns a fresh object holding only the known fields (tensor data stays a view).
 */
import { AUTH_NONCE_BYTES, AUTH_PROOF_BYTES } from './auth';
import { fail, finite, fixedBytes, indexArray, integer, object, type Ctx } from './fields';
import { PROTOCOL_LIMITS } from './limits';
import {
  WORKER_MESSAGE_TYPES,
  type EvalResultMessage,
  type GradientsMessage,
  type HeartbeatMessage,
  type HelloMessage,
  type ReadyMessage,
  type WorkerErrorMessage,
  type WorkerToCoordinator,
} from './messages';
import { checkVersion, code, id, parseMessage, text, type MessageParsers } from './parse-common';
import { namedTensorList, wireTensor } from './tensor-guard';

/**
 * Who checks that the values of a `gradients` message's tensors are finite: this guard
 * ('checked', the default: a NaN or ∞ is PROTO_ERR_NON_FINITE), or the consumer ('unchecked'), which
 * must then read every value itself before using it — as the coordinator's GradientAccumulator
 * does, taking each share's Σ x² in the pass that adds it and refusing a share whose norm is not
 * finite, so that an 8 MB share is read once instead of twice.
 */
export type GradientValues = 'checked' | 'unchecked';

/**
 * Checks an untrusted decoded value as a worker → coordinator message.
 * @throws ProtocolError MALFORMED (not a message object), UNKNOWN_TYPE, VERSION (hello of another
 *   version), BAD_FIELD, TOO_LARGE (arrays over limits), NON_FINITE (NaN/Inf in numbers or tensors,
 *   gradient values only when `gradientValues` is 'checked')
 */
export function parseWorkerMessage(u: unknown, gradientValues: GradientValues = 'checked'): WorkerToCoordinator {
  return parseMessage<WorkerToCoordinator>(u, 'worker', WORKER_MESSAGE_TYPES, gradientValues === 'checked' ? PARSERS : PARSERS_GRADIENT_VALUES_UNCHECKED);
}

// One parser per type of this direction; the table in parse-coordinator-message.ts has the same shape by design
// (parseMessage is the one dispatch both use).
const PARSERS: MessageParsers<WorkerToCoordinator> = {
  hello: parseHello,
  ready: parseReady,
  gradients: parseGradients,
  evalResult: parseEvalResult,
  error: parseWorkerError,
  heartbeat: parseHeartbeat,
};
const PARSERS_GRADIENT_VALUES_UNCHECKED: MessageParsers<WorkerToCoordinator> = { ...PARSERS, gradients: (ctx, u) => parseGradients(ctx, u, true) };

function parseHello(ctx: Ctx, u: Record<string, unknown>): HelloMessage {
  const protocolVersion = checkVersion(ctx, u, 'worker');
  const o = object(ctx, '', u, ['type', 'protocolVersion', 'workerId', 'capabilities', 'nonce', 'proof']);
  const c = object(ctx, 'capabilities', o.capabilities, ['backend', 'memoryBytes', 'hostname', 'pid']);
  return {
    type: 'hello',
    protocolVersion,
    workerId: id(ctx, 'workerId', o.workerId),
    capabilities: {
      backend: id(ctx, 'capabilities.backend', c.backend),
      memoryBytes: integer(ctx, 'capabilities.memoryBytes', c.memoryBytes),
      hostname: id(ctx, 'capabilities.hostname', c.hostname),
      pid: integer(ctx, 'capabilities.pid', c.pid),
    },
    nonce: fixedBytes(ctx, 'nonce', o.nonce, AUTH_NONCE_BYTES),
    proof: fixedBytes(ctx, 'proof', o.proof, AUTH_PROOF_BYTES),
  };
}

function parseReady(ctx: Ctx, u: Record<string, unknown>): ReadyMessage {
  const o = object(ctx, '', u, ['type', 'runId', 'modelHash', 'loadMs']);
  return {
    type: 'ready',
    runId: id(ctx, 'runId', o.runId),
    modelHash: id(ctx, 'modelHash', o.modelHash),
    loadMs: finite(ctx, 'loadMs', o.loadMs, 0),
  };
}

function parseGradients(ctx: Ctx, u: Record<string, unknown>, valuesUnchecked = false): GradientsMessage {
  const o = object(ctx, '', u, ['type', 'runId', 'step', 'requestId', 'sampleCount', 'lossSum', 'computeMs', 'tensors']);
  return {
    type: 'gradients',
    runId: id(ctx, 'runId', o.runId),
    step: integer(ctx, 'step', o.step),
    requestId: integer(ctx, 'requestId', o.requestId),
    sampleCount: integer(ctx, 'sampleCount', o.sampleCount, 0, PROTOCOL_LIMITS.maxRows),
    lossSum: finite(ctx, 'lossSum', o.lossSum),
    computeMs: finite(ctx, 'computeMs', o.computeMs, 0),
    tensors: namedTensorList(ctx, 'tensors', o.tensors, { dtypes: ['float64', 'float32', 'float16'], valuesUnchecked }),
  };
}

function parseEvalResult(ctx: Ctx, u: Record<string, unknown>): EvalResultMessage {
  const o = object(ctx, '', u, ['type', 'runId', 'requestId', 'sampleIds', 'outputs']);
  const sampleIds = indexArray(ctx, 'sampleIds', o.sampleIds, PROTOCOL_LIMITS.maxRows);
  if (sampleIds.length === 0) fail(ctx, 'sampleIds', 'PROTO_ERR_BAD_FIELD', 'expected at least one sample, got none');
  const outputs = wireTensor(ctx, 'outputs', o.outputs, { dtypes: ['float32'], rank: 2 });
  if (outputs.shape[0] !== sampleIds.length || outputs.shape[1] === 0) {
    fail(ctx, 'outputs.shape', 'PROTO_ERR_BAD_FIELD', `expected [${sampleIds.length}, numLabels ≥ 1], got [${outputs.shape.join(', ')}]`);
  }
  return {
    type: 'evalResult',
    runId: id(ctx, 'runId', o.runId),
    requestId: integer(ctx, 'requestId', o.requestId),
    sampleIds,
    outputs,
  };
}

function parseWorkerError(ctx: Ctx, u: Record<string, unknown>): WorkerErrorMessage {
  const o = object(ctx, '', u, ['type', 'code', 'message']);
  return { type: 'error', code: code(ctx, 'code', o.code), message: text(ctx, 'message', o.message) };
}

function parseHeartbeat(ctx: Ctx, u: Record<string, unknown>): HeartbeatMessage {
  object(ctx, '', u, ['type']);
  return { type: 'heartbeat' };
}
