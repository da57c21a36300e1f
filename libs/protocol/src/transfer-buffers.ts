import type { WasmArena } from '@adalora/wasm-simd';

/** Where a pool puts the messages its reader's kernels read: regions of a WasmArena. */
export interface ArenaUse {
  readonly arena: WasmArena;
  /** message types that go there (each must be given back when read: a region not given back is never reused) */
  readonly kinds: readonly string[];
}

/** bytes past a message's end that a SIMD pass may read (its last vector of four float32) */
const VECTOR_SLACK = 16;

/**
 * Memory for reassembled transfers, handed back by their reader when done and reused. A fresh
 * 16 MB buffer per gradient reply cost 6–20 ms here (page faults and GC), several times the copy
 * into it, and a coordinator receiving N replies a step paid it N times. Ownership is explicit:
 * only a buffer given back with `give` is reused, so a message whose views are still read is
 * never overwritten (one never given back is simply garbage collected).
 */
export class TransferBuffers {
  private readonly free: ArrayBuffer[] = [];
  /** buffers this pool made: `give` ignores any other (a single-frame message's, say) */
  private readonly made = new WeakSet<ArrayBuffer>();
  private madeCount = 0;
  /** buffers taken and not given back (one never given back counts on: it only raises the bound below) */
  private out = 0;
  private mostOut = 0;
  /** regions of the arena out now, by start, each with its size */
  private readonly regions = new Map<number, number>();

  /**
   * @param keep how many free buffers to hold at least; a pool holds as many as it has had out at
   *   once, if more (the rest are left to the GC): a coordinator whose replies wait in bursts of N
   *   for the adding pass takes N buffers at once every step, and with a fixed bound all but
   *   `keep` were fresh 8 MB allocations each step (page faults, and GC work that grew with N)
   */
  constructor(
    private readonly keep = 4,
    /** messages of these kinds go into the arena while it has room (their kernels then read them in place) */
    private readonly arena?: ArenaUse,
  ) {}

  /**
   * Memory for a message of `bytes` bytes of type `kind`: a region of the arena for the kinds it
   * takes, else a free buffer that holds them (and is not much larger), else a new one. Its contents are stale.
   */
  take(bytes: number, kind?: string): Uint8Array {
    this.mostOut = Math.max(this.mostOut, ++this.out);
    const region = this.arenaRegion(bytes, kind);
    if (region) return region;
    const i = this.free.findIndex((b) => b.byteLength >= bytes && b.byteLength <= bytes * 1.25 + 4096);
    if (i >= 0) return new Uint8Array(this.free.splice(i, 1)[0], 0, bytes);
    const fresh = new ArrayBuffer(bytes);
    this.made.add(fresh);
    this.madeCount++;
    return new Uint8Array(fresh);
  }

  /** Gives back the memory under a message whose views nothing reads any more (any view of it: a tensor's data, say). */
  give(view: Uint8Array): void {
    const memory = view.buffer;
    if (this.arena && memory === this.arena.arena.memory.buffer) return this.giveRegion(view.byteOffset);
    if (!(memory instanceof ArrayBuffer) || !this.made.has(memory) || this.free.includes(memory)) return;
    this.out = Math.max(0, this.out - 1);
    if (this.free.length < Math.max(this.keep, this.mostOut)) this.free.push(memory);
  }

  private arenaRegion(bytes: number, kind: string | undefined): Uint8Array | undefined {
    if (!this.arena || kind === undefined || !this.arena.kinds.includes(kind)) return undefined;
    const { arena } = this.arena;
    const used = arena.used;
    const at = arena.allocate(bytes + VECTOR_SLACK);
    if (at === undefined) return undefined;
    if (arena.used > used) this.madeCount++;
    this.regions.set(at, bytes + VECTOR_SLACK);
    return arena.bytes.subarray(at, at + bytes);
  }

  /** the region out that holds byte `address` goes back to the arena (a second give of it finds none) */
  private giveRegion(address: number): void {
    for (const [at, size] of this.regions) {
      if (address < at || address >= at + size) continue;
      this.regions.delete(at);
      this.arena!.arena.release(at);
      this.out = Math.max(0, this.out - 1);
      return;
    }
  }

  /** How many buffers this pool has made (the rest of its takes were reuses). */
  get allocated(): number {
    return this.madeCount;
  }

  /** How many buffers wait for reuse. */
  get available(): number {
    return this.free.length;
  }
}
