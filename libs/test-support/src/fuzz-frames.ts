/**
 * Hostile frames for fuzzing the coordinator's port: valid messages mutated (bytes flipped,
 * truncated, extended; one field given a value of another type), headers announcing huge sizes,
 * non-finite and misshapen tensors, replies for the wrong step or request, and random bytes.
 * Every draw comes from the seeded `bits` stream, so a seed reproduces the same frames.
 */
import { pack } from 'msgpackr';
import { encodeMessage, PROTOCOL_VERSION, type WireDtype } from '@adalora/protocol';

/** What a fuzzing client knows of the run, to make its frames look plausible. */
export interface FuzzContext {
  readonly runId: string;
  /** the step the run is at (so "another step" is near it) */
  readonly step: number;
  /** trainable names and shapes, for gradients that look right but for their step */
  readonly tensors: readonly { readonly name: string; readonly shape: readonly number[] }[];
}

type Msg = Record<string, unknown>;

export class FuzzFrames {
  constructor(private readonly bits: () => number) {}

  private int(n: number): number {
    return this.bits() % n;
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  private bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.bits() & 0xff;
    return out;
  }

  /** A value of any type, for a field that expects another. */
  private anyValue(): unknown {
    return this.pick<() => unknown>([
      () => NaN,
      () => Infinity,
      () => -1,
      () => 2 ** 53 + 2,
      () => 1e308,
      () => 'x'.repeat(this.int(5000)),
      () => null,
      () => true,
      () => [],
      () => Array.from({ length: this.int(64) }, () => this.int(1000)),
      () => ({ nested: { deeper: [1, 'two', null] } }),
      () => this.bytes(this.int(256)),
      () => 0xffffffff,
    ])();
  }

  /** float64/32/16 or int32 data of `count` elements: finite, NaN, ±Inf or garbage bytes. */
  private tensorData(dtype: WireDtype, count: number): Uint8Array {
    const kind = this.int(4);
    if (dtype === 'float64' || dtype === 'float32') {
      const values = dtype === 'float64' ? new Float64Array(count) : new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = kind === 0 ? NaN : kind === 1 ? (i % 2 ? Infinity : -Infinity) : (this.bits() / 2 ** 32 - 0.5) * 1e-3;
      return new Uint8Array(values.buffer);
    }
    if (dtype === 'float16' && kind < 2) return new Uint8Array(new Uint16Array(count).fill(kind === 0 ? 0x7e00 : 0x7c00).buffer);
    return this.bytes(count * (dtype === 'float16' ? 2 : 4));
  }

  private tensors(c: FuzzContext): Msg[] {
    const dtype = this.pick<WireDtype>(['float64', 'float32', 'float16', 'int32']);
    const list = c.tensors.length ? c.tensors : [{ name: 'classifier.bias', shape: [2] }];
    const chosen = this.int(3) === 0 ? list : [this.pick(list)];
    return chosen.map(({ name, shape }) => {
      const wrongShape = this.int(3) === 0;
      const s = wrongShape ? this.pick([[65536, 65536], [0], [...shape, 2], [1, 1, 1, 1, 1, 1, 1, 1, 1], [-1]]) : shape;
      const count = Math.min(4096, shape.reduce((a, b) => a * b, 1));
      return { name, dtype, shape: s, data: this.tensorData(dtype, count) };
    });
  }

