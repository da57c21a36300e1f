import test from 'ava';
import { ramp, workerSamples } from '@adalora/test-support';
import { WasmArena } from '@adalora/wasm-simd';
import { splitIntoChunks } from './chunk';
import { encodeMessage } from './codec';
import { FrameWriter, workerMessageReader } from './frame-io';
import type { GradientsMessage } from './messages';
import { TransferBuffers } from './transfer-buffers';
import { float32FromTensor, tensorFromFloat32 } from './wire-tensor';

const FRAME = 64 * 1024;

function gradients(seed: number): GradientsMessage {
  return { ...workerSamples().gradients, tensors: [tensorFromFloat32('big.lora_A', [100, 1000], ramp(100_000, seed))] };
}

/** The message the frames of `msg` reassemble to in `reader`. */
function roundTrip(reader: ReturnType<typeof workerMessageReader>, writer: FrameWriter, msg: GradientsMessage): GradientsMessage {
  let got;
  for (const f of writer.encode(msg)) got = reader.read(f);
  if (got?.type !== 'gradients') throw new Error('no gradients message came out');
  return got;
}

test('a reassembled message lands in memory given back before, and reads exactly', (t) => {
  const buffers = new TransferBuffers();
  const reader = workerMessageReader({ buffers });
  const writer = new FrameWriter({ maxFrameBytes: FRAME });
  const first = roundTrip(reader, writer, gradients(1));
  const memory = first.tensors[0].data.buffer;
  buffers.give(first.tensors[0].data);
  t.is(buffers.available, 1);
  const second = roundTrip(reader, writer, gradients(2));
  t.is(second.tensors[0].data.buffer, memory, 'the memory given back was reused');
  t.is(buffers.available, 0);
  t.deepEqual(float32FromTensor(second.tensors[0]), ramp(100_000, 2));
});

test('memory not given back is never written again (its views stay valid)', (t) => {
  const buffers = new TransferBuffers();
  const reader = workerMessageReader({ buffers });
  const writer = new FrameWriter({ maxFrameBytes: FRAME });
  const first = roundTrip(reader, writer, gradients(1));
  const second = roundTrip(reader, writer, gradients(2));
  t.not(second.tensors[0].data.buffer, first.tensors[0].data);
  t.deepEqual(float32FromTensor(first.tensors[0]), ramp(100_000, 1), 'the first message is intact');
});

test('give ignores memory the pool did not make and a second give; the pool holds as many free buffers as it had out at once, at least `keep`', (t) => {
  const buffers = new TransferBuffers(2);
  buffers.give(new Uint8Array(16));
  t.is(buffers.available, 0, 'foreign memory');
  const taken = [buffers.take(100), buffers.take(100), buffers.take(100)];
  buffers.give(taken[0]);
  buffers.give(taken[0]);
  t.is(buffers.available, 1, 'given twice, held once');
  buffers.give(taken[1]);
  buffers.give(taken[2]);
  t.is(buffers.available, 3, 'three were out at once: all three are kept');
  // the next burst of three is served from them
  const again = [buffers.take(100), buffers.take(100), buffers.take(100)];
  t.is(buffers.allocated, 3);
  for (const b of again) buffers.give(b);
  t.is(buffers.take(90).byteLength, 90, 'a view of the requested size on a reused buffer');
  t.is(buffers.take(1000).buffer.byteLength, 1000, 'too small a free buffer is not used');
});

test('one buffer out at a time, in sizes that never fit each other: no more than `keep` are held', (t) => {
  const buffers = new TransferBuffers(2);
  for (const bytes of [100, 1000, 10_000, 100_000, 1_000_000]) buffers.give(buffers.take(bytes));
  t.is(buffers.allocated, 5);
  t.is(buffers.available, 2);
});

test('with an arena, messages of its kinds are reassembled into it, a region goes back once per message, and a full arena falls back to memory of its own', (t) => {
  const arena = new WasmArena(1 << 20); // room for two 400 KB messages
  const buffers = new TransferBuffers(2, { arena, kinds: ['gradients'] });
  const reader = workerMessageReader({ buffers });
  const writer = new FrameWriter({ maxFrameBytes: FRAME });
  const two = (m: GradientsMessage): GradientsMessage => ({ ...m, tensors: [m.tensors[0], tensorFromFloat32('small.lora_E', [12, 1], ramp(12, 9))] });
  const first = roundTrip(reader, writer, two(gradients(1)));
  t.is(WasmArena.holding(first.tensors[0].data), arena);
  t.is(WasmArena.holding(first.tensors[1].data), arena, 'every tensor of the message');
  const second = roundTrip(reader, writer, gradients(2));
  t.is(WasmArena.holding(second.tensors[0].data), arena);
  const third = roundTrip(reader, writer, gradients(3));
  t.is(WasmArena.holding(third.tensors[0].data), undefined, 'the arena is full: plain memory');
  t.deepEqual(float32FromTensor(first.tensors[0]), ramp(100_000, 1), 'nothing overwritten');
  t.deepEqual(float32FromTensor(second.tensors[0]), ramp(100_000, 2));
  for (const tensor of first.tensors) buffers.give(tensor.data); // any view of the message, each once
  const used = arena.used;
  const fourth = roundTrip(reader, writer, gradients(4));
  t.is(fourth.tensors[0].data.byteOffset, first.tensors[0].data.byteOffset, "the first message's region, reused");
  t.is(arena.used, used);
  t.deepEqual(float32FromTensor(second.tensors[0]), ramp(100_000, 2), 'the second message, still out, is intact');
  t.deepEqual(float32FromTensor(fourth.tensors[0]), ramp(100_000, 4));
});

test('only the kinds given go into the arena', (t) => {
  const arena = new WasmArena(1 << 20);
  const buffers = new TransferBuffers(2, { arena, kinds: ['evalResult'] });
  const got = roundTrip(workerMessageReader({ buffers }), new FrameWriter({ maxFrameBytes: FRAME }), gradients(1));
  t.is(WasmArena.holding(got.tensors[0].data), undefined);
  t.is(arena.used, 0);
});

test('memory is taken only for a whole transfer (one cut short by a closed connection or a fault takes none), and given back when the whole is refused', (t) => {
  const writer = new FrameWriter({ maxFrameBytes: FRAME });
  const frames = writer.encode(gradients(1));
  t.true(frames.length > 3);
  const fresh = () => {
    const buffers = new TransferBuffers();
    return { buffers, reader: workerMessageReader({ buffers }) };
  };
  const closed = fresh();
  closed.reader.read(frames[0]);
  closed.reader.read(frames[1]);
  closed.reader.reset();
  t.is(closed.reader.inProgress, undefined);
  t.is(closed.buffers.allocated, 0, 'the connection closed mid-transfer');

  const gap = fresh();
  gap.reader.read(frames[0]);
  t.throws(() => gap.reader.read(frames[2]), { message: /missing chunk/ });
  t.is(gap.buffers.allocated, 0, 'a missing chunk');

  const lying = fresh();
  const chunks = splitIntoChunks(encodeMessage(gradients(2)), 'evalResult', 7, FRAME).map((c) => encodeMessage(c));
  for (const c of chunks.slice(0, -1)) lying.reader.read(c);
  t.throws(() => lying.reader.read(chunks[chunks.length - 1]), { message: /announced 'evalResult'/ });
  t.is(lying.buffers.allocated, 1);
  t.is(lying.buffers.available, 1, 'whole, but not what its chunks announced: given back');
});
