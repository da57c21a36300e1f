import { DataError } from './data-error';

/** How a text (pair) longer than `maxLength` is cut, with the meaning HF tokenizers gives it. */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

/**
 * How many tokens of each sequence to keep so that both fit in `budget` tokens (the special
 * tokens of the template already subtracted), cutting at the right end. Same arithmetic as the
 * Rust `tokenizers` crate (`utils/truncation.rs`, `truncate_encodings`), which is what HF fast
 * tokenizers and the reference fixtures use:
 * - `longest_first`: a pair keeps the shorter sequence whole when the longer still gets at least
 *   as many tokens; otherwise each gets `floor(budget/2)` and the longer one the odd token
 *   (on equal lengths the second one gets it). A single sequence keeps `budget` tokens.
 * - `only_first` / `only_second`: only that sequence is cut; it must keep at least one token.
 *
 * @param lenA tokens of the first sequence
 * @param lenB tokens of the second sequence, or `null` for a single text
 * @param budget tokens available for the sequences (>= 0)
 * @returns `[keepA, keepB]` (`keepB` is 0 for a single text)
 */
export function truncatedLengths(
  lenA: number,
  lenB: number | null,
  budget: number,
  strategy: TruncationStrategy,
): [number, number] {
  if (!Number.isInteger(budget) || budget < 0) {
    throw new DataError('DATA_ERR_TRUNCATION', `truncation budget must be an integer >= 0, got ${budget}`);
  }
  const b = lenB ?? 0;
  if (strategy === 'only_second' && lenB === null) {
    throw new DataError('DATA_ERR_TRUNCATION', "truncation 'only_second' needs a text pair, got a single text");
  }
  if (budget === 0) return [0, 0];
  const total = lenA + b;
  if (total <= budget) return [lenA, b];
  const toRemove = total - budget;

  if (strategy === 'longest_first') {
    if (lenB === null) return [budget, 0];
    // Phase 1: n1 is the shorter length; the longer gets what remains, but not less than n1.
    const swap = lenA > lenB;
    let n1 = swap ? lenB : lenA;
    let n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    // Phase 2: still too long, so both are cut to half the budget (odd token to the longer).
    if (n1 + n2 > budget) {
      n1 = Math.floor(budget / 2);
      n2 = n1 + (budget % 2);
    }
    return swap ? [n2, n1] : [n1, n2];
  }

  const targetLen = strategy === 'only_first' ? lenA : b;
  if (targetLen <= toRemove) {
    const which = strategy === 'only_first' ? 'first' : 'second';
    throw new DataError(
      'DATA_ERR_TRUNCATION',
      `truncation '${strategy}' must remove ${toRemove} tokens but the ${which} sequence has only ${targetLen}; ` +
        `raise maxLength or use 'longest_first'`,
    );
  }
  return strategy === 'only_first' ? [lenA - toRemove, b] : [lenA, b - toRemove];
}
