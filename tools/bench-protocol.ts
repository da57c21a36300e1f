// Micro-benchmark of the protocol's tensor path for a BERT-base-sized AdaLoRA gradient message:
// 12 layers × (q, k, v, attention output 768×768, intermediate 3072×768, output 768×3072),
// r = 12, A/E/B per module → 216 tensors, ≈ 2.0 M float32 values (8 MB).
// As workers and the coordinator do it: encode = tensorFromFloat64 of the float64 sums in the
// chosen wire dtype for every tensor + FrameWriter.encode (4 MiB chunk frames); decode =
// FrameReader.read of every frame (decode + reassembly + full guard incl. finite checks) +
// float64FromTensor for every tensor. MB/s are of the float32 payload size (8 MB per message).
// Reference: one plain copy of the same bytes, Buffer.from(new Uint8Array(f32.buffer)).
// Prints medians over RUNS runs. Run: npx tsx tools/bench-protocol.ts
import { adapterKey, moduleId } from '@adalora/core';
import {
  FrameWriter,
  float64FromTensor,
  tensorFromFloat64,
  type FloatWire,
  workerMessageReader,
  type GradientsMessage,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import { medianMs } from './bench-timing';

const RUNS = 15;
const R = 12;
const H = 768;
const F = 3072;

const time = (f: () => void) => medianMs(RUNS, 2, () => f());

// name → [shape, values]
const grads = new Map<string, [number[], Float32Array]>();
let seed = 1;
const rand = (n: number) => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = (seed / 2 ** 32 - 0.5) * 1e-2;
  }
  return out;
};
for (let l = 0; l < 12; l++) {
  const mods: [string, number, number][] = [
    ['attention.self.query', H, H],
    ['attention.self.key', H, H],
    ['attention.self.value', H, H],
    ['attention.output.dense', H, H],
    ['intermediate.dense', H, F],
    ['output.dense', F, H],
  ];
  for (const [m, inF, outF] of mods) {
    const id = moduleId(`bert.encoder.layer.${l}.${m}`);
    grads.set(adapterKey(id, 'lora_A'), [[R, inF], rand(R * inF)]);
    grads.set(adapterKey(id, 'lora_E'), [[R, 1], rand(R)]);
    grads.set(adapterKey(id, 'lora_B'), [[outF, R], rand(outF * R)]);
  }
}
const values = [...grads.values()].reduce((s, [, v]) => s + v.length, 0);
const bytes = values * 4;
const MB = bytes / 1e6;

const all = new Float32Array(values);
{
  let o = 0;
  for (const [, v] of grads.values()) {
    all.set(v, o);
    o += v.length;
  }
}

const grads64 = new Map([...grads].map(([name, [shape, v]]) => [name, [shape, Float64Array.from(v)] as const]));

function message(wire: FloatWire): GradientsMessage {
  const tensors = [...grads64].map(([name, [shape, v]]) => tensorFromFloat64(name, shape, v, wire));
  return { type: 'gradients', runId: 'bench', step: 1, requestId: 0, sampleCount: 32, lossSum: 20, computeMs: 1000, tensors };
}

function decodeAll(frames: Uint8Array[]): Float64Array[] {
  const reader = workerMessageReader();
  let msg: WorkerToCoordinator | undefined;
  for (const f of frames) msg = reader.read(f);
  if (msg?.type !== 'gradients') throw new Error('bench: no gradients decoded');
  return msg.tensors.map(float64FromTensor);
}

const refMs = time(() => void Buffer.from(new Uint8Array(all.buffer)));
console.log(`payload: ${grads.size} tensors, ${values} float32 values (${MB.toFixed(1)} MB); median of ${RUNS} runs`);
console.log(`reference copy Buffer.from(new Uint8Array(f32.buffer)): ${refMs.toFixed(2)} ms = ${(MB / (refMs / 1000)).toFixed(0)} MB/s`);

for (const wire of ['float64', 'float32', 'float16'] as const) {
  const writer = new FrameWriter();
  let frames: Uint8Array[] = [];
  const encMs = time(() => {
    frames = writer.encode(message(wire));
  });
  const wireBytes = frames.reduce((s, f) => s + f.byteLength, 0);
  const decMs = time(() => void decodeAll(frames));
  // check the round trip once (float16: within half precision)
  const back = decodeAll(frames);
  let maxErr = 0;
  let k = 0;
  for (const t of back) for (let i = 0; i < t.length; i++) maxErr = Math.max(maxErr, Math.abs(t[i] - all[k++]));
  const total = encMs + decMs;
  console.log(
    `${wire.padEnd(7)} wire: ${frames.length} frames, ${(wireBytes / 1e6).toFixed(1)} MB on the wire | ` +
      `encode ${encMs.toFixed(1)} ms (${(MB / (encMs / 1000)).toFixed(0)} MB/s), decode ${decMs.toFixed(1)} ms (${(MB / (decMs / 1000)).toFixed(0)} MB/s), ` +
      `encode+decode ${(MB / (total / 1000)).toFixed(0)} MB/s = ${(total / refMs).toFixed(1)}× the reference copy; max |error| ${maxErr.toExponential(2)}`,
  );
}
