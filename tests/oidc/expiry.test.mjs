// Things that expire: an authorization code after 60 s and a PAR request_uri after 60 s.
// Both wait out their lifetime together, in their own worker, so the wait runs alongside
// the other test files.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { newState, startWorker, admin } from '../lib/worker.mjs';
import { Account, loginWithTotp, startLogin } from '../lib/login.mjs';

const CALLBACK = 'https://rp.example.com/callback';
const state = newState();
let worker;
after(async () => { await worker?.stop(); state.cleanup(); });

test('an expired code and an expired request_uri are refused', { timeout: 120_000 }, async () => {
  worker = await startWorker(state);
  const created = (await admin(worker, 'POST', '/applications', { name: 'Clock', application_type: 'amazon_cognito_mfa', allowed_callback_urls: [CALLBACK] })).body;
  const secret = (await admin(worker, 'GET', `/applications/${created.client_id}/secret`)).body.client_secret;
  const config = await client.discovery(new URL(worker.url), created.client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const params = { redirect_uri: CALLBACK, scope: 'openid', login_hint: 'clock@example.com', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' };
  const cb = new URL(await loginWithTotp(worker.url, (await client.buildAuthorizationUrlWithPAR(config, params)).href, new Account('clock@example.com')));
  const unused = await client.buildAuthorizationUrlWithPAR(config, params);
  await new Promise((r) => setTimeout(r, 62_000));
  await assert.rejects(client.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier }), (e) => e.error === 'invalid_grant');
  await assert.rejects(startLogin(worker.url, unused.href), /invalid_request_uri/);
});
