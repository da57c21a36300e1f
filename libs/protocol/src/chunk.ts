/**
 * Chunked transfers: a message whose encoding is over the frame size travels as `chunk` frames,
 * each carrying a byte range of the encoded message. They reassemble to the exact bytes of the
 * original, which are then decoded and checked by the same guard as any message. Splitting the
 * encoded bytes (rather than the tensors) keeps one code path for every message, splits a single
 * tensor bigger than a frame for free, and costs one extra memcpy per side.
 *
 * Rules (per connection and direction): one transfer at a time; chunks in order 0..count-1; each
 * transfer's id greater than the last completed one's. Other (unchunked) messages may arrive
 * between the chunks of a transfer, so heartbeats keep flowing during a long upload.
 */
import { fail, integer, isRecord, object, string, type Ctx } from './fields';
import { DEFAULT_MAX_TRANSFER_BYTES, PROTOCOL_LIMITS } from './limits';
import { protocolError } from './protocol-error';
import type { TransferBuffers } from './transfer-buffers';

/** One frame of a chunked transfer. */
export interface ChunkMessage {
  readonly type: 'chunk';
  /** Increases with every transfer a sender starts on a connection (integer ≥ 0). */
  readonly transferId: number;
  /** 0-based position of this chunk. */
  readonly index: number;
  /** Chunks in the transfer (1..65536). */
  readonly count: number;
  /** `type` of the message the chunks reassemble to (checked before buffering). */
  readonly kind: string;
  /** Byte length of the whole encoded message. */
  readonly totalBytes: number;
  /** Bytes [offset, offset + data.byteLength) of the encoded message (non-empty). */
  readonly data: Uint8Array;
}

/** Bound on a chunk frame's MessagePack overhead besides `data` (keys, numbers, a ≤ 32-char kind). */
export const CHUNK_OVERHEAD_BYTES = 256;

/** Smallest frame size a writer accepts, so that every chunk carries a useful payload. */
export const MIN_FRAME_BYTES = 1024;

/**
 * Splits an encoded message into chunks whose own encoding fits in `maxFrameBytes`.
 * The chunks' `data` are views of `encoded` (no copy).
 */
export function splitIntoChunks(encoded: Uint8Array, kind: string, transferId: number, maxFrameBytes: number): ChunkMessage[] {
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < MIN_FRAME_BYTES) {
    throw new RangeError(`splitIntoChunks: maxFrameBytes must be an integer ≥ ${MIN_FRAME_BYTES}, got ${maxFrameBytes}`);
  }
  if (!/^[A-Za-z]{1,32}$/.test(kind)) throw new TypeError(`splitIntoChunks: kind must be a message type (1..32 letters)`);
  if (!Number.isSafeInteger(transferId) || transferId < 0) throw new RangeError(`splitIntoChunks: transferId must be an integer ≥ 0`);
  const piece = maxFrameBytes - CHUNK_OVERHEAD_BYTES;
  const count = Math.max(1, Math.ceil(encoded.byteLength / piece));
  if (count > PROTOCOL_LIMITS.maxChunks) {
    throw new RangeError(`splitIntoChunks: ${encoded.byteLength} bytes need ${count} chunks of ${piece}, over ${PROTOCOL_LIMITS.maxChunks}`);
  }
  const out: ChunkMessage[] = [];
  for (let index = 0; index < count; index++) {
    const data = encoded.subarray(index * piece, Math.min(encoded.byteLength, (index + 1) * piece));
    out.push({ type: 'chunk', transferId, index, count, kind, totalBytes: encoded.byteLength, data });
  }
  return out;
}

