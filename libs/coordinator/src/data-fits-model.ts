import { DataError, type Dataset } from '@adalora/data';
import type { InputLimits } from '@adalora/models';

/**
 * Refuses a data set the model cannot embed: an id at or past the vocabulary, a token type past
 * its table, a row longer than the position table. Each would fail (or read garbage) on every
 * worker at the first step that meets it; checked here, the error names the file and line.
 */
export function checkDataFitsModel(dataset: Dataset, limits: InputLimits, source: string): void {
  dataset.examples.forEach((e, i) => {
    const where = { file: source, line: dataset.lines?.[i] ?? i + 1 };
    if (limits.maxLength !== null && e.inputIds.length > limits.maxLength) {
      throw new DataError('DATA_ERR_MODEL_LIMIT', `a row of ${e.inputIds.length} tokens is longer than the model's ${limits.maxLength} positions (${limits.describe.maxLength}); lower data.maxLength or shorten the row`, where);
    }
    const id = largest(e.inputIds);
    if (id >= limits.vocabSize) {
      throw new DataError('DATA_ERR_MODEL_LIMIT', `input id ${id} is outside the model's vocabulary of ${limits.vocabSize} (${limits.describe.vocabSize}); the data was tokenized for another model`, where);
    }
    if (limits.typeVocabSize !== null && e.tokenTypeIds) {
      const type = largest(e.tokenTypeIds);
      if (type >= limits.typeVocabSize) {
        throw new DataError('DATA_ERR_MODEL_LIMIT', `token type id ${type} is outside the model's ${limits.typeVocabSize} token types (${limits.describe.typeVocabSize})`, where);
      }
    }
  });
}

function largest(a: Int32Array): number {
  let m = -1;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}
