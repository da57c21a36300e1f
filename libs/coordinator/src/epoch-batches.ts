import { epochOrder, globalBatches } from '@adalora/data';
import type { TrainingConfig } from '@adalora/config';

/** The global batches (data set row ids) of each step, made once per epoch, off the step path. */
export class EpochBatches {
  private current: { epoch: number; batches: number[][] } | null = null;

  constructor(
    private readonly examples: number,
    private readonly training: Pick<TrainingConfig, 'seed' | 'shuffle' | 'batchSize' | 'dropLast'>,
    readonly perEpoch: number,
  ) {}

  epochOf(step: number): number {
    return Math.floor(step / this.perEpoch);
  }

  /** The row ids of the global batch of `step`. */
  of(step: number): number[] {
    const epoch = this.epochOf(step);
    if (this.current?.epoch !== epoch) {
      const t = this.training;
      this.current = { epoch, batches: globalBatches(epochOrder(this.examples, epoch, t.seed, t.shuffle), t.batchSize, t.dropLast) };
    }
    return this.current.batches[step % this.perEpoch];
  }
}
