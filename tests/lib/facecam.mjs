// Face logins in headless Chromium with a fake camera: the videos scripts/fixtures.sh
// makes, a login started by openid-client (PAR) in a fresh page, the page's `biopass:*`
// performance marks recorded in Node (they outlive the redirect back to the application),
// and the code redeemed at the end.
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { launch } from './browser.mjs';

export const CALLBACK = 'https://rp.example.com/callback';
export const VIDEO = join(process.env.BIOPASS_CACHE || join(homedir(), '.cache/biopass'), 'video');

/** Chromium flags for a camera that plays `name` from the fixtures (none for `null`). */
export const camera = (name) => ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${join(VIDEO, name)}`];

/** A headless Chromium with the camera `video`. */
export const withCamera = (video) => launch(camera(video));

/** The page's `biopass:*` marks as they happen: name -> [epoch ms]. */
export async function recordMarks(page) {
  const marks = new Map();
  await page.exposeBinding('__biopassMark', (_source, name, at) => {
    if (!marks.has(name)) marks.set(name, []);
    marks.get(name).push(at);
  });
  await page.addInitScript(() => {
    // Reported as each mark is made: a PerformanceObserver reports later, in another task,
    // and the page may have left for the application by then.
    const mark = performance.mark.bind(performance);
    performance.mark = (name, options) => {
      const entry = mark(name, options);
      if (name.startsWith('biopass:')) window.__biopassMark(name, performance.timeOrigin + entry.startTime);
      return entry;
    };
    // Navigation start, as the same clock.
    window.__biopassMark('biopass:navigation', performance.timeOrigin);
  });
  return marks;
}

/**
 * Starts a login for `username` at the relying party `config` in a new page (of `context`,
 * or of a new context of `browser`). `arrived` resolves with the epoch ms at which the
 * browser came back to the application.
 */
export async function beginFaceLogin({ browser, context, config, username }) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CALLBACK, scope: 'openid', nonce, login_hint: username,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  context ??= await browser.newContext();
  const page = await context.newPage();
  const marks = await recordMarks(page);
  const show = (m) => {
    if ((m.type() === 'error' && !/status of (401|429)/.test(m.text())) || m.text().startsWith('biopass:')) console.log(`  [page] ${m.text()}`);
  };
  // Also what the face tracker's Web Worker says (a stalled download it starts again).
  page.on('console', show);
  let arrive;
  const arrived = new Promise((resolve) => { arrive = resolve; });
  // The relying party's callback is not on this machine: answer it here.
  await page.route(`${CALLBACK}**`, (route) => {
    arrive(Date.now());
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>back at the application</h1>' });
  });
  // The size of the evidence the page sends (the last one).
  let evidence = 0;
  page.on('request', (r) => { if (r.method() === 'POST' && /\/api\/login\/[^/]+\/face$/.test(r.url())) evidence = r.postDataBuffer()?.length ?? 0; });
  await page.goto(url.href);
  return { page, context, verifier, nonce, marks, arrived, evidenceBytes: () => evidence };
}

/**
 * `grant` (a code redemption), or its failure with what the token endpoint answered
 * (openid-client keeps an answer it cannot read as an OAuth error in `cause`) and, given
 * the worker, its last log lines.
 */
export async function explained(grant, worker) {
  try {
    return await grant;
  } catch (e) {
    const answer = e.cause instanceof Response ? `: ${e.cause.status} ${await e.cause.text().catch(() => '')}` : '';
    const log = worker ? `\nworker log (whole: tests/out/wrangler-${worker.port}.log):\n${worker.output().split('\n').slice(-30).join('\n')}` : '';
    throw new Error(`${e.message}${answer}${log}`, { cause: e });
  }
}

/** Waits for the code at the callback and redeems it; returns the ID token's claims. */
export async function redeem(config, { page, verifier, nonce }, worker) {
  await page.waitForURL(`${CALLBACK}**`, { timeout: 150_000 });
  const grant = client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
  return (await explained(grant, worker)).claims();
}
