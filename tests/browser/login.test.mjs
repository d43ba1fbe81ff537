// The universal-login SPA in real headless Chromium against the real worker: first login
// enrols an authenticator app from the QR page, later logins ask for the code, wrong codes
// are explained, and the code that comes back is redeemed by openid-client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { newState, startWorker, admin } from '../lib/worker.mjs';
import { Account } from '../lib/login.mjs';
import { base32Decode } from '../lib/totp.mjs';
import { axe, launch, open, saveRecoveryCodes, shot } from '../lib/browser.mjs';
import { png } from '../lib/png.mjs';

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

async function begin(account, contextOptions = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CALLBACK, scope: 'openid', nonce, login_hint: account.username,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  // The relying party's callback is not on this machine: answer it here.
  await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>back at the application</h1>' }));
  await open(page, url.href, worker);
  return { page, context, verifier, nonce };
}

/** From the code step, "Use a recovery code instead" (checked with axe), and `code` sent. */
async function answerWithRecoveryCode(page, code) {
  await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
  await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
  await page.getByRole('heading', { name: 'Use a recovery code' }).waitFor();
  await axe(page, 'login-recovery-code');
  await page.getByLabel('Recovery code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
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
    // The first enrolment shows the recovery codes once, before going back.
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await axe(page, 'login-recovery-codes');
    assert.ok(!page.url().startsWith(CALLBACK));
    await page.getByRole('button', { name: 'Copy the codes' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard' }).waitFor();
    account.recoveryCodes = await saveRecoveryCodes(page);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), account.recoveryCodes.join('\n'));
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
    const add = page.getByLabel('Also set up your face or make new recovery codes after this sign-in');
    assert.equal(await add.isChecked(), false);
    await add.check();
    await axe(page, 'login-totp-add-face');
    await page.getByLabel('6-digit code from your authenticator app').fill(await account.nextCode());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Add a way to sign in' }).waitFor();
    await page.getByRole('button', { name: /^Face/ }).click();
    await page.getByRole('heading', { name: 'Set up face sign-in' }).waitFor();
    assert.ok(!page.url().startsWith(CALLBACK), 'the sign-in goes on to the enrolment');
    await axe(page, 'login-add-face-skippable');
    await page.getByRole('button', { name: 'Skip this and finish signing in' }).click();
    const claims = await redeem(page, verifier, nonce);
    assert.deepEqual(claims.amr, ['otp']);
    await context.close();
  }
  {
    // The usual way fails (a lost phone): one of the recovery codes gets the person in, once.
    const { page, context, verifier, nonce } = await begin(account);
    await answerWithRecoveryCode(page, account.recoveryCodes[0].toLowerCase().replace('-', ' '));
    const claims = await redeem(page, verifier, nonce);
    assert.deepEqual(claims.amr, ['otp']);
    await context.close();
  }
  {
    // A used code is refused; having proved the app, the person makes new codes, which
    // replace the old ones.
    const { page, context, verifier, nonce } = await begin(account);
    await answerWithRecoveryCode(page, account.recoveryCodes[0]);
    await page.getByRole('alert').filter({ hasText: 'already used' }).waitFor();
    await page.getByRole('button', { name: 'Use your authenticator app instead' }).click();
    await page.getByLabel('Also set up your face or make new recovery codes after this sign-in').check();
    await page.getByLabel('6-digit code from your authenticator app').fill(await account.nextCode());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Add a way to sign in' }).waitFor();
    await page.getByRole('button', { name: /^New recovery codes/ }).click();
    await page.getByRole('heading', { name: 'Make new recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Make new codes' }).click();
    const fresh = await saveRecoveryCodes(page);
    assert.ok(fresh.every((c) => !account.recoveryCodes.includes(c)), 'new codes');
    const claims = await redeem(page, verifier, nonce);
    assert.deepEqual(claims.amr, ['otp']);
    await context.close();
    const user = (await admin(worker, 'GET', `/users/${claims.sub}`)).body;
    assert.equal(user.authenticators.recovery_codes, 10, 'the new ten, and none of the old');
  }
});

/** PUT the application's logo with raw bytes, as the console does. */
async function putLogo(bytes) {
  const r = await fetch(`${worker.url}/admin/api/applications/${app.client_id}/logo`, {
    method: 'PUT', headers: { authorization: `Bearer ${worker.adminToken}`, 'content-type': 'application/octet-stream' }, body: bytes,
  });
  return { status: r.status, body: await r.json() };
}

