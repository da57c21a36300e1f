import * as tf from '@tensorflow/tfjs';
import { readFloat32 } from './read-float32';

/**
 * ‖X‖_F with the gradient X/‖X‖_F, taken as 0 at X = 0 (where the norm's derivative is
 * undefined and autodiff of sqrt(Σx²) would give 0/0 = NaN). The value is the plain norm.
 */
const frobeniusNorm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const norm = tf.sqrt(tf.sum(tf.square(x)));
  save([x, norm]);
  return {
    value: norm,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, n] = saved;
      const safe = tf.where(tf.greater(n, 0), n, tf.onesLike(n)); // x = 0 there, so x/1 = 0
      return xs.div(safe).mul(dy);
    },
  };
});

/**
 * AdaLoRA's orthogonal regulariser (peft `AdaLoraModel.forward`):
 * R = (Σ_modules ‖A·Aᵀ − I‖_F + ‖Bᵀ·B − I‖_F) / (2 · #modules), over all r rows of A [r, in]
 * and columns of B [out, r] (masked triplets included). 0 when there are no modules.
 * Differentiable with tf autodiff (use inside `tf.variableGrads`).
 */
export function orthogonalRegularizer(adapters: Iterable<{ readonly A: tf.Tensor; readonly B: tf.Tensor }>): tf.Scalar {
  return tf.tidy(() => {
    const terms: tf.Scalar[] = [];
    for (const { A, B } of adapters) {
      const r = A.shape[0];
      if (A.rank !== 2 || B.rank !== 2 || B.shape[1] !== r) {
        throw new Error(`orthogonalRegularizer: expected A [r, in] and B [out, r], got A [${A.shape.join(', ')}] and B [${B.shape.join(', ')}]`);
      }
      if (r === 0) {
        // an empty r×r matrix has norm 0; peft still counts the two tensors
        terms.push(tf.scalar(0), tf.scalar(0));
        continue;
      }
      const eye = tf.eye(r);
      // explicit transposes: wasm matMul with a transposed operand is much slower
      const cA = tf.matMul(A as tf.Tensor2D, A.transpose() as tf.Tensor2D); // [r, r]
      const cB = tf.matMul(B.transpose() as tf.Tensor2D, B as tf.Tensor2D); // [r, r]
      terms.push(frobeniusNorm(cA.sub(eye)) as tf.Scalar, frobeniusNorm(cB.sub(eye)) as tf.Scalar);
    }
    if (terms.length === 0) return tf.scalar(0);
    return tf.addN(terms).div(terms.length) as tf.Scalar;
  });
}

/** R and weight · ∂R/∂A, weight · ∂R/∂B of each adapter (same order), as float32 values in row-major order. */
export interface OrthogonalGradientValues {
  readonly value: number;
  readonly grads: readonly { readonly A: Float32Array; readonly B: Float32Array }[];
}

// the shared dimension up to which tfjs-wasm's transposed matmul (a plain loop summing 48 products
// at a time) and its XNNPACK matmul both sum the products in order from 0: the same bits
const WASM_SAME_SUM_UP_TO = 48;

/**
 * The bits of `tf.variableGrads(() => orthogonalRegularizer(adapters), [A, B, …])` with each
 * gradient times `weight` (as float32), without the autodiff tape: the forward is the same tf
 * ops; the backward is the ops tfjs's gradients run (each term's dy = 1/#terms; the norm's
 * x / ‖x‖ · dy; matMul's two gradients; the transpose's; the two contributions to A and to B
 * added), the elementwise ones done in JS in float32. Where it is exact to (the cpu backend, and
 * wasm up to rank 48: orthogonal-regularizer.test.ts compares the bits), the matmul gradients
 * multiply by the explicit transposes the forward made instead of asking for a transposed
 * operand, which tfjs-wasm runs ≈ 5–10× slower (`bench:backends`).
 */
