// Users are bound to the Amazon Cognito user pool they sign in from: the same user name in
// two pools is two people, a user registered before the binding belongs to the first pool
// that signs them in, and what the Create trigger read of the app client (a way to sign in
// without Biopass) reaches "Previous deployments". Pushed requests are made the way the
// stack's Create trigger makes them (client secret, Cognito context), against the real worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newState, startWorker, admin } from '../lib/worker.mjs';
import { Account, Browser, loginWithTotp, startLogin } from '../lib/login.mjs';

const CALLBACK = 'https://app.example.com/callback';
const ACCOUNT = '123456789012';
const POOL_A = 'eu-west-1_PoolA';
const POOL_B = 'eu-west-1_PoolB';
let worker, state, app;

/** A pushed request as the Create trigger sends it; `pool` null sends no Cognito context. */
async function push(username, pool, extra = {}) {
  const form = new URLSearchParams({
    response_type: 'code', scope: 'openid', redirect_uri: CALLBACK, login_hint: username, nonce: 'n', state: 's',
    ...(pool ? { cognito_user_pool_id: pool, cognito_region: 'eu-west-1', aws_account_id: ACCOUNT } : {}),
    ...extra,
  });
  const r = await fetch(`${worker.url}/par`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${app.client_id}:${encodeURIComponent(app.secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  });
  return { status: r.status, body: await r.json() };
}

async function authorizeUrl(username, pool, extra) {
  const pushed = await push(username, pool, extra);
  assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
  return `${worker.url}/authorize?client_id=${app.client_id}&request_uri=${encodeURIComponent(pushed.body.request_uri)}`;
}

/** The first login step Biopass shows `username` of `pool`. */
async function firstStep(username, pool) {
  const { browser, tx } = await startLogin(worker.url, await authorizeUrl(username, pool));
  const s = await browser.json('GET', `/api/login/${tx}`);
  assert.equal(s.status, 200, JSON.stringify(s.body));
  return s.body.step;
}

async function usersNamed(name) {
  const r = await admin(worker, 'GET', `/users?q=${encodeURIComponent(name)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const { items } = r.body;
  return items.filter((u) => u.username === name);
}

before(async () => {
  state = newState();
  worker = await startWorker(state);
  const created = await admin(worker, 'POST', '/applications', {
    name: 'Pools', application_type: 'amazon_cognito_mfa', allowed_callback_urls: [CALLBACK],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const secret = await admin(worker, 'GET', `/applications/${created.body.client_id}/secret`);
  app = { ...created.body, secret: secret.body.client_secret };
});

after(async () => {
  await worker?.stop();
  state?.cleanup();
});

test('the same user name in two user pools is two people', async () => {
  const ada = new Account('ada@example.com');
  await loginWithTotp(worker.url, await authorizeUrl(ada.username, POOL_A), ada);
  assert.equal(await firstStep(ada.username, POOL_A), 'authenticate', 'pool A knows ada');
  assert.equal(await firstStep(ada.username, POOL_B), 'enrol', "pool B's ada is someone else, with nothing enrolled");
  assert.equal(await firstStep(ada.username, null), 'enrol', "Biopass's own ada is someone else too");
  const users = await usersNamed(ada.username);
  assert.deepEqual(users.map((u) => u.user_pool_id ?? '(none)').sort(), ['(none)', POOL_A, POOL_B]);
  assert.equal(new Set(users.map((u) => u.id)).size, 3);
  const a = users.find((u) => u.user_pool_id === POOL_A);
  assert.equal(a.authenticators.totp, true);
  assert.ok(users.filter((u) => u !== a).every((u) => !u.authenticators.totp && !u.authenticators.face));
});

test('wrong answers from another pool do not lock the real user out', async () => {
  const bob = new Account('bob@example.com');
  await loginWithTotp(worker.url, await authorizeUrl(bob.username, POOL_A), bob);
  // Pool B's "bob" can only enrol his own authenticator: there is no code of pool A's bob
  // to guess from there.
  const { browser, tx } = await startLogin(worker.url, await authorizeUrl(bob.username, POOL_B));
  const wrong = await browser.json('POST', `/api/login/${tx}/totp`, { code: '000000' });
  assert.equal(wrong.status, 403, JSON.stringify(wrong.body));
  const callback = await loginWithTotp(worker.url, await authorizeUrl(bob.username, POOL_A), bob);
  assert.ok(new URL(callback).searchParams.get('code'), 'pool A\'s bob still signs in');
});

test('a user registered before the binding belongs to the first pool that signs them in', async () => {
  const grace = new Account('grace@example.com');
  await loginWithTotp(worker.url, await authorizeUrl(grace.username, null), grace);
  let [before] = await usersNamed(grace.username);
  assert.equal(before.user_pool_id ?? null, null);
  // Two pools race for the unbound user: exactly one gets her.
  const [a, b] = await Promise.all([firstStep(grace.username, POOL_A), firstStep(grace.username, POOL_B)]);
  assert.deepEqual([a, b].sort(), ['authenticate', 'enrol'], `one pool adopts her, the other meets a new person: ${a}, ${b}`);
  const users = await usersNamed(grace.username);
  const adopted = users.find((u) => u.id === before.id);
  assert.ok(adopted.user_pool_id === POOL_A || adopted.user_pool_id === POOL_B, JSON.stringify(users));
  assert.equal(adopted.authenticators.totp, true, 'she keeps her authenticator');
  const winner = adopted.user_pool_id;
  const callback = await loginWithTotp(worker.url, await authorizeUrl(grace.username, winner), grace);
  assert.ok(new URL(callback).searchParams.get('code'));
  const audit = await admin(worker, 'GET', '/audit');
  const entries = Array.isArray(audit.body) ? audit.body : audit.body.items;
  assert.ok(entries.some((e) => e.action === 'user.pool.bind' && e.target === grace.username), 'the binding is audited');
});

test('an app client that lets users sign in without Biopass reaches Previous deployments until fixed', async () => {
  const client = '1example23456789';
  await authorizeUrl('carol@example.com', POOL_A, { cognito_app_client_id: client, cognito_sign_in_without_biopass: 'USER_SRP_AUTH HOSTED_UI' });
  const seen = async () => {
    const r = await admin(worker, 'GET', `/applications/${app.client_id}/deployments`);
    assert.equal(r.status, 200);
    const pool = r.body.flatMap((d) => d.user_pools).find((p) => p.user_pool_id === POOL_A);
    return pool.app_clients.find((c) => c.app_client_id === client);
  };
  assert.deepEqual((await seen()).sign_in_without_biopass, ['HOSTED_UI', 'USER_SRP_AUTH']);
  await authorizeUrl('carol@example.com', POOL_A, { cognito_app_client_id: client, cognito_sign_in_without_biopass: '' });
  assert.deepEqual((await seen()).sign_in_without_biopass, [], 'a corrected app client clears the warning');
  const bad = await push('carol@example.com', POOL_A, { cognito_app_client_id: client, cognito_sign_in_without_biopass: 'EVERYTHING' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_request');
});

test('a Cognito context that is missing a part is no pool at all: the request is Biopass\'s own', async () => {
  const r = await push('dave@example.com', null, { cognito_user_pool_id: POOL_A });
  assert.equal(r.status, 201);
  const browser = new Browser(worker.url);
  const { tx } = await startLogin(worker.url, `${worker.url}/authorize?client_id=${app.client_id}&request_uri=${encodeURIComponent(r.body.request_uri)}`, browser);
  const s = await browser.json('GET', `/api/login/${tx}`);
  assert.equal(s.body.step, 'enrol');
  const [dave] = await usersNamed('dave@example.com');
  assert.equal(dave.user_pool_id ?? null, null);
});
