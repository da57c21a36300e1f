import { parseJsonObject } from './json-object';

/**
 * Typed reads of an HF `config.json`: each getter names the file and the field when a value
 * is missing or of the wrong kind, so a bad checkpoint fails before any tensor is built.
 */
export class HfConfig {
  constructor(
    readonly raw: Readonly<Record<string, unknown>>,
    readonly source: string,
  ) {}

  static parse(json: string, source: string): HfConfig {
    return new HfConfig(parseJsonObject(json, source), source);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  number(key: string, fallback?: number): number {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${this.source}: field '${key}' must be a number, got ${JSON.stringify(this.raw[key])}`);
    return v;
  }

  integer(key: string, fallback?: number): number {
    const v = this.number(key, fallback);
    if (!Number.isInteger(v)) throw new Error(`${this.source}: field '${key}' must be an integer, got ${v}`);
    return v;
  }

  string(key: string, fallback?: string): string {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'string') throw new Error(`${this.source}: field '${key}' must be a string, got ${JSON.stringify(this.raw[key])}`);
    return v;
  }

  boolean(key: string, fallback?: boolean): boolean {
    const v = this.raw[key] ?? fallback;
    if (typeof v !== 'boolean') throw new Error(`${this.source}: field '${key}' must be true or false, got ${JSON.stringify(this.raw[key])}`);
    return v;
  }

  /** A list of strings, or a single `a|b` string (DeBERTa's pos_att_type may be either). */
  stringList(key: string, fallback?: readonly string[]): string[] {
    const v = this.raw[key] ?? fallback;
    if (typeof v === 'string') return v.split('|').map((s) => s.trim()).filter(Boolean);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return [...v];
    throw new Error(`${this.source}: field '${key}' must be a list of strings, got ${JSON.stringify(this.raw[key])}`);
  }

  /** num_labels as HF derives it: explicit num_labels, else the size of id2label, else 2. */
  numLabels(): number {
    if (this.has('num_labels')) return this.integer('num_labels');
    const id2label = this.raw['id2label'];
    if (id2label && typeof id2label === 'object') return Object.keys(id2label).length;
    return 2;
  }
}
