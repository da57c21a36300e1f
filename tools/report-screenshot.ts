// Saves a screenshot of a run report (`adalora report`, or report.html of a run folder) with the
// system Chromium, offline: `npx tsx tools/report-screenshot.ts runs/rank-recovery/report.html out.png [#heatmap]`;
// with a CSS selector, the picture ends below that element (docs/report-screenshot.png: `#heatmap`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumMissing, launchHeadlessChromium, pageRunView } from '@adalora/test-support';

const [report, png, until] = process.argv.slice(2);
if (!report || !png) {
  console.error('usage: tsx tools/report-screenshot.ts <report.html> <out.png> [css selector to end below]');
  process.exit(2);
}
const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'report-screenshot-'));
const browser = await launchHeadlessChromium(dir);
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  await page.setOfflineMode(true);
  await page.goto(pathToFileURL(resolve(report)).href);
  await page.waitForSelector('body[data-ready=report]', { timeout: 30_000 });
  const view = await pageRunView(page);
  const end = until ? await page.$eval(until, (e) => (e as unknown as { getBoundingClientRect(): { bottom: number } }).getBoundingClientRect().bottom) : null;
  if (end === null) await page.screenshot({ path: png, fullPage: true });
  else await page.screenshot({ path: png, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(end) + 8 } });
  console.log(`${png}: ${view.steps} steps, ${view.cells.length} heatmap cells; final kept ranks ${JSON.stringify(view.current)}`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
