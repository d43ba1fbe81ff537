// Applications, users and signing keys survive a restart of wrangler dev.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { newState, startWorker, admin } from '../lib/worker.mjs';
import { Account, loginWithTotp } from '../lib/login.mjs';

const CALLBACK = 'https://rp.example.com/callback';
const state = newState();
let worker;
after(async () => { await worker?.stop(); state.cleanup(); });

async function login(app, account) {
  const config = await client.discovery(new URL(worker.url), app.client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(app.secret), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid', login_hint: account.username, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const cb = await loginWithTotp(worker.url, url.href, account);
  return client.authorizationCodeGrant(config, new URL(cb), { pkceCodeVerifier: verifier, idTokenExpected: true });
}

test('state survives a restart', async () => {
  worker = await startWorker(state);
  const port = worker.port;
  const created = (await admin(worker, 'POST', '/applications', { name: 'Durable', application_type: 'amazon_cognito_mfa', allowed_callback_urls: [CALLBACK] })).body;
  const app = { ...created, secret: (await admin(worker, 'GET', `/applications/${created.client_id}/secret`)).body.client_secret };
  const account = new Account('durable@example.com');
  const first = await login(app, account);
  const jwksBefore = await (await fetch(`${worker.url}/.well-known/jwks.json`)).json();
  await worker.stop();

  worker = await startWorker(state, { port });
  assert.deepEqual((await admin(worker, 'GET', `/applications/${app.client_id}`)).body, created);
  const users = (await admin(worker, 'GET', '/users?q=durable@')).body.items;
  const user = users.find((u) => u.username === 'durable@example.com');
  assert.ok(user && user.authenticators.totp, 'the user and their enrolment survive');
  assert.ok(user.groups.includes(app.group_id));
  const jwksAfter = await (await fetch(`${worker.url}/.well-known/jwks.json`)).json();
  assert.deepEqual(jwksAfter, jwksBefore, 'the signing keys survive');
  // The same person logs in again, without enrolment, and keeps their subject.
  const second = await login(app, account);
  assert.equal(second.claims().sub, first.claims().sub);
});
