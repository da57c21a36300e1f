import cliProgress from 'cli-progress';

/** The coordinator's progress bar: step, loss, samples/s, ETA and the current rank budget. */
export class Progress {
  private readonly bar: cliProgress.SingleBar | null;

  constructor(total: number, enabled: boolean) {
    this.bar = enabled
      ? new cliProgress.SingleBar(
          {
            format: 'step {value}/{total} |{bar}| loss {loss} | {rate} samples/s | budget {budget} | ETA {eta_formatted}',
            hideCursor: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.bar?.start(total, 0, { loss: '-', rate: '-', budget: '-' });
  }

  update(step: number, loss: number, samplesPerSecond: number, budget: number | null): void {
    this.bar?.update(step, { loss: loss.toFixed(4), rate: samplesPerSecond.toFixed(1), budget: budget ?? '-' });
  }

  stop(): void {
    this.bar?.stop();
  }
}
