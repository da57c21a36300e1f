/**
 * Character offsets of tokens, which `@huggingface/tokenizers` 0.2 does not return: its
 * `tokenize` gives token strings only. They are recovered by aligning each token's surface text
 * (the token without its sub-word marker, byte-level decoded) with the normalised text, whose
 * every character remembers the original character it came from.
 */

/** `[start, end)` in UTF-16 code units of the original text (JS string indices). */
export type Offset = readonly [start: number, end: number];

/** How a tokenizer's token strings spell the text they cover. */
export interface SurfaceRules {
  /** WordPiece `##` (or BPE `continuing_subword_prefix`): removed from a token's start. */
  readonly continuingPrefix: string | null;
  /** BPE `end_of_word_suffix` (e.g. `</w>`): removed from a token's end. */
  readonly endOfWordSuffix: string | null;
  /** GPT-2 byte-level alphabet (RoBERTa): tokens are bytes spelled as printable characters. */
  readonly byteLevel: boolean;
  /** The unknown token: it covers a whole pre-tokenized word whose text it does not spell. */
  readonly unkToken: string | null;
}

/** Reads the surface rules from a parsed `tokenizer.json`. */
export function surfaceRulesOf(tokenizerJson: object): SurfaceRules {
  const j = tokenizerJson as { model?: Record<string, unknown>; pre_tokenizer?: unknown; decoder?: unknown };
  const model = j.model ?? {};
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  const prefix = model['type'] === 'WordPiece' ? (str(model['continuing_subword_prefix']) ?? '##') : str(model['continuing_subword_prefix']);
  return {
    continuingPrefix: prefix,
    endOfWordSuffix: str(model['end_of_word_suffix']),
    byteLevel: hasType(j.pre_tokenizer, 'ByteLevel') || hasType(j.decoder, 'ByteLevel'),
    unkToken: str(model['unk_token']),
  };
}

// A component of that type, alone or inside a Sequence.
function hasType(component: unknown, type: string): boolean {
  if (typeof component !== 'object' || component === null) return false;
  const c = component as { type?: unknown; pretokenizers?: unknown; decoders?: unknown };
  if (c.type === type) return true;
  const children = [c.pretokenizers, c.decoders].find(Array.isArray) as unknown[] | undefined;
  return children?.some((x) => hasType(x, type)) ?? false;
}

/** The text a token spells (it may keep leading spaces: `Ġword` → ` word`, `▁word` → ` word`). */
export function tokenSurface(token: string, rules: SurfaceRules): string {
  let s = token;
  if (rules.continuingPrefix !== null && s.startsWith(rules.continuingPrefix) && s.length > rules.continuingPrefix.length) {
    s = s.slice(rules.continuingPrefix.length);
  }
  if (rules.endOfWordSuffix !== null && s.endsWith(rules.endOfWordSuffix)) s = s.slice(0, -rules.endOfWordSuffix.length);
  if (rules.byteLevel) s = byteLevelDecode(s);
  return s.replace(/\u2581/g, ' '); // SentencePiece's word marker (Metaspace)
}

/**
 * The normalised text with, for each of its UTF-16 units, the original span it came from.
 * The normaliser runs code point by code point; the normalisers of BERT, RoBERTa and DeBERTa
 * (lower-casing, accent stripping, CJK spacing, NFKC, control removal) act per character.
 */
export function normalizeWithAlignment(text: string, normalize: ((s: string) => string) | null): { normalized: string; start: Int32Array; end: Int32Array } {
  const u = textUnits(text, normalize, false);
  return { normalized: u.units.map((c) => String.fromCharCode(c)).join(''), start: Int32Array.from(u.start), end: Int32Array.from(u.end) };
}

// The text to match tokens against: UTF-16 units of the normalised text, or its UTF-8 bytes
// for byte-level tokenizers (whose tokens may hold part of a character), each unit with the
// span of the original character it came from.
interface Units {
  readonly units: number[];
  readonly start: number[];
  readonly end: number[];
}

const utf8 = new TextEncoder();

function textUnits(text: string, normalize: ((s: string) => string) | null, bytes: boolean): Units {
  const out: Units = { units: [], start: [], end: [] };
  const cache = new Map<string, string>();
  let i = 0;
  for (const ch of text) {
    let n = normalize === null ? ch : cache.get(ch);
    if (n === undefined) {
      n = normalize!(ch);
      cache.set(ch, n);
    }
    const units = bytes ? utf8.encode(n) : Array.from({ length: n.length }, (_, k) => n.charCodeAt(k));
    for (const unit of units) {
      out.units.push(unit);
      out.start.push(i);
      out.end.push(i + ch.length);
    }
    i += ch.length;
  }
  return out;
}

