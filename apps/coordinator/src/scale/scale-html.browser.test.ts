import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import type { ScaleReport } from './scale-report';
import { scaleHtml } from './scale-html';
import { scaleTable } from './scale-table';
import type { StepRecord } from './step-record';

// Debian's Chromium, as CI installs it (puppeteer-core never downloads a browser)
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const step = (totalMs: number, computeMs: number): StepRecord => ({
  samples: 32,
  totalMs,
  computeMs,
  sumMs: null,
  optimizerMs: 5,
  allocationMs: null,
  encodeMs: null,
  transferMs: 2,
  waitMs: totalMs - computeMs - 7,
  bytesIn: null,
  bytesOut: null,
});

test('scale.html opens offline in Chromium: both charts drawn, with their series, no request leaves the file, no script error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-scale-html-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const measurements = [1, 2, 4, 8].map((workers) => ({ workers, steps: [step(100 / workers + 10, 80 / workers), step(110 / workers + 10, 90 / workers)] }));
  const report: ScaleReport = {
    tool: 'adalora scale',
    date: '2026-12-02T05:00:00.000Z',
    source: 'local workers (child processes)',
    warmupSteps: 1,
    measuredSteps: 2,
    config: { file: null, set: [] },
    rows: scaleTable(measurements),
    steps: measurements.map((m) => ({ workers: m.workers, records: m.steps })),
  };
  const file = join(dir, 'scale.html');
  writeFileSync(file, scaleHtml(report));
  const url = pathToFileURL(file).href;

  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    const elsewhere: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url() === url || r.url().startsWith('data:')) return void r.continue();
      elsewhere.push(r.url());
      void r.abort();
    });
    await page.goto(url, { waitUntil: 'load' });
    // page code as text: this project compiles without the DOM's types
    await page.waitForFunction("document.querySelectorAll('.uplot canvas').length === 2", { timeout: 60_000 });
    t.deepEqual(errors, []);
    t.deepEqual(elsewhere, []);
    const charts = (await page.evaluate(`[...document.querySelectorAll('.uplot')].map((el) => {
      const c = el.querySelector('canvas');
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let painted = 0; // a drawn chart has pixels that are not transparent
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
      return {
        title: el.querySelector('.u-title')?.textContent ?? '',
        legend: [...el.querySelectorAll('.u-legend .u-label')].map((l) => l.textContent ?? ''),
        painted,
      };
    })`)) as { title: string; legend: string[]; painted: number }[];
    t.is(charts.length, 2);
    t.is(charts[0].title, 'Throughput and efficiency against workers');
    t.deepEqual(charts[0].legend, ['workers', 'samples/s', 'ideal', 'efficiency %']);
    t.is(charts[1].title, 'Step time split (median ms per step)');
    // top of the stack first; sum, allocation and encode were not measured
    t.deepEqual(charts[1].legend, ['workers', 'wait', 'transfer', 'optimizer', 'compute']);
    for (const c of charts) t.true(c.painted > 1000, `${c.title}: drawn`);
  } finally {
    await browser.close();
  }
});
