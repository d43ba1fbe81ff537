// The admin console in real headless Chromium against the real worker: the one-time
// bootstrap link, sign-in through the universal login, every box of the product page, and
// axe-core on every page (no serious or critical violation). Screenshots go to tests/out/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { newState, startWorker, admin } from '../lib/worker.mjs';
import { Account, loginWithTotp, startLogin } from '../lib/login.mjs';
import { base32Decode } from '../lib/totp.mjs';
import { axe as checkA11y, launch, open, saveRecoveryCodes, shot } from '../lib/browser.mjs';
import { png } from '../lib/png.mjs';

const CALLBACK = 'https://payroll.example.com/cb';
let worker, state, browser, context, page;
const root = new Account('root');

before(async () => {
  state = newState();
  worker = await startWorker(state);
  browser = await launch();
  context = await browser.newContext();
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  state?.cleanup();
});

const axe = (name) => checkA11y(page, `console-${name}`);

async function appByName(name) {
  return (await admin(worker, 'GET', '/applications')).body.find((a) => a.name === name);
}

test('the one-time link creates the first admin, who signs in through the universal login', async () => {
  await open(page, `${worker.url}/console`, worker);
  await page.getByLabel('Administrator user name').waitFor();
  await axe('sign-in');
  await page.goto('about:blank');
  const check = (token) => fetch(`${worker.url}/admin/api/session/bootstrap/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  let checked = await check(worker.adminToken);
  assert.equal(checked.status, 200);
  assert.deepEqual(await checked.json(), { usable: true });
  assert.equal((await check('not-the-token')).status, 401);
  await open(page, `${worker.url}/console#bootstrap=${worker.adminToken}`, worker);
  await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
  await axe('bootstrap');
  await page.getByLabel('User name').fill('root');
  await page.getByRole('button', { name: 'Create and continue' }).click();
  await page.getByRole('button', { name: /^Authenticator app/ }).click();
  await page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
  root.seed = base32Decode((await page.locator('code.secret').textContent()).trim());
  await page.getByLabel('6-digit code from the app').fill(await root.nextCode());
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await saveRecoveryCodes(page);
  await page.getByRole('heading', { name: 'Applications' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/console');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'bp_admin');
  assert.ok(session.httpOnly && session.sameSite === 'Strict');
  // The link is spent once an admin has an authenticator.
  const again = await fetch(`${worker.url}/admin/api/session/bootstrap`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: worker.adminToken, username: 'mallory' }) });
  assert.equal(again.status, 410);
  checked = await check(worker.adminToken);
  assert.equal(checked.status, 410);
  assert.equal((await checked.json()).error, 'expired');
  await axe('applications-empty');
  // The first Tab stop is a skip link past the navigation, to the page itself.
  await page.reload();
  await page.getByRole('heading', { name: 'Applications' }).waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to the page');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'main');
  assert.equal(new URL(page.url()).pathname, '/console', 'no route change');
  // A spent link says so before any form, and offers the sign-in; so does a wrong one.
  const other = await browser.newContext();
  let tab;
  for (const [token, words] of [[worker.adminToken, /already used/], ['not-the-token', /not valid/]]) {
    // A new tab each time: a fragment change alone is no new page load.
    tab = await other.newPage();
    await open(tab, `${worker.url}/console#bootstrap=${token}`, worker);
    await tab.getByRole('heading', { name: 'This admin link cannot be used' }).waitFor();
    assert.match(await tab.locator('#bootstrap-spent').textContent(), words);
    assert.equal(await tab.getByLabel('User name').count(), 0, 'no form that cannot succeed');
  }
  await checkA11y(tab, 'console-bootstrap-spent');
  await tab.getByRole('link', { name: 'Sign in to the console' }).click();
  await tab.getByLabel('Administrator user name').waitFor();
  await other.close();
});

test('state-changing calls need the CSRF token', async () => {
  const status = await page.evaluate(async () => (await fetch('/admin/api/groups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' })).status);
  assert.equal(status, 403);
});

