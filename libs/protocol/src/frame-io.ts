/**
 * One writer and one reader per connection: the writer turns a message into WebSocket frames
 * (one, or `chunk` frames when large); the reader turns received frames back into checked
 * messages. Both are transport-free (no ws import): send each frame with `ws.send(frame)`,
 * feed each received frame to `reader.read(frame)`.
 */
import { ChunkAssembler, isChunkLike, parseChunk, MIN_FRAME_BYTES } from './chunk';
import { chunkFrames } from './chunk-frames';
import { decodeMessage, encodeTransient } from './codec';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_TRANSFER_BYTES } from './limits';
import {
  COORDINATOR_MESSAGE_TYPES,
  WORKER_MESSAGE_TYPES,
  type CoordinatorToWorker,
  type ProtocolMessage,
  type WorkerToCoordinator,
} from './messages';
import { parseCoordinatorMessage } from './parse-coordinator-message';
import { parseWorkerMessage, type GradientValues } from './parse-worker-message';
import { protocolError } from './protocol-error';
import type { TransferBuffers } from './transfer-buffers';

/** Options of a `FrameWriter`. */
export interface FrameWriterOptions {
  /** Largest frame emitted (≥ 1024). Default 4 MiB. */
  readonly maxFrameBytes?: number;
}

/** Encodes messages into frames for one connection (it numbers the chunked transfers). */
export class FrameWriter {
  readonly maxFrameBytes: number;
  private nextTransferId = 0;

  constructor(options: FrameWriterOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(this.maxFrameBytes) || this.maxFrameBytes < MIN_FRAME_BYTES) {
      throw new RangeError(`FrameWriter: maxFrameBytes must be an integer ≥ ${MIN_FRAME_BYTES}, got ${this.maxFrameBytes}`);
    }
  }

  /**
   * The frames for `msg`, to send in order: `[encoded]` when it fits in a frame, else `chunk`
   * frames that a `FrameReader` reassembles. Each frame is ≤ `maxFrameBytes`, in memory of its
   * own (the message is encoded into reused memory and copied out once).
   */
  encode(msg: ProtocolMessage): Uint8Array[] {
    const encoded = encodeTransient(msg);
    if (encoded.byteLength <= this.maxFrameBytes) return [new Uint8Array(encoded)]; // a copy (Buffer's slice is a view)
    return chunkFrames(encoded, msg.type, this.nextTransferId++, this.maxFrameBytes);
  }
}

/** Options of a `FrameReader`. */
export interface FrameReaderOptions {
  /** Largest frame accepted (also give it to ws as `maxPayload`). Default 8 MiB. */
  readonly maxMessageBytes?: number;
  /** Largest reassembled message accepted. Default 256 MiB. */
  readonly maxTransferBytes?: number;
  /** The largest chunked message the peer may start now, 0 for none (see ChunkAssemblerOptions). */
  readonly transferAllowance?: () => number;
  /** Memory for reassembled messages, reused once given back (see TransferBuffers). */
  readonly buffers?: TransferBuffers;
}

/**
 * Decodes and checks the frames of one connection. Call `read` for every received frame; it
 * returns the checked message, or undefined while a chunked transfer is still incomplete.
 * On a ProtocolError, log `err.message` and close with `err.closeCode`: the reader's state is
 * not meant to continue after a fault.
 */
export class FrameReader<T extends ProtocolMessage> {
  private readonly maxMessageBytes: number;
  private readonly maxTransferBytes: number;
  private readonly assembler: ChunkAssembler;
  private readonly buffers?: TransferBuffers;

  constructor(
    private readonly parse: (u: unknown) => T,
    kinds: readonly T['type'][],
    options: FrameReaderOptions = {},
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxTransferBytes = options.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
    if (options.buffers) this.buffers = options.buffers;
    this.assembler = new ChunkAssembler({ maxTransferBytes: this.maxTransferBytes, kinds, ...(options.transferAllowance && { transferAllowance: options.transferAllowance }), ...(options.buffers && { buffers: options.buffers }) });
  }

  /** The chunked transfer in progress, if any (to log when a connection drops mid-transfer). */
  get inProgress() {
    return this.assembler.inProgress;
  }

  /**
   * One received frame in; a checked message out, or undefined when the frame was a chunk of an
   * unfinished transfer.
   * @throws ProtocolError (any code; see parseWorkerMessage / parseCoordinatorMessage / ChunkAssembler)
   */
  read(frame: Uint8Array): T | undefined {
    const u = decodeMessage(frame, this.maxMessageBytes);
    if (!isChunkLike(u)) return this.parse(u);
    const chunk = parseChunk(u);
    const whole = this.assembler.push(chunk);
    if (whole === undefined) return undefined;
    try {
      const inner = decodeMessage(whole, this.maxTransferBytes);
      if (isChunkLike(inner)) throw protocolError('PROTO_ERR_MALFORMED', 'a chunked transfer reassembled to another chunk');
      const msg = this.parse(inner);
      if (msg.type !== chunk.kind) {
        throw protocolError('PROTO_ERR_BAD_FIELD', `chunks announced '${chunk.kind}' but reassembled to '${msg.type}'`, { messageType: 'chunk', field: 'kind' });
      }
      return msg;
    } catch (e) {
      this.buffers?.give(whole); // refused: nothing will read it
      throw e;
    }
  }

  /** Drops the chunked transfer in progress (call it when the connection closes: its chunks are let go). */
  reset(): void {
    this.assembler.reset();
  }
}

/** The reader a coordinator uses on a worker's connection (see GradientValues for who checks the gradients' values). */
export function workerMessageReader(options?: FrameReaderOptions & { readonly gradientValues?: GradientValues }): FrameReader<WorkerToCoordinator> {
  const gradientValues = options?.gradientValues ?? 'checked';
  return new FrameReader((u) => parseWorkerMessage(u, gradientValues), WORKER_MESSAGE_TYPES, options);
}

/** The reader a worker uses on its connection to the coordinator. */
export function coordinatorMessageReader(options?: FrameReaderOptions): FrameReader<CoordinatorToWorker> {
  return new FrameReader(parseCoordinatorMessage, COORDINATOR_MESSAGE_TYPES, options);
}
