// Attacks on the running worker that once got past the second factor or locked people out:
// parallel guesses against the lock-out, a user name alone starting a sign-in, a disabled
// user who keeps signing in. openid-client is the relying party where tokens are involved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { newState, startWorker, admin } from '../lib/worker.mjs';
import { Account, Browser, loginWithTotp, startLogin } from '../lib/login.mjs';
import { hotp, step } from '../lib/totp.mjs';

const CALLBACK = 'https://rp.example.com/callback';
let worker, state, app, config;

before(async () => {
  state = newState();
  worker = await startWorker(state);
  const created = await admin(worker, 'POST', '/applications', {
    name: 'Attacked', application_type: 'amazon_cognito_mfa', allowed_callback_urls: [CALLBACK],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const secret = (await admin(worker, 'GET', `/applications/${created.body.client_id}/secret`)).body.client_secret;
  app = { ...created.body, secret };
  config = await client.discovery(new URL(worker.url), app.client_id,
    { id_token_signed_response_alg: 'ES256', redirect_uris: [CALLBACK] }, client.ClientSecretBasic(secret),
    { execute: [client.allowInsecureRequests] });
});

after(async () => {
  await worker?.stop();
  state?.cleanup();
});

/** A pushed request for `username` (as the Cognito stack makes it) and what redeeming needs. */
async function pushed(username) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CALLBACK, scope: 'openid', nonce, login_hint: username,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  return { url: url.href, verifier, nonce };
}

async function enrolled(username) {
  const account = new Account(username);
  await loginWithTotp(worker.url, (await pushed(username)).url, account);
  return account;
}

async function userId(username) {
  const { body } = await admin(worker, 'GET', `/users?q=${encodeURIComponent(username)}`);
  return body.items.find((u) => u.username === username).id;
}

/** A code of the account's authenticator app that is certainly wrong now (no step within drift). */
function wrongCode(account) {
  const now = step();
  const right = new Set([now - 1, now, now + 1].map((s) => hotp(account.seed, s)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!right.has(code)) return code;
  }
}

test('50 guesses at once get at most 5 answers checked, then the right code is locked out too', async () => {
  const account = await enrolled('parallel@example.com');
  const { browser, tx } = await startLogin(worker.url, (await pushed(account.username)).url);
  const wrong = wrongCode(account);
  const answers = await Promise.all(Array.from({ length: 50 }, () => browser.json('POST', `/api/login/${tx}/totp`, { code: wrong })));
  const checked = answers.filter((a) => a.body.error === 'wrong_answer');
  const locked = answers.filter((a) => a.status === 429 && a.body.error === 'locked');
  assert.equal(checked.length + locked.length, 50, JSON.stringify(answers.filter((a) => a.status !== 429 && a.status !== 401)));
  assert.ok(checked.length <= 5, `${checked.length} wrong answers were checked (at most 5 may be)`);
  // Every checked answer is audited: at most 5, whatever the concurrency.
  const audit = await admin(worker, 'GET', '/audit?limit=100');
  const failures = audit.body.items.filter((e) => e.actor === `user:${account.username}` && /^login\.(failure|locked)$/.test(e.action));
  assert.ok(failures.length >= 1 && failures.length <= 5, `${failures.length} guesses were checked`);
  const right = await browser.json('POST', `/api/login/${tx}/totp`, { code: await account.nextCode() });
  assert.equal(right.status, 429, `the right code after the lock is refused too: ${JSON.stringify(right.body)}`);
  assert.ok(right.body.retry_after > 0);
});

test('the right code among parallel wrong ones is never accepted after the fifth failure', async () => {
  const account = await enrolled('race@example.com');
  const { browser, tx } = await startLogin(worker.url, (await pushed(account.username)).url);
  const wrong = wrongCode(account);
  const code = await account.nextCode();
  const bodies = Array.from({ length: 20 }, (_, i) => (i === 12 ? code : wrong));
  const answers = await Promise.all(bodies.map((c) => browser.json('POST', `/api/login/${tx}/totp`, { code: c })));
  const accepted = answers.findIndex((a) => a.status === 200);
  const checkedWrong = answers.filter((a) => a.body.error === 'wrong_answer').length;
  assert.ok(checkedWrong <= 5, `${checkedWrong} wrong answers checked`);
  if (accepted >= 0) assert.ok(checkedWrong < 5, 'a right answer is only ever accepted while fewer than 5 wrong ones were counted');
});

test('malformed codes are refused without counting', async () => {
  const account = await enrolled('typo@example.com');
  const { browser, tx } = await startLogin(worker.url, (await pushed(account.username)).url);
  for (let i = 0; i < 8; i++) {
    const r = await browser.json('POST', `/api/login/${tx}/totp`, { code: '12ab' });
    assert.equal(r.status, 400);
  }
  const ok = await browser.json('POST', `/api/login/${tx}/totp`, { code: await account.nextCode() });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});

test('a user name alone (a plain request) starts no sign-in, so nobody can lock a user out with it', async () => {
  const account = await enrolled('victim@example.com');
  const plain = `${worker.url}/authorize?${new URLSearchParams({ client_id: app.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', login_hint: account.username })}`;
  const r = await fetch(plain, { redirect: 'manual' });
  assert.equal(r.status, 302);
  const back = new URL(r.headers.get('location'));
  assert.equal(back.origin + back.pathname, CALLBACK);
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  const unauthenticatedPar = await fetch(`${worker.url}/par`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: app.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', login_hint: account.username }).toString(),
  });
  assert.equal(unauthenticatedPar.status, 401, 'PAR needs the client secret');
  const callback = await loginWithTotp(worker.url, (await pushed(account.username)).url, account);
  assert.ok(new URL(callback).searchParams.get('code'), 'the real user still signs in');
});

