// The whole code flow against the real worker under wrangler dev, with openid-client as
// the relying party: discovery, PAR, authorize, TOTP login through the login API, code
// exchange with each client authentication method, ID token validated against our JWKS,
// userinfo; and the failures the provider must refuse.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { newState, startWorker, admin, createApp as createApplication } from '../lib/worker.mjs';
import { Account, loginWithTotp, startLogin } from '../lib/login.mjs';

const CALLBACK = 'https://rp.example.com/callback';
let worker, state;
const apps = {};

const createApp = (name, extra) => createApplication(worker, name, extra, CALLBACK);

async function rp(app, auth, alg = 'ES256') {
  return client.discovery(new URL(worker.url), app.client_id,
    { id_token_signed_response_alg: alg, redirect_uris: [CALLBACK] }, auth,
    { execute: [client.allowInsecureRequests] });
}

/** PAR (or a plain authorization URL for public clients), login, and the callback URL. */
async function authorizeAndLogin(config, account, { par = true } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const st = client.randomState();
  const params = {
    redirect_uri: CALLBACK, scope: 'openid profile', nonce, state: st,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    login_hint: account.username,
  };
  const url = par ? await client.buildAuthorizationUrlWithPAR(config, params) : client.buildAuthorizationUrl(config, params);
  const callback = await loginWithTotp(worker.url, url.href, account);
  return { callback: new URL(callback), verifier, nonce, state: st };
}

async function exchange(config, got) {
  return client.authorizationCodeGrant(config, got.callback, {
    pkceCodeVerifier: got.verifier, expectedNonce: got.nonce, expectedState: got.state, idTokenExpected: true,
  });
}

function form(obj) {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(obj).toString() };
}

before(async () => {
  state = newState();
  worker = await startWorker(state);
  apps.secret = await createApp('Payroll');
  apps.jwt = await createApp('Reports', { client_auth_method: 'client_secret_jwt' });
  const kp = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', kp.publicKey);
  apps.pk = await createApp('Mobile', { client_auth_method: 'private_key_jwt', public_key_jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } });
  apps.pk.privateKey = kp.privateKey;
  apps.pub = await createApp('Kiosk', { client_authentication: false, require_pushed_authorization_requests: false });
  apps.rsa = await createApp('Ledger', { id_token_signed_response_alg: 'RS256' });
});

after(async () => {
  await worker?.stop();
  state?.cleanup();
});

