import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { DataError } from './data-error';
import { alignTokens, surfaceRulesOf, type Offset, type SurfaceRules } from './token-offsets';
import { truncatedLengths, type TruncationStrategy } from './truncation';

/** Options of {@link TextTokenizer.encode} / {@link TextTokenizer.encodeBatch}. */
export interface EncodeOptions {
  /** Total length limit, special tokens included. Needed by truncation and 'max_length' padding. */
  readonly maxLength?: number;
  /** How to cut to `maxLength` (HF semantics); `false` (default) never cuts. */
  readonly truncation?: TruncationStrategy | false;
  /**
   * `'max_length'`: pad (right) to `maxLength`; `'longest'`: pad a batch to its longest row
   * (a no-op for one text); `false`: no padding. Default: `false` for `encode`, `'longest'` for
   * `encodeBatch` (a batch must be rectangular).
   */
  readonly padding?: 'max_length' | 'longest' | false;
  /** Add the template's special tokens ([CLS], [SEP], ...). Default true. */
  readonly addSpecialTokens?: boolean;
}

/** One encoded text (pair). All three arrays have the same length. */
export interface Encoded {
  readonly inputIds: Int32Array;
  /** 1 on real tokens, 0 on padding. */
  readonly attentionMask: Int32Array;
  /** Segment ids from the template (0 for text A, 1 for text B in BERT); pad type id on padding. */
  readonly tokenTypeIds: Int32Array;
}

/**
 * An encoding that says where each token came from: HF's `return_offsets_mapping` and
 * `sequence_ids()`. All arrays have the same length.
 */
export interface EncodedWithOffsets extends Encoded {
  /**
   * Per token, `[start, end)` in the text it came from (UTF-16 units); `[0, 0]` for special
   * tokens and padding, as HF. Spans exclude surrounding whitespace.
   */
  readonly offsets: readonly Offset[];
  /** Per token: 0 (first text), 1 (second text), or null (special token, padding). */
  readonly sequenceIds: readonly (0 | 1 | null)[];
}

/** The tokens of one text and their `[start, end)` spans in it. */
export interface TokenSpans {
  readonly tokens: readonly string[];
  readonly offsets: readonly Offset[];
}

/** A batch of encodings as row-major int32 arrays of `shape` [n, seq]. */
export interface BatchEncoded {
  readonly inputIds: Int32Array; // [n, seq]
  readonly attentionMask: Int32Array; // [n, seq]
  readonly tokenTypeIds: Int32Array; // [n, seq]
  readonly shape: readonly [number, number];
}

/** The only thing the dataset readers need from a tokenizer (tests may pass a stub). */
export interface TokenizerLike {
  encode(text: string, pair?: string, opts?: EncodeOptions): Encoded;
}

interface PaddingJson {
  pad_id?: unknown;
  pad_type_id?: unknown;
  pad_token?: unknown;
}

/**
 * A HF `tokenizer.json` tokenizer, run by `@huggingface/tokenizers` (normaliser, pre-tokenizer,
 * model, post-processor template), with what that library lacks added around it: truncation
 * and padding with HF semantics, token type ids for every post-processor, and empty second texts.
 */
export class TextTokenizer implements TokenizerLike {
  /** Id used for padding, or `undefined` when the tokenizer names no pad token. */
  readonly padId: number | undefined;
  /** Token type id used on padding (tokenizer.json `padding.pad_type_id`, else 0). */
  readonly padTypeId: number;
  private readonly tok: Tokenizer;
  private readonly unkId: number | undefined;
  /** Added tokens by content and by normalised content, looked up first as the library does. */
  private readonly addedIds = new Map<string, number>();
  private readonly addedSingle: number;
  private readonly addedPair: number;
  private readonly surfaceRules: SurfaceRules;

