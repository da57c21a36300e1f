import test from 'ava';
import { coordinatorSamples, ramp, workerSamples } from '@adalora/test-support';
import { CHUNK_OVERHEAD_BYTES, ChunkAssembler, parseChunk, splitIntoChunks, type ChunkMessage } from './chunk';
import { decodeMessage, encodeMessage } from './codec';
import { coordinatorMessageReader, FrameWriter, workerMessageReader } from './frame-io';
import type { GradientsMessage } from './messages';
import { isProtocolError, type ProtocolErrorCode } from './protocol-error';
import { float32FromTensor, tensorFromFloat32 } from './wire-tensor';

const FRAME = 64 * 1024;

/** Gradients with one tensor of 100k floats (400 KB, > 6 frames of 64 KiB) and a small one. */
function bigGradients(): GradientsMessage {
  return {
    ...workerSamples().gradients,
    tensors: [tensorFromFloat32('big.lora_A', [100, 1000], ramp(100_000)), tensorFromFloat32('small.lora_E', [3, 1], ramp(3, 9), 'float16')],
  };
}

function codeOf(fn: () => unknown): ProtocolErrorCode | 'accepted' {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  return 'accepted';
}

/** The chunk objects of a message, as a writer would frame them. */
function chunksOf(msg: object, kind: string, transferId: number, frame = FRAME): ChunkMessage[] {
  return splitIntoChunks(encodeMessage(msg), kind, transferId, frame);
}

test('a tensor larger than a frame goes as bounded chunks and reassembles exactly', (t) => {
  const msg = bigGradients();
  const frames = new FrameWriter({ maxFrameBytes: FRAME }).encode(msg);
  t.true(frames.length > 6, `${frames.length} frames`);
  for (const f of frames) t.true(f.byteLength <= FRAME, `frame of ${f.byteLength} bytes`);
  const reader = workerMessageReader();
  const out = frames.map((f) => reader.read(f));
  t.true(out.slice(0, -1).every((m) => m === undefined));
  const got = out[out.length - 1];
  if (got?.type !== 'gradients') return t.fail();
  t.deepEqual(float32FromTensor(got.tensors[0]), float32FromTensor(msg.tensors[0]));
  t.deepEqual(float32FromTensor(got.tensors[1]), float32FromTensor(msg.tensors[1]));
  t.is(got.lossSum, msg.lossSum);
  t.is(reader.inProgress, undefined);
});

test('a small message is one plain frame; consecutive transfers reuse the reader', (t) => {
  const writer = new FrameWriter({ maxFrameBytes: FRAME });
  const reader = coordinatorMessageReader();
  t.is(writer.encode(coordinatorSamples().shutdown).length, 1);
  for (let k = 0; k < 3; k++) {
    const state = { ...coordinatorSamples().state, step: k, tensors: [tensorFromFloat32('w', [50_000], ramp(50_000, k))] };
    const frames = writer.encode(state);
    t.true(frames.length > 1);
    const got = frames.map((f) => reader.read(f)).at(-1);
    t.is(got?.type === 'state' ? got.step : -1, k);
  }
});

test('the frames of a message own their bytes: later encodings, chunked or not, leave them as they were', (t) => {
  const writer = new FrameWriter({ maxFrameBytes: FRAME });
  const chunked = writer.encode(bigGradients());
  const single = writer.encode(coordinatorSamples().shutdown);
  const copies = [...chunked, ...single].map((f) => new Uint8Array(f));
  for (let k = 0; k < 3; k++) writer.encode({ ...bigGradients(), tensors: [tensorFromFloat32('big.lora_A', [100, 1000], ramp(100_000, k + 7))] });
  writer.encode(coordinatorSamples().reject);
  t.deepEqual([...chunked, ...single].map((f) => new Uint8Array(f)), copies);
});

test('chunked frames are byte for byte the encodings of the chunks, whatever bin size each piece needs', (t) => {
  // the last piece's length picks its bin header: 8-bit (< 256), 16-bit (< 65536), 32-bit
  for (const [frame, lastAbout, lo, hi] of [[FRAME, 40, 0, 256], [FRAME, 5_000, 256, 65_536], [256 * 1024, 100_000, 65_536, Infinity]]) {
    const values = Math.floor((2 * (frame - CHUNK_OVERHEAD_BYTES) + lastAbout) / 4);
    const msg = { ...workerSamples().gradients, tensors: [tensorFromFloat32('w', [values], ramp(values))] };
    const writer = new FrameWriter({ maxFrameBytes: frame });
    writer.encode(coordinatorSamples().shutdown); // numbers no transfer
    for (const transferId of [0, 1]) {
      const chunks = chunksOf(msg, 'gradients', transferId, frame);
      const last = chunks.at(-1)!.data.byteLength;
      t.true(chunks.length === 3 && last >= lo && last < hi, `last piece ${last} bytes`);
      t.deepEqual(writer.encode(msg).map((f) => new Uint8Array(f)), chunks.map((c) => new Uint8Array(encodeMessage(c))), `last piece ${last} bytes, transfer ${transferId}`);
    }
  }
});

