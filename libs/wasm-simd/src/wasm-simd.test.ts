import test from 'ava';
import { ADD, I32, LOAD, paddedBytes, simdLoopModule, SimdInstance, STORE, V128 } from './wasm-simd';

/** out[i] = a[i] + b[i] over float32 regions given by byte address: the smallest useful kernel. */
function addKernel(): SimdInstance<(out: number, a: number, b: number, bytes: number) => void> {
  const [OUT, A, B, BYTES] = [0, 1, 2, 3];
  return new SimdInstance(
    simdLoopModule({
      params: [I32, I32, I32, I32],
      bytesParam: BYTES,
      splat: [],
      locals: [I32, V128],
      step: (at) => [...at(OUT), ...at(A), ...LOAD, ...at(B), ...LOAD, ...ADD, ...STORE],
    }),
  );
}

test('simdLoopModule: the step runs once per 16 bytes below the bytes param, and nowhere else', (t) => {
  const k = addKernel();
  const n = 10; // not a multiple of 4: the last vector is partly padding
  const bytes = paddedBytes(n);
  t.is(bytes, 48);
  k.reserve(4 * bytes);
  const heap = k.heap();
  const [out, a, b] = [0, bytes, 2 * bytes];
  for (let i = 0; i < n; i++) {
    heap[a / 4 + i] = i + 0.5;
    heap[b / 4 + i] = 100 * i;
  }
  heap.fill(-1, out / 4, out / 4 + bytes / 4);
  heap[3 * bytes / 4] = 7; // past the regions: must stay
  k.run(out, a, b, 32); // two vectors: values 0..7
  t.deepEqual([...heap.subarray(0, 10)], [0.5, 101.5, 202.5, 303.5, 404.5, 505.5, 606.5, 707.5, -1, -1]);
  t.is(heap[3 * bytes / 4], 7);
});

test('SimdInstance.reserve grows the memory to at least the bytes asked, in 64 KiB pages', (t) => {
  const k = addKernel();
  t.is(k.heap().byteLength, 65536);
  k.reserve(65537);
  t.is(k.heap().byteLength, 2 * 65536);
  k.reserve(100);
  t.is(k.heap64().byteLength, 2 * 65536);
});
