/**
 * One extractive-QA question as HF `datasets` holds SQuAD: id, question, context and the gold
 * answers as parallel lists. A SQuAD v2.0 unanswerable question has no answers.
 */
export interface SquadExample {
  readonly id: string;
  /** The article title when the source has one. */
  readonly title?: string;
  readonly question: string;
  readonly context: string;
  readonly answers: SquadAnswers;
}

/**
 * Gold answers: `text[i]` starts at `answerStart[i]` of the context. Positions are UTF-16
 * units (JS string indices): readers convert SQuAD's code-point positions, which differ only
 * after a character outside the BMP (an emoji).
 */
export interface SquadAnswers {
  readonly text: readonly string[];
  readonly answerStart: readonly number[];
}

/** True for a SQuAD v2.0 unanswerable question (no gold answer). */
export const isUnanswerable = (e: SquadExample): boolean => e.answers.text.length === 0;
