import * as tf from '@tensorflow/tfjs';
import type { SafeTensor } from './safetensors';

/**
 * The frozen weights of a checkpoint, handed out by HF name with a shape check,
 * so a missing or mis-shaped weight fails with a message that names it.
 */
export class WeightStore {
  private readonly used = new Set<string>();

  constructor(
    private readonly tensors: ReadonlyMap<string, SafeTensor>,
    private readonly source: string,
  ) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor `name` as a tf tensor; `shape` is checked when given. */
  take(name: string, shape?: readonly number[]): tf.Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.source}: missing weight '${name}'`);
    if (shape && (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i]))) {
      throw new Error(`${this.source}: weight '${name}' has shape [${t.shape}], expected [${shape}]`);
    }
    this.used.add(name);
    return tf.tensor(t.data, [...t.shape], 'float32');
  }

  /** Names never taken: tells which checkpoint weights a model ignored. */
  unused(): string[] {
    return [...this.tensors.keys()].filter((n) => !this.used.has(n));
  }
}
