import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumMissing, launchHeadlessChromium, pageRunView, startCli, until, type PageView } from '@adalora/test-support';

// a short built-in run (16 steps through warm-up, pruning and the final phase) with two evaluations
const SHORT = ['--set', 'training.maxSteps=16', '--set', 'training.evalEvery=8', '--set', 'adalora.tinit=2', '--set', 'adalora.tfinal=4', '--set', 'adalora.deltaT=2', '--backend', 'wasm', '--no-progress'];
const SECRET = 'browser-test run secret, 32 bytes or more';

const missing = chromiumMissing();
if (missing) console.log(`status page browser test skipped: ${missing}`);
const browserTest = missing ? test.skip : test.serial;

interface Records {
  kept: Map<number, Record<string, number>>;
  evals: number;
}

/** The kept ranks per step and the evaluations in metrics.jsonl, as the run wrote them. */
function readRecords(out: string): Records {
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean);
  const records = lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as { kind: string; step: number; kept?: Record<string, number> }];
    } catch {
      return []; // a line being written
    }
  });
  return { kept: new Map(records.filter((r) => r.kind === 'step').map((r) => [r.step, r.kept!])), evals: records.filter((r) => r.kind === 'eval').length };
}

/** The page shows the run's records: a heatmap cell per matrix and column with the kept rank of that step, and a chart point per step. */
function checkPage(t: ExecutionContext, view: PageView, records: Records): void {
  t.true(view.steps >= 1);
  t.true(view.cells.length > 0);
  const modules = new Set(view.cells.map((c) => c.module));
  t.is(modules.size, 12, 'one row per adapted matrix of the built-in model');
  t.deepEqual(
    view.cells.map((c) => [c.module, c.step, c.rank]),
    view.cells.map((c) => [c.module, c.step, records.kept.get(c.step)?.[c.module]]),
    'every heatmap cell is the kept rank metrics.jsonl has for its matrix and step',
  );
  // 16 steps: one column per step
  t.is(view.cells.length, 12 * view.steps);
  for (const name of ['loss', 'schedule', 'speed']) t.true(view.charts[name].every((n) => n === view.steps), `${name}: a point per step in every series (${view.charts[name]} vs ${view.steps})`);
  const last = records.kept.get(view.steps)!;
  t.deepEqual(view.current, last, 'the "now" column holds the ranks of the latest step shown');
}

browserTest('the live status page during a run and its report after it show the kept ranks and a point per step', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-page-'));
  const out = join(dir, 'run');
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, SECRET, { mode: 0o600 });
  const run = startCli(['run', '--workers', '1', '-o', out, '--secret-file', secretFile, ...SHORT]);
  const browser = await launchHeadlessChromium(dir);
  try {
    await until(() => /status page: (\S+)/.test(run.output()), 'the status page URL', 120_000);
    const url = /status page: (\S+)/.exec(run.output())![1];
    t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/status\?token=[0-9a-f]{32}$/);
    t.false(run.output().includes(SECRET), 'the secret is never printed');
    t.is((await fetch(url.replace(/\?token=.*/, ''))).status, 401, 'no token, no page');

    // live: once a few steps are in, the page shows them
    await until(() => readRecords(out).kept.size >= 3, 'three steps', 180_000);
    const live = await browser.newPage();
    await live.setViewport({ width: 1280, height: 1200 });
    await live.goto(url);
    await live.waitForFunction('Number(document.body.dataset.steps) >= 3', { timeout: 60_000 });
    const liveView = await pageRunView(live);
    checkPage(t, liveView, readRecords(out));
    t.regex(await live.$eval('#workers-table', (e) => e.textContent ?? ''), /local-0.*wasm.*ready/s, 'the connected worker, live');
    await live.screenshot({ path: join(dir, 'live-page.png'), fullPage: true });

    const r = await run.done;
    t.is(r.code, 0, r.out.slice(-2000));
    // the report's path is the last thing the run prints
    const reportPath = /report: (\S+)\s*$/.exec(r.out)?.[1];
    t.is(reportPath, join(out, 'report.html'));
    const records = readRecords(out);
    t.is(records.kept.size, 16);

    // the report opens offline, from the file alone
    const report = await browser.newPage();
    await report.setViewport({ width: 1280, height: 1200 });
    await report.setOfflineMode(true);
    await report.goto(pathToFileURL(reportPath!).href);
    await report.waitForSelector('body[data-ready=report]', { timeout: 30_000 });
    const view = await pageRunView(report);
    t.is(view.steps, 16);
    checkPage(t, view, records);
    t.deepEqual(view.charts.evals, [records.evals, records.evals, records.evals], 'dev metrics: a point per evaluation (pearson, spearman)');
    t.regex(await report.$eval('#workers-table', (e) => e.textContent ?? ''), /local-0.*wasm.*joined/s, 'the workers, from the join events');
    t.regex(await report.$eval('#events', (e) => e.textContent ?? ''), /saved the final adapter/);
    await report.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    t.log(`screenshots: ${join(dir, 'live-page.png')}, ${join(dir, 'report.png')}`);
  } finally {
    await browser.close();
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    // the screenshots stay in the test's temp folder; the run and the browser profile go
    for (const name of readdirSync(dir).filter((n) => !n.endsWith('.png'))) rmSync(join(dir, name), { recursive: true, force: true });
  }
});