export function orthogonalRegularizerGradient(adapters: readonly { readonly A: tf.Tensor; readonly B: tf.Tensor }[], weight: number): OrthogonalGradientValues {
  if (adapters.length === 0) return { value: 0, grads: [] };
  const f = Math.fround;
  const dy = f(1 / (2 * adapters.length)); // ∂R/∂term: div's gradient, ones / #terms
  const w = f(weight);
  const backend = tf.getBackend();
  // the result leaves the tidy through this variable: tidy walks what it returns, a typed array value by value
  let result: OrthogonalGradientValues | undefined;
  tf.tidy(() => {
    const terms: tf.Scalar[] = [];
    const saved: { A: tf.Tensor2D; T: tf.Tensor2D; xA: tf.Tensor; nA: tf.Scalar; B: tf.Tensor2D; Bt: tf.Tensor2D; xB: tf.Tensor; nB: tf.Scalar }[] = [];
    for (const { A, B } of adapters) {
      const r = A.shape[0];
      if (A.rank !== 2 || B.rank !== 2 || B.shape[1] !== r) {
        throw new Error(`orthogonalRegularizerGradient: expected A [r, in] and B [out, r], got A [${A.shape.join(', ')}] and B [${B.shape.join(', ')}]`);
      }
      if (r === 0) {
        terms.push(tf.scalar(0), tf.scalar(0));
        continue;
      }
      // the forward of orthogonalRegularizer, op for op (frobeniusNorm's forward: √Σx²)
      const eye = tf.eye(r);
      const T = A.transpose() as tf.Tensor2D;
      const xA = tf.matMul(A as tf.Tensor2D, T).sub(eye);
      const nA = tf.sqrt(tf.sum(tf.square(xA))) as tf.Scalar;
      const Bt = B.transpose() as tf.Tensor2D;
      const xB = tf.matMul(Bt, B as tf.Tensor2D).sub(eye);
      const nB = tf.sqrt(tf.sum(tf.square(xB))) as tf.Scalar;
      terms.push(nA, nB);
      saved.push({ A: A as tf.Tensor2D, T, xA, nA, B: B as tf.Tensor2D, Bt, xB, nB });
    }
    const value = tf.addN(terms).div(terms.length).dataSync()[0];
    let s = 0;
    const grads = adapters.map(({ A, B }) => {
      if (A.shape[0] === 0) return { A: new Float32Array(0), B: new Float32Array(0) };
      const { T, xA, nA, Bt, xB, nB } = saved[s++];
      const r = A.shape[0];
      const fast = backend === 'cpu' || (backend === 'wasm' && r <= WASM_SAME_SUM_UP_TO);
      // cA = A·T: dA = dC·Tᵀ (= dC·A) plus transpose(dT), dT = Aᵀ·dC (= T·dC)
      const dCA = normGradient(xA, nA, dy, r);
      const dA1 = fast ? tf.matMul(dCA, A as tf.Tensor2D) : tf.matMul(dCA, T, false, true);
      const dT = fast ? tf.matMul(T, dCA) : tf.matMul(A as tf.Tensor2D, dCA, true, false);
      // cB = Bt·B: dB = Btᵀ·dC (= B·dC) plus transpose(dBt), dBt = dC·Bᵀ (= dC·Bt)
      const dCB = normGradient(xB, nB, dy, r);
      const dB1 = fast ? tf.matMul(B as tf.Tensor2D, dCB) : tf.matMul(Bt, dCB, true, false);
      const dBt = fast ? tf.matMul(dCB, Bt) : tf.matMul(dCB, B as tf.Tensor2D, false, true);
      const [inF, outF] = [(A as tf.Tensor2D).shape[1], (B as tf.Tensor2D).shape[0]];
      // views of the wasm heap: both read before the next tf op
      return { A: addTransposedTimes(readFloat32(dA1), readFloat32(dT), r, inF, w), B: addTransposedTimes(readFloat32(dB1), readFloat32(dBt), outF, r, w) };
    });
    result = { value, grads };
  });
  return result!;
}

// frobeniusNorm's gradient x / ‖x‖ · dy (‖x‖ taken as 1 where it is 0), in float32, as a [r, r] tensor
function normGradient(x: tf.Tensor, n: tf.Scalar, dy: number, r: number): tf.Tensor2D {
  const f = Math.fround;
  const norm = n.dataSync()[0];
  const safe = norm > 0 ? norm : 1;
  return tf.tensor2d(Float32Array.from(x.dataSync(), (v) => f(f(v / safe) * dy)), [r, r]);
}

// (m + transpose(t)) · w in float32, m [rows, cols], t [cols, rows]; read before any other tf op
function addTransposedTimes(m: Float32Array, t: Float32Array, rows: number, cols: number, w: number): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(rows * cols);
  for (let i = 0, k = 0; i < rows; i++) for (let j = 0; j < cols; j++, k++) out[k] = f(m[k] + t[j * rows + i]) * w;
  return out;
}
