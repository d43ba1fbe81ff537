// Biopass edge - VerifyAuthChallengeResponse trigger for Amazon Cognito custom
// authentication. The answer is the authorization code Biopass sent to the app's
// callback. It is redeemed at Biopass's token endpoint as the application, with the PKCE
// verifier kept by CreateAuthChallenge; the ID token's signature (ES256 or RS256, as the
// application is set up, each only with a key of its own type), iss, aud, nonce,
// exp and user name must all check out before answerCorrect is true. Any failure is a
// wrong answer, never an error. The code, verifier, secret and tokens are never logged.
'use strict';

const crypto = require('node:crypto');
const aws = require('./aws.js');

const BUDGET_MS = 2500;
const keys = new Map(); // kid -> { alg, key }, from the issuer's JWKS, per container

const formEncode = (s) => encodeURIComponent(s).replace(/%20/g, '+');
const json64 = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

class Rejected extends Error {}

/** The stack's settings with the client secret from Secrets Manager (`fresh`: read again). */
async function settings(region, deadline, fresh = false) {
  const { ClientId, Issuer, ClientSecretArn } = process.env;
  if (!ClientId || !Issuer || !ClientSecretArn) throw new Rejected('the stack does not set ClientId, Issuer and ClientSecretArn');
  const secret = await aws.clientSecret(ClientSecretArn, process.env.AWS_REGION || region, deadline, (m) => new Rejected(m), fresh);
  return { clientId: ClientId, issuer: Issuer, base: Issuer.replace(/\/+$/, ''), secret };
}

async function call(what, url, init, deadline) {
  const left = deadline - Date.now();
  if (left <= 0) throw new Rejected(`${what} did not answer in time`);
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(left) });
  } catch (e) {
    const timedOut = e && (e.name === 'TimeoutError' || e.name === 'AbortError');
    throw new Rejected(timedOut ? `${what} did not answer in time` : `${what} could not be reached`);
  }
}

/** Redeems the code with the application's secret; answers the token endpoint's response. */
function tokenCall(config, code, secret, deadline) {
  const auth = Buffer.from(`${formEncode(config.clientId)}:${formEncode(config.secret)}`).toString('base64');
  return call('the token endpoint', `${config.base}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: secret.redirect_uri,
      code_verifier: secret.code_verifier,
    }).toString(),
  }, deadline);
}

/**
 * Redeems the code; returns the ID token. A refused client (401: the secret was rotated)
 * reads the secret again and tries once more; the code is still unspent then, since
 * Biopass authenticates the client before it looks at the code.
 */
async function redeem(config, code, secret, event, deadline) {
  let r = await tokenCall(config, code, secret, deadline);
  if (r.status === 401) {
    Object.assign(config, await settings(event.region, deadline, true));
    r = await tokenCall(config, code, secret, deadline);
  }
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) throw new Rejected(`the token endpoint answered ${r.status} ${answer.error || ''}`.trim());
  if (typeof answer.id_token !== 'string') throw new Rejected('the token response has no id_token');
  return answer.id_token;
}

/** The issuer's public key for kid, fetching the JWKS again when the kid is new. */
async function publicKey(config, kid, deadline) {
  if (!keys.has(kid)) {
    const r = await call('the JWKS endpoint', `${config.base}/.well-known/jwks.json`, {}, deadline);
    if (!r.ok) throw new Rejected(`the JWKS endpoint answered ${r.status}`);
    const { keys: jwks } = await r.json();
    for (const jwk of Array.isArray(jwks) ? jwks : []) {
      if (typeof jwk.kid !== 'string') continue;
      if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
        keys.set(jwk.kid, { alg: 'ES256', key: crypto.createPublicKey({ key: jwk, format: 'jwk' }) });
      } else if (jwk.kty === 'RSA' && typeof jwk.n === 'string' && Buffer.from(jwk.n, 'base64url').length >= 256) {
        keys.set(jwk.kid, { alg: 'RS256', key: crypto.createPublicKey({ key: jwk, format: 'jwk' }) });
      }
    }
  }
  const known = keys.get(kid);
  if (!known) throw new Rejected('the ID token is signed with an unknown key');
  return known;
}

/** Checks the ID token: signature, then iss, aud, nonce, exp and user name. */
async function check(config, idToken, event, secret, deadline) {
  const parts = idToken.split('.');
  if (parts.length !== 3) throw new Rejected('the ID token is not a JWS');
  const header = json64(parts[0]);
  if (!['ES256', 'RS256'].includes(header.alg) || typeof header.kid !== 'string') throw new Rejected('the ID token is not ES256 or RS256 with a kid');
  const { alg, key } = await publicKey(config, header.kid, deadline);
  // The algorithm goes with the key: an RSA key never verifies an ES256 header, nor the reverse.
  if (alg !== header.alg) throw new Rejected(`the ID token says ${header.alg} with a ${alg} key`);
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  const ok = alg === 'ES256'
    ? crypto.verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature)
    : crypto.verify('sha256', signed, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, signature);
  if (!ok) throw new Rejected('the ID token signature is invalid');
  const claims = json64(parts[1]);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== config.issuer) throw new Rejected('the ID token is from another issuer');
  if (!audiences.includes(config.clientId) || (audiences.length > 1 && claims.azp !== config.clientId)) {
    throw new Rejected('the ID token is for another audience');
  }
  if (claims.nonce !== secret.nonce) throw new Rejected('the ID token nonce does not match');
  if (!(typeof claims.exp === 'number' && claims.exp * 1000 > Date.now())) throw new Rejected('the ID token has expired');
  if (claims.preferred_username !== event.userName.toLowerCase()) throw new Rejected('the ID token is for another user');
}

async function verify(event, deadline) {
  const config = await settings(event.region, deadline);
  const secret = event.request.privateChallengeParameters || {};
  const code = event.request.challengeAnswer;
  if (typeof code !== 'string' || !code) throw new Rejected('the answer is empty');
  if (!secret.nonce || !secret.code_verifier || !secret.redirect_uri) throw new Rejected('the challenge was not created by Biopass');
  const idToken = await redeem(config, code, secret, event, deadline);
  await check(config, idToken, event, secret, deadline);
}

exports.handler = async (event) => {
  const deadline = Date.now() + BUDGET_MS;
  let correct = false;
  try {
    await verify(event, deadline);
    correct = true;
  } catch (e) {
    const reason = e instanceof Rejected ? e.message : 'unexpected response';
    console.log(JSON.stringify({ trigger: 'verify', userPoolId: event.userPoolId, rejected: reason }));
  }
  event.response = event.response || {};
  event.response.answerCorrect = correct;
  if (correct) console.log(JSON.stringify({ trigger: 'verify', userPoolId: event.userPoolId, accepted: true }));
  return event;
};
