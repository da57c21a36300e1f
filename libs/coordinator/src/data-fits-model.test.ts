import test from 'ava';
import { DataError, pretokenizedFromString } from '@adalora/data';
import type { InputLimits } from '@adalora/models';
import { checkDataFitsModel } from './data-fits-model';

const limits: InputLimits = {
  vocabSize: 10,
  typeVocabSize: 2,
  maxLength: 4,
  describe: { vocabSize: 'vocab_size in m/config.json', typeVocabSize: 'type_vocab_size in m/config.json', maxLength: 'max_position_embeddings in m/config.json' },
};
// a blank line, so example 1 is on line 3: errors name the file's line, not the example's index
const data = (row: string) => pretokenizedFromString(`{"input_ids": [1, 2], "label": 0}\n\n${row}\n`, {}, 'train.jsonl');

test('data within the limits passes', (t) => {
  t.notThrows(() => checkDataFitsModel(data('{"input_ids": [9, 0, 1, 2], "token_type_ids": [0, 0, 1, 1], "label": 1}'), limits, 'train.jsonl'));
});

test('an id at or past vocab_size is refused, naming the file and line', (t) => {
  const e = t.throws(() => checkDataFitsModel(data('{"input_ids": [3, 10], "label": 1}'), limits, 'train.jsonl'), { instanceOf: DataError });
  t.is(e.code, 'DATA_ERR_MODEL_LIMIT');
  t.is(e.message, "train.jsonl:3: input id 10 is outside the model's vocabulary of 10 (vocab_size in m/config.json); the data was tokenized for another model");
});

test('a row longer than the position table is refused, naming the file and line', (t) => {
  const e = t.throws(() => checkDataFitsModel(data('{"input_ids": [1, 1, 1, 1, 1], "label": 1}'), limits, 'train.jsonl'), { instanceOf: DataError });
  t.is(e.message, "train.jsonl:3: a row of 5 tokens is longer than the model's 4 positions (max_position_embeddings in m/config.json); lower data.maxLength or shorten the row");
});

test('a token type past type_vocab_size is refused; a model without token types ignores them', (t) => {
  const row = data('{"input_ids": [1, 2], "token_type_ids": [0, 2], "label": 1}');
  t.throws(() => checkDataFitsModel(row, limits, 'train.jsonl'), { message: /^train\.jsonl:3: token type id 2 is outside the model's 2 token types/ });
  t.notThrows(() => checkDataFitsModel(row, { ...limits, typeVocabSize: null }, 'train.jsonl'));
});
