import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * The batched product `a·b` of rank-3 tensors, a [n, m, k] · b [n, k, p] -> [n, m, p], made
 * of n plain 2-D matmuls in both passes, with its own gradient (`da = dy·bᵀ`, `db = aᵀ·dy`,
 * the transposes made explicitly).
 *
 * Why: the wasm backend runs BatchMatMul on XNNPACK only for a single matrix without
 * transpose flags; any other BatchMatMul (attention's [B·H] products, and the transposed
 * ones autodiff makes of them) takes a naive loop ≈ 14× slower. The operands are split into
 * their n matrices by a small wasm kernel (below), since wasm's Unpack and Slice copy the
 * whole input for every piece (n² work) and its Gather is slower still. The split has no
 * gradient, hence the written-out one. Results equal tf.matMul's up to float summation
 * order. Works on any backend (elsewhere the split is tf.unstack); it pays only on wasm.
 */
export function matMulPerBatch(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [n, , k] = a.shape;
  if (a.rank !== 3 || b.rank !== 3 || b.shape[0] !== n || b.shape[1] !== k || a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new Error(`matMulPerBatch: expected float32 a [n, m, k] and b [n, k, p], got a ${a.dtype} [${a.shape}] and b ${b.dtype} [${b.shape}]`);
  }
  const op = tf.customGrad((x, y, save) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor3D, y as tf.Tensor3D]);
    return {
      value: piecewise(x as tf.Tensor3D, y as tf.Tensor3D),
      gradFunc: (dy: tf.Tensor3D, [sx, sy]: tf.Tensor[]) => [
        piecewise(dy, transposeLast(sy as tf.Tensor3D)), // dy [n, m, p] · bᵀ [n, p, k]
        piecewise(transposeLast(sx as tf.Tensor3D), dy), // aᵀ [n, k, m] · dy [n, m, p]
      ],
    };
  });
  return op(a, b) as tf.Tensor3D;
}

// [n, r, c] -> [n, c, r]
function transposeLast(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}

// a [n, m, k] · b [n, k, p] -> [n, m, p] as n 2-D matmuls (not differentiable: see above).
function piecewise(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, m] = a.shape;
    const p = b.shape[2];
    const as = split(a); // n × [m, k]
    const bs = split(b); // n × [k, p]
    return tf.concat(as.map((ai, i) => tf.matMul(ai, bs[i]))).reshape([n, m, p]) as tf.Tensor3D; // [n·m, p] -> [n, m, p]
  });
}

const SPLIT_KERNEL = 'AdaloraSplitBatch';

// x [n, r, c] -> n × [r, c]
function split(x: tf.Tensor3D): tf.Tensor2D[] {
  if (tf.getBackend() !== 'wasm') return tf.unstack(x) as tf.Tensor2D[];
  return tf.engine().runKernel(SPLIT_KERNEL, { x }, {}) as tf.Tensor2D[];
}

// wasm's Unpack without its n² copying (it reads the whole input back to JS per piece): one
// heap-to-heap copy per piece, no garbage. Every output is allocated before any heap view is
// taken, as an allocation may grow the wasm memory and detach earlier views.
if (!tf.getKernel(SPLIT_KERNEL, 'wasm')) {
  tf.registerKernel({
    kernelName: SPLIT_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      const wasm = backend as BackendWasm;
      const [n, ...shape] = x.shape;
      const size = shape.reduce((s, d) => s * d, 1);
      const outs = Array.from({ length: n }, () => wasm.makeOutput(shape, x.dtype));
      const xs = wasm.typedArrayFromHeap(x);
      outs.forEach((o, i) => wasm.typedArrayFromHeap(o).set(xs.subarray(i * size, (i + 1) * size)));
      return outs;
    },
  });
}
