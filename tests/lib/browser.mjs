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

/** How long a navigation may take before it fails, and before it is reported as slow. */
const NAVIGATION_MS = 90_000;
const SLOW_MS = 10_000;
/** How long one request may go unanswered, with nothing in the worker's log for it, before
 * the navigation counts as stalled in the local server rather than slow. */
const STALLED_MS = 30_000;

/**
 * Navigates like page.goto (up to 90 s: a loaded machine is not a failure of the product,
 * and speed is measured in benchmarks). A navigation still waiting after 10 s prints, and a
 * failing one adds to its error, the page's requests still unanswered and the worker's last
 * log lines, so a run on another machine says where it waited.
 *
 * One case is not the product's: `wrangler dev` sometimes never answers one request to the
 * local server (its proxy in front of the runtime loses a pooled connection when both ends'
 * 5 s keep-alive timers fire together; cloudflare/workers-sdk#14641 and #15252). When a
 * request has waited 30 s and the worker's log has not grown for as long, the page is
 * reloaded once (or, when nothing was committed yet, the navigation is sent again once), and
 * the run says so in its output. Everything else fails as before.
 */
export async function open(page, url, worker, options = {}) {
  const pending = new Map();
  const logLength = () => (worker?.output?.() ?? '').length;
  let quietSince = Date.now();
  let lastLength = logLength();
  const started = (r) => pending.set(r, Date.now());
  const ended = (r) => pending.delete(r);
  page.on('request', started);
  page.on('requestfinished', ended);
  page.on('requestfailed', ended);
  const t0 = Date.now();
  const report = () => {
    const waiting = [...pending].map(([r, at]) => `  ${r.method()} ${r.url().slice(0, 120)} (sent at +${at - t0} ms)`);
    const log = (worker?.output?.() ?? '').trimEnd().split('\n').slice(-25).map((l) => `  | ${l}`);
    return `unanswered requests:\n${waiting.join('\n') || '  none'}\nthe worker's last log lines:\n${log.join('\n')}`;
  };
  const stalled = () => {
    const now = Date.now();
    if (logLength() !== lastLength) [lastLength, quietSince] = [logLength(), now];
    return now - quietSince >= STALLED_MS && [...pending.values()].some((at) => now - at >= STALLED_MS);
  };
  const slow = setTimeout(() => console.log(`# navigation to ${url.slice(0, 80)} still waiting after ${SLOW_MS} ms\n${report()}`), SLOW_MS);
  let watch;
  const stall = new Promise((resolve) => {
    watch = setInterval(() => { if (stalled()) resolve('stalled'); }, 1_000);
  });
  try {
    const navigation = page.goto(url, { timeout: NAVIGATION_MS, ...options });
    const first = await Promise.race([navigation, stall]);
    if (first !== 'stalled') return first;
    navigation.catch(() => {});
    // Nothing committed yet (the page is still about:blank): a reload would load about:blank
    // again, so the navigation itself is sent again; otherwise the page committed is reloaded
    // (sending `url` again would repeat what the worker did process, like a spent request URI).
    const committed = page.url() !== 'about:blank';
    console.log(`# the local server left a request unanswered for ${STALLED_MS} ms with nothing in its log; ${committed ? `reloading ${page.url().slice(0, 80)}` : `sending ${url.slice(0, 80)} again`} once\n${report()}`);
    clearInterval(watch);
    pending.clear();
    return await (committed ? page.reload({ timeout: NAVIGATION_MS, ...options }) : page.goto(url, { timeout: NAVIGATION_MS, ...options }));
  } catch (e) {
    e.message += `\n${report()}`;
    throw e;
  } finally {
    clearTimeout(slow);
    clearInterval(watch);
    page.off('request', started);
    page.off('requestfinished', ended);
    page.off('requestfailed', ended);
  }
}

/**
 * The page after a first enrolment: the new recovery codes, shown once. Checks there are ten
 * of the form XXXXX-XXXXX and that Continue waits for "I have saved these codes"; ticks it
 * and continues, as a person does. Returns the codes.
 */
export async function saveRecoveryCodes(page) {
  await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor({ timeout: 60_000 });
  const codes = await page.locator('#recovery-codes li').allInnerTexts();
  assert.equal(codes.length, 10, JSON.stringify(codes));
  assert.ok(codes.every((c) => /^[0-9A-Z]{5}-[0-9A-Z]{5}$/.test(c.trim())), JSON.stringify(codes));
  const next = page.getByRole('button', { name: 'Continue' });
  assert.equal(await next.isDisabled(), true, 'Continue waits until the codes are saved');
  await page.getByLabel('I have saved these codes').check();
  await next.click();
  return codes.map((c) => c.trim());
}

/**
 * Waits for `page` to reach `url` (a glob, e.g. the client's callback); recovery codes shown
 * on the way (after a first enrolment) are saved with [`saveRecoveryCodes`]. Returns the
 * codes, or null when none were shown.
 */
export async function reachCallback(page, url, timeout = 90_000) {
  const arrived = page.waitForURL(url, { timeout }).then(() => 'arrived');
  const shown = page.locator('#recovery-codes').waitFor({ timeout }).then(() => 'codes', () => null);
  if ((await Promise.race([arrived, shown])) === 'codes') {
    const codes = await saveRecoveryCodes(page);
    await arrived;
    return codes;
  }
  return null;
}
