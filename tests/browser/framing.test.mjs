// The pages' Content-Security-Policy and framing defence, in Chromium: every page of
// Biopass refuses to be framed by another site (clickjacking a live sign-in step), and the
// SPA itself still runs under the policy (the other browser and camera suites run the
// console, the login page, the face Web Worker and the wasm under it too).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { newState, startWorker } from '../lib/worker.mjs';
import { launch } from '../lib/browser.mjs';

let worker, state, browser, attacker;

before(async () => {
  state = newState();
  worker = await startWorker(state);
  browser = await launch();
  // Another site that frames Biopass pages, nearly invisible over its own button.
  attacker = createServer((req, res) => {
    const target = new URL(req.url, 'http://x').searchParams.get('frame');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><button>Win a prize</button><iframe id="f" style="opacity:0.01" src="${worker.url}${target}"></iframe>`);
  });
  await new Promise((r) => attacker.listen(0, '127.0.0.1', r));
});

after(async () => {
  await browser?.close();
  await new Promise((r) => attacker?.close(r));
  await worker?.stop();
  state?.cleanup();
});

for (const path of ['/login?tx=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/console', '/authorize?client_id=x']) {
  test(`${path.split('?')[0]} cannot be framed by another site`, async () => {
    const direct = await fetch(`${worker.url}${path}`, { redirect: 'manual' });
    const csp = direct.headers.get('content-security-policy') || '';
    assert.match(csp, /frame-ancestors 'none'/, `${path}: ${csp}`);
    assert.equal(direct.headers.get('x-frame-options'), 'DENY');
    // Scripts from this origin only, or none at all (the error pages).
    assert.ok(/script-src 'self'( 'wasm-unsafe-eval')?;/.test(csp) || (/default-src 'none'/.test(csp) && !/script-src/.test(csp)), csp);
    assert.match(csp, /object-src 'none'|default-src 'none'/);
    assert.match(csp, /base-uri 'none'/);
    const page = await browser.newPage();
    const blocked = [];
    page.on('console', (m) => { if (/frame-ancestors|Refused to display/.test(m.text())) blocked.push(m.text()); });
    await page.goto(`http://127.0.0.1:${attacker.address().port}/?frame=${encodeURIComponent(path)}`);
    await page.waitForTimeout(1500);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(frame, 'the iframe exists');
    // A refused frame holds Chromium's error page, not Biopass: nothing to click.
    const content = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
    assert.ok(!/Biopass|sign in|Sign in|code/i.test(content), `the framed page rendered: ${content.slice(0, 200)}`);
    assert.ok(frame.url() === 'chrome-error://chromewebdata/' || blocked.length > 0, `frame at ${frame.url()}, console: ${blocked.join(' | ')}`);
    await page.close();
  });
}

test('the SPA starts under the policy (no inline script, wasm allowed)', async () => {
  const page = await browser.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) violations.push(m.text()); });
  await page.goto(`${worker.url}/console`);
  await page.getByRole('heading').first().waitFor({ timeout: 20_000 });
  assert.deepEqual(violations, []);
  await page.close();
});
