/**
 * Valid sample messages of every type, for the protocol tests beside the guards. Each call
 * builds fresh objects, so a test may mutate what it gets.
 */
import {
  encodeSamples,
  PROTOCOL_VERSION,
  tensorFromFloat32,
  wireFromFloat32,
  type CoordinatorToWorker,
  type WireSampleBatch,
  type WorkerToCoordinator,
} from '@adalora/protocol';

/** Deterministic float32 values [n] in (-1, 1). */
export function ramp(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x / 2 ** 31 - 1;
  }
  return out;
}

/** 2 rows × 4 tokens, with token types and class labels. */
export function sampleBatch(): WireSampleBatch {
  return encodeSamples([7, 3], {
    rows: 2,
    seq: 4,
    inputIds: Int32Array.of(101, 2023, 102, 0, 101, 7592, 2088, 102),
    attentionMask: Int32Array.of(1, 1, 1, 0, 1, 1, 1, 1),
    tokenTypeIds: Int32Array.of(0, 0, 0, 0, 0, 0, 1, 1),
    labels: Int32Array.of(1, 0),
  });
}

export function workerSamples(): { [K in WorkerToCoordinator['type']]: Extract<WorkerToCoordinator, { type: K }> } {
  return {
    hello: {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      workerId: 'w-1',
      capabilities: { backend: 'wasm', memoryBytes: 16 * 2 ** 30, hostname: 'node-a', pid: 4242 },
      nonce: new Uint8Array(32).fill(3),
      proof: new Uint8Array(32).fill(5),
    },
    ready: { type: 'ready', runId: 'run-1', modelHash: 'sha256:abc', loadMs: 1234.5 },
    gradients: {
      type: 'gradients',
      runId: 'run-1',
      step: 3,
      requestId: 1,
      sampleCount: 16,
      lossSum: 11.25,
      computeMs: 820,
      tensors: [
        tensorFromFloat32('bert.encoder.layer.0.attention.self.query.lora_A', [2, 3], ramp(6)),
        tensorFromFloat32('bert.encoder.layer.0.attention.self.query.lora_E', [2, 1], ramp(2, 2), 'float16'),
        tensorFromFloat32('classifier.weight', [2, 3], ramp(6, 3)),
      ],
    },
    evalResult: { type: 'evalResult', runId: 'run-1', requestId: 5, sampleIds: [7, 3], outputs: wireFromFloat32([2, 2], ramp(4, 4)) },
    error: { type: 'error', code: 'WORKER_ERR_OOM', message: 'out of memory in micro-batch 3' },
    heartbeat: { type: 'heartbeat' },
  };
}

export function coordinatorSamples(): { [K in CoordinatorToWorker['type']]: Extract<CoordinatorToWorker, { type: K }> } {
  return {
    challenge: { type: 'challenge', protocolVersion: PROTOCOL_VERSION, nonce: new Uint8Array(32).fill(7) },
    authenticated: { type: 'authenticated', proof: new Uint8Array(32).fill(9) },
    welcome: {
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      runId: 'run-1',
      workerIndex: 0,
      run: {
        workerJob: { adalora: { initR: 12, targetR: 8, targetModules: ['query', 'value'] }, lr: 5e-4, seed: null, fp16: false },
        modelPath: '/models/bert-base-uncased',
        modelFiles: [
          { name: 'config.json', sha256: 'a'.repeat(64), bytes: 612 },
          { name: 'model.safetensors', sha256: '0123456789abcdef'.repeat(4), bytes: 440_000_000 },
        ],
        modelHash: 'sha256:abc',
        dataHash: 'sha256:def',
      },
    },
    reject: { type: 'reject', code: 'PROTO_ERR_VERSION', reason: 'worker speaks protocol 0' },
    state: {
      type: 'state',
      runId: 'run-1',
      step: 3,
      tensors: [
        tensorFromFloat32('bert.encoder.layer.0.attention.self.query.lora_A', [2, 3], ramp(6)),
        tensorFromFloat32('bert.encoder.layer.0.attention.self.query.lora_E', [2, 1], Float32Array.of(0.5, 0)),
      ],
    },
    compute: { type: 'compute', runId: 'run-1', step: 3, requestId: 2, seed: 0xdeadbeef, microBatches: [1, 4], samples: sampleBatch() },
    evaluate: { type: 'evaluate', runId: 'run-1', requestId: 5, samples: sampleBatch() },
    shutdown: { type: 'shutdown', reason: 'training finished' },
  };
}

/** Marks a field to delete in `withField`. */
export const DELETE = Symbol('delete');

/** A deep copy of `msg` with the field at `path` set to `value` (or deleted). */
export function withField(msg: object, path: readonly (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(msg) as Record<string, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === DELETE) delete at[last];
  else at[last] = value;
  return copy;
}
