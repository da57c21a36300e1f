/**
 * Reads one section of a user's config object, naming the field path (`training.lr`) in every
 * error and refusing unknown keys, so a typo fails up front instead of being ignored.
 */
export class ConfigReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly obj: Readonly<Record<string, unknown>>,
    private readonly path: string,
  ) {}

  static of(value: unknown, path: string): ConfigReader {
    if (value === undefined || value === null) return new ConfigReader({}, path);
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`config: ${path ? `'${path}'` : 'the top level'} must be an object, got ${describe(value)}`);
    return new ConfigReader(value as Record<string, unknown>, path);
  }

  private take(key: string): unknown {
    this.seen.add(key);
    return this.obj[key];
  }

  /** The dotted path of `key` in this section (`training.lr`), as errors name it. */
  field(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** Throws the error of a broken rule; `defaulted`: the value is the default, not given. */
  fail(key: string, rule: string, value: unknown, defaulted = false): never {
    throw configError(this.field(key), rule, value, defaulted);
  }

  section(key: string): ConfigReader {
    return ConfigReader.of(this.take(key), this.field(key));
  }

  /** The raw value (for sections another parser validates), or undefined. */
  raw(key: string): unknown {
    return this.take(key);
  }

  /** A number, `fallback` when absent; with `fallback` undefined the field is required. */
  number(key: string, fallback: number | undefined, rule: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {}): number {
    const v = this.take(key) ?? fallback;
    if (v === undefined) this.fail(key, 'is required', v);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'must be a finite number', v);
    const n = v as number;
    if (rule.integer && !Number.isInteger(n)) this.fail(key, 'must be an integer', n);
    if (rule.min !== undefined && (rule.exclusiveMin ? n <= rule.min : n < rule.min)) this.fail(key, `must be ${rule.exclusiveMin ? '>' : '>='} ${rule.min}`, n);
    if (rule.max !== undefined && n > rule.max) this.fail(key, `must be <= ${rule.max}`, n);
    return n;
  }

  optionalNumber(key: string, rule: { min?: number; integer?: boolean } = {}): number | undefined {
    if (this.obj[key] === undefined || this.obj[key] === null) {
      this.seen.add(key);
      return undefined;
    }
    return this.number(key, 0, rule);
  }

  string(key: string, fallback?: string): string {
    const v = this.take(key) ?? fallback;
    if (typeof v !== 'string' || v.length === 0) this.fail(key, 'must be a non-empty string', v);
    return v as string;
  }

  optionalString(key: string): string | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0) this.fail(key, 'must be a non-empty string', v);
    return v as string;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.take(key) ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false', v);
    return v as boolean;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.take(key) ?? fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) this.fail(key, `must be one of ${allowed.join(', ')}`, v);
    return v as T;
  }

  optionalStringList(key: string): string[] | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) this.fail(key, 'must be a list of strings', v);
    return [...(v as string[])];
  }

  /**
   * Which of `spellings` (one field's accepted names, e.g. `init_r`, `initR`) the user wrote,
   * or undefined; two at once are refused. Every spelling counts as read.
   */
  writtenKey(spellings: readonly string[]): string | undefined {
    const given = spellings.filter((k) => this.take(k) !== undefined);
    if (given.length > 1) throw new Error(`config: ${given.map((k) => `'${this.field(k)}'`).join(' and ')} are one field: keep one`);
    return given[0];
  }

  /** Refuses keys nobody asked for. Call after reading every field of the section. */
  done(): void {
    const unknown = Object.keys(this.obj).filter((k) => !this.seen.has(k));
    if (unknown.length > 0) {
      throw new Error(`config: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${this.field(k)}'`).join(', ')}`);
    }
  }
}

/** The one wording of a broken config rule: `config: 'training.lr' must be > 0, got -1`. */
export function configError(field: string, rule: string, value: unknown, defaulted = false): Error {
  return new Error(`config: '${field}' ${rule}, got ${describe(value)}${defaulted ? ' (the default)' : ''}`);
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
