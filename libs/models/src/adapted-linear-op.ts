import * as tf from '@tensorflow/tfjs';

/**
 * A frozen linear layer's tensors in the two layouts its forward and backward passes need.
 *
 * Why both: the wasm backend multiplies by a transposed operand 12–16× slower than a plain
 * matmul (it leaves its XNNPACK path), and autodiff of `x·Wᵀ` is made of such products.
 * Keeping `Wᵀ` [in, out] for the forward (`x·Wᵀ`) and `W` [out, in] for the input gradient
 * (`dy·W`) makes every large product a plain one.
 */
export interface FrozenLinearWeights {
  readonly weight: tf.Tensor2D; // W [out, in], torch layout
  readonly weightT: tf.Tensor2D; // Wᵀ [in, out], a stored copy
  readonly bias: tf.Tensor1D | null; // [out]
}

/**
 * The low-rank branch `((x̃·(A⊙E)ᵀ)·Bᵀ)·s` of an adapted layer: AdaLoRA (E given) or plain
 * LoRA (E null, `x̃·Aᵀ·Bᵀ·s`).
 */
export interface LowRankFactors {
  readonly A: tf.Tensor2D; // [r, in]
  readonly E: tf.Tensor2D | null; // [r, 1] singular values (AdaLoRA), null for LoRA
  readonly B: tf.Tensor2D; // [out, r]
  readonly scaling: number; // s = lora_alpha / ranknum
}

/**
 * `y = x·Wᵀ + b` for a frozen W, differentiable w.r.t. x only (`dx = dy·W`), with no
 * transposed matmul in either pass.
 * @param x [N, in]
 * @returns [N, out]
 */
export function frozenLinear(x: tf.Tensor2D, w: FrozenLinearWeights): tf.Tensor2D {
  checkFrozen('frozenLinear', x, w);
  const op = tf.customGrad((xi) => ({
    value: plainMatMulBias(xi as tf.Tensor2D, w.weightT, w.bias), // [N, out]
    gradFunc: (dy: tf.Tensor2D) => [tf.matMul(dy, w.weight)], // [N, in]
  }));
  return op(x) as tf.Tensor2D;
}

/**
 * The adapted linear layer `y = x·Wᵀ + b + ((x̃·(A⊙E)ᵀ)·Bᵀ)·s` with its own gradient for
 * x, A, E and B that multiplies only by non-transposed operands: the large products use the
 * stored `Wᵀ`/`W`; the small rank-r factors are transposed explicitly (cheap: r × N or r × in).
 *
 * `xAdapter` is the adapter branch's input x̃ when it differs from x (adapter dropout in
 * training): it is then a separate input of the op, and autodiff carries its gradient back
 * through the dropout. Without it x̃ = x and the two input gradients are summed here.
 *
 * A rank-0 branch (every triplet pruned) contributes nothing and gets zero-size gradients, so
 * a trainer that asks for every adapter tensor's gradient still receives one.
 * @param x [N, in]
 * @param xAdapter [N, in] (optional)
 * @returns [N, out]
 */