test('a writer leaves alone what was encoded before it, by it or by encodeMessage', (t) => {
  const earlier = encodeMessage(coordinatorSamples().reject);
  const copy = new Uint8Array(earlier);
  const writer = new FrameWriter({ maxFrameBytes: FRAME });
  const frames = writer.encode(bigGradients());
  const frameCopies = frames.map((f) => new Uint8Array(f));
  encodeMessage(bigGradients());
  writer.encode(bigGradients());
  t.deepEqual(new Uint8Array(earlier), copy);
  t.deepEqual(frames.map((f) => new Uint8Array(f)), frameCopies);
});

test('unchunked messages may arrive between the chunks of a transfer', (t) => {
  const writer = new FrameWriter({ maxFrameBytes: FRAME });
  const reader = workerMessageReader();
  const frames = writer.encode(bigGradients());
  const beat = writer.encode({ type: 'heartbeat' })[0];
  t.is(reader.read(frames[0]), undefined);
  t.is(reader.read(beat)?.type, 'heartbeat');
  t.is(reader.inProgress?.chunksReceived, 1);
  let last;
  for (const f of frames.slice(1)) last = reader.read(f);
  t.is(last?.type, 'gradients');
});

test('out-of-order, duplicate and missing chunks are PROTO_ERR_OUT_OF_ORDER', (t) => {
  const chunks = chunksOf(bigGradients(), 'gradients', 0);
  t.true(chunks.length >= 4);
  const swapped = new ChunkAssembler();
  swapped.push(chunks[0]);
  t.is(codeOf(() => swapped.push(chunks[2])), 'PROTO_ERR_OUT_OF_ORDER', 'chunk 1 skipped');

  const dup = new ChunkAssembler();
  dup.push(chunks[0]);
  dup.push(chunks[1]);
  t.is(codeOf(() => dup.push(chunks[1])), 'PROTO_ERR_OUT_OF_ORDER', 'chunk 1 twice');

  t.is(codeOf(() => new ChunkAssembler().push(chunks[1])), 'PROTO_ERR_OUT_OF_ORDER', 'no chunk 0');

  // the tail of a transfer never arrives, and the next transfer starts
  const cut = new ChunkAssembler();
  for (const c of chunks.slice(0, -1)) cut.push(c);
  const next = chunksOf(bigGradients(), 'gradients', 1);
  t.is(codeOf(() => cut.push(next[0])), 'PROTO_ERR_OUT_OF_ORDER', 'last chunk missing');
});

test('a replayed or interleaved transfer is PROTO_ERR_OUT_OF_ORDER', (t) => {
  const a = chunksOf(bigGradients(), 'gradients', 5);
  const b = chunksOf(bigGradients(), 'gradients', 6);
  const mixed = new ChunkAssembler();
  mixed.push(a[0]);
  t.is(codeOf(() => mixed.push(b[1])), 'PROTO_ERR_OUT_OF_ORDER', 'chunk of another transfer');

  const replay = new ChunkAssembler();
  for (const c of a) replay.push(c);
  t.is(codeOf(() => replay.push(a[0])), 'PROTO_ERR_OUT_OF_ORDER', 'same transfer id again');
  const older = chunksOf(bigGradients(), 'gradients', 4);
  t.is(codeOf(() => replay.push(older[0])), 'PROTO_ERR_OUT_OF_ORDER', 'older transfer id');
});

test('a transfer over the limit is refused at its first chunk with PROTO_ERR_TOO_LARGE', (t) => {
  const chunks = chunksOf(bigGradients(), 'gradients', 0);
  const small = new ChunkAssembler({ maxTransferBytes: 100_000 });
  t.is(codeOf(() => small.push(chunks[0])), 'PROTO_ERR_TOO_LARGE');
  t.is(small.inProgress, undefined, 'nothing was buffered');
  const reader = workerMessageReader({ maxTransferBytes: 100_000 });
  const frames = new FrameWriter({ maxFrameBytes: FRAME }).encode(bigGradients());
  t.is(codeOf(() => reader.read(frames[0])), 'PROTO_ERR_TOO_LARGE');
  const e = t.throws(() => workerMessageReader({ maxMessageBytes: 1000 }).read(frames[0]));
  t.true(isProtocolError(e, 'PROTO_ERR_TOO_LARGE'), 'a single frame over maxMessageBytes');
  t.is(isProtocolError(e) ? e.closeCode : 0, 1009);
});

test('a transfer is accepted only within the allowance asked for when it starts', (t) => {
  const frames = new FrameWriter({ maxFrameBytes: FRAME }).encode(bigGradients());
  const total = parseChunk(decodeMessage(frames[0])).totalBytes;
  let allowance = 0;
  const reader = () => workerMessageReader({ transferAllowance: () => allowance });
  t.is(codeOf(() => reader().read(frames[0])), 'PROTO_ERR_UNEXPECTED', 'no request outstanding: no transfer at all');
  allowance = total - 1;
  t.is(codeOf(() => reader().read(frames[0])), 'PROTO_ERR_TOO_LARGE', 'one byte more than the reply can be');
  allowance = total;
  const ok = reader();
  const got = frames.map((f) => ok.read(f));
  t.is(got.at(-1)?.type, 'gradients', 'exactly the expected size');
});

