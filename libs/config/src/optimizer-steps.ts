import { configError } from './config-reader';
import type { TrainingConfig } from './run-config';

/** How many optimizer steps a run takes on `trainRows` rows. */
export interface OptimizerSteps {
  readonly batchesPerEpoch: number;
  /** `training.maxSteps`, else epochs × batches per epoch */
  readonly totalSteps: number;
}

/**
 * The run's step count from its training settings and train size: counted before the data is
 * read for the built-in job (a known size), right after for any other. Refuses a batch larger
 * than the data set when `dropLast` leaves no batch at all.
 */
export function optimizerSteps(training: TrainingConfig, trainRows: number): OptimizerSteps {
  const { batchSize, dropLast, epochs, maxSteps } = training;
  const batchesPerEpoch = dropLast ? Math.floor(trainRows / batchSize) : Math.ceil(trainRows / batchSize);
  if (batchesPerEpoch === 0) {
    throw configError('training.batchSize', `must be <= the ${trainRows} train examples${dropLast ? " when 'training.dropLast' is true" : ''}`, batchSize);
  }
  return { batchesPerEpoch, totalSteps: maxSteps ?? epochs * batchesPerEpoch };
}
