import test from 'ava';
import { ramp, workerSamples } from '@adalora/test-support';
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
  buffers.give(memory);
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
  t.not(second.tensors[0].data.buffer, first.tensors[0].data.buffer);
  t.deepEqual(float32FromTensor(first.tensors[0]), ramp(100_000, 1), 'the first message is intact');
});

test('give ignores memory the pool did not make and a second give; the pool holds as many free buffers as it had out at once, at least `keep`', (t) => {
  const buffers = new TransferBuffers(2);
  buffers.give(new ArrayBuffer(16));
  t.is(buffers.available, 0, 'foreign memory');
  const taken = [buffers.take(100), buffers.take(100), buffers.take(100)];
  buffers.give(taken[0].buffer);
  buffers.give(taken[0].buffer);
  t.is(buffers.available, 1, 'given twice, held once');
  buffers.give(taken[1].buffer);
  buffers.give(taken[2].buffer);
  t.is(buffers.available, 3, 'three were out at once: all three are kept');
  // the next burst of three is served from them
  const again = [buffers.take(100), buffers.take(100), buffers.take(100)];
  t.is(buffers.allocated, 3);
  for (const b of again) buffers.give(b.buffer);
  t.is(buffers.take(90).byteLength, 90, 'a view of the requested size on a reused buffer');
  t.is(buffers.take(1000).buffer.byteLength, 1000, 'too small a free buffer is not used');
});

test('one buffer out at a time, in sizes that never fit each other: no more than `keep` are held', (t) => {
  const buffers = new TransferBuffers(2);
  for (const bytes of [100, 1000, 10_000, 100_000, 1_000_000]) buffers.give(buffers.take(bytes).buffer);
  t.is(buffers.allocated, 5);
  t.is(buffers.available, 2);
});