test('create an application, callback URLs validated inline, secret reveal and rotation', async () => {
  // The form clears after a create; the link to what was created goes when it is deleted.
  await page.getByLabel('Name').fill('Scratch');
  await page.getByRole('button', { name: 'Create application' }).click();
  const scratch = page.getByRole('status').getByRole('link', { name: 'Scratch' });
  await scratch.waitFor();
  assert.equal(await page.getByLabel('Name').inputValue(), '');
  const row = page.getByRole('row').filter({ hasText: 'Scratch' });
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('button', { name: 'Confirm delete' }).click();
  await row.waitFor({ state: 'detached' });
  await scratch.waitFor({ state: 'detached' });
  await page.getByLabel('Name').fill('Payroll');
  await page.getByRole('button', { name: 'Create application' }).click();
  await page.getByRole('status').getByRole('link', { name: 'Payroll' }).click();
  await page.getByRole('heading', { name: 'Integration information' }).waitFor();
  const app = await appByName('Payroll');
  assert.ok(await page.getByText(app.client_id).isVisible());
  await axe('application-settings');

  const input = page.getByLabel('New callback URL');
  await input.fill('http://payroll.example.com/cb');
  await page.getByText('http is only allowed for localhost').waitFor();
  await page.getByRole('button', { name: 'Add URL' }).click();
  assert.deepEqual((await appByName('Payroll')).allowed_callback_urls, [], 'an invalid URL is not saved');
  await input.fill('https://*.example.com/cb');
  await page.getByText('wildcards are not allowed').waitFor();
  await input.fill(CALLBACK);
  await page.getByRole('button', { name: 'Add URL' }).click();
  await page.locator('ul.url-list code', { hasText: CALLBACK }).waitFor();
  await input.fill(CALLBACK);
  await page.getByText('already in the list').waitFor();
  await input.fill('http://localhost:3000/cb');
  await page.getByRole('button', { name: 'Add URL' }).click();
  await page.locator('ul.url-list code', { hasText: 'http://localhost:3000/cb' }).waitFor();
  await page.getByRole('button', { name: 'Remove http://localhost:3000/cb' }).click();
  await page.locator('ul.url-list code', { hasText: 'http://localhost:3000/cb' }).waitFor({ state: 'detached' });
  await expectEventually(async () => assert.deepEqual((await appByName('Payroll')).allowed_callback_urls, [CALLBACK]));

  await page.getByRole('button', { name: 'Reveal' }).click();
  const secret = (await admin(worker, 'GET', `/applications/${app.client_id}/secret`)).body.client_secret;
  await expectEventually(async () => assert.equal(await page.getByRole('textbox', { name: 'Client secret' }).inputValue(), secret));
  // The region of the Integration information box: Biopass has seen no stack yet, so the
  // administrator enters it; a name that is no AWS region is refused at its field.
  const region = page.getByRole('textbox', { name: 'Region of your stack' });
  await region.fill('Frankfurt');
  await page.getByRole('button', { name: 'Save region' }).click();
  await page.getByRole('alert').filter({ hasText: 'Enter an AWS region such as eu-west-1.' }).waitFor();
  assert.equal(await region.getAttribute('aria-invalid'), 'true');
  assert.equal((await appByName('Payroll')).aws_region, undefined, 'nothing stored');
  await region.fill('eu-central-1');
  await page.getByRole('button', { name: 'Save region' }).click();
  await page.getByText('Saved: eu-central-1.').waitFor();
  await expectEventually(async () => assert.equal((await appByName('Payroll')).aws_region, 'eu-central-1'));
  await axe('application-region');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByRole('alertdialog').waitFor();
  await axe('application-rotate-confirm');
  await page.getByRole('button', { name: 'Rotate now' }).click();
  const command = page.locator('.notice pre.command');
  await command.waitFor();
  const text = await command.textContent();
  const rotated = (await admin(worker, 'GET', `/applications/${app.client_id}/secret`)).body.client_secret;
  assert.notEqual(rotated, secret);
  assert.match(text, /^aws cloudformation update-stack --stack-name biopass-/);
  assert.ok(text.includes(`ParameterValue=${rotated}`));
  assert.ok(text.trim().endsWith('--region eu-central-1'), text);
  await shot(page, 'console-application-rotated');

  // Acceptable authenticators: either can be turned off, never the last one.
  const face = page.getByLabel('Face', { exact: true });
  const totp = page.getByLabel('Authenticator app (TOTP)');
  assert.deepEqual([await face.isChecked(), await totp.isChecked()], [true, true]);
  await face.uncheck();
  await expectEventually(async () => assert.deepEqual((await appByName('Payroll')).acceptable_authenticators, ['totp']));
  await page.getByText('At least one authenticator stays accepted.').waitFor();
  assert.equal(await totp.isDisabled(), true, 'the last accepted authenticator cannot be turned off');
  await axe('application-authenticators');
  await face.check();
  await expectEventually(async () => assert.deepEqual((await appByName('Payroll')).acceptable_authenticators, ['face', 'totp']));
  await expectEventually(async () => assert.equal(await totp.isDisabled(), false));
  // The update-stack command stays through the reloads those saves made, until dismissed;
  // after them the secret's copy button copies the new secret.
  assert.equal(await command.textContent(), text, 'still the rotation command');
  await page.getByRole('button', { name: 'Dismiss' }).click();
  await command.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Reveal' }).click();
  await expectEventually(async () => assert.equal(await page.getByRole('textbox', { name: 'Client secret' }).inputValue(), rotated));
  await page.getByRole('button', { name: 'Hide' }).click();

  // Face match assurance: three levels with their expected false non-match rate; the
  // default is FMR 1:10,000.
  const levels = page.getByRole('group', { name: 'Face match assurance' }).getByRole('radio');
  assert.equal(await levels.count(), 3);
  const standard = page.getByRole('radio', { name: /^FMR 1:10,000 \(default\)/ });
  assert.equal(await standard.isChecked(), true);
  await page.getByText(/FMR 1:100,000 — expected FNMR \d+\.\d %/).waitFor();
  await page.getByRole('radio', { name: /^FMR 1:100,000/ }).check();
  await expectEventually(async () => assert.equal((await appByName('Payroll')).face_assurance, 'fmr_1_in_100000'));
  // Every save says so in the page's polite status, which the settings' reload leaves in place.
  await page.locator('#save-status').filter({ hasText: 'Saved: face match assurance.' }).waitFor();
  assert.equal(await page.locator('#save-status').getAttribute('role'), 'status');
  await axe('application-face-assurance');

  // ID token signature: ES256 by default, RS256 on request.
  const algs = page.getByRole('group', { name: 'ID token signature' }).getByRole('radio');
  assert.equal(await algs.count(), 2);
  assert.equal(await page.getByRole('radio', { name: /^ES256/ }).isChecked(), true);
  await page.getByRole('radio', { name: /^RS256/ }).check();
  await expectEventually(async () => assert.equal((await appByName('Payroll')).id_token_signed_response_alg, 'RS256'));
  await page.locator('#save-status').filter({ hasText: 'Saved: ID token signature.' }).waitFor();
  await page.getByRole('radio', { name: /^ES256/ }).check();
  await expectEventually(async () => assert.equal((await appByName('Payroll')).id_token_signed_response_alg, 'ES256'));
});