test('a user disabled during a sign-in gets no further step, and the refused answer is not judged', async () => {
  const account = await enrolled('mid-login@example.com');
  const { browser, tx } = await startLogin(worker.url, (await pushed(account.username)).url);
  const id = await userId(account.username);
  const off = await admin(worker, 'PATCH', `/users/${id}`, { disabled: true });
  assert.equal(off.status, 200);
  const code = await account.nextCode();
  const answer = await browser.json('POST', `/api/login/${tx}/totp`, { code });
  assert.equal(answer.status, 403, JSON.stringify(answer.body));
  assert.match(answer.body.message, /disabled/);
  const fresh = await fetch((await pushed(account.username)).url, { redirect: 'manual' });
  assert.equal(new URL(fresh.headers.get('location'), worker.url).searchParams.get('error'), 'access_denied');
  // The user's status is read by the answer's own operation on their TOTP counter: refused
  // before it was judged, the code was not spent, so once enabled again the same code works.
  assert.equal((await admin(worker, 'PATCH', `/users/${id}`, { disabled: false })).status, 200);
  const again = await browser.json('POST', `/api/login/${tx}/totp`, { code });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.ok(again.body.redirect_to, JSON.stringify(again.body));
});

test('a code issued before the user was disabled is not redeemed, and their tokens stop working', async () => {
  const account = await enrolled('after-code@example.com');
  const id = await userId(account.username);
  // Tokens from an earlier sign-in.
  const first = await pushed(account.username);
  const firstCallback = new URL(await loginWithTotp(worker.url, first.url, account));
  const tokens = await client.authorizationCodeGrant(config, firstCallback, { pkceCodeVerifier: first.verifier, expectedNonce: first.nonce, idTokenExpected: true });
  assert.equal((await fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 200);
  // A code the user got just before being disabled.
  const second = await pushed(account.username);
  const secondCallback = new URL(await loginWithTotp(worker.url, second.url, account));
  assert.equal((await admin(worker, 'PATCH', `/users/${id}`, { disabled: true })).status, 200);
  await assert.rejects(
    client.authorizationCodeGrant(config, secondCallback, { pkceCodeVerifier: second.verifier, expectedNonce: second.nonce, idTokenExpected: true }),
    (e) => e.error === 'invalid_grant' && /disabled/.test(e.error_description),
  );
  const info = await fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(info.status, 401);
  assert.match(info.headers.get('www-authenticate'), /invalid_token/);
  // Enabled again, they sign in as before.
  assert.equal((await admin(worker, 'PATCH', `/users/${id}`, { disabled: false })).status, 200);
  assert.ok(new URL(await loginWithTotp(worker.url, (await pushed(account.username)).url, account)).searchParams.get('code'));
});

test('a deleted user is gone: tokens stop working, the name signs in as someone new; an admin is not deleted', async () => {
  const account = await enrolled('leaver@example.com');
  const id = await userId(account.username);
  const first = await pushed(account.username);
  const callback = new URL(await loginWithTotp(worker.url, first.url, account));
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: first.verifier, expectedNonce: first.nonce, idTokenExpected: true });
  const pending = await pushed(account.username);
  const pendingCallback = new URL(await loginWithTotp(worker.url, pending.url, account));

  const deleted = await admin(worker, 'DELETE', `/users/${id}`);
  assert.deepEqual([deleted.status, deleted.body], [200, { deleted: id }]);
  assert.equal((await admin(worker, 'GET', `/users/${id}`)).status, 404);
  assert.deepEqual((await admin(worker, 'GET', `/users?q=${encodeURIComponent(account.username)}`)).body.items, []);
  assert.equal((await admin(worker, 'DELETE', `/users/${id}`)).status, 404, 'once');
  const info = await fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(info.status, 401);
  await assert.rejects(
    client.authorizationCodeGrant(config, pendingCallback, { pkceCodeVerifier: pending.verifier, expectedNonce: pending.nonce, idTokenExpected: true }),
    (e) => e.error === 'invalid_grant',
  );
  // The name's next sign-in (the stack vouches for it) registers a new user, who enrols.
  const again = await startLogin(worker.url, (await pushed(account.username)).url);
  const state = await again.browser.json('GET', `/api/login/${again.tx}`);
  assert.equal(state.body.step, 'enrol', JSON.stringify(state.body));
  const fresh = new Account(account.username);
  await loginWithTotp(worker.url, (await pushed(account.username)).url, fresh);
  assert.notEqual(await userId(account.username), id);
  const entries = (await admin(worker, 'GET', '/audit?limit=100')).body.items;
  assert.ok(entries.some((e) => e.action === 'users.delete' && e.target === id && !e.detail), 'the deletion is in the audit log');

  // An administrator keeps their record until their role is removed, and the last one who
  // can sign in keeps the role until there is another.
  const boss = await enrolled('boss@example.com');
  const bossId = await userId(boss.username);
  assert.equal((await admin(worker, 'PATCH', `/users/${bossId}`, { admin: true })).status, 200);
  const refused = await admin(worker, 'DELETE', `/users/${bossId}`);
  assert.equal(refused.status, 409);
  assert.match(refused.body.message, /administrator role first/);
  const last = await admin(worker, 'PATCH', `/users/${bossId}`, { admin: false });
  assert.equal(last.status, 409, JSON.stringify(last.body));
  assert.match(last.body.message, /last administrator who can sign in/);
  await consoleAdmin('deputy@example.com');
  assert.equal((await admin(worker, 'PATCH', `/users/${bossId}`, { admin: false })).status, 200);
  assert.equal((await admin(worker, 'DELETE', `/users/${bossId}`)).status, 200);
});

