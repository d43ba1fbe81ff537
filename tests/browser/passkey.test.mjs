// Passkeys end to end: headless Chromium's virtual authenticator (CDP WebAuthn domain:
// ctap2, internal transport, resident keys, user verification) against the real worker
// served on `localhost` (WebAuthn needs a domain name as relying party, not an IP
// address), the codes redeemed by openid-client. An attacker who knows the code signs
// assertions in Node with a credential's private key (read from the virtual
// authenticator): another account's passkey, another origin, a replayed answer, a clone
// whose counter is behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import * as client from 'openid-client';
import { newState, startWorker, admin, createApp } from '../lib/worker.mjs';
import { Account } from '../lib/login.mjs';
import { base32Decode } from '../lib/totp.mjs';
import { axe, launch, open, reachCallback, shot } from '../lib/browser.mjs';

const CALLBACK = 'https://rp.example.com/callback';
let worker, state, browser;
const apps = {};

async function relyingParty(app) {
  return client.discovery(new URL(worker.url), app.client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(app.secret), { execute: [client.allowInsecureRequests] });
}

before(async () => {
  state = newState();
  worker = await startWorker(state, { host: 'localhost' });
  for (const [key, kinds] of [['all', ['face', 'totp', 'passkey']], ['passkeyOnly', ['passkey']], ['appOrPasskey', ['totp', 'passkey']]]) {
    const app = await createApp(worker, `Passkeys ${key}`, { acceptable_authenticators: kinds });
    apps[key] = { ...app, config: await relyingParty(app) };
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  state?.cleanup();
});

/** A device: the credentials of one virtual authenticator, carried from page to page. */
class Device {
  constructor() {
    this.credentials = [];
  }
  /** Attaches a virtual authenticator holding this device's credentials to `page`. */
  async attach(page) {
    this.cdp = await page.context().newCDPSession(page);
    await this.cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await this.cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    this.id = authenticatorId;
    for (const credential of this.credentials) await this.cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
  }
  /** Reads back the authenticator's credentials (new ones, counters). */
  async sync() {
    this.credentials = (await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.id })).credentials;
    return this.credentials;
  }
}

