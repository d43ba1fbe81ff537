// Face-login test helpers: the synthetic-evidence tool (model/examples/livesynth.rs), an
// application and relying party on the real worker, PAR login start, the face API calls,
// and the workerd processes' CPU time.
import { execFile, execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as client from 'openid-client';
import { ROOT, createApp as createApplication } from '../lib/worker.mjs';
export { workerdCpuMs } from '../lib/worker.mjs';
import { savedCodes, startLogin } from '../lib/login.mjs';

import { CALLBACK, explained } from '../lib/facecam.mjs';
export { CALLBACK };
const PHOTOS = join(homedir(), '.cache/biopass/photos');
// Frontal faces of the demo photos, alone in their surroundings (persons A and B of the tests).
export const PERSON_A = { photo: join(PHOTOS, 'sample5.jpg'), face: 4 };
export const PERSON_B = { photo: join(PHOTOS, 'sample6.jpg'), face: 2 };

const TARGET = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache/biopass/target');
const TOOL = join(TARGET, 'release/examples/livesynth');

/** The release profile of native face builds (`native_profile` of scripts/lib.sh). */
const NATIVE_PROFILE = { CARGO_PROFILE_RELEASE_OPT_LEVEL: '3', CARGO_PROFILE_RELEASE_LTO: 'false', CARGO_PROFILE_RELEASE_CODEGEN_UNITS: '16' };

/** Builds the tool (cargo skips it when up to date). */
export function buildTool() {
  execFileSync('cargo', ['build', '--release', '-p', 'biopass-model', '--example', 'livesynth'], {
    cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...NATIVE_PROFILE, CARGO_TARGET_DIR: TARGET },
  });
}

const run = promisify(execFile);

/**
 * A capture of `challenge` (the worker's answer to POST .../face/challenge, with the
 * `received_at` the test noted) by `person`: the genuine simulation, or `attack` (see the
 * tool's doc). Resolves once as much time has passed since the challenge as the capture
 * claims to have taken (the worker checks that), to `{ frames, flashes_at_ms }`.
 */
export async function synth(person, challenge, attack = 'genuine', seed = 1) {
  const args = ['evidence', '--photo', person.photo, '--face', String(person.face), '--challenge', JSON.stringify(challenge), '--attack', attack, '--seed', String(seed)];
  const { stdout, stderr } = await run(TOOL, args, { maxBuffer: 64 << 20 });
  const out = JSON.parse(stdout);
  if (process.env.BIOPASS_VERBOSE) console.log(`livesynth ${attack}: ${stderr.trim()}`);
  const wait = (challenge.received_at ?? 0) + out.span_ms + 200 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  return { frames: out.frames, flashes_at_ms: out.flashes_at_ms };
}

/** Creates an application at the tests' callback (`extra`: more settings) and reads its secret. */
export const createApp = (worker, name, extra = {}) => createApplication(worker, name, extra, CALLBACK);

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
  const login = {
    browser, tx, verifier, nonce, state: st,
    /** After a first enrolment: keeps the recovery codes shown (`recoveryCodes`) and finishes, as Continue does. */
    saved: (answer) => savedCodes(browser, tx, answer, login),
    loginState: () => browser.json('GET', `/api/login/${tx}`),
    challenge: async (body) => {
      const r = await browser.json('POST', `/api/login/${tx}/face/challenge`, body);
      if (r.status === 200) r.body.received_at = Date.now();
      return r;
    },
    evidence: (body) => browser.json('POST', `/api/login/${tx}/face`, body),
    redeem: (callback) => explained(client.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: st, idTokenExpected: true,
    }), worker),
  };
  return login;
}