// The console's sign-in page takes any user name: nobody vouched for it (no password was
// checked), so it must not tell who exists, who is an admin, who is disabled or what they
// enrolled, and guesses typed there lock the guesser, never the account.

/** Starts a console sign-in for `name` in `browser`; returns the answer and the transaction. */
async function consoleStart(name, browser = new Browser(worker.url)) {
  const r = await browser.json('POST', '/admin/api/session/start', { username: name });
  const tx = r.status === 200 ? new URL(r.body.redirect_to, worker.url).searchParams.get('tx') : null;
  return { r, tx, browser };
}

/** An admin with an authenticator app, made admin by the API. */
async function consoleAdmin(username) {
  const account = await enrolled(username);
  const made = await admin(worker, 'PATCH', `/users/${await userId(username)}`, { admin: true });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  return account;
}

/** What a console sign-in shows before anything is proved, without the name and the clock. */
async function shown(name) {
  const { r, tx, browser } = await consoleStart(name);
  const state = await browser.json('GET', `/api/login/${tx}`);
  const face = await browser.json('POST', `/api/login/${tx}/face/challenge`);
  const { username, expires_at: _, ...rest } = state.body;
  assert.equal(username, name);
  return {
    start: { status: r.status, keys: Object.keys(r.body).sort(), to: r.body.redirect_to?.replace(/tx=[\w.-]+/, 'tx=') },
    state: { status: state.status, ...rest },
    face: { status: face.status, purpose: face.body.purpose, keys: Object.keys(face.body).sort() },
    wrong: await browser.json('POST', `/api/login/${tx}/totp`, { code: '000000' }),
  };
}

