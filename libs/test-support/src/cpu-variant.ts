import * as tf from '@tensorflow/tfjs';

/** How {@link registerCpuVariant} breaks the cpu backend. */
export interface CpuVariantChange {
  /** Kernels left unregistered, so ops that need them throw "Kernel ... not registered". */
  drop?: string[];
  /** Kernels whose float32 outputs are rewritten in place after the cpu kernel runs. */
  corrupt?: Record<string, (values: Float32Array) => void>;
}

/**
 * Registers (once) a backend `name` that is the cpu backend with some kernels removed or
 * corrupted: how the backend tests simulate a broken or mis-computing backend.
 */
export function registerCpuVariant(name: string, change: CpuVariantChange): void {
  if (tf.findBackendFactory(name) !== null) return;
  const cpuFactory = tf.findBackendFactory('cpu');
  if (cpuFactory === null) throw new Error("the 'cpu' backend is not registered");
  tf.registerBackend(name, cpuFactory, -1); // below cpu, so it never becomes the default
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    if (change.drop?.includes(kernel.kernelName)) continue;
    const corrupt = change.corrupt?.[kernel.kernelName];
    const kernelFunc: tf.KernelFunc = corrupt === undefined
      ? kernel.kernelFunc
      : (args) => {
          const backend = args.backend as tf.KernelBackend;
          const out = kernel.kernelFunc(args) as tf.TensorInfo;
          const values = Float32Array.from(backend.readSync(out.dataId) as Float32Array);
          corrupt(values);
          backend.disposeData(out.dataId);
          return { dataId: backend.write(values, out.shape, out.dtype), shape: out.shape, dtype: out.dtype };
        };
    tf.registerKernel({ ...kernel, backendName: name, kernelFunc });
  }
}
