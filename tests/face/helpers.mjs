// Face-login test helpers: the synthetic-evidence tool (model/examples/facesynth.rs), an
// application and relying party on the real worker, PAR login start, the face API calls,
// and the workerd processes' CPU time.
import { execFile, execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as client from 'openid-client';
import { ROOT, admin } from '../lib/worker.mjs';
export { workerdCpuMs } from '../lib/worker.mjs';
import { startLogin } from '../lib/login.mjs';

import { CALLBACK, explained } from '../lib/facecam.mjs';
export { CALLBACK };
const PHOTOS = join(homedir(), '.cache/biopass/photos');
// Faces checked with `facesynth faces`: frontal, big enough, alone in their context crop.
export const PERSON_A = { photo: join(PHOTOS, 'sample5.jpg'), face: 4 };
export const PERSON_B = { photo: join(PHOTOS, 'sample6.jpg'), face: 2 };

const TARGET = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache/biopass/target');
const TOOL = join(TARGET, 'release/examples/facesynth');

/** Builds the tool (cargo skips it when up to date). */
export function buildTool() {
  execFileSync('cargo', ['build', '--release', '-p', 'biopass-model', '--example', 'facesynth'], {
    cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CARGO_TARGET_DIR: TARGET },
  });
}

const run = promisify(execFile);
const cache = new Map();

/**
 * The `frames` of an evidence for `steps`, synthesised from `person`'s photo; `extra` are
 * more tool arguments (attacks). Memoised; logs the tool's pose report once.
 */
export function synth(person, steps, extra = []) {
  const args = ['evidence', '--photo', person.photo, '--face', String(person.face), '--steps', steps.join(','), ...extra];
  const key = args.join(' ');
  if (!cache.has(key)) {
    cache.set(key, run(TOOL, args, { maxBuffer: 64 << 20 }).then(({ stdout, stderr }) => {
      console.log(`facesynth ${args.slice(1).join(' ').replaceAll(PHOTOS + '/', '')}\n${stderr.trim().replace(/^/gm, '  ')}`);
      return JSON.parse(stdout);
    }));
  }
  return cache.get(key).then((frames) => structuredClone(frames));
}

/** How many frames of an evidence face the camera (they come first). */
export function frontalCount(frames) {
  return frames.filter((f) => f.step == null).length;
}

/** Creates an application (`extra`: more settings) and reads its secret. */
export async function createApp(worker, name, extra = {}) {
  const r = await admin(worker, 'POST', '/applications', { name, application_type: 'amazon_cognito_mfa', allowed_callback_urls: [CALLBACK], ...extra });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  const s = await admin(worker, 'GET', `/applications/${r.body.client_id}/secret`);
  return { ...r.body, secret: s.body.client_secret };
}

export async function relyingParty(worker, app) {
  return client.discovery(new URL(worker.url), app.client_id, { id_token_signed_response_alg: 'ES256', redirect_uris: [CALLBACK] },
    client.ClientSecretBasic(app.secret), { execute: [client.allowInsecureRequests] });
}

/** PAR + authorize for `username`: the login API session and what the code exchange needs. */
export async function beginLogin(worker, config, username) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const st = client.randomState();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CALLBACK, scope: 'openid profile', nonce, state: st, login_hint: username,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const { browser, tx } = await startLogin(worker.url, url.href);
  return {
    browser, tx, verifier, nonce, state: st,
    loginState: () => browser.json('GET', `/api/login/${tx}`),
    challenge: () => browser.json('POST', `/api/login/${tx}/face/challenge`),
    evidence: (body) => browser.json('POST', `/api/login/${tx}/face`, body),
    redeem: (callback) => explained(client.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: st, idTokenExpected: true,
    }), worker),
  };
}