test('the console sign-in answers every name alike: admin, user, unknown, disabled admin, no app enrolled', async () => {
  await consoleAdmin('boss@example.com');
  await enrolled('plain-user@example.com');
  await consoleAdmin('gone-boss@example.com');
  await admin(worker, 'PATCH', `/users/${await userId('gone-boss@example.com')}`, { disabled: true });
  const noApp = await consoleAdmin('faceless@example.com');
  await admin(worker, 'DELETE', `/users/${await userId(noApp.username)}/authenticators/totp`);
  const names = ['boss@example.com', 'plain-user@example.com', 'nobody@example.com', 'gone-boss@example.com', 'faceless@example.com'];
  const seen = [];
  for (const name of names) seen.push(await shown(name));
  assert.equal(seen[0].start.status, 200, JSON.stringify(seen[0]));
  assert.equal(seen[0].state.step, 'authenticate');
  assert.equal(seen[0].face.purpose, 'authenticate');
  assert.equal(seen[0].wrong.status, 401, JSON.stringify(seen[0].wrong));
  for (let i = 1; i < names.length; i++) {
    assert.deepEqual(seen[i], seen[0], `${names[i]} is answered like ${names[0]}`);
  }
});

test('a disabled admin is told so only after proving who they are, and gets no session', async () => {
  const account = await consoleAdmin('proved-gone@example.com');
  await admin(worker, 'PATCH', `/users/${await userId(account.username)}`, { disabled: true });
  const { tx, browser } = await consoleStart(account.username);
  const answer = await browser.json('POST', `/api/login/${tx}/totp`, { code: await account.nextCode() });
  assert.equal(answer.status, 403, JSON.stringify(answer.body));
  assert.match(answer.body.message, /disabled/);
});

