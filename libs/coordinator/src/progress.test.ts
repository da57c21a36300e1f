import test from 'ava';
import { LogThroughProgress, Progress, type BarStream } from './progress';

/**
 * A fake TTY that renders what it is sent on a small screen model (the cursor moves and erases
 * cli-progress and readline send, and DECSC/DECRC), and records, for each log line, whether the
 * cursor's line was empty when it was written.
 */
class FakeTty implements BarStream {
  readonly isTTY = true;
  readonly columns = 120;
  readonly lines: string[] = [''];
  readonly chunks: string[] = [];
  private row = 0;
  private col = 0;
  private saved: [number, number] = [0, 0];

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    // eslint-disable-next-line no-control-regex
    const tokens = chunk.match(/\x1b\[[?0-9;]*[A-Za-z]|\x1b[78]|\r|\n|[^\x1b\r\n]+/g) ?? [];
    for (const tok of tokens) {
      if (tok === '\n') {
        this.row++;
        this.col = 0;
        if (this.lines.length <= this.row) this.lines.push('');
      } else if (tok === '\r') this.col = 0;
      else if (tok === '\x1b7') this.saved = [this.row, this.col];
      else if (tok === '\x1b8') [this.row, this.col] = this.saved;
      else if (tok.startsWith('\x1b[')) this.csi(tok);
      else {
        const line = this.lines[this.row].padEnd(this.col);
        this.lines[this.row] = line.slice(0, this.col) + tok + line.slice(this.col + tok.length);
        this.col += tok.length;
      }
    }
    return true;
  }

  /** Whether the cursor stands at the start of an empty line (a log line may be written now). */
  get atCleanLine(): boolean {
    return this.col === 0 && this.lines[this.row] === '';
  }

  private csi(tok: string): void {
    const [, arg, cmd] = /^\x1b\[([?0-9;]*)([A-Za-z])$/.exec(tok)!;
    if (cmd === 'G') this.col = Number(arg || 1) - 1;
    else if (cmd === 'K' && arg === '2') this.lines[this.row] = '';
    else if (cmd === 'K') this.lines[this.row] = this.lines[this.row].slice(0, this.col); // 0K: to the right
  }
}

test('log lines go above the bar: never written beside a partial bar line, the bar redrawn below them, the final table after it', async (t) => {
  const tty = new FakeTty();
  const dirty: string[] = [];
  const logs = new LogThroughProgress((line) => {
    if (!tty.atCleanLine) dirty.push(`${line} (screen line: ${JSON.stringify(tty.lines[tty.lines.length - 1])})`);
    tty.write(`${line}\n`);
  });
  const progress = new Progress(20, true, { stream: tty });
  logs.attach(progress);
  for (let step = 1; step <= 20; step++) {
    progress.update(step, 1 / step, 100 + step, 40 - step);
    if (step % 5 === 0) {
      progress.evaluated(step, 'accuracy', step / 20);
      logs.line(`eval at step ${step}: accuracy ${(step / 20).toFixed(4)}`);
    }
    if (step === 12) logs.line('worker 1 (b@127.0.0.1) dropped: heartbeat');
    // a line printed by someone else (a local worker's output), written whole through the same route
    if (step === 17) logs.around(() => (tty.atCleanLine ? tty.write('[worker 0] out of memory\n') : dirty.push('[worker 0] out of memory')));
    await new Promise((r) => setTimeout(r, 15)); // let cli-progress' redraw timer fire between steps
  }
  progress.stop();
  logs.attach(null);
  logs.line('Rank per adapted matrix at the end of the run:');
  t.deepEqual(dirty, [], 'a log line was written while the bar line was partial');
  // the screen: every log line whole on its own line, in order, the last bar state below them, then the table
  const screen = tty.lines.filter((l) => l !== '');
  const logLines = ['eval at step 5: accuracy 0.2500', 'eval at step 10: accuracy 0.5000', 'worker 1 (b@127.0.0.1) dropped: heartbeat', 'eval at step 15: accuracy 0.7500', '[worker 0] out of memory', 'eval at step 20: accuracy 1.0000'];
  t.deepEqual(screen.slice(0, 6), logLines);
  t.regex(screen[6], /^step 20\/20 \|.+\| loss 0\.0500 \| budget 20 \| 120\.0 samples\/s \| ETA 0s \| dev accuracy 1\.0000 @20$/);
  t.is(screen[7], 'Rank per adapted matrix at the end of the run:');
  t.is(screen.length, 8, 'no bar leftovers');
});

test('without a bar (not a TTY, --no-progress) lines are printed as they come and nothing is drawn', (t) => {
  const tty = new FakeTty();
  const logs = new LogThroughProgress((line) => tty.write(`${line}\n`));
  const progress = new Progress(5, false, { stream: tty });
  logs.attach(progress);
  progress.update(1, 0.5, 10, 4);
  logs.line('step 1/5');
  progress.stop();
  t.deepEqual(tty.chunks, ['step 1/5\n']);
});
