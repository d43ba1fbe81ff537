// VerifyAuthChallengeResponse against a fake issuer that signs real ES256 and RS256 ID tokens: only a
// code that redeems for a token with the right signature, issuer, audience, nonce, expiry
// and user name is a correct answer; everything else is a wrong answer, never an error.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { verify, newInstance, verifyEvent, startFakeIssuer, useFake, captureLogs, newKey, newRsaKey, jws, CLIENT_ID, CLIENT_SECRET, CALLBACK } from './fake.mjs';

let fake;
before(async () => {
  fake = await startFakeIssuer();
  useFake(fake);
});
after(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
  fake.mode = {};
});

const challenge = (nonce = 'n-0123456789') => ({ nonce, code_verifier: 'v'.repeat(43), state: 's-1', redirect_uri: CALLBACK });

/** Runs the trigger; returns answerCorrect and what it logged. */
async function answer(code, secret = challenge(), options) {
  const { result, error, logs } = await captureLogs(() => verify.handler(verifyEvent(code, secret, options)));
  assert.equal(error, undefined, 'a wrong answer is never an error');
  assert.equal(typeof result.response.answerCorrect, 'boolean');
  return { correct: result.response.answerCorrect, logs };
}

test('a code that redeems for a matching ID token is correct', async () => {
  const secret = challenge();
  const code = fake.issue(secret.nonce);
  const { correct, logs } = await answer(code, secret);
  assert.equal(correct, true);
  const [token] = fake.of('/token');
  assert.equal(token.headers['content-type'], 'application/x-www-form-urlencoded');
  const [id, key] = Buffer.from(token.headers.authorization.replace('Basic ', ''), 'base64').toString().split(':');
  assert.deepEqual([decodeURIComponent(id), decodeURIComponent(key.replace(/\+/g, ' '))], [CLIENT_ID, CLIENT_SECRET]);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(token.body)), {
    grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: secret.code_verifier,
  });
  for (const line of logs) {
    for (const value of [code, secret.code_verifier, secret.nonce, CLIENT_SECRET]) assert.ok(!line.includes(value), line);
  }
});

test('the user name is compared lower-cased, as it was pushed', async () => {
  const secret = challenge();
  assert.equal((await answer(fake.issue(secret.nonce), secret, { userName: 'ADA@example.COM' })).correct, true);
});

test('an ID token with another nonce is wrong', async () => {
  const secret = challenge();
  const { correct, logs } = await answer(fake.issue('a-different-nonce'), secret);
  assert.equal(correct, false);
  assert.match(logs.join('\n'), /nonce does not match/);
});

test('an ID token for another audience is wrong', async () => {
  const secret = challenge();
  assert.equal((await answer(fake.issue(secret.nonce, { aud: 'another-client-id-123' }), secret)).correct, false);
  const both = { aud: ['another-client-id-123', CLIENT_ID], azp: 'another-client-id-123' };
  assert.equal((await answer(fake.issue(secret.nonce, both), secret)).correct, false);
});

test('an ID token for another user is wrong', async () => {
  const secret = challenge();
  const { correct, logs } = await answer(fake.issue(secret.nonce, { preferred_username: 'eve@example.com' }), secret);
  assert.equal(correct, false);
  assert.match(logs.join('\n'), /another user/);
  assert.equal((await answer(fake.issue(secret.nonce, { preferred_username: undefined }), secret)).correct, false);
});

test('an ID token from another issuer is wrong', async () => {
  const secret = challenge();
  assert.equal((await answer(fake.issue(secret.nonce, { iss: 'https://evil.example.com' }), secret)).correct, false);
});

test('an expired ID token is wrong', async () => {
  const secret = challenge();
  const past = Math.floor(Date.now() / 1000) - 10;
  const { correct, logs } = await answer(fake.issue(secret.nonce, { exp: past }), secret);
  assert.equal(correct, false);
  assert.match(logs.join('\n'), /expired/);
  assert.equal((await answer(fake.issue(secret.nonce, { exp: undefined }), secret)).correct, false);
});

test('an ID token signed by another key is wrong, even under the right kid', async () => {
  const secret = challenge();
  const { privateKey } = newKey();
  const { correct, logs } = await answer(fake.issue(secret.nonce, {}, { key: privateKey }), secret);
  assert.equal(correct, false);
  assert.match(logs.join('\n'), /signature is invalid/);
});

test('an ID token under an unknown kid, or neither ES256 nor RS256, is wrong', async () => {
  const secret = challenge();
  assert.equal((await answer(fake.issue(secret.nonce, {}, { header: { kid: 'unknown' } }), secret)).correct, false);
  assert.equal((await answer(fake.issue(secret.nonce, {}, { header: { alg: 'none' } }), secret)).correct, false);
  assert.equal((await answer(fake.issue(secret.nonce, {}, { header: { alg: 'HS256' } }), secret)).correct, false);
});

test('an application that takes RS256 ID tokens: an RS256 token under the RSA key is correct', async () => {
  const secret = challenge();
  const rs256 = { header: { alg: 'RS256', kid: fake.rsaKid }, key: fake.rsaPrivateKey };
  assert.equal((await answer(fake.issue(secret.nonce, {}, rs256), secret)).correct, true);
});

