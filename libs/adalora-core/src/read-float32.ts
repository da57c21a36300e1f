import * as tf from '@tensorflow/tfjs';

// the part of tfjs-backend-wasm's BackendWasm used here (public members of that class)
interface WasmBackendLike {
  dataIdMap: { has(dataId: object): boolean };
  typedArrayFromHeap(info: { shape: number[]; dtype: string; dataId: object }): ArrayLike<number>;
}

/**
 * The values of a float32 tensor for reading, without a copy where the backend allows it: on
 * wasm a Float32Array view of the wasm heap (`BackendWasm.typedArrayFromHeap`, what its own
 * kernels use), on cpu the backend's own array (what `dataSync` returns there); else `dataSync()`.
 * The view is valid only until the next tf operation (the heap may grow) and must not be written.
 */
export function readFloat32(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`readFloat32: expected a float32 tensor, got ${t.dtype}`);
  if (tf.getBackend() === 'wasm') {
    const b = tf.backend() as unknown as Partial<WasmBackendLike>;
    if (typeof b.typedArrayFromHeap === 'function' && b.dataIdMap?.has(t.dataId)) {
      const view = b.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId });
      if (view instanceof Float32Array && view.length === t.size) return view;
    }
  }
  return t.dataSync() as Float32Array;
}
