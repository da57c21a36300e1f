import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's `chromium` package (what .ci/run installs); puppeteer-core never downloads a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} is absent (apt-get install chromium; .ci/run installs it)`;
}

/**
 * Headless Chromium with a fresh profile in `dir` (no sandbox: CI runs as root; nothing in the
 * background that would reach the network).
 */
export function launchHeadlessChromium(dir: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    userDataDir: mkdtempSync(join(dir, 'chromium-profile-')),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}