test('client authentication: choosing a method and giving its key is one form with one save, for each method', async () => {
  // A fresh page: the saves of the test before reload the settings when their answers come,
  // which would reset a choice made meanwhile.
  await page.reload();
  await page.getByRole('heading', { name: 'Integration information' }).waitFor();
  const select = page.getByLabel('Method', { exact: true });
  const save = page.getByRole('button', { name: 'Save method' });
  const keyField = page.getByLabel(/public key \(JWK/);
  const storedMethod = async () => (await appByName('Payroll')).client_auth_method;
  assert.equal(await select.inputValue(), 'client_secret');
  assert.equal(await save.isDisabled(), true, 'nothing to save yet');
  // Public key: its field appears, and nothing is stored until Save, nor without a key.
  await select.selectOption('private_key_jwt');
  await keyField.waitFor();
  await page.getByText('Saved: Client ID and secret. Not changed until you save.').waitFor();
  assert.equal(await storedMethod(), 'client_secret');
  await save.click();
  await page.getByRole('alert').getByText("Paste the application's public key first.").waitFor();
  await keyField.fill('{"kty": "EC",');
  await save.click();
  await page.getByRole('alert').getByText('This is not valid JSON.').waitFor();
  assert.equal(await storedMethod(), 'client_secret', 'refused before anything was sent');
  const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  await keyField.fill(JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }));
  await save.click();
  await expectEventually(async () => {
    const stored = await appByName('Payroll');
    assert.equal(stored.client_auth_method, 'private_key_jwt');
    assert.equal(stored.public_key_jwk.x, jwk.x);
  });
  await page.getByText('Saved: Public key.', { exact: true }).waitFor();
  assert.equal(await select.inputValue(), 'private_key_jwt', 'the select shows what is stored');
  assert.equal(JSON.parse(await keyField.inputValue()).x, jwk.x, 'and the stored key');
  await axe('application-public-key');
  // JSON Web Token: no key field; saved with one click.
  await select.selectOption('client_secret_jwt');
  assert.equal(await keyField.count(), 0);
  await save.click();
  await expectEventually(async () => assert.equal(await storedMethod(), 'client_secret_jwt'));
  await page.getByText('Saved: JSON Web Token (JWT).', { exact: true }).waitFor();
  assert.equal(await select.inputValue(), 'client_secret_jwt');
  // And back to the secret.
  await select.selectOption('client_secret');
  await save.click();
  await expectEventually(async () => assert.equal(await storedMethod(), 'client_secret'));
  await page.getByText('Saved: Client ID and secret.', { exact: true }).waitFor();
  assert.equal(await save.isDisabled(), true);
});

