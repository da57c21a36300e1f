/**
 * Field readers shared by the guards: each reads one own property of an untrusted object, checks
 * it and throws a ProtocolError naming the message type and the field path. Internal to the lib.
 */
import { PROTOCOL_LIMITS } from './limits';
import { describeValue, protocolError, type ProtocolErrorCode } from './protocol-error';

/** The message being checked: its type, for error messages. */
export interface Ctx {
  readonly type: string;
}

export function fail(ctx: Ctx, field: string, code: ProtocolErrorCode, problem: string): never {
  throw protocolError(code, problem, field === '' ? { messageType: ctx.type } : { messageType: ctx.type, field });
}

export function badField(ctx: Ctx, field: string, expected: string, got: unknown): never {
  fail(ctx, field, 'PROTO_ERR_BAD_FIELD', `expected ${expected}, got ${describeValue(got)}`);
}

/** A plain object (not an array, not binary). */
export function isRecord(u: unknown): u is Record<string, unknown> {
  if (typeof u !== 'object' || u === null) return false;
  // plain objects only: msgpackr extensions can yield Date, RegExp, Error, typed arrays …
  const proto = Object.getPrototypeOf(u);
  return proto === Object.prototype || proto === null;
}

/** Reads an object at `field` and refuses keys outside `required` ∪ `optional`. */
export function object(
  ctx: Ctx,
  field: string,
  u: unknown,
  required: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (!isRecord(u)) badField(ctx, field, 'an object', u);
  for (const k of required) {
    if (!Object.hasOwn(u, k)) fail(ctx, join(field, k), 'PROTO_ERR_BAD_FIELD', 'is missing');
  }
  for (const k of Object.keys(u)) {
    if (!required.includes(k) && !optional.includes(k)) {
      // the key itself is untrusted: show it only when short
      const shown = k.length <= 64 ? `'${k}'` : `of ${k.length} chars`;
      fail(ctx, field, 'PROTO_ERR_BAD_FIELD', `unexpected field ${shown}`);
    }
  }
  return u;
}

/** `a.b`, or `b` at the root. */
export function join(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

export interface StringRule {
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  readonly patternText?: string;
}

export function string(ctx: Ctx, field: string, u: unknown, rule: StringRule = {}): string {
  const min = rule.min ?? 1;
  const max = rule.max ?? PROTOCOL_LIMITS.maxIdChars;
  if (typeof u !== 'string') badField(ctx, field, `a string of ${min}..${max} chars`, u);
  if (u.length < min || u.length > max) badField(ctx, field, `a string of ${min}..${max} chars`, u);
  if (rule.pattern && !rule.pattern.test(u)) badField(ctx, field, rule.patternText ?? `a string matching ${rule.pattern}`, u);
  return u;
}

/** An integer in [min, max] (safe integers only). */
export function integer(ctx: Ctx, field: string, u: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof u !== 'number' || !Number.isSafeInteger(u) || u < min || u > max) {
    badField(ctx, field, `an integer in [${min}, ${max}]`, u);
  }
  return u;
}

/** A finite number ≥ min. */
export function finite(ctx: Ctx, field: string, u: unknown, min = -Infinity): number {
  if (typeof u !== 'number') badField(ctx, field, 'a finite number', u);
  if (!Number.isFinite(u)) fail(ctx, field, 'PROTO_ERR_NON_FINITE', `expected a finite number, got ${u}`);
  if (u < min) badField(ctx, field, `a finite number ≥ ${min}`, u);
  return u;
}

/** An array of at most `max` items (TOO_LARGE beyond). */
export function array(ctx: Ctx, field: string, u: unknown, max: number): readonly unknown[] {
  if (!Array.isArray(u)) badField(ctx, field, 'an array', u);
  if (u.length > max) fail(ctx, field, 'PROTO_ERR_TOO_LARGE', `has ${u.length} items, at most ${max} allowed`);
  return u;
}

/** An array of integers in [0, MAX_SAFE_INTEGER]. */
export function indexArray(ctx: Ctx, field: string, u: unknown, max: number): number[] {
  const a = array(ctx, field, u, max);
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = integer(ctx, `${field}[${i}]`, a[i]);
  return out;
}

/** Binary of exactly `bytes` bytes (nonces, HMACs). */
export function fixedBytes(ctx: Ctx, field: string, u: unknown, bytes: number): Uint8Array {
  if (!(u instanceof Uint8Array) || u.byteLength !== bytes) badField(ctx, field, `${bytes} bytes of binary`, u);
  return u;
}
