import type { Page } from 'puppeteer-core';

/** One cell of the status page's rank heatmap, as its data attributes say. */
export interface PageHeatmapCell {
  readonly module: string;
  readonly step: number;
  readonly rank: number;
}

/** What a loaded status page or report shows. */
export interface PageView {
  /** the number of steps the page drew (body data-steps) */
  readonly steps: number;
  readonly cells: PageHeatmapCell[];
  /** the "now" column: current kept rank per matrix */
  readonly current: Record<string, number>;
  /** each uPlot chart's series lengths (x first) */
  readonly charts: Record<string, number[]>;
}

// runs in the page (the workspace compiles without the DOM types, so it is sent as text)
const READ_PAGE = `(() => {
  const cells = [...document.querySelectorAll('#heatmap rect.cell')].map((r) => ({ module: r.getAttribute('data-module'), step: Number(r.getAttribute('data-step')), rank: Number(r.getAttribute('data-rank')) }));
  const current = Object.fromEntries([...document.querySelectorAll('#heatmap rect.current')].map((r) => [r.getAttribute('data-module'), Number(r.getAttribute('data-rank'))]));
  const charts = Object.fromEntries(Object.entries(window.adaloraCharts).map(([name, u]) => [name, u.data.map((s) => s.length)]));
  return { steps: Number(document.body.getAttribute('data-steps')), cells, current, charts };
})()`;

/** Reads the heatmap cells, current ranks and chart series lengths from a loaded status page or report. */
export function pageRunView(page: Page): Promise<PageView> {
  return page.evaluate(READ_PAGE) as Promise<PageView>;
}
