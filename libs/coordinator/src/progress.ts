import cliProgress from 'cli-progress';

/** What the bar writes to: a TTY (process.stdout), or a fake one in tests. */
export interface BarStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(chunk: string): boolean;
}

// DECSC / DECRC: cli-progress saves the cursor at start and restores it at stop; once log lines
// have scrolled the screen, the restored position is rows above the bar, and what follows
// (the final table) overwrites the log. The bar keeps to its own line instead.
const SAVE_RESTORE_CURSOR = /\x1b[78]/g;
const CLEAR_LINE = '\r\x1b[2K';

/**
 * The stream cli-progress draws on: forwards to the terminal and remembers what is drawn on the
 * current, unfinished line (the bar), so a log line can be printed above it: clear the line,
 * write the log line, draw the bar again. No log text ever lands beside a partial bar.
 */
class BarLine implements BarStream {
  private partial = '';

  constructor(private readonly out: BarStream) {}

  get isTTY(): boolean {
    return this.out.isTTY === true;
  }

  get columns(): number | undefined {
    return this.out.columns;
  }

  write(chunk: string): boolean {
    const s = String(chunk).replace(SAVE_RESTORE_CURSOR, '');
    if (s === '') return true;
    const nl = s.lastIndexOf('\n');
    // a move to column 0 starts the line's drawing over: what came before it is drawn over
    if (nl >= 0) this.partial = s.slice(nl + 1);
    else if (s.startsWith('\r') || s === '\x1b[1G') this.partial = s;
    else this.partial += s;
    return this.out.write(s);
  }

  /** Runs `print` (which writes whole lines to the same terminal) with the bar's line cleared, then redraws it. */
  above(print: () => void): void {
    if (this.partial !== '') this.out.write(CLEAR_LINE);
    print();
    if (this.partial !== '') this.out.write(this.partial);
  }
}

/** Options of a {@link Progress} bar. */
export interface ProgressOptions {
  /** default process.stdout, where log lines go, so that both keep their order */
  readonly stream?: BarStream;
}

/**
 * The coordinator's progress bar: step, loss, budget, samples/s, ETA and the latest dev metric.
 * Log lines printed while it runs go through {@link Progress.print}, above the bar.
 */
export class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly line: BarLine | null;
  private running = false;

  constructor(total: number, enabled: boolean, options: ProgressOptions = {}) {
    const out = options.stream ?? (process.stdout as unknown as BarStream);
    this.line = enabled ? new BarLine(out) : null;
    this.bar = this.line
      ? new cliProgress.SingleBar(
          {
            format: 'step {value}/{total} |{bar}| loss {loss} | budget {budget} | {rate} samples/s | ETA {eta_formatted} | {eval}',
            hideCursor: true,
            etaBuffer: 20,
            stream: this.line as unknown as NodeJS.WritableStream,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.bar?.start(total, 0, { loss: '-', rate: '-', budget: '-', eval: 'dev -' });
    this.running = this.bar !== null;
  }

  update(step: number, loss: number, samplesPerSecond: number, budget: number | null): void {
    this.bar?.update(step, { loss: loss.toFixed(4), rate: samplesPerSecond.toFixed(1), budget: budget ?? '-' });
  }

  /** The latest evaluation, shown on the bar until the next one. */
  evaluated(step: number, metric: string, value: number): void {
    this.bar?.update({ eval: `dev ${metric} ${value.toFixed(4)} @${step}` });
  }

  /** Prints through `write` (whole lines) above the bar while it runs; directly otherwise. */
  print(write: () => void): void {
    if (this.running && this.line) this.line.above(write);
    else write();
  }

  stop(): void {
    this.running = false;
    this.bar?.stop();
  }
}

/**
 * The coordinator's log, made before its bar: while a bar runs, every line (joins, drops,
 * evaluations, checkpoints) is printed above it.
 */
export class LogThroughProgress {
  private progress: Progress | null = null;

  constructor(private readonly out: (line: string) => void) {}

  /** Bound: pass it where a `log` function is wanted. */
  readonly line = (text: string): void => {
    if (this.progress) this.progress.print(() => this.out(text));
    else this.out(text);
  };

  /** Runs `write` (whole lines printed by someone else, e.g. local workers) above the bar while it runs. */
  around(write: () => void): void {
    if (this.progress) this.progress.print(write);
    else write();
  }

  attach(progress: Progress | null): void {
    this.progress = progress;
  }
}