test('a logo chosen from a file: refused when it is not an image, shown once uploaded, removed', async () => {
  await page.reload();
  await page.getByRole('heading', { name: 'Logo', exact: true }).waitFor();
  const file = page.locator('#logo-file');
  const upload = page.getByRole('button', { name: 'Upload logo' });
  await upload.click();
  await page.getByRole('alert').filter({ hasText: 'Choose an image file first.' }).waitFor();
  await file.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
  await upload.click();
  await page.getByRole('alert').filter({ hasText: 'the logo must be a PNG, JPEG or WebP image' }).waitFor();
  assert.equal((await appByName('Payroll')).logo_url, undefined, 'nothing stored');
  await file.setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png(30, 10) });
  await upload.click();
  await page.getByText('Saved: logo.', { exact: true }).waitFor();
  const preview = page.getByRole('img', { name: 'Payroll logo' });
  await preview.waitFor();
  await page.waitForFunction(() => document.querySelector('img.logo-preview')?.complete);
  assert.deepEqual(await preview.evaluate((i) => [i.naturalWidth, i.naturalHeight]), [30, 10]);
  assert.match((await appByName('Payroll')).logo_url, /^\/api\/logo\//);
  await axe('application-logo');
  await page.getByRole('button', { name: 'Remove logo' }).click();
  await page.getByText('Removed: logo.', { exact: true }).waitFor();
  await expectEventually(async () => assert.equal((await appByName('Payroll')).logo_url, undefined));
  await expectEventually(async () => assert.equal(await page.locator('img.logo-preview').count(), 0));
});

async function expectEventually(check, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    try { return await check(); } catch (e) { if (Date.now() > end) throw e; }
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('groups tab: assign another group and see its members; Cognito tab shows a recorded deployment', async () => {
  const finance = (await admin(worker, 'POST', '/groups', { name: 'Finance' })).body;
  // The tabs as the WAI-ARIA tabs pattern has them: one Tab stop, arrows, Home and End.
  const selected = async () => page.evaluate(() => [document.activeElement?.textContent, document.querySelector('[role=tab][aria-selected=true]')?.textContent,
    [...document.querySelectorAll('[role=tab]')].map((t) => t.tabIndex).join(' ')]);
  await page.getByRole('tab', { name: 'Settings' }).focus();
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await selected(), ['Groups', 'Groups', '-1 0 -1']);
  await page.keyboard.press('End');
  assert.deepEqual(await selected(), ['Cognito integration', 'Cognito integration', '-1 -1 0']);
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await selected(), ['Settings', 'Settings', '0 -1 -1'], 'wraps around');
  await page.keyboard.press('ArrowLeft');
  assert.deepEqual(await selected(), ['Cognito integration', 'Cognito integration', '-1 -1 0']);
  assert.equal(await page.getByRole('tabpanel').getAttribute('aria-labelledby'), 'tab-cognito');
  await page.getByRole('tab', { name: 'Groups' }).click();
  await page.getByRole('combobox', { name: 'Group', exact: true }).selectOption({ label: 'Finance' });
  const app = await appByName('Payroll');
  await expectEventually(async () => assert.equal((await appByName('Payroll')).group_id, finance.id));
  await axe('application-groups');

  // A Cognito login: the stack's pushed request with its context, then the user signs in.
  const secret = (await admin(worker, 'GET', `/applications/${app.client_id}/secret`)).body.client_secret;
  const config = await client.discovery(new URL(worker.url), app.client_id, { id_token_signed_response_alg: 'ES256' }, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid', login_hint: 'ada@example.com', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', cognito_user_pool_id: 'eu-west-1_Payroll', cognito_region: 'eu-west-1', aws_account_id: '123456789012' });
  await loginWithTotp(worker.url, url.href, new Account('ada@example.com'));

  await page.reload();
  await page.getByRole('tab', { name: 'Groups' }).click();
  await page.getByRole('listitem').filter({ hasText: 'ada@example.com' }).waitFor();
  await page.getByRole('tab', { name: 'Cognito integration' }).click();
  await page.getByRole('heading', { name: 'Previous deployments' }).waitFor();
  await page.getByRole('cell', { name: '123456789012' }).waitFor();
  await page.getByText('eu-west-1_Payroll').waitFor();
  // Once Biopass has seen the stack, its region is shown, no longer asked for.
  await page.getByRole('tab', { name: 'Settings' }).click();
  await page.getByRole('region', { name: 'Integration information' }).getByText('eu-west-1', { exact: true }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'Region of your stack' }).count(), 0);
  await page.getByRole('tab', { name: 'Cognito integration' }).click();
  const download = page.getByRole('link', { name: 'Deploy: download the template' });
  assert.match(await download.getAttribute('href'), /\/cognito\/template$/);
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  assert.match(file.suggestedFilename(), /^biopass-.*\.yaml$/);
  assert.match(await page.locator('pre.command').first().textContent(), /aws cloudformation create-stack/);
  await axe('application-cognito');
});