test('discovery names every endpoint and auth method, and the JWKS has our ES256 and RS256 keys', async () => {
  const served = await fetch(`${worker.url}/.well-known/openid-configuration`);
  assert.equal(served.headers.get('content-type'), 'application/json');
  assert.equal(served.headers.get('cache-control'), 'public, max-age=3600', 'a public document a relying party may cache');
  assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
  const m = await served.json();
  assert.equal(m.issuer, worker.url);
  assert.equal(m.pushed_authorization_request_endpoint, `${worker.url}/par`);
  assert.deepEqual(m.token_endpoint_auth_methods_supported.sort(),
    ['client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'none', 'private_key_jwt']);
  assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(m.id_token_signing_alg_values_supported, ['ES256', 'RS256'], 'OpenID Connect Discovery 3: RS256 is required');
  const jwks = await (await fetch(m.jwks_uri)).json();
  assert.deepEqual(jwks.keys.map((k) => [k.kty, k.alg]), [['EC', 'ES256'], ['RSA', 'RS256']]);
  const [ec, rsa] = jwks.keys;
  assert.ok(ec.kid && rsa.kid && ec.kid !== rsa.kid);
  assert.equal(Buffer.from(rsa.n, 'base64url').length, 256, 'RSA 2048');
  for (const k of jwks.keys) for (const p of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[p], undefined, p);
});

test('an application set to RS256 gets RS256 ID tokens that openid-client verifies; the setting can change back', async () => {
  const config = await rp(apps.rsa, client.ClientSecretBasic(apps.rsa.secret), 'RS256');
  assert.equal(apps.rsa.id_token_signed_response_alg, 'RS256');
  const account = new Account('rsa-user@example.com');
  const tokens = await exchange(config, await authorizeAndLogin(config, account));
  const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
  assert.equal(header.alg, 'RS256');
  assert.equal(tokens.claims().preferred_username, account.username);
  // An RP that expects ES256 refuses the RS256 token (openid-client checks the alg).
  const wrong = await rp(apps.rsa, client.ClientSecretBasic(apps.rsa.secret), 'ES256');
  await assert.rejects(exchange(wrong, await authorizeAndLogin(wrong, account)), (e) => /"alg"/.test(String(e.cause?.message ?? e.message)));
  // Back to ES256.
  const changed = await admin(worker, 'PATCH', `/applications/${apps.rsa.client_id}`, { id_token_signed_response_alg: 'ES256' });
  assert.equal(changed.body.id_token_signed_response_alg, 'ES256');
  const es = await exchange(wrong, await authorizeAndLogin(wrong, account));
  assert.equal(JSON.parse(Buffer.from(es.id_token.split('.')[0], 'base64url')).alg, 'ES256');
  const bad = await admin(worker, 'PATCH', `/applications/${apps.rsa.client_id}`, { id_token_signed_response_alg: 'none' });
  assert.equal(bad.status, 400);
});

for (const [name, appKey, makeAuth] of [
  ['client_secret_basic', 'secret', (a) => client.ClientSecretBasic(a.secret)],
  ['client_secret_post', 'secret', (a) => client.ClientSecretPost(a.secret)],
  ['client_secret_jwt', 'jwt', (a) => client.ClientSecretJwt(a.secret)],
  ['private_key_jwt', 'pk', (a) => client.PrivateKeyJwt(a.privateKey)],
]) {
  test(`full code flow with PAR and ${name}`, async () => {
    const app = apps[appKey];
    const config = await rp(app, makeAuth(app));
    const account = new Account(`user-${name}@example.com`);
    const got = await authorizeAndLogin(config, account);
    const tokens = await exchange(config, got);
    const claims = tokens.claims();
    assert.equal(claims.iss, worker.url);
    assert.equal(claims.aud, app.client_id);
    assert.equal(claims.nonce, got.nonce);
    assert.equal(claims.preferred_username, account.username);
    assert.deepEqual(claims.amr, ['otp']);
    assert.ok(claims.auth_time <= claims.iat && claims.exp > claims.iat);
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.preferred_username, account.username);
    // Auth schemes are case-insensitive (RFC 7235 2.1).
    const shouted = await fetch(`${worker.url}/userinfo`, { headers: { authorization: `BEARER ${tokens.access_token}` } });
    assert.equal(shouted.status, 200, await shouted.clone().text());
    // The second login of the same user authenticates without enrolment.
    const again = await authorizeAndLogin(config, account);
    const t2 = await exchange(config, again);
    assert.equal(t2.claims().sub, claims.sub);
  });
}

test('public client: authorize without PAR, PKCE and "none"', async () => {
  // Public clients cannot register users, so enrol through a confidential application
  // first (the user is the same person across applications).
  const account = new Account('kiosk-user@example.com');
  await authorizeAndLogin(await rp(apps.secret, client.ClientSecretBasic(apps.secret.secret)), account);
  const config = await rp(apps.pub, client.None());
  const got = await authorizeAndLogin(config, account, { par: false });
  const tokens = await exchange(config, got);
  assert.equal(tokens.claims().preferred_username, account.username);
  // Without PKCE a public client is refused, back at the callback with an error.
  const noPkce = `${worker.url}/authorize?${new URLSearchParams({ client_id: apps.pub.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', state: 's1', login_hint: 'kiosk-user@example.com' })}`;
  const r = await fetch(noPkce, { redirect: 'manual' });
  assert.equal(r.status, 302);
  const back = new URL(r.headers.get('location'));
  assert.equal(back.origin + back.pathname, CALLBACK);
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.equal(back.searchParams.get('state'), 's1');
});

test('OpenID conformance: prompt is a set, request objects and hosted request URIs are not supported, methods and metadata', async () => {
  const authorize = (extra) => fetch(`${worker.url}/authorize?${new URLSearchParams({
    client_id: apps.pub.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', state: 's3', login_hint: 'kiosk-user@example.com',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...extra,
  })}`, { redirect: 'manual' });
  const errorOf = async (r) => {
    assert.equal(r.status, 302, await r.clone().text());
    const back = new URL(r.headers.get('location'));
    assert.equal(back.origin + back.pathname, CALLBACK);
    assert.equal(back.searchParams.get('state'), 's3');
    return back.searchParams.get('error');
  };
  // Core 3.1.2.1: none alone is login_required (we always authenticate); none with another value is an error.
  assert.equal(await errorOf(await authorize({ prompt: 'none' })), 'login_required');
  assert.equal(await errorOf(await authorize({ prompt: 'none login' })), 'invalid_request');
  // prompt=login starts a sign-in like no prompt.
  const login = await authorize({ prompt: 'login consent' });
  assert.equal(login.status, 302);
  assert.match(login.headers.get('location'), /^\/login\?tx=/);
  // Core 6.1 and 6.2.
  assert.equal(await errorOf(await authorize({ request: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.' })), 'request_not_supported');
  const hosted = await fetch(`${worker.url}/authorize?${new URLSearchParams({ client_id: apps.pub.client_id, request_uri: 'https://rp.example.com/request.jwt' })}`, { redirect: 'manual' });
  assert.equal(hosted.status, 400);
  assert.match(await hosted.text(), /request_uri_not_supported/);
  // Discovery says so (omitted would mean true), and RFC 8414 metadata is the same document.
  const m = await (await fetch(`${worker.url}/.well-known/openid-configuration`)).json();
  assert.equal(m.request_uri_parameter_supported, false);
  assert.equal(m.request_parameter_supported, false);
  assert.deepEqual(await (await fetch(`${worker.url}/.well-known/oauth-authorization-server`)).json(), m);
  // A method an endpoint does not answer: 405 with Allow (RFC 9110 15.5.6).
  const get = await fetch(`${worker.url}/token`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  const del = await fetch(`${worker.url}/authorize`, { method: 'DELETE' });
  assert.equal((del.status), 405);
  assert.equal(del.headers.get('allow'), 'GET, POST');
});

test('an application that requires pushed requests starts no sign-in from a plain one', async () => {
  assert.equal(apps.secret.require_pushed_authorization_requests, true, 'on by default');
  assert.equal(apps.pub.require_pushed_authorization_requests, false);
  const plain = `${worker.url}/authorize?${new URLSearchParams({ client_id: apps.secret.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', state: 's2', login_hint: 'kiosk-user@example.com' })}`;
  const r = await fetch(plain, { redirect: 'manual' });
  assert.equal(r.status, 302);
  const back = new URL(r.headers.get('location'));
  assert.equal(back.origin + back.pathname, CALLBACK, 'back to the application, no login page');
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.match(back.searchParams.get('error_description'), /pushed authorization requests/);
  assert.equal(back.searchParams.get('state'), 's2');
  assert.equal(r.headers.get('set-cookie'), null, 'no login transaction was started');
  const m = await (await fetch(`${worker.url}/.well-known/openid-configuration`)).json();
  assert.ok(m.pushed_authorization_request_endpoint);
});

test('a redirect_uri that is not allowed is shown as an error page, never redirected to', async () => {
  for (const bad of ['https://evil.example.com/callback', `${CALLBACK}/`, `${CALLBACK}?x=1`, 'https://RP.example.com/callback']) {
    const url = `${worker.url}/authorize?${new URLSearchParams({ client_id: apps.pub.client_id, redirect_uri: bad, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
    const r = await fetch(url, { redirect: 'manual' });
    assert.equal(r.status, 400, bad);
    assert.equal(r.headers.get('location'), null);
    assert.match(await r.text(), /allowed callback URLs/);
  }
  // PAR refuses it too, with the RFC error.
  const r = await fetch(`${worker.url}/par`, form({ client_id: apps.secret.client_id, client_secret: apps.secret.secret, redirect_uri: 'https://evil.example.com/cb', response_type: 'code', scope: 'openid' }));
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'invalid_request');
});

test('unknown client: error page at authorize, invalid_client at token and PAR', async () => {
  const r = await fetch(`${worker.url}/authorize?client_id=nobody-0123456789abc&redirect_uri=${encodeURIComponent(CALLBACK)}&response_type=code&scope=openid`, { redirect: 'manual' });
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('location'), null);
  const t = await fetch(`${worker.url}/token`, form({ grant_type: 'authorization_code', code: 'x', client_id: 'nobody-0123456789abc', client_secret: 'y' }));
  assert.equal(t.status, 401);
  assert.equal((await t.json()).error, 'invalid_client');
  const basic = Buffer.from('nobody-0123456789abc:y').toString('base64');
  const p = await fetch(`${worker.url}/par`, { ...form({ response_type: 'code' }), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` } });
  assert.equal(p.status, 401);
  assert.match(p.headers.get('www-authenticate'), /^Basic /);
});

/** Logs in and returns the code and the verifier, without redeeming. */
async function freshCode(app, account) {
  const config = await rp(app, client.ClientSecretPost(app.secret));
  const got = await authorizeAndLogin(config, account);
  return { code: got.callback.searchParams.get('code'), verifier: got.verifier };
}

test('wrong secret: 401 invalid_client with WWW-Authenticate for Basic', async () => {
  const basic = Buffer.from(`${apps.secret.client_id}:wrong-secret`).toString('base64');
  const r = await fetch(`${worker.url}/token`, { ...form({ grant_type: 'authorization_code', code: 'abc', redirect_uri: CALLBACK }), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` } });
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /^Basic realm=/);
  assert.equal((await r.json()).error, 'invalid_client');
  const post = await fetch(`${worker.url}/token`, form({ grant_type: 'authorization_code', code: 'abc', redirect_uri: CALLBACK, client_id: apps.secret.client_id, client_secret: 'wrong' }));
  assert.equal(post.status, 401);
  assert.equal((await post.json()).error, 'invalid_client');
});

test('a wrong PKCE verifier is refused without spending the code and recorded; the right one then redeems it, once', async () => {
  const account = new Account('pkce-user@example.com');
  const { code, verifier } = await freshCode(apps.secret, account);
  const base = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: apps.secret.client_id, client_secret: apps.secret.secret };
  const wrong = await fetch(`${worker.url}/token`, form({ ...base, code_verifier: client.randomPKCECodeVerifier() }));
  assert.equal(wrong.status, 400);
  assert.equal((await wrong.json()).error, 'invalid_grant');
  // The attempt is in the audit log (refused, not spent).
  const log = (await admin(worker, 'GET', '/audit?limit=100')).body.items;
  assert.ok(log.some((e) => e.action === 'token.code_misused' && e.target === apps.secret.client_id && /not spent/.test(e.detail)), JSON.stringify(log.slice(0, 5)));
  // Whoever saw the code cannot burn it for the client it was issued to.
  const right = await fetch(`${worker.url}/token`, form({ ...base, code_verifier: verifier }));
  assert.equal(right.status, 200, await right.clone().text());
  assert.equal(right.headers.get('cache-control'), 'no-store', 'a token response is not kept (RFC 6749 5.1)');
  assert.ok((await right.json()).id_token);
  const again = await fetch(`${worker.url}/token`, form({ ...base, code_verifier: verifier }));
  assert.equal((await again.json()).error, 'invalid_grant', 'one use (RFC 6749 10.5)');
});

test('a code is redeemed once; its second redemption fails and revokes the access token of the first', async () => {
  const account = new Account('reuse-user@example.com');
  const { code, verifier } = await freshCode(apps.secret, account);
  const body = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: apps.secret.client_id, client_secret: apps.secret.secret };
  const first = await fetch(`${worker.url}/token`, form(body));
  assert.equal(first.status, 200);
  const tokens = await first.json();
  assert.ok(tokens.id_token);
  const userinfo = () => fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal((await userinfo()).status, 200);
  const second = await fetch(`${worker.url}/token`, form(body));
  assert.equal(second.status, 400);
  assert.equal((await second.json()).error, 'invalid_grant');
  // RFC 6749 4.1.2: the tokens issued from a replayed code are revoked.
  const after = await userinfo();
  assert.equal(after.status, 401);
  assert.match(after.headers.get('www-authenticate'), /invalid_token/);
});

test('one code raced by 20 concurrent redemptions: exactly one succeeds', async () => {
  const account = new Account('race-user@example.com');
  const { code, verifier } = await freshCode(apps.secret, account);
  const body = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: apps.secret.client_id, client_secret: apps.secret.secret };
  const results = await Promise.all(Array.from({ length: 20 }, () => fetch(`${worker.url}/token`, form(body)).then(async (r) => ({ status: r.status, body: await r.json() }))));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
  assert.ok(results.filter((r) => r.status !== 200).every((r) => r.body.error === 'invalid_grant'));
});

test('a rotated secret is rejected at once; the new one works', async () => {
  const app = await createApp('Rotating');
  const old = app.secret;
  const rot = await admin(worker, 'POST', `/applications/${app.client_id}/secret/rotate`);
  assert.equal(rot.status, 200);
  assert.notEqual(rot.body.client_secret, old);
  assert.match(rot.body.update_stack_command, new RegExp(`ParameterKey=ClientSecret,ParameterValue=${rot.body.client_secret}`));
  const account = new Account('rotate-user@example.com');
  const oldConfig = await rp(app, client.ClientSecretBasic(old));
  await assert.rejects(client.buildAuthorizationUrlWithPAR(oldConfig, { redirect_uri: CALLBACK, scope: 'openid', login_hint: account.username }),
    (e) => e instanceof client.WWWAuthenticateChallengeError && e.status === 401 && e.cause[0].scheme === 'basic');
  const got = await authorizeAndLogin(await rp(app, client.ClientSecretBasic(rot.body.client_secret)), account);
  const bad = await fetch(`${worker.url}/token`, form({ grant_type: 'authorization_code', code: got.callback.searchParams.get('code'), redirect_uri: CALLBACK, code_verifier: got.verifier, client_id: app.client_id, client_secret: old }));
  assert.equal(bad.status, 401);
  const tokens = await exchange(await rp(app, client.ClientSecretBasic(rot.body.client_secret)), got);
  assert.ok(tokens.id_token);
});

test('a replayed private_key_jwt assertion is refused', async () => {
  const app = apps.pk;
  const config = await rp(app, client.PrivateKeyJwt(app.privateKey));
  let captured;
  config[client.customFetch] = async (url, options) => {
    if (String(url).endsWith('/token')) captured = new URLSearchParams(options.body.toString());
    return fetch(url, options);
  };
  const account = new Account('replay-user@example.com');
  await exchange(config, await authorizeAndLogin(config, account));
  assert.ok(captured.get('client_assertion'));
  // A new, valid code; the old assertion must not redeem it.
  const fresh = await rp(app, client.PrivateKeyJwt(app.privateKey));
  const got = await authorizeAndLogin(fresh, account);
  const replay = await fetch(`${worker.url}/token`, form({
    grant_type: 'authorization_code', code: got.callback.searchParams.get('code'), redirect_uri: CALLBACK, code_verifier: got.verifier,
    client_assertion_type: captured.get('client_assertion_type'), client_assertion: captured.get('client_assertion'),
  }));
  assert.equal(replay.status, 401);
  const err = await replay.json();
  assert.equal(err.error, 'invalid_client');
  assert.match(err.error_description, /already used/);
  // The code itself was fine: a fresh assertion redeems it.
  assert.ok((await exchange(fresh, got)).id_token);
});

test('a request_uri works once', async () => {
  const config = await rp(apps.secret, client.ClientSecretBasic(apps.secret.secret));
  const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid', login_hint: 'once@example.com', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  await startLogin(worker.url, url.href);
  const again = await fetch(url, { redirect: 'manual' });
  assert.equal(again.status, 400);
  assert.match(await again.text(), /invalid_request_uri/);
});

test('userinfo refuses missing, forged and ID tokens', async () => {
  const none = await fetch(`${worker.url}/userinfo`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer .*invalid_token/);
  const forged = await fetch(`${worker.url}/userinfo`, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' } });
  assert.equal(forged.status, 401);
});

test('userinfo checks the access token signature (WebCrypto): a changed payload, a changed or cut signature are refused', async () => {
  const account = new Account('signature-user@example.com');
  const { code, verifier } = await freshCode(apps.secret, account);
  const body = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: apps.secret.client_id, client_secret: apps.secret.secret };
  const tokens = await (await fetch(`${worker.url}/token`, form(body))).json();
  const userinfo = (token) => fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } });
  const [header, payload, signature] = tokens.access_token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url'));
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const sig = Buffer.from(signature, 'base64url');
  assert.equal(sig.length, 64, 'ES256: r || s');
  const flipped = Buffer.from(sig);
  flipped[10] ^= 1;
  const cases = {
    'another subject': `${header}.${b64({ ...claims, sub: 'someone-else' })}.${signature}`,
    'a later expiry': `${header}.${b64({ ...claims, exp: claims.exp + 3600 })}.${signature}`,
    'one bit of the signature': `${header}.${payload}.${flipped.toString('base64url')}`,
    'the signature cut short': `${header}.${payload}.${sig.subarray(0, 40).toString('base64url')}`,
    'no signature': `${header}.${payload}.`,
  };
  for (const [what, token] of Object.entries(cases)) {
    const r = await userinfo(token);
    assert.equal(r.status, 401, what);
    assert.match(r.headers.get('www-authenticate'), /invalid_token/, what);
  }
  const ok = await userinfo(tokens.access_token);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).preferred_username, account.username);
});

test('TOTP: a wrong code is counted, a used code is refused, five failures lock', async () => {
  const account = new Account('lock-user@example.com');
  const config = await rp(apps.secret, client.ClientSecretBasic(apps.secret.secret));
  await authorizeAndLogin(config, account);
  const params = { redirect_uri: CALLBACK, scope: 'openid', login_hint: account.username, code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' };
  const { browser, tx } = await startLogin(worker.url, (await client.buildAuthorizationUrlWithPAR(config, params)).href);
  // The enrolment code's step again: a replay.
  const { hotp } = await import('../lib/totp.mjs');
  const replay = await browser.json('POST', `/api/login/${tx}/totp`, { code: hotp(account.seed, account.lastStep) });
  assert.equal(replay.status, 401);
  assert.equal(replay.body.error, 'wrong_answer');
  const malformed = await browser.json('POST', `/api/login/${tx}/totp`, { code: '12ab' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.field, 'code');
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    statuses.push((await browser.json('POST', `/api/login/${tx}/totp`, { code: '000000' === hotp(account.seed, account.lastStep + 1) ? '111111' : '000000' })).body.error);
  }
  assert.deepEqual(statuses, ['wrong_answer', 'wrong_answer', 'wrong_answer', 'locked', 'locked']);
  const locked = await browser.json('POST', `/api/login/${tx}/totp`, { code: await account.nextCode() });
  assert.equal(locked.status, 429);
  assert.ok(locked.body.retry_after > 0);
});

test('the login API refuses another browser', async () => {
  const config = await rp(apps.secret, client.ClientSecretBasic(apps.secret.secret));
  const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid', login_hint: 'someone@example.com', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  const { tx } = await startLogin(worker.url, url.href);
  const r = await fetch(`${worker.url}/api/login/${tx}`);
  assert.equal(r.status, 403);
  assert.equal((await r.json()).error, 'forbidden');
});
