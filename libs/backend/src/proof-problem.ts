/**
 * The tiny, fixed training problem that every backend must solve before it is chosen
 * (see prove-backend.ts), and its float64 reference solution in plain JS.
 *
 * Model, for N tokens of a vocabulary of V, hidden size H, inner size F and C classes:
 *   x      = gather(E, ids)                      [N, H]   E is frozen, as our embeddings are
 *   u      = x W0                                [N, H]
 *   n      = (u - mean) * rsqrt(var + eps) * gamma + beta, over H    (layer norm)
 *   h      = gelu(n W1)                          [N, F]   exact, erf-based
 *   a      = softmax(h hᵀ / √F)                  [N, N]   matMul with transposeB
 *   c      = a h                                 [N, F]
 *   logits = c W2                                [N, C]
 *   g      = nᵀ h                                [H, F]   matMul with transposeA
 *   loss   = mean(-Σ onehot(labels) log_softmax(logits)) + REG · sqrt(Σ g² + 1)
 * Trainable: W0, W1, W2. The backward pass runs the transposed matMuls, the layer-norm,
 * softmax, GELU and sqrt gradients; gather needs no gradient because E is frozen.
 */

export const N = 6;
export const V = 7;
export const H = 4;
export const F = 5;
export const C = 3;
export const LN_EPS = 1e-5;
export const REG = 0.01;
export const LR = 0.1;

/** Token ids [N]; id 1 repeats so gather reads one row twice. */
export const IDS: readonly number[] = [3, 1, 4, 1, 5, 6];
/** Class labels [N]. */
export const LABELS: readonly number[] = [0, 2, 1, 1, 0, 2];

/** Deterministic values in about [-scale, scale], rounded to float32 so both sides start equal. */
function fill(rows: number, cols: number, seed: number, scale: number): number[][] {
  return Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => Math.fround(scale * Math.sin(1.3 * i + 0.7 * j + seed))),
  );
}

export const E = fill(V, H, 0.1, 1); // [V, H]
export const GAMMA = fill(1, H, 0.5, 0.3)[0].map((v) => Math.fround(1 + v)); // [H]
export const BETA = fill(1, H, 0.9, 0.1)[0]; // [H]

/** The trainable parameters, as float64 matrices. */
export interface ProofParams {
  W0: number[][]; // [H, H]
  W1: number[][]; // [H, F]
  W2: number[][]; // [F, C]
}
export type ParamName = keyof ProofParams;
export const PARAM_NAMES: readonly ParamName[] = ['W0', 'W1', 'W2'];

export function initialParams(): ProofParams {
  return { W0: fill(H, H, 2.1, 0.6), W1: fill(H, F, 3.7, 0.8), W2: fill(F, C, 5.3, 0.9) };
}

// ---- float64 reference ----

type Mat = number[][];

const transpose = (a: Mat): Mat => a[0].map((_, j) => a.map((row) => row[j]));

function matMul(a: Mat, b: Mat): Mat {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

/** erf to ~1e-15: Maclaurin series near 0, continued fraction for erfc in the tails. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80 && Math.abs(term) > 1e-17 * sum; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * sum * (2 / Math.sqrt(Math.PI));
  }
  // erfc x = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail
  let k = ax;
  for (let n = 60; n >= 1; n--) k = ax + n / 2 / k;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * k));
}

/** Loss of the model above, in float64. */
export function referenceLoss(p: ProofParams): number {
  const x = IDS.map((id) => E[id]);
  const u = matMul(x, p.W0);
  const n = u.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / H;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / H;
    return row.map((v, j) => ((v - mean) / Math.sqrt(variance + LN_EPS)) * GAMMA[j] + BETA[j]);
  });
  const h = matMul(n, p.W1).map((row) => row.map((v) => 0.5 * v * (1 + erf64(v * Math.SQRT1_2))));
  const a = matMul(h, transpose(h)).map((row) => softmax(row.map((v) => v / Math.sqrt(F))));
  const logits = matMul(matMul(a, h), p.W2);
  const nll = logits.map((row, i) => {
    const m = Math.max(...row);
    const logZ = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return logZ - row[LABELS[i]];
  });
  const g = matMul(transpose(n), h);
  const sumSq = g.flat().reduce((s, v) => s + v * v, 0);
  return nll.reduce((s, v) => s + v, 0) / N + REG * Math.sqrt(sumSq + 1);
}

function softmax(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const z = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / z);
}

/** d loss / d p by central differences of {@link referenceLoss} (error ~1e-9, far below the tolerance). */
export function referenceGrads(p: ProofParams): ProofParams {
  const step = 1e-5;
  const grads = {} as ProofParams;
  for (const name of PARAM_NAMES) {
    grads[name] = p[name].map((row, i) =>
      row.map((_, j) => {
        const at = (delta: number): number => {
          const q: ProofParams = { ...p, [name]: p[name].map((r) => r.slice()) };
          q[name][i][j] += delta;
          return referenceLoss(q);
        };
        return (at(step) - at(-step)) / (2 * step);
      }),
    );
  }
  return grads;
}

/** One SGD step p - LR · grad, in float64. */
export function sgdStep(p: ProofParams, grads: ProofParams): ProofParams {
  const out = {} as ProofParams;
  for (const name of PARAM_NAMES) out[name] = p[name].map((row, i) => row.map((v, j) => v - LR * grads[name][i][j]));
  return out;
}
