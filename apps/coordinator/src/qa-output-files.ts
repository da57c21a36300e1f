import { basename, dirname, join } from 'node:path';

/**
 * Where `adalora predict` writes a QA file's answers, given `-o`: a name ending in .json gets
 * HF run_qa.py's predictions.json, and for SQuAD v2.0 its null_odds.json beside it
 * (`predictions.json` → `null_odds.json`, `eval_predictions.json` → `eval_null_odds.json`, any
 * other `<name>.json` → `<name>_null_odds.json`); any other name gets JSONL, one question a line.
 */
export function qaOutputFiles(outFile: string): { format: 'hf-json' | 'jsonl'; predictions: string; nullOdds: string | null } {
  if (!outFile.endsWith('.json')) return { format: 'jsonl', predictions: outFile, nullOdds: null };
  const name = basename(outFile);
  const odds = name.endsWith('predictions.json') ? `${name.slice(0, -'predictions.json'.length)}null_odds.json` : `${name.slice(0, -'.json'.length)}_null_odds.json`;
  return { format: 'hf-json', predictions: outFile, nullOdds: join(dirname(outFile), odds) };
}
