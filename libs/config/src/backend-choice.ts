/**
 * Which TensorFlow.js backend a process asks for.
 * - `auto`: the fastest one that loads and passes its proof step
 *   (tfjs-node-gpu, then tfjs-node, then wasm, then cpu).
 * - `tensorflow`: native TensorFlow only (tfjs-node-gpu, then tfjs-node); fails if neither loads.
 * - `wasm`, `cpu`: exactly that backend.
 */
export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** Every valid {@link BackendChoice}, in the order help texts list them. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/**
 * Parses a backend name from a CLI flag or config file.
 * @throws Error naming the valid values when `s` is not one of them.
 */
export function parseBackendChoice(s: string): BackendChoice {
  const found = BACKEND_CHOICES.find((c) => c === s);
  if (found === undefined) {
    throw new Error(`backend '${s}' is not valid (expected one of: ${BACKEND_CHOICES.join(', ')})`);
  }
  return found;
}