test('users: search, reset an enrolment, disable, delete with confirmation; groups page; audit log', async () => {
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Search by the start of a user name').fill('ada');
  const row = page.getByRole('row').filter({ hasText: 'ada@example.com' });
  await row.getByText('Authenticator app').waitFor();
  await row.getByRole('cell', { name: 'Finance' }).waitFor();
  await axe('users');
  // Her recovery codes (from her first enrolment) can be revoked, after a confirmation.
  await row.getByText('Recovery codes (10 left)').waitFor();
  await row.getByRole('button', { name: 'Revoke codes of ada@example.com' }).click();
  await page.getByRole('alertdialog').getByText(/^Revoke the recovery codes of ada@example\.com\? The codes they saved stop working/).waitFor();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke codes now' }).click();
  await row.getByText('Recovery codes').waitFor({ state: 'detached' });
  const revoked = (await admin(worker, 'GET', '/users?q=ada@')).body.items.find((u) => u.username === 'ada@example.com');
  assert.deepEqual([revoked.authenticators.totp, revoked.authenticators.recovery_codes], [true, 0], 'the codes revoked, the app kept');
  // Every action that takes something away asks first, naming what is lost.
  await row.getByRole('button', { name: 'Reset app for ada@example.com' }).click();
  await page.getByRole('alertdialog').getByText(/^Reset the authenticator app of ada@example\.com\?/).waitFor();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await admin(worker, 'GET', '/users?q=ada@')).body.items[0].authenticators.totp, true, 'Cancel resets nothing');
  await row.getByRole('button', { name: 'Reset app for ada@example.com' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Reset app now' }).click();
  await row.getByText('None enrolled').waitFor();
  const ada = (await admin(worker, 'GET', '/users?q=ada@')).body.items.find((u) => u.username === 'ada@example.com');
  assert.equal(ada.authenticators.totp, false);
  await row.getByRole('button', { name: 'Disable ada@example.com' }).click();
  await page.getByRole('alertdialog').getByText(/sessions, codes and tokens stop working at once/).waitFor();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Disable now' }).click();
  await row.getByText('Disabled').waitFor();
  // The last administrator who can sign in cannot be disabled, demoted or stripped.
  const rootId = (await admin(worker, 'GET', '/users?q=root')).body.items.find((u) => u.username === 'root').id;
  for (const [method, path, body] of [['PATCH', `/users/${rootId}`, { disabled: true }], ['PATCH', `/users/${rootId}`, { admin: false }], ['DELETE', `/users/${rootId}/authenticators/totp`]]) {
    const r = await admin(worker, method, path, body);
    assert.equal(r.status, 409, `${method} ${path}`);
    assert.match(r.body.message, /last administrator who can sign in/);
  }
  // Making someone an administrator asks first too.
  await row.getByRole('button', { name: 'Make administrator: ada@example.com' }).click();
  await page.getByRole('alertdialog').getByText(/^Make ada@example\.com an administrator\?/).waitFor();
  await axe('users-make-admin-confirm');
  await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await admin(worker, 'GET', '/users?q=ada@')).body.items[0].admin, false);

  await page.getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('cell', { name: 'Finance', exact: true }).waitFor();
  // Members are read when asked for, one page.
  await page.getByRole('button', { name: 'Show members of Finance' }).click();
  await page.getByRole('row').filter({ hasText: 'Finance' }).getByText(/ada@example\.com/).waitFor();
  // A refused name is said against its field and stays there to be corrected; a created
  // group is announced and the field clears.
  const groupName = page.getByLabel('New group');
  await groupName.fill('finance');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('alert').filter({ hasText: 'A group with this name exists.' }).waitFor();
  assert.equal(await groupName.inputValue(), 'finance');
  assert.equal(await groupName.getAttribute('aria-invalid'), 'true');
  assert.equal(await groupName.getAttribute('aria-describedby'), 'group-name-error');
  await axe('groups-refused-name');
  await groupName.fill('Legal');
  assert.equal(await page.locator('#group-name-error').count(), 0, 'typing clears the refusal');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('status').filter({ hasText: 'Created the group Legal.' }).waitFor();
  await page.getByRole('cell', { name: 'Legal', exact: true }).waitFor();
  assert.equal(await groupName.inputValue(), '');
  assert.equal(await groupName.getAttribute('aria-invalid'), null);
  await axe('groups');

  // Deleting asks first; Cancel keeps the user, Delete now erases them.
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Search by the start of a user name').fill('ada');
  const again = page.getByRole('row').filter({ hasText: 'ada@example.com' });
  await again.getByRole('button', { name: 'Delete ada@example.com' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.getByText(/^Delete ada@example\.com\?/).waitFor();
  await axe('users-delete-confirm');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.getByRole('alertdialog').count(), 0);
  assert.equal((await admin(worker, 'GET', '/users?q=ada@')).body.items.length, 1, 'Cancel deletes nothing');
  await again.getByRole('button', { name: 'Delete ada@example.com' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete now' }).click();
  await again.waitFor({ state: 'detached' });
  assert.equal((await admin(worker, 'GET', '/users?q=ada@')).body.items.length, 0);
  // An administrator has no Delete button (their role is removed first).
  await page.getByLabel('Search by the start of a user name').fill('root');
  await page.getByRole('row').filter({ hasText: 'root' }).getByRole('cell', { name: 'Administrator', exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: /^Delete root/ }).count(), 0);

  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('cell', { name: 'applications.secret.rotate' }).first().waitFor();
  await page.getByRole('cell', { name: 'login.success' }).first().waitFor();
  await page.getByRole('cell', { name: 'users.authenticators.delete' }).first().waitFor();
  await page.getByRole('cell', { name: 'users.delete', exact: true }).first().waitFor();
  assert.ok(await page.getByRole('cell', { name: 'admin:root' }).first().isVisible());
  await axe('audit');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Administrator user name').waitFor();
  const r = await page.evaluate(async () => (await fetch('/admin/api/applications')).status);
  assert.equal(r, 401);
});