  /**
   * @param tokenizerJson parsed `tokenizer.json`
   * @param config parsed `tokenizer_config.json` (optional; used for `pad_token`)
   */
  constructor(tokenizerJson: object, config: object = {}) {
    this.tok = new Tokenizer(tokenizerJson, config);
    this.unkId = this.tok.model?.unk_token_id;
    for (const [id, t] of this.tok.get_added_tokens_decoder()) {
      this.addedIds.set(t.content, id);
      if (t.normalized && this.tok.normalizer) this.addedIds.set(this.tok.normalizer.normalize(t.content), id);
    }
    const padding = (tokenizerJson as { padding?: PaddingJson | null }).padding ?? null;
    const padToken = (config as { pad_token?: unknown }).pad_token;
    this.padId = resolvePadId(this.tok, padding, padToken);
    this.padTypeId = typeof padding?.pad_type_id === 'number' ? padding.pad_type_id : 0;
    this.surfaceRules = surfaceRulesOf(tokenizerJson);
    // Special tokens the template adds, as the Rust crate's `added_tokens(is_pair)`.
    this.addedSingle = this.process([], null, true).ids.length;
    this.addedPair = this.process([], [], true).ids.length;
  }

  /** Vocabulary id of a token, or `undefined`. */
  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  /** Token string of an id, or `undefined`. */
  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** Vocabulary size including added tokens. */
  get vocabSize(): number {
    return this.tok.get_vocab(true).size;
  }

  /** Decodes ids back to text (library decoder). */
  decode(ids: ArrayLike<number>, skipSpecialTokens = true): string {
    return this.tok.decode(Array.from(ids), { skip_special_tokens: skipSpecialTokens });
  }

  /** Number of special tokens the template adds to a single text (`false`) or a pair (`true`). */
  numSpecialTokens(pair: boolean): number {
    return pair ? this.addedPair : this.addedSingle;
  }

  /**
   * Encodes one text, or a text pair when `pair` is a string (an empty string is still a pair:
   * `[CLS] a [SEP] [SEP]`, as HF does).
   */
  encode(text: string, pair?: string, opts: EncodeOptions = {}): Encoded {
    const { maxLength, truncation = false, padding = false, addSpecialTokens = true } = opts;
    checkLengthOptions(maxLength, truncation, padding);
    let a = this.tok.tokenize(text);
    let b = pair === undefined ? null : this.tok.tokenize(pair);
    if (truncation !== false && maxLength !== undefined) {
      const added = this.specialCount(b !== null, addSpecialTokens, maxLength);
      const [ka, kb] = truncatedLengths(a.length, b === null ? null : b.length, maxLength - added, truncation);
      a = a.slice(0, ka);
      if (b !== null) b = b.slice(0, kb);
    }
    const { ids, typeIds } = this.process(a, b, addSpecialTokens);
    const target = padding === 'max_length' ? Math.max(maxLength ?? 0, ids.length) : ids.length;
    return this.pad(ids, typeIds, target);
  }

  /** Tokenizes one text and finds each token's span in it (the library gives no offsets). */
  tokenizeWithOffsets(text: string): TokenSpans {
    const tokens = this.tok.tokenize(text);
    const normalizer = this.tok.normalizer;
    const offsets = alignTokens(text, tokens, this.surfaceRules, normalizer ? (s) => normalizer.normalize(s) : null);
    return { tokens, offsets };
  }

  /**
   * Like {@link encode}, plus each token's span in its text and its sequence id (HF's
   * `return_offsets_mapping=True` and `sequence_ids()`).
   */
  encodeWithOffsets(text: string, pair?: string, opts: EncodeOptions = {}): EncodedWithOffsets {
    const { maxLength, truncation = false, padding = false, addSpecialTokens = true } = opts;
    checkLengthOptions(maxLength, truncation, padding);
    let a = this.tokenizeWithOffsets(text);
    let b = pair === undefined ? null : this.tokenizeWithOffsets(pair);
    if (truncation !== false && maxLength !== undefined) {
      const [ka, kb] = truncatedLengths(a.tokens.length, b === null ? null : b.tokens.length, maxLength - this.specialCount(b !== null, addSpecialTokens, maxLength), truncation);
      a = { tokens: a.tokens.slice(0, ka), offsets: a.offsets.slice(0, ka) };
      if (b !== null) b = { tokens: b.tokens.slice(0, kb), offsets: b.offsets.slice(0, kb) };
    }
    const e = this.encodeSpans(a, b, addSpecialTokens);
    const target = padding === 'max_length' ? Math.max(maxLength ?? 0, e.inputIds.length) : e.inputIds.length;
    return this.padWithOffsets(e, target);
  }