export function adaptedLinear(x: tf.Tensor2D, w: FrozenLinearWeights, f: LowRankFactors, xAdapter?: tf.Tensor2D): tf.Tensor2D {
  checkFrozen('adaptedLinear', x, w);
  checkFactors(w, f);
  if (xAdapter && (xAdapter.rank !== 2 || xAdapter.shape[0] !== x.shape[0] || xAdapter.shape[1] !== x.shape[1])) {
    throw new Error(`adaptedLinear: xAdapter has shape [${xAdapter.shape}], expected x's shape [${x.shape}]`);
  }
  const s = f.scaling;
  const hasE = f.E !== null;
  const separate = xAdapter !== undefined;
  // Inputs in this order: x, [x̃], A, [E], B; gradFunc returns one gradient per input.
  const inputs: tf.Tensor[] = [x, ...(separate ? [xAdapter] : []), f.A, ...(hasE ? [f.E!] : []), f.B];
  const r = f.A.shape[0];

  const op = tf.customGrad((...args) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const t = args.slice(0, -1) as tf.Tensor2D[];
    const xi = t[0];
    const xa = separate ? t[1] : xi;
    const A = t[separate ? 2 : 1];
    const E = hasE ? t[separate ? 3 : 2] : null;
    const B = t[t.length - 1];

    const frozenOut = plainMatMulBias(xi, w.weightT, w.bias); // [N, out]
    if (r === 0) {
      save([]);
      const value = frozenOut;
      return {
        value,
        gradFunc: (dy: tf.Tensor2D) => {
          const dx = tf.matMul(dy, w.weight); // [N, in]
          return [dx, ...(separate ? [tf.zerosLike(xa)] : []), tf.zeros(A.shape), ...(E ? [tf.zeros(E.shape)] : []), tf.zeros(B.shape)];
        },
      };
    }
    const ae = E ? A.mul(E) : A; // (A⊙E) [r, in]
    const h = tf.matMul(xa, tf.transpose(ae)); // [N, r]
    const bTs = tf.transpose(B).mul(s); // s·Bᵀ [r, out]
    const value = frozenOut.add(tf.matMul(h, bTs)) as tf.Tensor2D; // [N, out]
    save([xa, h, A, ...(E ? [E] : []), B]);
    return {
      value,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sx, sh, sA] = saved as tf.Tensor2D[];
        const sE = E ? (saved[3] as tf.Tensor2D) : null;
        const sB = saved[saved.length - 1] as tf.Tensor2D;
        const sae = sE ? sA.mul(sE) : sA; // [r, in]
        const dh = tf.matMul(dy, sB.mul(s)); // dy·(s·B) [N, r]
        const dhT = tf.transpose(dh); // [r, N]
        const dAE = tf.matMul(dhT, sx); // [r, in]
        const dB = tf.transpose(tf.matMul(tf.transpose(sh), dy)).mul(s); // (hᵀ·dy)ᵀ·s [out, r]
        const dxa = tf.matMul(dh, sae); // [N, in]
        const dxFrozen = tf.matMul(dy, w.weight); // [N, in]
        const dA = sE ? dAE.mul(sE) : dAE; // [r, in]
        const grads: tf.Tensor[] = separate ? [dxFrozen, dxa, dA] : [dxFrozen.add(dxa), dA];
        if (sE) grads.push(dAE.mul(sA).sum(1, true)); // dE [r, 1]
        grads.push(dB);
        return grads;
      },
    };
  });
  return op(...inputs) as tf.Tensor2D;
}

/** `Wᵀ` [in, out] from W [out, in]: the copy a layer stores once (the caller owns it). */
export function transposeWeight(weight: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.transpose(weight).clone()) as tf.Tensor2D;
}

// x·Wᵀ (+ b) with the stored Wᵀ: one plain (fused with the bias) matmul.
function plainMatMulBias(x: tf.Tensor2D, weightT: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  return (bias ? tf.fused.matMul({ a: x, b: weightT, bias }) : tf.matMul(x, weightT)) as tf.Tensor2D;
}

function checkFrozen(op: string, x: tf.Tensor, w: FrozenLinearWeights): void {
  const [out, inF] = w.weight.shape;
  if (x.rank !== 2 || x.shape[1] !== inF) throw new Error(`${op}: x has shape [${x.shape}], expected [N, ${inF}]`);
  if (w.weightT.shape[0] !== inF || w.weightT.shape[1] !== out) {
    throw new Error(`${op}: weightT has shape [${w.weightT.shape}], expected [${inF}, ${out}] (the transpose of weight [${out}, ${inF}])`);
  }
  if (w.bias && (w.bias.rank !== 1 || w.bias.shape[0] !== out)) throw new Error(`${op}: bias has shape [${w.bias.shape}], expected [${out}]`);
}

function checkFactors(w: FrozenLinearWeights, f: LowRankFactors): void {
  const [out, inF] = w.weight.shape;
  const r = f.A.shape[0];
  if (f.A.rank !== 2 || f.A.shape[1] !== inF) throw new Error(`adaptedLinear: A has shape [${f.A.shape}], expected [r, ${inF}]`);
  if (f.B.rank !== 2 || f.B.shape[0] !== out || f.B.shape[1] !== r) throw new Error(`adaptedLinear: B has shape [${f.B.shape}], expected [${out}, ${r}]`);
  if (f.E && (f.E.rank !== 2 || f.E.shape[0] !== r || f.E.shape[1] !== 1)) throw new Error(`adaptedLinear: E has shape [${f.E.shape}], expected [${r}, 1]`);
  if (!Number.isFinite(f.scaling)) throw new Error(`adaptedLinear: scaling must be a finite number, got ${f.scaling}`);
}
