import { DTYPE_BYTES, PROTOCOL_LIMITS, type WireDtype } from '@adalora/protocol';
import type { ReplyBounds } from './worker-link';

/** MessagePack bytes of a message's fixed fields (type, runId, step, ids, sums …) at most. */
const FIXED_BYTES = 1024 + PROTOCOL_LIMITS.maxIdChars;
/** MessagePack bytes of one tensor besides its name and data (keys, dtype, shape). */
const PER_TENSOR_BYTES = 32 + 9 * PROTOCOL_LIMITS.maxRank;
/** MessagePack bytes of one sample id (a uint64 at most). */
const PER_ID_BYTES = 9;

/**
 * How large a worker's replies can be for this run: gradients hold one tensor per trainable in
 * the run's wire dtype; an eval result holds `rows × width` float32 outputs (numLabels logits, or QA's 2 × seq) and the row ids.
 */
export function replyBounds(trainables: ReadonlyMap<string, { readonly shape: readonly number[] }>, wire: WireDtype, numLabels: number): ReplyBounds {
  let gradientsBytes = FIXED_BYTES;
  for (const [name, v] of trainables) gradientsBytes += PER_TENSOR_BYTES + 2 * name.length + v.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[wire];
  return {
    gradientsBytes,
    evalResultBytes: (rows) => FIXED_BYTES + PER_TENSOR_BYTES + rows * (PER_ID_BYTES + numLabels * DTYPE_BYTES.float32),
  };
}