test('an algorithm that does not go with its key is wrong: RS256 under the EC key, ES256 under the RSA key', async () => {
  const secret = challenge();
  const rsaUnderEc = await answer(fake.issue(secret.nonce, {}, { header: { alg: 'RS256' }, key: fake.rsaPrivateKey }), secret);
  assert.equal(rsaUnderEc.correct, false);
  assert.match(rsaUnderEc.logs.join('\n'), /says RS256 with a ES256 key/);
  const ecUnderRsa = await answer(fake.issue(secret.nonce, {}, { header: { kid: fake.rsaKid } }), secret);
  assert.equal(ecUnderRsa.correct, false);
  assert.match(ecUnderRsa.logs.join('\n'), /says ES256 with a RS256 key/);
  const otherRsa = await answer(fake.issue(secret.nonce, {}, { header: { alg: 'RS256', kid: fake.rsaKid }, key: newRsaKey().privateKey }), secret);
  assert.equal(otherRsa.correct, false, 'another RSA key under the right kid');
});

test('an ID token whose claims were swapped under a valid signature is wrong', async () => {
  const secret = challenge();
  const signedForEve = jws({ alg: 'ES256', typ: 'JWT', kid: fake.kid }, fake.claims(secret.nonce, { preferred_username: 'eve@example.com' }), fake.privateKey);
  const [header, , signature] = signedForEve.split('.');
  const forAda = Buffer.from(JSON.stringify(fake.claims(secret.nonce))).toString('base64url');
  fake.mode['/token'] = () => [200, { id_token: `${header}.${forAda}.${signature}` }];
  const { correct, logs } = await answer('any-code', secret);
  assert.equal(correct, false);
  assert.match(logs.join('\n'), /signature is invalid/);
});

test('a code the issuer refuses is wrong', async () => {
  const { correct, logs } = await answer('not-a-code-we-issued');
  assert.equal(correct, false);
  assert.match(logs.join('\n'), /token endpoint answered 400 invalid_grant/);
});

test('a code redeemed twice is wrong the second time', async () => {
  const secret = challenge();
  const code = fake.issue(secret.nonce);
  assert.equal((await answer(code, secret)).correct, true);
  assert.equal((await answer(code, secret)).correct, false);
});

test('an issuer that does not answer in time is a wrong answer within the budget', async () => {
  fake.mode['/token'] = 'hang';
  const started = Date.now();
  const { correct, logs } = await answer(fake.issue('n'), challenge('n'));
  const took = Date.now() - started;
  assert.equal(correct, false);
  assert.ok(took >= 2000 && took < 3000, `took ${took} ms`);
  assert.match(logs.join('\n'), /did not answer in time/);
});

test('an issuer answering an error or nonsense is a wrong answer', async () => {
  fake.mode['/token'] = () => [500, { error: 'server_error' }];
  assert.equal((await answer(fake.issue('n'), challenge('n'))).correct, false);
  fake.mode['/token'] = () => [200, { access_token: 'x' }];
  assert.equal((await answer(fake.issue('n'), challenge('n'))).correct, false);
  fake.mode['/token'] = () => [200, { id_token: 'not.a.jwt' }];
  assert.equal((await answer(fake.issue('n'), challenge('n'))).correct, false);
  fake.mode['/token'] = () => [200, { id_token: 'one-part' }];
  assert.equal((await answer(fake.issue('n'), challenge('n'))).correct, false);
});

test('an empty answer, or a challenge Biopass did not create, is wrong without calling the issuer', async () => {
  assert.equal((await answer('')).correct, false);
  assert.equal((await answer(undefined)).correct, false);
  assert.equal((await answer('code', {})).correct, false);
  assert.equal((await answer('code', { ...challenge(), code_verifier: '' })).correct, false);
  assert.equal(fake.requests.length, 0);
});

test('the secret is read from Secrets Manager, and read again when Biopass refuses it after a rotation', async () => {
  const { verify: fresh } = newInstance();
  const run = async (code, secret) => (await captureLogs(() => fresh.handler(verifyEvent(code, secret)))).result.response.answerCorrect;
  let secret = challenge();
  assert.equal(await run(fake.issue(secret.nonce), secret), true);
  assert.equal(fake.secretReads().length, 1);
  fake.requests.length = 0;
  fake.rotate('rotated in the console');
  try {
    secret = challenge('n-after-rotation');
    assert.equal(await run(fake.issue(secret.nonce), secret), true, 'the code is redeemed with the new secret');
    const tokens = fake.of('/token');
    assert.equal(tokens.length, 2);
    assert.equal(Buffer.from(tokens[1].headers.authorization.slice(6), 'base64').toString().split(':')[1], 'rotated+in+the+console');
    assert.equal(fake.secretReads().length, 1);
    // Biopass rotated, the stack not yet updated: a wrong answer, never an error.
    fake.requests.length = 0;
    fake.rotate('not in the stack yet', { stored: false });
    secret = challenge('n-stale');
    const { correct, logs } = await answer(fake.issue(secret.nonce), secret);
    assert.equal(correct, false);
    assert.match(logs.join('\n'), /the token endpoint answered 401 invalid_client/);
  } finally {
    fake.rotate(CLIENT_SECRET);
  }
});
