import { readFileSync } from 'node:fs';
import { DataError } from './data-error';
import { parseRecords } from './records';
import type { SquadAnswers, SquadExample } from './squad-example';

/** SQuAD-format file: `.json` (the official nested layout) or `.jsonl` (HF datasets' rows). */
export type SquadFormat = 'squad-json' | 'jsonl';

/**
 * Reads SQuAD v1.1 / v2.0 questions from `file`: the official JSON
 * (`data[].paragraphs[].qas[]`, v2's `is_impossible`) when it ends in `.json`, one question
 * per line as HF datasets writes SQuAD (`id`, `question`, `context`, `answers: {text[],
 * answer_start[]}`, optional `title`) when it ends in `.jsonl`. Errors name the file and the
 * entry (`data[2].paragraphs[0].qas[5]`) or line.
 */
export function loadSquad(file: string, format: SquadFormat = file.endsWith('.jsonl') ? 'jsonl' : 'squad-json'): SquadExample[] {
  const text = readFileSync(file, 'utf8');
  return format === 'jsonl' ? parseSquadJsonl(text, file) : parseSquadJson(text, file);
}

/** Parses the official SQuAD JSON layout; `source` names the text in errors. */
export function parseSquadJson(text: string, source = '<string>'): SquadExample[] {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new DataError('DATA_ERR_INVALID_JSON', `invalid JSON (${(e as Error).message})`, { file: source });
  }
  const fail = (entry: string, problem: string, code: 'DATA_ERR_BAD_FIELD' | 'DATA_ERR_MISSING_COLUMN' = 'DATA_ERR_BAD_FIELD'): never => {
    throw new DataError(code, `${entry}: ${problem}`, { file: source });
  };
  const data = (root as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) fail('top level', "expected an object with a 'data' array (SQuAD v1.1/v2.0 JSON)", 'DATA_ERR_MISSING_COLUMN');
  const out: SquadExample[] = [];
  const ids = new Set<string>();
  (data as unknown[]).forEach((article, a) => {
    const at = `data[${a}]`;
    const { title, paragraphs } = object(article, at, fail);
    if (title !== undefined && typeof title !== 'string') fail(at, `'title' must be a string, got ${kind(title)}`);
    if (!Array.isArray(paragraphs)) fail(at, "'paragraphs' must be an array", 'DATA_ERR_MISSING_COLUMN');
    (paragraphs as unknown[]).forEach((paragraph, p) => {
      const pat = `${at}.paragraphs[${p}]`;
      const { context, qas } = object(paragraph, pat, fail);
      if (typeof context !== 'string') fail(pat, `'context' must be a string, got ${kind(context)}`);
      if (!Array.isArray(qas)) fail(pat, "'qas' must be an array", 'DATA_ERR_MISSING_COLUMN');
      (qas as unknown[]).forEach((qa, q) => {
        const qat = `${pat}.qas[${q}]`;
        const f = object(qa, qat, fail);
        const id = idOf(f.id, (m) => fail(qat, m));
        if (typeof f.question !== 'string') fail(qat, `'question' must be a string, got ${kind(f.question)}`);
        if (f.is_impossible !== undefined && typeof f.is_impossible !== 'boolean') fail(qat, `'is_impossible' must be true or false, got ${kind(f.is_impossible)}`);
        if (!Array.isArray(f.answers)) fail(qat, "'answers' must be an array", 'DATA_ERR_MISSING_COLUMN');
        const answers = (f.answers as unknown[]).map((ans, k) => {
          const aat = `${qat}.answers[${k}]`;
          const { text: t, answer_start: s } = object(ans, aat, fail);
          if (typeof t !== 'string') fail(aat, `'text' must be a string, got ${kind(t)}`);
          return { text: t as string, start: s };
        });
        // v2: an impossible question's answers are empty (its plausible_answers are not gold).
        if (f.is_impossible === true && answers.length > 0) fail(qat, 'is_impossible is true but answers is not empty');
        const gold = checkedAnswers(context as string, answers, (m) => fail(qat, m));
        if (ids.has(id)) fail(qat, `duplicate question id '${id}'`);
        ids.add(id);
        out.push({ id, ...(title === undefined ? {} : { title: title as string }), question: f.question as string, context: context as string, answers: gold });
      });
    });
  });
  if (out.length === 0) throw new DataError('DATA_ERR_EMPTY_FILE', 'no question found', { file: source });
  return out;
}

