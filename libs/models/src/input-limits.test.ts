import test from 'ava';
import { HfConfig } from './hf-config';
import { inputLimits } from './input-limits';

const cfg = (raw: Record<string, unknown>) => new HfConfig(raw, 'm/config.json');

test('BERT: the vocabulary, two token types, max_position_embeddings rows', (t) => {
  t.like(inputLimits(cfg({ model_type: 'bert', vocab_size: 100, max_position_embeddings: 64 })), { vocabSize: 100, typeVocabSize: 2, maxLength: 64 });
});

test("RoBERTa: positions start at pad_token_id + 1, so rows are shorter than the table", (t) => {
  const l = inputLimits(cfg({ model_type: 'roberta', vocab_size: 50265, max_position_embeddings: 514, pad_token_id: 1, type_vocab_size: 1 }));
  t.like(l, { vocabSize: 50265, typeVocabSize: 1, maxLength: 512 });
  t.is(l.describe.maxLength, 'max_position_embeddings 514 - pad_token_id 1 - 1 in m/config.json');
});

test('DeBERTa-v2: no length limit without position_biased_input; token types only when it has a table', (t) => {
  t.like(inputLimits(cfg({ model_type: 'deberta-v2', vocab_size: 128100, position_biased_input: false })), { maxLength: null, typeVocabSize: null });
  t.like(inputLimits(cfg({ model_type: 'deberta-v2', vocab_size: 10, max_position_embeddings: 32, type_vocab_size: 2 })), { maxLength: 32, typeVocabSize: 2 });
});