test('an admin signs in again with their user name and code', async () => {
  await page.getByLabel('Administrator user name').fill('root');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
  await page.getByLabel('6-digit code from your authenticator app').fill(await root.nextCode());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Applications' }).waitFor();
  await page.getByRole('link', { name: 'Payroll' }).waitFor();
  await axe('applications');
});

test('audit log: filters searched by the server, names beside ids, what an update changed, CSV and JSON export', async () => {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
  const log = page.getByRole('region', { name: 'Audit log' });
  // An update says what it changed, and the application's name stands beside its id.
  const update = log.getByRole('row').filter({ hasText: 'applications.update' }).filter({ hasText: /changed: face_assurance = "/ }).first();
  await update.waitFor();
  assert.match(await update.textContent(), /Payroll/);
  // Filtered by the application's name (any case) and the action: every row matches.
  await page.getByLabel('Application or user').fill('payroll');
  await page.getByLabel('Action', { exact: true }).fill('applications.update');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('status').filter({ hasText: /matching/ }).waitFor();
  const rows = log.locator('tbody tr');
  const shown = await rows.allTextContents();
  assert.ok(shown.length >= 2, `${shown.length} rows`);
  for (const t of shown) assert.ok(/applications\.update/.test(t) && /Payroll/.test(t), t);
  await axe('audit-filtered');
  // The export downloads what the filters match, as CSV and as JSON.
  const csvHref = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  const csv = await page.request.get(`${worker.url}${csvHref}`);
  assert.equal(csv.status(), 200);
  assert.match(csv.headers()['content-type'], /^text\/csv/);
  assert.match(csv.headers()['content-disposition'], /attachment; filename="biopass-audit\.csv"/);
  const lines = (await csv.text()).trim().split('\r\n');
  assert.equal(lines[0], 'time,actor,action,outcome,target,target_name,detail,ip');
  assert.equal(lines.length - 1, shown.length);
  assert.ok(lines.slice(1).every((l) => l.includes(',applications.update,') && l.includes(',Payroll,')), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes(',success,') && l.includes('"changed: face_assurance = ""')), lines.join('\n'));
  const json = await page.request.get(`${worker.url}${await page.getByRole('link', { name: 'Export JSON' }).getAttribute('href')}`);
  const entries = await json.json();
  assert.equal(entries.length, shown.length);
  assert.ok(entries.every((e) => e.action === 'applications.update' && e.target_name === 'Payroll'));
  // Refused changes alone: each row says so.
  await page.getByLabel('Application or user').fill('');
  await page.getByLabel('Action', { exact: true }).fill('');
  await page.getByLabel('Outcome', { exact: true }).selectOption('refused');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('status').filter({ hasText: /matching/ }).waitFor();
  const refused = await log.locator('tbody tr').allTextContents();
  assert.ok(refused.length >= 1);
  for (const t of refused) assert.match(t, /Refused/);
  // The exports are in the log themselves.
  await page.getByRole('button', { name: 'Clear' }).click();
  await log.getByRole('row').filter({ hasText: 'audit.export' }).filter({ hasText: /entries as CSV/ }).first().waitFor();
  // A range that ends before it starts is refused, in words.
  await page.getByLabel('From', { exact: true }).fill('2026-01-02T00:00');
  await page.getByLabel('To', { exact: true }).fill('2026-01-01T00:00');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('alert').filter({ hasText: 'The start is after the end.' }).waitFor();
  await page.getByRole('button', { name: 'Clear' }).click();
});

test('users who never enrolled are marked and deleted together after a confirmation; enrolled users and administrators stay', async () => {
  // A first sign-in that stops before enrolment leaves its user behind.
  const app = await appByName('Payroll');
  const secret = (await admin(worker, 'GET', `/applications/${app.client_id}/secret`)).body.client_secret;
  const config = await client.discovery(new URL(worker.url), app.client_id, { id_token_signed_response_alg: 'ES256' }, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
  const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid', login_hint: 'ghost@example.com', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256', cognito_user_pool_id: 'eu-west-1_Payroll', cognito_region: 'eu-west-1', aws_account_id: '123456789012' });
  const { browser: b, tx } = await startLogin(worker.url, url.href);
  assert.equal((await b.json('GET', `/api/login/${tx}`)).body.step, 'enrol');
  const ghost = () => admin(worker, 'GET', '/users?q=ghost@').then((r) => r.body.items);
  assert.equal((await ghost()).length, 1);
  const before = (await admin(worker, 'GET', '/users')).body.items.filter((u) => u.username !== 'ghost@example.com');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).click();
  const row = page.getByRole('row').filter({ hasText: 'ghost@example.com' });
  await row.getByRole('cell', { name: 'Never enrolled', exact: true }).waitFor();
  // Registered less than a day ago: a cut-off of one day keeps them.
  const cleanup = page.getByRole('region', { name: 'Users who never enrolled' });
  await page.getByLabel('Registered more than this many days ago').fill('1');
  await cleanup.getByRole('button', { name: 'Delete users who never enrolled…' }).click();
  await cleanup.getByRole('alertdialog').getByText(/^Delete every user who never enrolled an authenticator and registered before /).waitFor();
  await axe('users-cleanup-confirm');
  await cleanup.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await ghost()).length, 1, 'Cancel deletes nothing');
  await cleanup.getByRole('button', { name: 'Delete users who never enrolled…' }).click();
  await cleanup.getByRole('button', { name: 'Delete them now' }).click();
  await cleanup.getByRole('status').filter({ hasText: 'No user was left to clean up.' }).waitFor();
  assert.equal((await ghost()).length, 1);
  // With no waiting time (registered before now, in whole seconds: a second later), they go;
  // nobody else does.
  await new Promise((r) => setTimeout(r, 1100));
  await page.getByLabel('Registered more than this many days ago').fill('0');
  await cleanup.getByRole('button', { name: 'Delete users who never enrolled…' }).click();
  await cleanup.getByRole('button', { name: 'Delete them now' }).click();
  const status = cleanup.getByRole('status').filter({ hasText: /Deleted|No user/ });
  await status.waitFor();
  assert.equal(await status.textContent(), 'Deleted 1 user who never enrolled.');
  await row.waitFor({ state: 'detached' });
  assert.equal((await ghost()).length, 0);
  const after = (await admin(worker, 'GET', '/users')).body.items;
  assert.deepEqual(after.map((u) => u.id).sort(), before.map((u) => u.id).sort());
  // Each deletion is in the audit log, with the name.
  const log = (await admin(worker, 'GET', '/audit?action=users.delete&target=ghost')).body.items;
  assert.equal(log.length, 1);
  assert.equal(log[0].target_name, 'ghost@example.com');
  assert.equal(log[0].detail, 'never enrolled: cleaned up');
});

