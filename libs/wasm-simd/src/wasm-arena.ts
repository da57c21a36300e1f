import { wasmMemory, type WasmMemory } from './wasm-simd';

/** the arenas by their memory's buffer: how a kernel finds the arena a received view lies in */
const arenas = new WeakMap<ArrayBufferLike, WasmArena>();

/** Region starts are multiples of this (a v128 load at a region's start is aligned). */
const ALIGN = 16;

/**
 * One WebAssembly memory of a fixed size, shared by SIMD kernels and the data they read, so that
 * a kernel reads received bytes where they lie instead of copying them into its own memory first
 * (a coordinator reads every 8 MB gradient share twice: the finite check, then the sum). The
 * memory never grows: growing would detach every view of it, and views of it are handed out
 * (a received message's tensors, a kernel's sums). Regions are allocated first come first
 * served; when none is left `allocate` says so and the caller uses memory of its own (the
 * kernels then copy, as they would without an arena). Virtual memory only: pages cost nothing
 * until written.
 */
export class WasmArena {
  readonly memory: WasmMemory;
  /** the memory's bytes (the same buffer for the arena's whole life) */
  readonly bytes: Uint8Array;
  private end = 0;
  /** allocated regions by start, each with its size */
  private readonly sizes = new Map<number, number>();
  /** released regions by start, each with its size */
  private readonly released = new Map<number, number>();

  constructor(bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > 2 ** 32) throw new RangeError(`WasmArena: size must be 1 byte … 4 GiB, got ${bytes}`);
    this.memory = wasmMemory(bytes);
    this.bytes = new Uint8Array(this.memory.buffer);
    arenas.set(this.memory.buffer, this);
  }

  /** The arena whose memory `view` lies in, if any. */
  static holding(view: ArrayBufferView): WasmArena | undefined {
    return arenas.get(view.buffer);
  }

  /**
   * The start of a region of at least `bytes` bytes (16-byte aligned), reusing a released one that
   * is not much larger; undefined when the arena has no room.
   */
  allocate(bytes: number): number | undefined {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`WasmArena.allocate: bytes must be an integer ≥ 0, got ${bytes}`);
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (const [at, have] of this.released) {
      if (have >= size && have <= size * 1.25 + 4096) {
        this.released.delete(at);
        this.sizes.set(at, have);
        return at;
      }
    }
    if (this.end + size > this.bytes.byteLength) return undefined;
    const at = this.end;
    this.end += size;
    this.sizes.set(at, size);
    return at;
  }

  /** Gives a region back for reuse (its views must no longer be read); a start not allocated is refused. */
  release(at: number): void {
    const size = this.sizes.get(at);
    if (size === undefined) throw new Error(`WasmArena.release: no region starts at ${at}`);
    this.sizes.delete(at);
    this.released.set(at, size);
  }

  /** Bytes handed out so far (released regions included: they are reused, never returned). */
  get used(): number {
    return this.end;
  }
}