/** Starts a sign-in of `username` to `app` in a new browser context holding `device`. */
async function begin(app, username, device) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(app.config, {
    redirect_uri: CALLBACK, scope: 'openid', nonce, login_hint: username,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>back at the application</h1>' }));
  if (device) await device.attach(page);
  await open(page, url.href, worker);
  return { page, context, verifier, nonce, app };
}

/** The claims of the code the page comes back with (a first enrolment's recovery codes saved on the way). */
async function redeem({ page, verifier, nonce, app }) {
  await reachCallback(page, `${CALLBACK}**`);
  const tokens = await client.authorizationCodeGrant(app.config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
  return tokens.claims();
}

/** The login API as the page's own browser (its cookie), for the attacker's calls. */
async function asThePage(session) {
  await session.page.waitForURL(/\/login\?tx=/);
  const tx = new URL(session.page.url()).searchParams.get('tx');
  const cookie = (await session.context.cookies(worker.url)).map((c) => `${c.name}=${c.value}`).join('; ');
  return async (path, body) => {
    const r = await fetch(`${worker.url}/api/login/${tx}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');

/** An assertion signed in Node with a credential's private key (what a stolen or cloned key does). */
function forge(credential, challenge, { origin = worker.url, count = 1000, rpId = 'localhost' } = {}) {
  const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin, crossOrigin: false }));
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(count);
  const authData = Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([0x05]), counter]);
  const key = createPrivateKey({ key: Buffer.from(credential.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  const signature = sign('sha256', Buffer.concat([authData, createHash('sha256').update(clientData).digest()]), key);
  return { credential_id: b64u(Buffer.from(credential.credentialId, 'base64')), client_data_json: b64u(clientData), authenticator_data: b64u(authData), signature: b64u(signature) };
}

async function auditDetails(action) {
  const items = (await admin(worker, 'GET', '/audit?limit=100')).body.items;
  return items.filter((e) => e.action === action).map((e) => e.detail ?? '');
}

const ada = new Device();
const bob = new Device();

test('a passkey enrolled at first sign-in signs in again with one tap; amr is swk + user', async () => {
  {
    const s = await begin(apps.all, 'ada@example.com', ada);
    await page(s).getByRole('heading', { name: 'Choose how you will sign in' }).waitFor();
    await axe(s.page, 'passkey-choose');
    await s.page.getByRole('button', { name: /^Passkey/ }).click();
    await s.page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
    await axe(s.page, 'passkey-enrol');
    await s.page.getByRole('button', { name: 'Create a passkey' }).click();
    const claims = await redeem(s);
    assert.deepEqual(claims.amr, ['swk', 'user']);
    assert.equal(claims.preferred_username, 'ada@example.com');
    const [credential] = await ada.sync();
    assert.ok(credential.isResidentCredential, 'a discoverable credential');
    assert.equal(credential.rpId, 'localhost');
    await s.context.close();
  }
  {
    const s = await begin(apps.all, 'ada@example.com', ada);
    await s.page.getByRole('heading', { name: 'Sign in with your passkey' }).waitFor();
    await axe(s.page, 'passkey-sign-in');
    await s.page.getByRole('button', { name: 'Use my passkey' }).click();
    const claims = await redeem(s);
    assert.deepEqual(claims.amr, ['swk', 'user']);
    await ada.sync();
    await s.context.close();
  }
  // The admin sees the passkey (not its key).
  const users = (await admin(worker, 'GET', '/users?q=ada')).body.items;
  const view = users.find((u) => u.username === 'ada@example.com');
  assert.equal(view.authenticators.passkeys.length, 1);
  assert.ok(!JSON.stringify(view).includes('cose'));
});

/** The page of a session (named for readability). */
function page(s) {
  return s.page;
}

test('a passkey-only application enrols a passkey with no choice, and says so in words when the device has none', async () => {
  const s = await begin(apps.passkeyOnly, 'bob@example.com', bob);
  await s.page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
  await s.page.getByRole('button', { name: 'Create a passkey' }).click();
  const claims = await redeem(s);
  assert.deepEqual(claims.amr, ['swk', 'user']);
  await bob.sync();
  await s.context.close();
  // A device without Bob's passkey: the browser finds none and the page says what to do.
  const empty = new Device();
  const again = await begin(apps.passkeyOnly, 'bob@example.com', empty);
  await again.page.getByRole('button', { name: 'Use my passkey' }).click();
  const alert = again.page.locator('#passkey-error');
  await alert.waitFor({ timeout: 120_000 });
  assert.match(await alert.textContent(), /cancelled or timed out, or this device has no passkey/);
  await axe(again.page, 'passkey-none-on-device');
  await again.context.close();
});

test('a TOTP user adds a passkey after proving TOTP', async () => {
  const account = new Account('cy@example.com');
  {
    const s = await begin(apps.appOrPasskey, account.username);
    await s.page.getByRole('button', { name: /^Authenticator app/ }).click();
    await s.page.getByRole('img', { name: /QR code/ }).waitFor();
    account.seed = base32Decode((await s.page.locator('code.secret').textContent()).trim());
    await s.page.getByLabel('6-digit code from the app').fill(await account.nextCode());
    await s.page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await redeem(s);
    await s.context.close();
  }
  const device = new Device();
  const s = await begin(apps.appOrPasskey, account.username, device);
  await s.page.getByRole('heading', { name: 'Enter your code' }).waitFor();
  await s.page.getByLabel('6-digit code from your authenticator app').fill(await account.nextCode());
  await s.page.getByLabel('Also set up your passkey or make new recovery codes after this sign-in').check();
  await s.page.getByRole('button', { name: 'Sign in' }).click();
  await s.page.getByRole('heading', { name: 'Add a way to sign in' }).waitFor();
  await s.page.getByRole('button', { name: /^Passkey/ }).click();
  await s.page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
  await shot(s.page, 'passkey-add-after-totp');
  await s.page.getByRole('button', { name: 'Create a passkey' }).click();
  const claims = await redeem(s);
  assert.deepEqual(claims.amr, ['otp', 'swk', 'user']);
  assert.equal((await device.sync()).length, 1);
  await s.context.close();
});

test('another account\'s passkey, another origin and a replayed assertion are refused, counted and recorded', async () => {
  const [bobs] = bob.credentials;
  const [adas] = ada.credentials;
  // Bob's key answers Ada's sign-in (the browser would not offer it: the attacker signs).
  const s = await begin(apps.all, 'ada@example.com', ada);
  await s.page.getByRole('heading', { name: 'Sign in with your passkey' }).waitFor();
  const call = await asThePage(s);
  let options = (await call('/passkey/options')).body;
  assert.deepEqual(options.credential_ids, [b64u(Buffer.from(adas.credentialId, 'base64'))]);
  let r = await call('/passkey', forge(bobs, options.challenge));
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'wrong_answer');
  assert.match(r.body.message, /not one registered for your account.*4 attempts left/);
  // Ada's own key, but made for another origin.
  options = (await call('/passkey/options')).body;
  r = await call('/passkey', forge(adas, options.challenge, { origin: 'http://evil.localhost:1' }));
  assert.equal(r.status, 401);
  assert.match(r.body.message, /3 attempts left/);
  // Ada's key signing for another relying party.
  options = (await call('/passkey/options')).body;
  r = await call('/passkey', forge(adas, options.challenge, { rpId: 'evil.example' }));
  assert.equal(r.status, 401);
  // The browser's own answer, captured, then replayed into a new sign-in: refused.
  let captured;
  await s.page.route('**/passkey', async (route) => { captured = route.request().postData(); await route.continue(); });
  await s.page.getByRole('button', { name: 'Use my passkey' }).click();
  await redeem(s);
  await ada.sync();
  await s.context.close();
  const next = await begin(apps.all, 'ada@example.com', ada);
  await next.page.getByRole('heading', { name: 'Sign in with your passkey' }).waitFor();
  const again = await asThePage(next);
  await again('/passkey/options');
  r = await again('/passkey', JSON.parse(captured));
  assert.equal(r.status, 410);
  assert.equal(r.body.error, 'expired');
  await next.context.close();
  const attacks = await auditDetails('passkey.attack');
  for (const kind of ['passkey of another account', 'made for another origin', 'another relying party']) {
    assert.ok(attacks.some((d) => d.includes(kind)), `${kind} in ${JSON.stringify(attacks)}`);
  }
});

test('a cloned authenticator whose counter is behind is refused in the browser, and recorded', async () => {
  // The clone: Ada's credential copied to another device with its counter back at 1.
  const clone = new Device();
  clone.credentials = ada.credentials.map((c) => ({ ...c, signCount: 1 }));
  const s = await begin(apps.all, 'ada@example.com', clone);
  await s.page.getByRole('button', { name: 'Use my passkey' }).click();
  const alert = s.page.getByRole('alert').filter({ hasText: 'may have been copied' });
  await alert.waitFor();
  await axe(s.page, 'passkey-cloned');
  await s.context.close();
  assert.ok((await auditDetails('passkey.attack')).some((d) => d.includes('counter went back')));
  // The original still works (its counter is ahead).
  const ok = await begin(apps.all, 'ada@example.com', ada);
  await ok.page.getByRole('button', { name: 'Use my passkey' }).click();
  assert.deepEqual((await redeem(ok)).amr, ['swk', 'user']);
  await ok.context.close();
});

test('an admin resets a user\'s passkeys: the next sign-in enrols again', async () => {
  const users = (await admin(worker, 'GET', '/users?q=bob')).body.items;
  const id = users.find((u) => u.username === 'bob@example.com').id;
  const r = await admin(worker, 'DELETE', `/users/${id}/authenticators/passkey`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.authenticators.passkeys, []);
  const s = await begin(apps.passkeyOnly, 'bob@example.com', new Device());
  await s.page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
  await s.context.close();
});