/** Guard for a decoded `chunk` frame: every field checked. */
export function parseChunk(u: unknown): ChunkMessage {
  const ctx: Ctx = { type: 'chunk' };
  const o = object(ctx, '', u, ['type', 'transferId', 'index', 'count', 'kind', 'totalBytes', 'data']);
  if (o.type !== 'chunk') fail(ctx, 'type', 'PROTO_ERR_BAD_FIELD', "expected 'chunk'");
  const count = integer(ctx, 'count', o.count, 1, PROTOCOL_LIMITS.maxChunks);
  const index = integer(ctx, 'index', o.index, 0, count - 1);
  const data = o.data;
  if (!(data instanceof Uint8Array) || data.byteLength === 0) {
    fail(ctx, 'data', 'PROTO_ERR_BAD_FIELD', 'expected non-empty binary');
  }
  return {
    type: 'chunk',
    transferId: integer(ctx, 'transferId', o.transferId),
    index,
    count,
    kind: string(ctx, 'kind', o.kind, { max: 32, pattern: /^[A-Za-z]+$/, patternText: 'a message type (1..32 letters)' }),
    totalBytes: integer(ctx, 'totalBytes', o.totalBytes),
    data,
  };
}

/** True when a decoded value claims to be a chunk (then `parseChunk` it). */
export function isChunkLike(u: unknown): boolean {
  return isRecord(u) && u.type === 'chunk';
}

/** Options of a `ChunkAssembler`. */
export interface ChunkAssemblerOptions {
  /** Largest reassembled message accepted (PROTO_ERR_TOO_LARGE beyond). Default 256 MiB. */
  readonly maxTransferBytes?: number;
  /** Message types that may be chunked (PROTO_ERR_UNKNOWN_TYPE otherwise); all when omitted. */
  readonly kinds?: readonly string[];
  /**
   * Asked when a transfer starts: the largest message this peer may send now (bytes), or 0 when
   * it may start none (PROTO_ERR_UNEXPECTED), e.g. the size of the reply to the request it owes.
   * Bounds what a peer can make the receiver buffer. No bound beyond `maxTransferBytes` when omitted.
   */
  readonly transferAllowance?: () => number;
  /** Where reassembled messages are written (memory its reader gives back is reused); fresh memory each time when omitted. */
  readonly buffers?: TransferBuffers;
}

interface Transfer {
  readonly id: number;
  readonly count: number;
  readonly kind: string;
  readonly totalBytes: number;
  readonly pieces: Uint8Array[];
  received: number;
}

/** Progress of the transfer being assembled, for logs (e.g. when a connection closes mid-transfer). */
export interface TransferProgress {
  readonly transferId: number;
  readonly kind: string;
  readonly chunksReceived: number;
  readonly count: number;
  readonly bytesReceived: number;
  readonly totalBytes: number;
}

/**
 * Reassembles chunked transfers of one connection. Refuses out-of-order, duplicate and missing
 * chunks, chunks of another transfer while one is in progress, a reused transfer id, and
 * transfers over the limit — all before buffering their data.
 */
export class ChunkAssembler {
  private readonly maxTransferBytes: number;
  private readonly kinds?: readonly string[];
  private readonly allowance?: () => number;
  private readonly buffers?: TransferBuffers;
  private current?: Transfer;
  private lastId = -1;

  constructor(options: ChunkAssemblerOptions = {}) {
    this.maxTransferBytes = options.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
    if (options.kinds !== undefined) this.kinds = options.kinds;
    if (options.transferAllowance !== undefined) this.allowance = options.transferAllowance;
    if (options.buffers !== undefined) this.buffers = options.buffers;
  }

  /** The transfer in progress, if any. */
  get inProgress(): TransferProgress | undefined {
    const t = this.current;
    return t && {
      transferId: t.id,
      kind: t.kind,
      chunksReceived: t.pieces.length,
      count: t.count,
      bytesReceived: t.received,
      totalBytes: t.totalBytes,
    };
  }

  /** Drops the transfer in progress (e.g. on reconnect); transfer ids must still increase. */
  reset(): void {
    this.current = undefined;
  }

