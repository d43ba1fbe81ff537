// The application's acceptable authenticators, against the real worker under wrangler dev:
// the setting in the admin API, an application that takes only the authenticator app, one
// that takes only the face (a user with only an app proves who they are with it and then
// must enrol a face), and adding a second authenticator where both are taken, which needs
// the first one in the same sign-in. Face evidence comes from livesynth; codes are
// redeemed by openid-client, whose ID token says every authenticator used (`amr`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { admin, newState, startWorker } from '../lib/worker.mjs';
import { Account, savedCodes } from '../lib/login.mjs';
import { base32Decode } from '../lib/totp.mjs';
import { PERSON_A, buildTool, synth, createApp, relyingParty, beginLogin } from './helpers.mjs';

let worker, state;
const rp = {};

before(async () => {
  buildTool();
  state = newState();
  worker = await startWorker(state);
  for (const [name, kinds] of [['both', undefined], ['face', ['face']], ['totp', ['totp']]]) {
    const app = await createApp(worker, `App accepting ${name}`, kinds ? { acceptable_authenticators: kinds } : {});
    assert.deepEqual(app.acceptable_authenticators, kinds ?? ['face', 'totp']);
    rp[name] = { app, config: await relyingParty(worker, app) };
  }
});

after(async () => {
  await worker?.stop();
  state?.cleanup();
});

function assertError(r, status, code, pattern) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error, code, JSON.stringify(r.body));
  if (pattern) assert.match(r.body.message, pattern);
}

/**
 * Sets up a first authenticator app in `login` (its enrolment step); the recovery codes it
 * shows are kept on `account` and the sign-in finished; returns the finishing answer.
 */
async function enrolTotp(login, account) {
  const offer = await login.browser.json('POST', `/api/login/${login.tx}/totp/enrol`);
  assert.equal(offer.status, 200, JSON.stringify(offer.body));
  account.seed = base32Decode(offer.body.secret);
  account.lastStep = -1;
  const confirmed = await login.browser.json('POST', `/api/login/${login.tx}/totp/enrol/confirm`, { code: await account.nextCode() });
  assert.equal(confirmed.body.step, 'recovery_codes', JSON.stringify(confirmed.body));
  return savedCodes(login.browser, login.tx, confirmed, account);
}

const answerTotp = async (login, account, extra = {}) =>
  login.browser.json('POST', `/api/login/${login.tx}/totp`, { code: await account.nextCode(), ...extra });

/** Enrols a face in `login` (its enrolment step, consent given); returns the answer. */
async function enrolFace(login) {
  const c = await login.challenge();
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.purpose, 'enrol');
  return login.evidence({ nonce: c.body.nonce, consent: true, ...(await synth(PERSON_A, c.body)) });
}

test('the setting: at least one authenticator, each once, in a fixed order', async () => {
  const id = rp.both.app.client_id;
  assertError(await admin(worker, 'PATCH', `/applications/${id}`, { acceptable_authenticators: [] }), 400, 'invalid_input');
  assert.equal((await admin(worker, 'PATCH', `/applications/${id}`, { acceptable_authenticators: [] })).body.field, 'acceptable_authenticators');
  assertError(await admin(worker, 'PATCH', `/applications/${id}`, { acceptable_authenticators: ['password'] }), 400, 'invalid_input');
  const set = await admin(worker, 'PATCH', `/applications/${id}`, { acceptable_authenticators: ['totp', 'face', 'totp'] });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body.acceptable_authenticators, ['face', 'totp']);
  assert.deepEqual((await admin(worker, 'GET', `/applications/${id}`)).body.acceptable_authenticators, ['face', 'totp']);
});

test('an application that accepts only the authenticator app offers no face, and refuses face evidence', async () => {
  const account = new Account('tom@example.com');
  const login = await beginLogin(worker, rp.totp.config, account.username);
  const s = (await login.loginState()).body;
  assert.deepEqual([s.step, s.allowed, s.additional], ['enrol', ['totp'], false]);
  assertError(await login.challenge(), 403, 'forbidden', /not available/);
  const done = await enrolTotp(login, account);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.step, 'done');
  assert.deepEqual((await login.redeem(done.body.redirect_to)).claims().amr, ['otp']);
});

