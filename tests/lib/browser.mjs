// Headless Debian Chromium driven by playwright-core (no browser download), with the flags
// that work as root on these machines. Screenshots go to tests/out/ (not committed).
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './worker.mjs';

export const OUT = join(ROOT, 'tests', 'out');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export async function launch(extraArgs = []) {
  mkdirSync(OUT, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

export async function shot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

/** Asserts axe-core finds no serious or critical accessibility violation; saves a screenshot. */
export async function axe(page, name) {
  // Evaluated through the DevTools protocol, not added as a <script>: the pages' CSP
  // allows no inline script, and must not be loosened for a test.
  await page.evaluate(readFileSync(AXE, 'utf8'));
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${name}`);
  await shot(page, name);
}
