// The universal-login SPA in real headless Chromium against the real worker: first login
// enrols an authenticator app from the QR page, later logins ask for the code, wrong codes
// are explained, and the code that comes back is redeemed by openid-client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { newState, startWorker, admin } from '../lib/worker.mjs';
import { Account } from '../lib/login.mjs';
import { base32Decode } from '../lib/totp.mjs';
import { axe, launch, open, shot } from '../lib/browser.mjs';

const CALLBACK = 'https://rp.example.com/callback';
let worker, state, browser, config, app;

before(async () => {
  state = newState();
  worker = await startWorker(state);
  const created = (await admin(worker, 'POST', '/applications', { name: 'Payroll', application_type: 'amazon_cognito_mfa', allowed_callback_urls: [CALLBACK] })).body;
  app = { ...created, secret: (await admin(worker, 'GET', `/applications/${created.client_id}/secret`)).body.client_secret };
  config = await client.discovery(new URL(worker.url), app.client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(app.secret), { execute: [client.allowInsecureRequests] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  state?.cleanup();
});

async function begin(account) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CALLBACK, scope: 'openid', nonce, login_hint: account.username,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  // The relying party's callback is not on this machine: answer it here.
  await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>back at the application</h1>' }));
  await open(page, url.href, worker);
  return { page, context, verifier, nonce };
}

async function redeem(page, verifier, nonce) {
  await page.waitForURL(`${CALLBACK}**`);
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
  return tokens.claims();
}

test('first login enrols an authenticator app, the second asks for its code', async () => {
  const account = new Account('ada@example.com');
  {
    const { page, context, verifier, nonce } = await begin(account);
    // Focus follows the step: the new step's heading, for keyboard and screen-reader users.
    await page.waitForFunction(() => document.activeElement?.tagName === 'H2');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Choose how you will sign in');
    await page.getByRole('button', { name: /^Authenticator app/ }).click();
    await page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.textContent === 'Set up an authenticator app');
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await shot(page, 'login-enrol-totp');
    const key = (await page.locator('code.secret').textContent()).trim();
    account.seed = base32Decode(key);
    // The key for a phone's authenticator app on this device, and for the clipboard.
    const link = new URL(await page.locator('#otpauth-link').getAttribute('href'));
    assert.equal(`${link.protocol}//${link.host}`, 'otpauth://totp');
    assert.equal(link.searchParams.get('secret'), key);
    assert.equal(link.searchParams.get('issuer'), 'Payroll', 'the application, not the provider');
    // The person sees the application's name, never the provider's.
    assert.equal(await page.title(), 'Sign in to Payroll');
    assert.ok(!(await page.locator('body').textContent()).includes('Biopass'));
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: worker.url });
    await page.getByRole('button', { name: 'Copy the key' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
    await page.getByLabel('6-digit code from the app').fill('000000' === (await account.nextCode()) ? '111111' : '000000');
    account.lastStep -= 1;
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
    await shot(page, 'login-enrol-wrong-code');
    await page.getByLabel('6-digit code from the app').fill(await account.nextCode());
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    const claims = await redeem(page, verifier, nonce);
    assert.equal(claims.preferred_username, 'ada@example.com');
    await context.close();
  }
  {
    const { page, context, verifier, nonce } = await begin(account);
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await shot(page, 'login-totp');
    await page.getByLabel('6-digit code from your authenticator app').fill(await account.nextCode());
    await page.getByRole('button', { name: 'Sign in' }).click();
    const claims = await redeem(page, verifier, nonce);
    assert.equal(claims.preferred_username, 'ada@example.com');
    await context.close();
  }
  {
    // Having proved who they are with the code, a person may go on to add a face, or skip
    // it and finish signing in (their camera failed, they changed their mind).
    const { page, context, verifier, nonce } = await begin(account);
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    const add = page.getByLabel('Also set up your face after this sign-in');
    assert.equal(await add.isChecked(), false);
    await add.check();
    await axe(page, 'login-totp-add-face');
    await page.getByLabel('6-digit code from your authenticator app').fill(await account.nextCode());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Set up face sign-in' }).waitFor();
    assert.ok(!page.url().startsWith(CALLBACK), 'the sign-in goes on to the enrolment');
    await axe(page, 'login-add-face-skippable');
    await page.getByRole('button', { name: 'Skip this and finish signing in' }).click();
    const claims = await redeem(page, verifier, nonce);
    assert.deepEqual(claims.amr, ['otp']);
    await context.close();
  }
});

test('an expired or finished transaction is explained, not a blank page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await open(page, `${worker.url}/login?tx=${'A'.repeat(43)}`, worker);
  await page.getByRole('alert').filter({ hasText: 'expired' }).waitFor();
  await shot(page, 'login-expired');
  await context.close();
});
