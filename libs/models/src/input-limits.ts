import type { HfConfig } from './hf-config';

/** What a model can take as input, read from its config.json. */
export interface InputLimits {
  /** every input id must be below this (vocab_size) */
  readonly vocabSize: number;
  /** every token type id must be below this (type_vocab_size); null: the model ignores them */
  readonly typeVocabSize: number | null;
  /** the longest row its position table covers; null: no absolute positions, no limit */
  readonly maxLength: number | null;
  /** how each limit follows from config.json, for errors */
  readonly describe: { readonly vocabSize: string; readonly typeVocabSize: string; readonly maxLength: string };
}

/**
 * The input limits of a checkpoint, as its forward pass enforces them (bert.ts `check`,
 * deberta-v2 embeddings): RoBERTa numbers positions from pad_token_id + 1, so a row of L tokens
 * needs pad_token_id + L < max_position_embeddings; DeBERTa-v2 without position_biased_input
 * has only relative positions and no length limit; its token types count only when
 * type_vocab_size > 0.
 */
export function inputLimits(config: HfConfig): InputLimits {
  const modelType = config.string('model_type');
  const vocabSize = config.integer('vocab_size', modelType === 'deberta-v2' ? 128100 : undefined);
  const maxPositions = config.integer('max_position_embeddings', 512);
  const at = config.source;
  if (modelType === 'deberta-v2') {
    const types = config.integer('type_vocab_size', 0);
    const biased = config.boolean('position_biased_input', true);
    return {
      vocabSize,
      typeVocabSize: types > 0 ? types : null,
      maxLength: biased ? maxPositions : null,
      describe: { vocabSize: `vocab_size in ${at}`, typeVocabSize: `type_vocab_size in ${at}`, maxLength: `max_position_embeddings in ${at}` },
    };
  }
  const pad = config.integer('pad_token_id', modelType === 'roberta' ? 1 : 0);
  return {
    vocabSize,
    typeVocabSize: config.integer('type_vocab_size', 2),
    maxLength: modelType === 'roberta' ? maxPositions - pad - 1 : maxPositions,
    describe: {
      vocabSize: `vocab_size in ${at}`,
      typeVocabSize: `type_vocab_size in ${at}`,
      maxLength: modelType === 'roberta' ? `max_position_embeddings ${maxPositions} - pad_token_id ${pad} - 1 in ${at}` : `max_position_embeddings in ${at}`,
    },
  };
}