test("an application's logo: only a PNG, JPEG or WebP image is taken, served as one, and shown on its login page", async () => {
  for (const [what, bytes] of [
    ['an HTML page', Buffer.from('<html><script>alert(1)</script></html>')],
    ['an SVG image', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ['nothing', Buffer.alloc(0)],
    ['a PNG over 64 KB', Buffer.concat([png(4, 4), Buffer.alloc(70_000)])],
  ]) {
    const r = await putLogo(bytes);
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'invalid_input', what);
    assert.equal(r.body.field, 'logo', what);
  }
  assert.equal((await admin(worker, 'GET', `/applications/${app.client_id}`)).body.logo_url, undefined, 'nothing stored');
  const image = png(24, 12);
  const set = await putLogo(image);
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const url = set.body.logo_url;
  assert.match(url, new RegExp(`^/api/logo/${app.client_id}\\?v=[0-9a-f]{16}$`));
  // Served as the image its bytes are, with nothing to run, cached while the URL is current.
  const served = await fetch(`${worker.url}${url}`);
  assert.equal(served.status, 200);
  assert.equal(served.headers.get('content-type'), 'image/png');
  assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
  assert.match(served.headers.get('content-security-policy'), /default-src 'none'; sandbox/);
  assert.match(served.headers.get('cache-control'), /immutable/);
  assert.deepEqual(Buffer.from(await served.arrayBuffer()), image);
  const audit = (await admin(worker, 'GET', '/audit')).body.items;
  assert.ok(audit.some((e) => e.action === 'applications.logo.update' && e.target === app.client_id && e.target_name === 'Payroll'), 'the change is in the audit log');
  // The person signing in sees it above the application's name.
  const { page, context } = await begin(new Account('logo-viewer@example.com'));
  const logo = page.getByRole('img', { name: 'Payroll logo' });
  await logo.waitFor();
  await page.waitForFunction(() => document.querySelector('img.app-logo')?.complete);
  assert.deepEqual(await logo.evaluate((img) => [img.naturalWidth, img.naturalHeight]), [24, 12], 'the image loaded (the CSP allows it)');
  await axe(page, 'login-with-logo');
  await shot(page, 'login-with-logo');
  await context.close();
  // Removed: gone from the settings, from its URL and from the next sign-in.
  assert.equal((await admin(worker, 'DELETE', `/applications/${app.client_id}/logo`)).status, 200);
  assert.equal((await admin(worker, 'GET', `/applications/${app.client_id}`)).body.logo_url, undefined);
  assert.equal((await fetch(`${worker.url}${url}`)).status, 404);
  const again = await begin(new Account('logo-viewer-2@example.com'));
  await again.page.getByRole('heading', { name: 'Sign in to Payroll' }).waitFor();
  assert.equal(await again.page.locator('img.app-logo').count(), 0);
  await again.context.close();
});

test("the page speaks the first of the browser's languages it knows, English otherwise; the whole sign-in works in it", async () => {
  const account = new Account('greta@example.com');
  {
    // Swiss German first: the page is German, marked so for screen readers.
    const { page, context, verifier, nonce } = await begin(account, { locale: 'de-CH' });
    await page.getByRole('heading', { name: 'Bei Payroll anmelden' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    assert.equal(await page.title(), 'Bei Payroll anmelden');
    await page.getByRole('heading', { name: 'Wählen Sie, wie Sie sich anmelden' }).waitFor();
    await axe(page, 'login-de-choose');
    await page.getByRole('button', { name: /^Authenticator-App/ }).click();
    await page.getByRole('heading', { name: 'Authenticator-App einrichten' }).waitFor();
    account.seed = base32Decode((await page.locator('code.secret').textContent()).trim());
    // The worker's own answers are German too (the browser's Accept-Language).
    await page.getByLabel('6-stelliger Code aus der App').fill('000000' === (await account.nextCode()) ? '111111' : '000000');
    account.lastStep -= 1;
    await page.getByRole('button', { name: 'Bestätigen und anmelden' }).click();
    await page.getByRole('alert').filter({ hasText: 'Dieser Code ist nicht richtig. Prüfen Sie die Uhr Ihres Geräts und geben Sie den aktuellen Code ein. Noch 4 Versuche.' }).waitFor();
    await page.getByLabel('6-stelliger Code aus der App').fill(await account.nextCode());
    await page.getByRole('button', { name: 'Bestätigen und anmelden' }).click();
    await page.getByRole('heading', { name: 'Speichern Sie Ihre Wiederherstellungscodes' }).waitFor();
    await axe(page, 'login-de-recovery-codes');
    assert.equal(await page.getByRole('button', { name: 'Weiter' }).isDisabled(), true);
    await page.getByLabel('Ich habe diese Codes gespeichert').check();
    await page.getByRole('button', { name: 'Weiter' }).click();
    const claims = await redeem(page, verifier, nonce);
    assert.equal(claims.preferred_username, 'greta@example.com');
    await context.close();
  }
  {
    // A language the page does not speak, then English: English.
    const { page, context } = await begin(account, { locale: 'fr-FR' });
    await page.getByRole('heading', { name: 'Sign in to Payroll' }).waitFor();
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
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