  /**
   * Encodes already tokenized spans (e.g. one window of a long context) with the template:
   * ids, type ids, and offsets and sequence ids for every position. No truncation, no padding.
   */
  encodeSpans(a: TokenSpans, b: TokenSpans | null, addSpecialTokens = true): EncodedWithOffsets {
    const { ids, typeIds } = this.process([...a.tokens], b === null ? null : [...b.tokens], addSpecialTokens);
    // Where each position came from: the post-processor run on markers instead of tokens.
    const marks = this.process(a.tokens.map((_, i) => `\u0000a${i}`), b === null ? null : b.tokens.map((_, i) => `\u0000b${i}`), addSpecialTokens, true);
    const sequenceIds: (0 | 1 | null)[] = [];
    const offsets: Offset[] = [];
    for (const m of marks.tokens) {
      const src = m.startsWith('\u0000a') ? a : m.startsWith('\u0000b') && b !== null ? b : null;
      sequenceIds.push(src === null ? null : src === a ? 0 : 1);
      offsets.push(src === null ? [0, 0] : src.offsets[Number(m.slice(2))]);
    }
    return { inputIds: Int32Array.from(ids), attentionMask: new Int32Array(ids.length).fill(1), tokenTypeIds: Int32Array.from(typeIds), offsets, sequenceIds };
  }

  /** Pads an {@link EncodedWithOffsets} (right) to `length`: pad ids, mask 0, offsets [0, 0], sequence id null. */
  padWithOffsets(e: EncodedWithOffsets, length: number): EncodedWithOffsets {
    if (e.inputIds.length >= length) return e;
    const p = this.pad(Array.from(e.inputIds), Array.from(e.tokenTypeIds), length);
    const extra = length - e.inputIds.length;
    return { ...p, offsets: [...e.offsets, ...Array.from({ length: extra }, (): Offset => [0, 0])], sequenceIds: [...e.sequenceIds, ...Array<null>(extra).fill(null)] };
  }

  // Special tokens the template adds, checked against maxLength as encode does.
  private specialCount(pair: boolean, addSpecialTokens: boolean, maxLength: number): number {
    const added = addSpecialTokens ? (pair ? this.addedPair : this.addedSingle) : 0;
    if (maxLength < added) {
      throw new DataError('DATA_ERR_TRUNCATION', `maxLength ${maxLength} is smaller than the ${added} special tokens the template adds`);
    }
    return added;
  }

  /**
   * Encodes many texts (pairs when `pairs` is given, same length as `texts`) into row-major
   * [n, seq] int32 arrays. Padding defaults to `'longest'`; with `padding: false` every row must
   * already have the same length.
   */
  encodeBatch(texts: readonly string[], pairs?: readonly string[], opts: EncodeOptions = {}): BatchEncoded {
    if (pairs !== undefined && pairs.length !== texts.length) {
      throw new DataError('DATA_ERR_BAD_OPTION', `encodeBatch: ${texts.length} texts but ${pairs.length} pairs`);
    }
    const padding = opts.padding === undefined ? 'longest' : opts.padding;
    const rows = texts.map((t, i) =>
      this.encode(t, pairs?.[i], { ...opts, padding: padding === 'max_length' ? 'max_length' : false }),
    );
    const seq = rows.reduce((m, r) => Math.max(m, r.inputIds.length), 0);
    if (padding === false && rows.some((r) => r.inputIds.length !== seq)) {
      throw new DataError(
        'DATA_ERR_BAD_OPTION',
        "encodeBatch: rows have different lengths and padding is false; use padding 'longest' or 'max_length'",
      );
    }
    const n = rows.length;
    const inputIds = new Int32Array(n * seq);
    const attentionMask = new Int32Array(n * seq);
    const tokenTypeIds = new Int32Array(n * seq);
    rows.forEach((r, i) => {
      const p = r.inputIds.length < seq ? this.pad(Array.from(r.inputIds), Array.from(r.tokenTypeIds), seq) : r;
      inputIds.set(p.inputIds, i * seq);
      attentionMask.set(p.attentionMask, i * seq);
      tokenTypeIds.set(p.tokenTypeIds, i * seq);
    });
    return { inputIds, attentionMask, tokenTypeIds, shape: [n, seq] };
  }

