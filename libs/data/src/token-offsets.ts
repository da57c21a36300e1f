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
  const parts: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const cache = new Map<string, string>();
  let i = 0;
  for (const ch of text) {
    let n = normalize === null ? ch : cache.get(ch);
    if (n === undefined) {
      n = normalize!(ch);
      cache.set(ch, n);
    }
    parts.push(n);
    for (let k = 0; k < n.length; k++) {
      starts.push(i);
      ends.push(i + ch.length);
    }
    i += ch.length;
  }
  return { normalized: parts.join(''), start: Int32Array.from(starts), end: Int32Array.from(ends) };
}

const isSpace = (c: string): boolean => /\s/u.test(c) || c === '\u2581';
// BERT's punctuation: ASCII symbols and Unicode P* (BertPreTokenizer splits on them).
const isPunct = (c: string): boolean => {
  const cp = c.codePointAt(0)!;
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) || /\p{P}/u.test(c);
};

/**
 * Offsets of `tokens` (what the tokenizer made of `text`, in order) in `text`. Each token's
 * surface is matched after skipping whitespace in the normalised text; leading spaces of a
 * surface are not part of the span (as HF's `trim_offsets`). The unknown token spans the rest
 * of the word (up to whitespace or punctuation). A token that cannot be matched (never seen for
 * the tokenizers above) gets an empty span where the text stands.
 */
export function alignTokens(text: string, tokens: readonly string[], rules: SurfaceRules, normalize: ((s: string) => string) | null): Offset[] {
  const { normalized: norm, start, end } = normalizeWithAlignment(text, normalize);
  const orig = (a: number, b: number): Offset => (b > a ? [start[a], end[b - 1]] : a < norm.length ? [start[a], start[a]] : [text.length, text.length]);
  const out: Offset[] = [];
  let pos = 0;
  const skipSpaces = (): void => {
    while (pos < norm.length && isSpace(norm[pos])) pos++;
  };
  for (const token of tokens) {
    const surface = tokenSurface(token, rules).trim();
    if (surface === '') {
      // A token of only whitespace (e.g. `Ġ`): the space it stands for.
      const a = pos;
      if (pos < norm.length && isSpace(norm[pos])) pos++;
      out.push(orig(a, pos));
      continue;
    }
    skipSpaces();
    if (norm.startsWith(surface, pos)) {
      out.push(orig(pos, pos + surface.length));
      pos += surface.length;
      continue;
    }
    if (token === rules.unkToken) {
      const a = pos;
      if (pos < norm.length && isPunct(norm[pos])) pos++;
      else while (pos < norm.length && !isSpace(norm[pos]) && !isPunct(norm[pos])) pos++;
      out.push(orig(a, pos));
      continue;
    }
    const found = norm.indexOf(surface, pos);
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
function byteLevelDecode(s: string): string {
  if (unicodeToByte === null) {
    unicodeToByte = new Map();
    const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    let extra = 0;
    for (let b = 0; b < 256; b++) unicodeToByte.set(String.fromCodePoint(printable(b) ? b : 256 + extra++), b);
  }
  const bytes: number[] = [];
  for (const ch of s) {
    const b = unicodeToByte.get(ch);
    if (b === undefined) return s; // not byte-level (an added token): as written
    bytes.push(b);
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}