  /** A message of a type a worker may send, shaped right but (for gradients) for another step or request. */
  private template(c: FuzzContext): Msg {
    const step = this.pick([c.step + 1 + this.int(3), Math.max(0, c.step - 1 - this.int(3)), 1e6]);
    return this.pick<() => Msg>([
      () => ({ type: 'hello', protocolVersion: PROTOCOL_VERSION, workerId: `fuzz-${this.int(1000)}`, capabilities: { backend: 'cpu', memoryBytes: 1, hostname: 'h', pid: 1 }, nonce: this.bytes(32), proof: this.bytes(32) }),
      // never the run's modelHash: a fuzzing client that became ready would be handed shares
      () => ({ type: 'ready', runId: c.runId, modelHash: `sha256:${this.int(1e9)}`, loadMs: 1 }),
      () => ({ type: 'gradients', runId: c.runId, step, requestId: this.int(1e6), sampleCount: this.int(64), lossSum: this.pick([1, NaN, Infinity, -Infinity, 1e30]), computeMs: 1, tensors: this.tensors(c) }),
      () => ({ type: 'evalResult', runId: c.runId, requestId: this.int(1e6), sampleIds: [0, 1], outputs: { dtype: 'float32', shape: this.pick([[2, 2], [2, 65536], [1]]), data: this.tensorData('float32', 4) } }),
      () => ({ type: 'error', code: this.pick(['WORKER_ERR_OOM', 'WORKER_ERR_FAULT', 'lower case', '']), message: 'x'.repeat(this.int(6000)) }),
      () => ({ type: 'heartbeat' }),
      () => ({ type: 'chunk', transferId: this.int(10), index: this.int(3), count: this.pick([1, 2, 65536, 1e9]), kind: this.pick(['gradients', 'evalResult', 'hello', 'x'.repeat(40)]), totalBytes: this.pick([2 ** 31, 2 ** 32 * 4, 1e15, 100]), data: this.bytes(1 + this.int(2048)) }),
    ])();
  }

  /** MessagePack headers that announce gigabytes (array32, map32, bin32, str32, ext32), inside a plausible message or alone. */
  private hugeHeader(): Uint8Array {
    const header = this.pick([0xdd, 0xdf, 0xc6, 0xdb, 0xc9]);
    const size = this.pick([[0xff, 0xff, 0xff, 0xff], [0x7f, 0xff, 0xff, 0xff], [0x10, 0, 0, 0]]);
    // {type: 'gradients', tensors: <the header>}: a two-entry map whose last value is cut short
    const prefix = this.int(2) ? Uint8Array.from([0x82, ...pack('type'), ...pack('gradients'), ...pack('tensors')]) : new Uint8Array(0);
    return Uint8Array.from([...prefix, header, ...size, ...this.bytes(this.int(64))]);
  }

  /** A valid encoding with bytes flipped, cut off, or random bytes appended. */
  private mutateBytes(encoded: Uint8Array): Uint8Array {
    const out = Uint8Array.from(encoded);
    switch (this.int(3)) {
      case 0:
        for (let i = 0, n = 1 + this.int(8); i < n; i++) out[this.int(out.length)] ^= 1 << this.int(8);
        return out;
      case 1:
        return out.subarray(0, this.int(out.length));
      default:
        return Uint8Array.from([...out, ...this.bytes(1 + this.int(64))]);
    }
  }

  /**
   * A finite, well-formed reply to `compute` of (step, requestId) but for another step or another
   * request: what a confused or replaying worker would send while it holds a share.
   */
  replyElsewhere(runId: string, trainables: FuzzContext['tensors'], step: number, requestId: number): Uint8Array {
    const other = this.int(2) === 0 ? { step: step + 1 + this.int(3), requestId } : { step, requestId: requestId + 1 + this.int(1000) };
    const tensors = trainables.map(({ name, shape }) => {
      const values = new Float64Array(shape.reduce((a, b) => a * b, 1)).map(() => (this.bits() / 2 ** 32 - 0.5) * 1e-3);
      return { name, dtype: 'float64', shape, data: new Uint8Array(values.buffer) };
    });
    return encodeMessage({ type: 'gradients', runId, ...other, sampleCount: 1, lossSum: 1, computeMs: 1, tensors });
  }

  /** One hostile frame. */
  next(c: FuzzContext): Uint8Array {
    switch (this.int(6)) {
      case 0:
        return this.bytes(this.int(2048));
      case 1:
        return this.hugeHeader();
      case 2: {
        const m = this.template(c);
        const keys = Object.keys(m);
        m[this.pick(keys)] = this.anyValue();
        return encodeMessage(m);
      }
      case 3:
        return this.mutateBytes(encodeMessage(this.template(c)));
      default:
        return encodeMessage(this.template(c));
    }
  }
}