test('chunks that lie about their transfer are PROTO_ERR_BAD_FIELD', (t) => {
  const chunks = chunksOf(bigGradients(), 'gradients', 0);
  const changed = new ChunkAssembler();
  changed.push(chunks[0]);
  t.is(codeOf(() => changed.push({ ...chunks[1], count: chunks[1].count + 1 })), 'PROTO_ERR_BAD_FIELD', 'count changes');

  const over = new ChunkAssembler();
  over.push({ ...chunks[0], totalBytes: chunks[0].data.byteLength + 10 });
  t.is(codeOf(() => over.push({ ...chunks[1], totalBytes: chunks[0].data.byteLength + 10 })), 'PROTO_ERR_BAD_FIELD', 'more bytes than declared');

  const under = new ChunkAssembler();
  const declared = chunks[0].totalBytes + 1;
  for (const c of chunks.slice(0, -1)) under.push({ ...c, totalBytes: declared });
  t.is(codeOf(() => under.push({ ...chunks.at(-1)!, totalBytes: declared })), 'PROTO_ERR_BAD_FIELD', 'fewer bytes than declared');
});

test('the reader refuses chunked kinds of the other direction and a kind that lies', (t) => {
  const state = { ...coordinatorSamples().state, tensors: [tensorFromFloat32('w', [50_000], ramp(50_000))] };
  const frames = new FrameWriter({ maxFrameBytes: FRAME }).encode(state);
  t.is(codeOf(() => workerMessageReader().read(frames[0])), 'PROTO_ERR_UNKNOWN_TYPE', 'state sent to the coordinator');

  const lying = chunksOf(bigGradients(), 'evalResult', 0).map((c) => encodeMessage(c));
  const reader = workerMessageReader();
  for (const f of lying.slice(0, -1)) reader.read(f);
  t.is(codeOf(() => reader.read(lying.at(-1)!)), 'PROTO_ERR_BAD_FIELD');
});

test('the reassembled message goes through the same guard', (t) => {
  const bad = { ...bigGradients(), step: -1 };
  const frames = new FrameWriter({ maxFrameBytes: FRAME }).encode(bad);
  const reader = workerMessageReader();
  for (const f of frames.slice(0, -1)) reader.read(f);
  t.is(codeOf(() => reader.read(frames.at(-1)!)), 'PROTO_ERR_BAD_FIELD');
});

test('parseChunk checks every field', (t) => {
  const good = chunksOf(bigGradients(), 'gradients', 3)[1];
  const decoded = decodeMessage(encodeMessage(good));
  t.is(parseChunk(decoded).index, 1);
  const bad: [string, Record<string, unknown>, ProtocolErrorCode][] = [
    ['transferId negative', { transferId: -1 }, 'PROTO_ERR_BAD_FIELD'],
    ['index ≥ count', { index: good.count }, 'PROTO_ERR_BAD_FIELD'],
    ['count 0', { count: 0 }, 'PROTO_ERR_BAD_FIELD'],
    ['count too many', { count: 1 << 20 }, 'PROTO_ERR_BAD_FIELD'],
    ['kind not a type', { kind: 'a b' }, 'PROTO_ERR_BAD_FIELD'],
    ['totalBytes fractional', { totalBytes: 1.5 }, 'PROTO_ERR_BAD_FIELD'],
    ['empty data', { data: new Uint8Array(0) }, 'PROTO_ERR_BAD_FIELD'],
    ['data not binary', { data: 'abc' }, 'PROTO_ERR_BAD_FIELD'],
    ['extra field', { offset: 0 }, 'PROTO_ERR_BAD_FIELD'],
  ];
  for (const [what, patch, code] of bad) {
    t.is(codeOf(() => parseChunk(decodeMessage(encodeMessage({ ...good, ...patch })))), code, what);
  }
});

test('a chunk that reassembles to a chunk is refused', (t) => {
  const inner = encodeMessage(chunksOf(bigGradients(), 'gradients', 0)[0]);
  const outer = splitIntoChunks(inner, 'gradients', 0, FRAME).map((c) => encodeMessage(c));
  const reader = workerMessageReader();
  let code: string = 'accepted';
  for (const f of outer) code = codeOf(() => reader.read(f));
  t.is(code, 'PROTO_ERR_MALFORMED');
});

test('misuse of the writer is a programmer error', (t) => {
  t.throws(() => new FrameWriter({ maxFrameBytes: 100 }), { instanceOf: RangeError });
  t.throws(() => splitIntoChunks(new Uint8Array(10), 'bad kind', 0, FRAME), { instanceOf: TypeError });
});
