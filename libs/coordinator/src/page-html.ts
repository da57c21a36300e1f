import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { RunView } from './run-view';

/** The page's own script and style, and uPlot's, read once from this package and node_modules (never a CDN: clusters are often offline). */
const assets = (() => {
  let cached: { readonly uplotJs: string; readonly uplotCss: string; readonly pageJs: string; readonly pageCss: string } | null = null;
  return () => {
    if (cached) return cached;
    const require = createRequire(import.meta.url);
    const read = (path: string) => readFileSync(path, 'utf8');
    cached = {
      uplotJs: read(require.resolve('uplot/dist/uPlot.iife.min.js')),
      uplotCss: read(require.resolve('uplot/dist/uPlot.min.css')),
      pageJs: read(fileURLToPath(new URL('./page/page.js', import.meta.url))),
      pageCss: read(fileURLToPath(new URL('./page/page.css', import.meta.url))),
    };
    return cached;
  };
})();

/** Text that cannot end the <script> or <style> element it is put in. */
function inline(text: string): string {
  return text.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/**
 * The status page as one HTML document with every script and style inline. With `view`, the
 * run's data is embedded (the report: opens offline, from a file); without, the page polls the
 * coordinator's `/status/run.json` (the live page).
 */
export function statusPageHtml(title: string, view: RunView | null): string {
  const a = assets();
  const data = view ? `<script type="application/json" id="run-data">${JSON.stringify(view).replace(/</g, '\\u003c')}</script>\n` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[&<>"]/g, '')}</title>
<style>${inline(a.uplotCss)}</style>
<style>${inline(a.pageCss)}</style>
</head><body>
<div id="app"></div>
${data}<script>${inline(a.uplotJs)}</script>
<script>${inline(a.pageJs)}</script>
</body></html>
`;
}
