import * as tf from '@tensorflow/tfjs';

/**
 * The dropout seeds of one forward pass, handed out in forward order: the k-th dropout call of
 * the pass gets `${key}#${k}`. The same key and the same model give every call the same mask on
 * any worker, so a micro-batch's gradient does not depend on who computes it, or when.
 */
export class DropoutStream {
  private calls = 0;

  constructor(readonly key: string) {
    if (key.length === 0) throw new Error('DropoutStream: key must not be empty');
  }

  /**
   * The stream of micro-batch `microBatch` (its index on the step's grid) at optimizer step
   * `step` of a run seeded with `runSeed`: what a trainer uses so that a micro-batch draws the
   * same masks whichever worker, share or retry computes it.
   */
  static forMicroBatch(runSeed: number, step: number, microBatch: number): DropoutStream {
    for (const [name, v] of [['runSeed', runSeed], ['step', step], ['microBatch', microBatch]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`DropoutStream.forMicroBatch: ${name} must be an integer ≥ 0, got ${v}`);
    }
    return new DropoutStream(`${runSeed}:${step}:${microBatch}`);
  }

  /** The next call's seed (a string: tfjs's alea PRNG hashes it whole, so keys never collide). */
  nextSeed(): string {
    return `${this.key}#${this.calls++}`;
  }
}

// The stream of the forward pass running now. A scope like tf.tidy's, rather than an argument
// threaded through every layer: dropout sits deep in encoders and adapters, and forward passes
// run synchronously, so one pass at a time holds it.
let active: DropoutStream | null = null;

/**
 * Runs `fn` (synchronous, e.g. a forward pass or `tf.variableGrads` of one) with every
 * {@link seededDropout} inside drawing its seed from `stream`. Scopes nest; the outer stream
 * is restored afterwards.
 */
export function withDropoutStream<T>(stream: DropoutStream, fn: () => T): T {
  const outer = active;
  active = stream;
  try {
    const out = fn();
    if (out instanceof Promise) throw new Error('withDropoutStream: fn must be synchronous (the stream is only active until it returns)');
    return out;
  } finally {
    active = outer;
  }
}

/**
 * torch.nn.Dropout's training-mode op: zeroes each element with probability `rate`, scales the
 * rest by 1 / (1 - rate). Seeded from the active {@link DropoutStream}; outside one (a library
 * user's own forward) unseeded, as tf.dropout. tfjs draws the uniforms in JS (alea), so the mask
 * is the same on every backend, and the gradient multiplies by that same saved mask. (A mask
 * built in JS from the same uniforms measured slower on wasm: 62 vs 49 ms CPU per 1.85M
 * elements; a mulberry32 mask would repeat: its 2^32 cycle is shared by every seed.)
 */
export function seededDropout(x: tf.Tensor, rate: number): tf.Tensor {
  return tf.dropout(x, rate, undefined, active?.nextSeed());
}