  /** Applies the library's post-processor, then maps tokens to ids exactly as the library's `encode` does. */
  private process(a: string[], b: string[] | null, addSpecial: boolean): { ids: number[]; typeIds: number[] };
  private process(a: string[], b: string[] | null, addSpecial: boolean, tokensOnly: true): { tokens: string[] };
  private process(a: string[], b: string[] | null, addSpecial: boolean, tokensOnly = false): { ids: number[]; typeIds: number[] } | { tokens: string[] } {
    const pp = this.tok.post_processor;
    let tokens: string[];
    let typeIds: number[] | undefined;
    if (pp === null) {
      tokens = b === null ? a : [...a, ...b];
    } else {
      // Passing `[]` (not null) for an empty second text keeps it a pair; the library's own
      // `encode` turns `text_pair: ''` into no pair at all.
      const out = pp.post_process(a, b, addSpecial);
      tokens = out.tokens;
      typeIds = out.token_type_ids;
      // ByteLevel-style processors hand the pair back separately instead of merging it.
      if (out.tokens_pair != null && typeIds === undefined) {
        typeIds = [...tokens.map(() => 0), ...out.tokens_pair.map(() => 1)];
        tokens = [...tokens, ...out.tokens_pair];
      }
    }
    if (tokensOnly) return { tokens };
    // Without a template, HF gives text A type 0 and text B type 1.
    typeIds ??= [...a.map(() => 0), ...(b ?? []).map(() => 1)];
    const ids = tokens.map((t) => {
      const id = this.addedIds.get(t) ?? this.tok.token_to_id(t) ?? this.unkId;
      if (id === undefined) {
        throw new DataError('DATA_ERR_BAD_FIELD', `token '${t}' is not in the vocabulary and the model has no unk token`);
      }
      return id;
    });
    return { ids, typeIds };
  }

  private pad(ids: number[], typeIds: number[], length: number): Encoded {
    const extra = length - ids.length;
    if (extra > 0 && this.padId === undefined) {
      throw new DataError(
        'DATA_ERR_BAD_OPTION',
        'padding requested but the tokenizer has no pad token (tokenizer.json padding.pad_id, pad_token, [PAD] or <pad>)',
      );
    }
    const inputIds = new Int32Array(length).fill(this.padId ?? 0);
    const attentionMask = new Int32Array(length);
    const tokenTypeIds = new Int32Array(length).fill(this.padTypeId);
    inputIds.set(ids);
    attentionMask.fill(1, 0, ids.length);
    tokenTypeIds.set(typeIds);
    return { inputIds, attentionMask, tokenTypeIds };
  }
}

function checkLengthOptions(
  maxLength: number | undefined,
  truncation: TruncationStrategy | false,
  padding: 'max_length' | 'longest' | false,
): void {
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 0)) {
    throw new DataError('DATA_ERR_BAD_OPTION', `maxLength must be an integer >= 0, got ${maxLength}`);
  }
  if (maxLength === undefined && (truncation !== false || padding === 'max_length')) {
    throw new DataError(
      'DATA_ERR_BAD_OPTION',
      `maxLength is required with truncation '${truncation}' / padding '${padding}'`,
    );
  }
}

function resolvePadId(tok: Tokenizer, padding: PaddingJson | null, padToken: unknown): number | undefined {
  if (typeof padding?.pad_id === 'number') return padding.pad_id;
  for (const name of [padding?.pad_token, padToken, '[PAD]', '<pad>']) {
    if (typeof name !== 'string') continue;
    const id = tok.token_to_id(name);
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * Loads a tokenizer from a `tokenizer.json` file or a folder holding one (and optionally
 * `tokenizer_config.json`, used for `pad_token`).
 */
export function loadTokenizer(dirOrFile: string): TextTokenizer {
  const isDir = existsSync(dirOrFile) && statSync(dirOrFile).isDirectory();
  const file = isDir ? path.join(dirOrFile, 'tokenizer.json') : dirOrFile;
  if (!existsSync(file)) {
    throw new DataError('DATA_ERR_BAD_OPTION', `no tokenizer.json at ${file}`, { file });
  }
  const json = parseJsonFile(file);
  const configFile = path.join(path.dirname(file), 'tokenizer_config.json');
  const config = existsSync(configFile) ? parseJsonFile(configFile) : {};
  return new TextTokenizer(json, config);
}

function parseJsonFile(file: string): object {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError('DATA_ERR_INVALID_JSON', `invalid JSON (${(e as Error).message})`, { file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DataError('DATA_ERR_INVALID_JSON', 'expected a JSON object', { file });
  }
  return value;
}