test('a user page: status, groups, authenticators, last sign-in and recent activity', async () => {
  await open(page, `${worker.url}/console/users`, worker);
  await page.getByRole('link', { name: 'root', exact: true }).click();
  await page.getByRole('heading', { name: 'root', level: 1 }).waitFor();
  const about = await page.getByRole('region', { name: 'About' }).textContent();
  assert.match(about, /StatusAdministrator/);
  assert.match(about, /AuthenticatorsAuthenticator app/);
  assert.match(about, /Last sign-in\d{4}-\d{2}-\d{2} /, about);
  const recent = page.getByRole('region', { name: 'Recent activity' });
  await recent.getByRole('cell', { name: 'login.success' }).first().waitFor();
  await axe('user-page');
  await page.getByRole('link', { name: '← Users' }).click();
  await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
});

test('dark mode follows the system: the console is dark, readable (axe contrast) and the face capture stays white', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  try {
    await open(page, `${worker.url}/console`, worker);
    await page.getByRole('heading', { name: 'Applications' }).waitFor();
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await background(), 'rgb(13, 19, 33)');
    await axe('applications-dark');
    await page.getByRole('link', { name: 'Payroll' }).click();
    await page.getByRole('heading', { name: 'Integration information' }).waitFor();
    await axe('application-settings-dark');
    // The face capture lights the face with the screen: white whatever the scheme.
    const capture = await page.evaluate(() => {
      const el = document.createElement('div');
      el.className = 'capture';
      document.body.append(el);
      const s = getComputedStyle(el);
      const out = [s.backgroundColor, s.color];
      el.remove();
      return out;
    });
    assert.deepEqual(capture, ['rgb(255, 255, 255)', 'rgb(20, 33, 61)']);
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(244, 246, 251)');
});

