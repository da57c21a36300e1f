/**
 * A tensor as it arrived (from the wire, a file or a worker's sums): its name, and its shape,
 * or only its element count where the source keeps flat values.
 */
export type ArrivedTensor = { readonly name: string; readonly shape: readonly number[] } | { readonly name: string; readonly size: number };

/** What was wrong with a tensor set; `tensor` is the name as it arrived (or the missing key). */
export type TensorSetProblem = 'unknown' | 'duplicate' | 'shape' | 'missing';

/** The first problem {@link checkTensorSet} found; the message starts with the caller's `where`. */
export class TensorSetError extends Error {
  constructor(
    readonly problem: TensorSetProblem,
    readonly tensor: string,
    message: string,
  ) {
    super(message);
    this.name = 'TensorSetError';
  }
}

/**
 * Checks that `actual` holds exactly the tensors of `expected` (e.g. the trainables), each once
 * and with its shape (or its element count), and returns them by expected key in expected's
 * order. Throws a {@link TensorSetError} for the first problem:
 * `<where>: unknown tensor 'x'`, `<where>: duplicate tensor 'x'`,
 * `<where>: tensor 'x' has shape [a,b], expected [c,d]` (or `has N values, expected M (shape [c,d])`),
 * `<where>: missing tensor 'x' (N of M present)`.
 */
export function checkTensorSet<K extends string, T extends ArrivedTensor>(
  expected: ReadonlyMap<K, { readonly shape: readonly number[] }>,
  actual: Iterable<T>,
  where: string,
): Map<K, T> {
  const found = new Map<string, T>();
  for (const t of actual) {
    const want = expected.get(t.name as K);
    if (!want) throw new TensorSetError('unknown', t.name, `${where}: unknown tensor '${t.name}'`);
    if (found.has(t.name)) throw new TensorSetError('duplicate', t.name, `${where}: duplicate tensor '${t.name}'`);
    if ('shape' in t) {
      if (!sameShape(t.shape, want.shape)) throw new TensorSetError('shape', t.name, `${where}: tensor '${t.name}' has shape ${dims(t.shape)}, expected ${dims(want.shape)}`);
    } else {
      const size = want.shape.reduce((a, b) => a * b, 1);
      if (t.size !== size) throw new TensorSetError('shape', t.name, `${where}: tensor '${t.name}' has ${t.size} values, expected ${size} (shape ${dims(want.shape)})`);
    }
    found.set(t.name, t);
  }
  const out = new Map<K, T>();
  for (const key of expected.keys()) {
    const t = found.get(key);
    if (!t) throw new TensorSetError('missing', key, `${where}: missing tensor '${key}' (${found.size} of ${expected.size} present)`);
    out.set(key, t);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function dims(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