test('console guesses lock the guessing browser, and only slow the account: its admin still signs in', async () => {
  const account = await consoleAdmin('guessed@example.com');
  const wrong = wrongCode(account);
  const first = await consoleStart(account.username);
  const answers = [];
  for (let i = 0; i < 6; i++) answers.push(await first.browser.json('POST', `/api/login/${first.tx}/totp`, { code: wrong }));
  assert.deepEqual(answers.slice(0, 4).map((a) => a.body.error), Array(4).fill('wrong_answer'), JSON.stringify(answers));
  assert.equal(answers[4].status, 429, 'the fifth wrong answer locks this browser');
  assert.match(answers[4].body.message, /this browser is locked/);
  assert.equal(answers[5].status, 429);
  assert.match(answers[5].body.message, /from this browser/);
  assert.ok(answers[5].body.retry_after > 60);
  // A new browser is not locked, but the account's attempts are now spaced out: growing
  // waits (1 s, 2 s, ...), each said in Retry-After, and never a lock.
  const second = await consoleStart(account.username);
  let waits = [];
  let checked = 0;
  for (let i = 0; i < 8 && checked < 3; i++) {
    const a = await second.browser.json('POST', `/api/login/${second.tx}/totp`, { code: wrong });
    if (a.status === 429) {
      assert.match(a.body.message, /for this account\. Wait \d+ seconds/, JSON.stringify(a.body));
      waits.push(a.body.retry_after);
      await new Promise((r) => setTimeout(r, a.body.retry_after * 1000 + 200));
    } else {
      assert.equal(a.body.error, 'wrong_answer', JSON.stringify(a.body));
      checked++;
    }
  }
  assert.equal(checked, 3, `three more guesses were checked, after waits of ${waits}`);
  assert.ok(waits.length >= 2 && waits.every((w) => w >= 1 && w <= 8), `waits ${waits}`);
  // The admin, in their own browser, waits as they are told and signs in.
  const own = await consoleStart(account.username);
  let done;
  for (let i = 0; i < 4; i++) {
    done = await own.browser.json('POST', `/api/login/${own.tx}/totp`, { code: await account.nextCode() });
    if (done.status !== 429) break;
    assert.ok(done.body.retry_after <= 16, JSON.stringify(done.body));
    await new Promise((r) => setTimeout(r, done.body.retry_after * 1000 + 200));
    account.lastStep -= 1; // the refused code was not used: it may be given again
  }
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.match(new URL(done.body.redirect_to, worker.url).pathname, /^\/console\/callback$/);
});

test('50 browsers guessing one account at once get the free attempts and the paced ones checked, no more', async () => {
  const account = await consoleAdmin('crowd@example.com');
  const wrong = wrongCode(account);
  const starts = await Promise.all(Array.from({ length: 50 }, () => consoleStart(account.username)));
  const t0 = Date.now();
  const answers = await Promise.all(starts.map(({ browser, tx }) => browser.json('POST', `/api/login/${tx}/totp`, { code: wrong })));
  const seconds = (Date.now() - t0) / 1000;
  const checked = answers.filter((a) => a.body.error === 'wrong_answer').length;
  // Refused: the account's pace, or (while 50 answers are in flight at once) the address's
  // limit, which counts each until the account's check gives it back.
  const refused = answers.filter((a) => a.status === 429 && /for this account|from your network/.test(a.body.message)).length;
  assert.equal(checked + refused, 50, JSON.stringify(answers.filter((a) => a.body.error !== 'wrong_answer' && a.status !== 429)));
  // 5 free, then one after 1 s, 2 s, 4 s, ... from the last: within `seconds`, at most this many.
  const bound = 5 + Math.ceil(Math.log2(seconds + 1)) + 1;
  assert.ok(checked >= 1 && checked <= bound, `${checked} of 50 checked in ${seconds} s (at most ${bound})`);
});

// Last in this file: it locks the tests' own address.
test('one network address gets at most 30 guesses in 15 minutes, whatever browsers and names it uses', async () => {
  let locked = null;
  let guesses = 0;
  for (let i = 0; i < 31 && !locked; i++) {
    const { browser, tx } = await consoleStart(`spray-${i}@example.com`);
    const a = await browser.json('POST', `/api/login/${tx}/totp`, { code: '123456' });
    if (a.status === 429) locked = a;
    else {
      assert.equal(a.body.error, 'wrong_answer', JSON.stringify(a.body));
      guesses++;
    }
  }
  assert.ok(locked, `31 guesses from one address were all checked`);
  assert.match(locked.body.message, /from your network/);
  // A fresh browser, a fresh name: still refused, and says when to come back.
  const { browser, tx } = await consoleStart('spray-fresh@example.com');
  const again = await browser.json('POST', `/api/login/${tx}/totp`, { code: '123456' });
  assert.equal(again.status, 429);
  assert.match(again.body.message, /from your network/);
  assert.ok(again.body.retry_after > 0 && again.body.retry_after <= 900, JSON.stringify(again.body));
});