// A token's surface as units of the same kind, without surrounding whitespace.
function tokenUnits(token: string, rules: SurfaceRules): number[] {
  let s = token;
  if (rules.continuingPrefix !== null && s.startsWith(rules.continuingPrefix) && s.length > rules.continuingPrefix.length) {
    s = s.slice(rules.continuingPrefix.length);
  }
  if (rules.endOfWordSuffix !== null && s.endsWith(rules.endOfWordSuffix)) s = s.slice(0, -rules.endOfWordSuffix.length);
  let units: number[];
  if (rules.byteLevel) {
    units = byteLevelBytes(s) ?? Array.from(utf8.encode(s)); // an added token is spelled as written
  } else {
    units = Array.from({ length: s.length }, (_, k) => s.charCodeAt(k));
  }
  let a = 0;
  let b = units.length;
  while (a < b && isSpaceUnit(units[a], rules.byteLevel)) a++;
  while (b > a && isSpaceUnit(units[b - 1], rules.byteLevel)) b--;
  return units.slice(a, b);
}

// Whitespace, and SentencePiece's word marker ▁ (U+2581), which stands for a space.
function isSpaceUnit(u: number, bytes: boolean): boolean {
  if (bytes) return u === 0x20 || (u >= 0x09 && u <= 0x0d);
  return u === 0x2581 || /\s/u.test(String.fromCharCode(u));
}

// BERT's punctuation: ASCII symbols and Unicode P* (BertPreTokenizer splits on them).
function isPunctUnit(u: number, bytes: boolean): boolean {
  if ((u >= 33 && u <= 47) || (u >= 58 && u <= 64) || (u >= 91 && u <= 96) || (u >= 123 && u <= 126)) return true;
  return !bytes && /\p{P}/u.test(String.fromCharCode(u));
}

/**
 * Offsets of `tokens` (what the tokenizer made of `text`, in order) in `text`. Each token's
 * surface is matched after skipping whitespace in the normalised text (as UTF-8 bytes for a
 * byte-level tokenizer, so a token holding part of a character gets that character's span);
 * surrounding spaces are not part of a span (as HF's `trim_offsets`). The unknown token spans
 * the rest of the word (up to whitespace or punctuation). A token that matches nowhere ahead
 * (not seen with the tokenizers above) gets an empty span where the text stands.
 */
export function alignTokens(text: string, tokens: readonly string[], rules: SurfaceRules, normalize: ((s: string) => string) | null): Offset[] {
  const bytes = rules.byteLevel;
  const { units, start, end } = textUnits(text, normalize, bytes);
  const n = units.length;
  const orig = (a: number, b: number): Offset => (b > a ? [start[a], end[b - 1]] : a < n ? [start[a], start[a]] : [text.length, text.length]);
  const matchesAt = (surface: number[], at: number): boolean => at + surface.length <= n && surface.every((u, k) => units[at + k] === u);
  const out: Offset[] = [];
  let pos = 0;
  for (const token of tokens) {
    const surface = tokenUnits(token, rules);
    if (surface.length === 0) {
      // A token of only whitespace (e.g. `Ġ`): the space it stands for.
      const a = pos;
      if (pos < n && isSpaceUnit(units[pos], bytes)) pos++;
      out.push(orig(a, pos));
      continue;
    }
    while (pos < n && isSpaceUnit(units[pos], bytes)) pos++;
    if (matchesAt(surface, pos)) {
      out.push(orig(pos, pos + surface.length));
      pos += surface.length;
      continue;
    }
    if (token === rules.unkToken) {
      const a = pos;
      if (pos < n && isPunctUnit(units[pos], bytes)) pos++;
      else while (pos < n && !isSpaceUnit(units[pos], bytes) && !isPunctUnit(units[pos], bytes)) pos++;
      out.push(orig(a, pos));
      continue;
    }
    let found = -1;
    for (let at = pos; at < n && found < 0; at++) if (matchesAt(surface, at)) found = at;
    if (found >= 0) {
      out.push(orig(found, found + surface.length));
      pos = found + surface.length;
    } else {
      out.push(orig(pos, pos));
    }
  }
  return out;
}

// GPT-2 bytes_to_unicode, inverted: printable character -> byte.
let unicodeToByte: Map<string, number> | null = null;

// The bytes a byte-level token spells, or null when a character is outside that alphabet.
function byteLevelBytes(s: string): number[] | null {
  if (unicodeToByte === null) {
    unicodeToByte = new Map();
    const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    let extra = 0;
    for (let b = 0; b < 256; b++) unicodeToByte.set(String.fromCodePoint(printable(b) ? b : 256 + extra++), b);
  }
  const bytes: number[] = [];
  for (const ch of s) {
    const b = unicodeToByte.get(ch);
    if (b === undefined) return null;
    bytes.push(b);
  }
  return bytes;
}

function byteLevelDecode(s: string): string {
  const bytes = byteLevelBytes(s);
  return bytes === null ? s : new TextDecoder().decode(Uint8Array.from(bytes));
}