/** What sticks out of the viewport on the current page: the document's overflow, and every
 * visible element whose right edge passes the window's (outside a box that scrolls itself). */
const overflow = () => page.evaluate(() => {
  const width = window.innerWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width) out.push(`document ${document.documentElement.scrollWidth} > ${width}`);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-wrap, .tabs, pre')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.right > width + 0.5) out.push(`${el.tagName.toLowerCase()}.${el.className} right ${Math.round(r.right)} > ${width}`);
  }
  return out.slice(0, 5);
});

test('every console page fits 320, 800 and 1440 px wide; under 48rem the navigation collapses behind Menu', async () => {
  const payroll = await appByName('Payroll');
  const pages = [
    ['applications', '/console', 'Applications'],
    ['application', `/console/applications/${payroll.client_id}`, 'Integration information'],
    ['users', '/console/users', 'Users'],
    ['groups', '/console/groups', 'Groups'],
    ['audit', '/console/audit', 'Audit log'],
    ['user', `/console/users/${(await admin(worker, 'GET', '/users?q=root')).body.items[0].id}`, 'Recent activity'],
  ];
  try {
    for (const width of [320, 800, 1440]) {
      await page.setViewportSize({ width, height: 800 });
      for (const [name, path, heading] of pages) {
        await open(page, `${worker.url}${path}`, worker);
        await page.getByRole('heading', { name: heading }).first().waitFor();
        assert.deepEqual(await overflow(), [], `${name} at ${width} px`);
        await shot(page, `console-layout-${name}-${width}`);
      }
      const menu = page.getByRole('button', { name: 'Menu' });
      const users = page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' });
      if (width < 768) {
        // Collapsed: the button says so, the links are hidden until it is pressed.
        assert.equal(await menu.getAttribute('aria-expanded'), 'false');
        assert.equal(await users.isVisible(), false);
        await menu.click();
        assert.equal(await menu.getAttribute('aria-expanded'), 'true');
        await axe(`layout-menu-open-${width}`);
        await users.click();
        await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
        // Choosing a page closes the menu again.
        assert.equal(await menu.getAttribute('aria-expanded'), 'false');
        assert.equal(await users.isVisible(), false);
      } else {
        assert.equal(await menu.isVisible(), false);
        assert.equal(await users.isVisible(), true);
      }
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 720 });
  }
});