/** Parses HF datasets' SQuAD JSONL (one question a line); `source` names the text in errors. */
export function parseSquadJsonl(text: string, source = '<string>'): SquadExample[] {
  const table = parseRecords(text, 'jsonl', source);
  const ids = new Set<string>();
  return table.records.map((r) => {
    const fail = (problem: string, code: 'DATA_ERR_BAD_FIELD' | 'DATA_ERR_MISSING_COLUMN' = 'DATA_ERR_BAD_FIELD'): never => {
      throw new DataError(code, problem, { file: source, line: r.line });
    };
    const f = r.fields;
    for (const name of ['id', 'question', 'context', 'answers']) if (!(name in f)) fail(`missing field '${name}'`, 'DATA_ERR_MISSING_COLUMN');
    const id = idOf(f.id, fail);
    for (const name of ['question', 'context'] as const) if (typeof f[name] !== 'string') fail(`'${name}' must be a string, got ${kind(f[name])}`);
    if (f.title !== undefined && typeof f.title !== 'string') fail(`'title' must be a string, got ${kind(f.title)}`);
    const a = f.answers as { text?: unknown; answer_start?: unknown } | null;
    if (typeof a !== 'object' || a === null || !Array.isArray(a.text) || !Array.isArray(a.answer_start)) {
      fail("'answers' must be {\"text\": [...], \"answer_start\": [...]}");
    }
    const texts = a!.text as unknown[];
    const starts = a!.answer_start as unknown[];
    if (texts.length !== starts.length) fail(`answers has ${texts.length} texts but ${starts.length} answer_start values`);
    const answers = texts.map((t, k) => {
      if (typeof t !== 'string') fail(`answers.text[${k}] must be a string, got ${kind(t)}`);
      return { text: t as string, start: starts[k] };
    });
    if (ids.has(id)) fail(`duplicate question id '${id}'`);
    ids.add(id);
    const gold = checkedAnswers(f.context as string, answers, fail);
    return { id, ...(typeof f.title === 'string' ? { title: f.title } : {}), question: f.question as string, context: f.context as string, answers: gold };
  });
}

type Fail = (problem: string) => never;

// SQuAD ids are strings; HF datasets writes them as strings too, so a number is a mistake.
function idOf(v: unknown, fail: Fail): string {
  if (typeof v !== 'string' || v === '') fail(`'id' must be a non-empty string, got ${kind(v)}`);
  return v as string;
}

// Code-point starts -> UTF-16 starts, each checked to lie inside the context.
function checkedAnswers(context: string, answers: { text: string; start: unknown }[], fail: Fail): SquadAnswers {
  const toUtf16 = codePointToUtf16(context);
  const answerStart = answers.map(({ text, start }, k) => {
    if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) fail(`answer ${k}: 'answer_start' must be an integer >= 0, got ${kind(start)}`);
    const s = toUtf16(start as number);
    if (s === undefined || s + text.length > context.length) {
      fail(`answer ${k}: '${preview(text)}' at ${start as number} runs past the end of the context (${[...context].length} characters)`);
    }
    return s!;
  });
  return { text: answers.map((a) => a.text), answerStart };
}

function codePointToUtf16(s: string): (cp: number) => number | undefined {
  if (!/[\uD800-\uDBFF]/.test(s)) return (cp) => (cp <= s.length ? cp : undefined);
  const units: number[] = [];
  let u = 0;
  for (const ch of s) {
    units.push(u);
    u += ch.length;
  }
  units.push(u);
  return (cp) => units[cp];
}

function object(v: unknown, at: string, fail: (entry: string, problem: string) => never): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, `expected an object, got ${kind(v)}`);
  return v as Record<string, unknown>;
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `'${preview(v)}'` : typeof v === 'object' ? 'an object' : String(v));
const preview = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
