import * as tf from '@tensorflow/tfjs';
import {
  BETA, C, E, F, GAMMA, IDS, LABELS, LN_EPS, LR, PARAM_NAMES, REG,
  initialParams, referenceGrads, referenceLoss, sgdStep,
  type ParamName, type ProofParams,
} from './proof-problem';

/** Relative tolerance of the proof: float32 kernels land within ~1e-6 of the float64 reference. */
export const PROOF_TOLERANCE = 1e-4;

/** Float64 reference values, computed once per process (pure JS, ~1 ms). */
let reference: { loss0: number; grads: ProofParams; loss1: number } | undefined;
function getReference(): NonNullable<typeof reference> {
  if (reference === undefined) {
    const p = initialParams();
    const grads = referenceGrads(p);
    reference = { loss0: referenceLoss(p), grads, loss1: referenceLoss(sgdStep(p, grads)) };
  }
  return reference;
}

/** The model of proof-problem.ts in tfjs. */
function loss(w: Record<ParamName, tf.Tensor2D>): tf.Scalar {
  return tf.tidy(() => {
    const x = tf.gather(tf.tensor2d(E), tf.tensor1d(IDS as number[], 'int32')); // [N, H]
    const u = tf.matMul(x, w.W0); // [N, H]
    const { mean, variance } = tf.moments(u, -1, true); // [N, 1] each
    const n = u.sub(mean).mul(tf.rsqrt(variance.add(LN_EPS))).mul(tf.tensor1d(GAMMA)).add(tf.tensor1d(BETA));
    const z = tf.matMul(n, w.W1); // [N, F]
    const h = z.mul(0.5).mul(tf.erf(z.mul(Math.SQRT1_2)).add(1)); // exact GELU
    const a = tf.softmax(tf.matMul(h, h, false, true).div(Math.sqrt(F))); // [N, N]
    const logits = tf.matMul(tf.matMul(a, h), w.W2); // [N, C]
    const onehot = tf.oneHot(tf.tensor1d(LABELS as number[], 'int32'), C); // [N, C]
    const nll = tf.mean(tf.neg(tf.sum(onehot.mul(tf.logSoftmax(logits)), -1)));
    const g = tf.matMul(n, h, true, false); // [H, F]
    return nll.add(tf.sqrt(tf.sum(g.square()).add(1)).mul(REG)) as tf.Scalar;
  });
}

function relErr(got: number, want: number): number {
  return Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);
}

function checkScalar(what: string, got: number, want: number): void {
  if (!Number.isFinite(got)) throw new Error(`${what} is ${got} (expected ${want.toPrecision(7)})`);
  const r = relErr(got, want);
  if (!(r <= PROOF_TOLERANCE)) {
    throw new Error(`${what} ${got.toPrecision(7)} differs from reference ${want.toPrecision(7)} (relative error ${r.toExponential(1)} > ${PROOF_TOLERANCE})`);
  }
}

/** Compares a tensor with a float64 matrix: max |error| relative to the largest reference entry. */
function checkMatrix(what: string, got: tf.Tensor, want: number[][]): void {
  const values = got.dataSync();
  const flat = want.flat();
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${what} has non-finite entry ${values[bad]} at flat index ${bad}`);
  const scale = Math.max(...flat.map(Math.abs), 1e-12);
  const maxErr = Math.max(...flat.map((w, i) => Math.abs(values[i] - w)));
  if (!(maxErr / scale <= PROOF_TOLERANCE)) {
    throw new Error(`${what} differs from reference: max |error| ${maxErr.toExponential(2)} vs max |reference| ${scale.toExponential(2)} (relative ${(maxErr / scale).toExponential(1)} > ${PROOF_TOLERANCE})`);
  }
}

/**
 * Proves the active tfjs backend (`tf.getBackend()`) can train: runs the fixed problem of
 * proof-problem.ts for one SGD step (tf.variableGrads, then assign) and checks the loss, every
 * gradient and the loss after the step against the float64 reference.
 * Leaves no tensors or variables behind.
 * @throws Error saying what failed: a missing kernel or gradient, a non-finite value, or which
 *   quantity differs from the reference and by how much.
 */
export function proveBackend(): void {
  const ref = getReference();
  const init = initialParams();
  const vars = {} as Record<ParamName, tf.Variable<tf.Rank.R2>>;
  try {
    for (const name of PARAM_NAMES) {
      const initial = tf.tensor2d(init[name]);
      vars[name] = tf.variable(initial, true); // shares initial's data, which stays alive after this
      initial.dispose();
    }
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => loss(vars), Object.values(vars));
      checkScalar('loss', value.dataSync()[0], ref.loss0);
      for (const name of PARAM_NAMES) {
        const grad = grads[vars[name].name];
        if (grad === undefined) throw new Error(`no gradient for ${name}`);
        checkMatrix(`gradient of ${name}`, grad, ref.grads[name]);
        vars[name].assign(vars[name].sub(grad.mul(LR)));
      }
      checkScalar('loss after one SGD step', loss(vars).dataSync()[0], ref.loss1);
    });
  } finally {
    for (const v of Object.values(vars)) v.dispose();
  }
}