  /**
   * Adds a chunk (already checked by `parseChunk`).
   * @returns the encoded message when this was the last chunk, else undefined
   * @throws ProtocolError OUT_OF_ORDER, TOO_LARGE, UNKNOWN_TYPE, BAD_FIELD (a chunk disagreeing with its transfer)
   */
  push(chunk: ChunkMessage): Uint8Array | undefined {
    const at = { messageType: 'chunk' };
    const t = this.current ?? this.start(chunk);
    if (chunk.transferId !== t.id) {
      throw protocolError(
        'PROTO_ERR_OUT_OF_ORDER',
        `chunk of transfer ${chunk.transferId} while transfer ${t.id} has ${t.pieces.length} of ${t.count} chunks (mixed transfers)`,
        { ...at, field: 'transferId' },
      );
    }
    const expected = t.pieces.length;
    if (chunk.index !== expected) {
      const what = chunk.index < expected ? 'duplicate' : `missing chunk${chunk.index - expected > 1 ? 's' : ''} ${expected}..${chunk.index - 1}`;
      throw protocolError('PROTO_ERR_OUT_OF_ORDER', `transfer ${t.id}: got chunk ${chunk.index}, expected ${expected} (${what})`, { ...at, field: 'index' });
    }
    if (chunk.count !== t.count || chunk.kind !== t.kind || chunk.totalBytes !== t.totalBytes) {
      throw protocolError('PROTO_ERR_BAD_FIELD', `transfer ${t.id}: chunk ${chunk.index} disagrees with chunk 0 on count, kind or totalBytes`, at);
    }
    if (t.received + chunk.data.byteLength > t.totalBytes) {
      throw protocolError('PROTO_ERR_BAD_FIELD', `transfer ${t.id}: chunks carry more than the declared ${t.totalBytes} bytes`, { ...at, field: 'data' });
    }
    t.pieces.push(chunk.data);
    t.received += chunk.data.byteLength;
    if (t.pieces.length < t.count) return undefined;

    this.current = undefined;
    this.lastId = t.id;
    if (t.received !== t.totalBytes) {
      throw protocolError('PROTO_ERR_BAD_FIELD', `transfer ${t.id}: ${t.received} bytes received, ${t.totalBytes} declared`, { ...at, field: 'totalBytes' });
    }
    if (t.pieces.length === 1) return t.pieces[0];
    // memory is taken only once the transfer is whole: one cut short holds none (its pieces are the frames')
    const out = this.buffers?.take(t.totalBytes, t.kind) ?? new Uint8Array(t.totalBytes);
    let offset = 0;
    for (const p of t.pieces) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    return out;
  }

  private start(chunk: ChunkMessage): Transfer {
    const at = { messageType: 'chunk' };
    if (chunk.index !== 0) {
      throw protocolError('PROTO_ERR_OUT_OF_ORDER', `chunk ${chunk.index} of transfer ${chunk.transferId} without its start (missing chunk 0)`, { ...at, field: 'index' });
    }
    if (chunk.transferId <= this.lastId) {
      throw protocolError('PROTO_ERR_OUT_OF_ORDER', `transfer id ${chunk.transferId} is not after the last transfer ${this.lastId} (duplicate transfer)`, { ...at, field: 'transferId' });
    }
    if (chunk.totalBytes > this.maxTransferBytes) {
      throw protocolError('PROTO_ERR_TOO_LARGE', `transfer of ${chunk.totalBytes} bytes is over the limit of ${this.maxTransferBytes}`, { ...at, field: 'totalBytes' });
    }
    const allowed = this.allowance?.();
    if (allowed === 0) throw protocolError('PROTO_ERR_UNEXPECTED', `a chunked transfer while none is expected`, { ...at, field: 'totalBytes' });
    if (allowed !== undefined && chunk.totalBytes > allowed) {
      throw protocolError('PROTO_ERR_TOO_LARGE', `transfer of ${chunk.totalBytes} bytes is over the ${allowed} bytes expected now`, { ...at, field: 'totalBytes' });
    }
    if (chunk.count > chunk.totalBytes) {
      throw protocolError('PROTO_ERR_BAD_FIELD', `${chunk.count} non-empty chunks cannot hold ${chunk.totalBytes} bytes`, { ...at, field: 'count' });
    }
    if (this.kinds !== undefined && !this.kinds.includes(chunk.kind)) {
      throw protocolError('PROTO_ERR_UNKNOWN_TYPE', `chunked message of type '${chunk.kind}' is not expected here (expected one of ${this.kinds.join(', ')})`, { ...at, field: 'kind' });
    }
    const t: Transfer = { id: chunk.transferId, count: chunk.count, kind: chunk.kind, totalBytes: chunk.totalBytes, pieces: [], received: 0 };
    this.current = t;
    return t;
  }
}
