import { readFileSync, writeFileSync } from 'node:fs';

/** One tensor of a safetensors file, always widened (or narrowed, F64) to float32 in memory. */
export interface SafeTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Options of {@link parseSafetensors}. */
export interface ParseSafetensorsOptions {
  /**
   * What to do with tensors of an integer or bool dtype. 'error' (default) refuses the file;
   * 'skip' leaves them out of the result: checkpoints from older transformers carry int64
   * buffers such as `bert.embeddings.position_ids` that no model needs as a weight.
   */
  readonly nonFloat?: 'error' | 'skip';
}

const FLOAT_BYTES: Readonly<Record<string, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
// The other dtypes the format defines: valid files, but nothing a float model can use.
const OTHER_BYTES: Readonly<Record<string, number>> = {
  I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};
const MAX_HEADER_BYTES = 100 * 1024 * 1024; // the format's own limit

/**
 * Parses a safetensors buffer (8-byte little-endian header length, JSON header, data).
 * Checks what the reference implementation checks: the header is a JSON object, every entry
 * has a known dtype, a shape and offsets whose byte count matches, and the entries tile the
 * data region exactly. Every fault names `source` and what is wrong.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>', options: ParseSafetensorsOptions = {}): Map<string, SafeTensor> {
  const fail = (why: string): never => {
    throw new Error(`safetensors ${source}: ${why}`);
  };
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen < 2n || headerLen > BigInt(MAX_HEADER_BYTES) || 8n + headerLen > BigInt(bytes.byteLength)) {
    fail(`header length ${headerLen} is invalid: expected 2..${Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8)} for a ${bytes.byteLength}-byte file`);
  }
  const dataStart = 8 + Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataLen = bytes.byteLength - dataStart;
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    if (typeof entry !== 'object' || entry === null) fail(`entry '${name}' is not an object`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !(dtype in FLOAT_BYTES || dtype in OTHER_BYTES)) {
      fail(`tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has shape ${JSON.stringify(shape)}, expected a list of non-negative integers`);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}, expected [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin || end > dataLen) fail(`tensor '${name}' offsets [${begin}, ${end}] run past the data (${dataLen} bytes)`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const width = FLOAT_BYTES[dtype as string] ?? OTHER_BYTES[dtype as string];
    if (end - begin !== count * width) {
      fail(`tensor '${name}' holds ${end - begin} bytes but ${dtype} [${shape}] needs ${count * width}`);
    }
    entries.push({ name, dtype: dtype as string, shape: shape as number[], begin, end });
  }
  // The reference reader refuses holes, overlaps and trailing bytes: so does this one.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) fail(`tensor '${e.name}' starts at byte ${e.begin} of the data, expected ${at} (entries must tile the data without holes or overlaps)`);
    at = e.end;
  }
  if (at !== dataLen) fail(`tensors cover ${at} bytes of data but the file holds ${dataLen}`);

  const out = new Map<string, SafeTensor>();
  for (const e of entries) {
    if (!(e.dtype in FLOAT_BYTES)) {
      if (options.nonFloat === 'skip') continue;
      fail(`tensor '${e.name}' has dtype ${e.dtype}; supported: ${Object.keys(FLOAT_BYTES).join(', ')}`);
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    out.set(e.name, { shape: e.shape, data: decode(bytes, dataStart + e.begin, count, e.dtype) });
  }
  return out;
}

/** Reads one safetensors file from disk; errors name the path. */
export function readSafetensors(path: string, options?: ParseSafetensorsOptions): Map<string, SafeTensor> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`safetensors ${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSafetensors(bytes, path, options);
}

/** Serialises float32 tensors (sorted by name, as the Python writer does). */
export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensor>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`encodeSafetensors: '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8); // keep the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: ReadonlyMap<string, SafeTensor>, metadata?: Record<string, string>): void {
  writeFileSync(path, encodeSafetensors(tensors, metadata));
}

function decode(bytes: Uint8Array, at: number, count: number, dtype: string): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * FLOAT_BYTES[dtype]);
  if (dtype === 'F32') {
    // one aligned copy (hosts are little-endian, as the format)
    out.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + 4 * count)));
  } else if (dtype === 'F64') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
  } else if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u32[i] = view.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