test('an application that accepts only the face: a user with only an app proves who they are with it, then must enrol a face', async () => {
  const account = new Account('uma@example.com');
  {
    const login = await beginLogin(worker, rp.totp.config, account.username);
    assert.equal((await enrolTotp(login, account)).status, 200);
  }
  const login = await beginLogin(worker, rp.face.config, account.username);
  const s = await login.loginState();
  assert.equal(s.body.step, 'authenticate');
  assert.deepEqual([s.body.enrolled, s.body.can_add, s.body.must_add], [['totp', 'recovery_code'], ['face'], true]);
  // Nothing can be enrolled before the person has proved who they are.
  assertError(await login.challenge(), 403, 'forbidden');
  assertError(await login.browser.json('POST', `/api/login/${login.tx}/totp/enrol`), 403, 'forbidden');
  // The code proves it, and does not end the sign-in: the application does not take it alone.
  const next = await answerTotp(login, account);
  assert.equal(next.status, 200, JSON.stringify(next.body));
  assert.deepEqual(next.body, { step: 'enrol', allowed: ['face'], additional: true, optional: false });
  assert.deepEqual((await login.loginState()).body.step, 'enrol');
  // The face is required here: it cannot be skipped.
  assertError(await login.browser.json('POST', `/api/login/${login.tx}/skip`), 403, 'forbidden');
  // A second authenticator app is not what this application takes.
  assertError(await login.browser.json('POST', `/api/login/${login.tx}/totp/enrol`), 403, 'forbidden', /does not accept/);
  const done = await enrolFace(login);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.step, 'done');
  const claims = (await login.redeem(done.body.redirect_to)).claims();
  assert.deepEqual(claims.amr, ['otp', 'face']);
  const user = (await admin(worker, 'GET', `/users/${claims.sub}`)).body;
  assert.deepEqual([user.authenticators.totp, user.authenticators.face], [true, true]);

  // Next time the face alone is asked for (or a recovery code), and all that can be added is new codes.
  const again = await beginLogin(worker, rp.face.config, account.username);
  const a = (await again.loginState()).body;
  assert.deepEqual([a.step, a.enrolled, a.can_add, a.must_add], ['authenticate', ['face', 'recovery_code'], ['recovery_code'], false]);
  // The code the user still has is not a way into this application.
  assertError(await answerTotp(again, account), 403, 'forbidden', /not available/);
});

test('where both are accepted, a second authenticator is added only after proving who one is with the first', async () => {
  const account = new Account('vic@example.com');
  {
    const login = await beginLogin(worker, rp.both.config, account.username);
    assert.equal((await enrolTotp(login, account)).status, 200);
  }
  {
    const login = await beginLogin(worker, rp.both.config, account.username);
    const s = (await login.loginState()).body;
    assert.deepEqual([s.step, s.enrolled, s.can_add, s.must_add], ['authenticate', ['totp', 'recovery_code'], ['face', 'recovery_code'], false]);
    // A stolen password alone cannot add the thief's face to the account.
    assertError(await login.challenge(), 403, 'forbidden');
    // Without asking to add one, the code ends the sign-in.
    const done = await answerTotp(login, account);
    assert.equal(done.body.step, 'done', JSON.stringify(done.body));
    assert.deepEqual((await login.redeem(done.body.redirect_to)).claims().amr, ['otp']);
  }
  {
    // Asked for, the face may be skipped: the sign-in ends with the code alone.
    const login = await beginLogin(worker, rp.both.config, account.username);
    const next = await answerTotp(login, account, { add_authenticator: true });
    assert.deepEqual(next.body, { step: 'enrol', allowed: ['face', 'recovery_code'], additional: true, optional: true });
    const skipped = await login.browser.json('POST', `/api/login/${login.tx}/skip`);
    assert.equal(skipped.body.step, 'done', JSON.stringify(skipped.body));
    assert.deepEqual((await login.redeem(skipped.body.redirect_to)).claims().amr, ['otp']);
  }
  const login = await beginLogin(worker, rp.both.config, account.username);
  const next = await answerTotp(login, account, { add_authenticator: true });
  assert.deepEqual(next.body, { step: 'enrol', allowed: ['face', 'recovery_code'], additional: true, optional: true });
  const done = await enrolFace(login);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  const claims = (await login.redeem(done.body.redirect_to)).claims();
  assert.deepEqual(claims.amr, ['otp', 'face']);
  // The transaction ended with the code: nothing more can be done with it.
  assertError(await login.challenge(), 410, 'expired');
  const audit = (await admin(worker, 'GET', '/audit?limit=100')).body.items;
  assert.ok(audit.some((e) => e.action === 'login.authenticated' && e.actor === 'user:vic@example.com'), 'the first factor is audited');
  const success = audit.find((e) => e.action === 'login.success' && e.actor === 'user:vic@example.com');
  assert.equal(success.detail, 'with otp and face', 'the sign-in names both factors');
});
