/**
 * The frames of a chunked transfer written straight into one allocation: each frame is its
 * chunk's MessagePack encoding, the same bytes as `encodeMessage(chunk)` for each chunk of
 * `splitIntoChunks`, with the data copied once (encodeMessage would copy each piece into
 * msgpackr's buffer, growing it as it goes, and the frames would keep that alive).
 */
import { CHUNK_OVERHEAD_BYTES, splitIntoChunks, type ChunkMessage } from './chunk';
import { encodeMessage } from './codec';

const NO_DATA = new Uint8Array(0);

/**
 * The frames of `encoded` as chunks (see splitIntoChunks), each ≤ `maxFrameBytes`. Every piece of
 * `encoded` is copied before anything is encoded, so `encoded` may be a transient encoding
 * (see encodeTransient).
 */
export function chunkFrames(encoded: Uint8Array, kind: string, transferId: number, maxFrameBytes: number): Uint8Array[] {
  const chunks = splitIntoChunks(encoded, kind, transferId, maxFrameBytes);
  // each piece at the end of a slot of its size plus the largest header; its header goes right before it
  const memory = Buffer.allocUnsafeSlow(chunks.length * CHUNK_OVERHEAD_BYTES + encoded.byteLength);
  let slot = 0;
  const dataAt = chunks.map((c) => {
    const at = slot + CHUNK_OVERHEAD_BYTES;
    memory.set(c.data, at);
    slot = at + c.data.byteLength;
    return at;
  });
  return chunks.map((c, i) => {
    const header = chunkHeader(c);
    const start = dataAt[i] - header.byteLength;
    memory.set(header, start);
    return memory.subarray(start, dataAt[i] + c.data.byteLength);
  });
}

/**
 * A chunk's encoding up to its data: the chunk encoded with empty data (`data` is its last
 * field, so the encoding ends with the empty bin, c4 00), that bin's header replaced by the
 * data's, in the smallest bin format as msgpackr writes it.
 */
function chunkHeader(c: ChunkMessage): Uint8Array {
  const skeleton = encodeMessage({ ...c, data: NO_DATA });
  const keep = skeleton.byteLength - 2;
  if (skeleton[keep] !== 0xc4 || skeleton[keep + 1] !== 0) throw new Error('chunkFrames: a chunk encoded with empty data no longer ends with it (msgpackr changed?)');
  const n = c.data.byteLength;
  const bin = n < 0x100 ? [0xc4, n] : n < 0x10000 ? [0xc5, n >>> 8, n & 0xff] : [0xc6, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const header = new Uint8Array(keep + bin.length);
  header.set(skeleton.subarray(0, keep));
  header.set(bin, keep);
  if (header.byteLength > CHUNK_OVERHEAD_BYTES) throw new Error(`chunkFrames: a chunk header of ${header.byteLength} bytes is over CHUNK_OVERHEAD_BYTES (${CHUNK_OVERHEAD_BYTES})`);
  return header;
}
