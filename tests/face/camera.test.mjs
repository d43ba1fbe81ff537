// The login page's face step in real headless Chromium against the real worker, with a
// simulated person in front of the camera (tests/lib/facecam.mjs: a head rendered from a
// demo photo by model/examples/livesynth.rs, scripts/fixtures.sh, that fits the ovals and
// is lit by the screen's colours) or Chromium's fake camera playing a still video: first
// login with consent and enrolment, second login without, another person rejected until
// the lock-out, a head the screen does not light refused, deleting one's face data (with
// reduced motion), the camera errors, the live guidance, and an admin's face sign-in to
// the console. Codes are redeemed by openid-client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { admin, newState, startWorker } from '../lib/worker.mjs';
import { axe, launch, open, saveRecoveryCodes, shot } from '../lib/browser.mjs';
import { CALLBACK, beginFaceLogin, camera, pageState, redeem, withPerson } from '../lib/facecam.mjs';
import { createApp, relyingParty } from './helpers.mjs';
import { Account } from '../lib/login.mjs';
import { base32Decode } from '../lib/totp.mjs';

let worker, state, config, appOnly;
const browsers = [];

before(async () => {
  state = newState();
  worker = await startWorker(state);
  config = await relyingParty(worker, await createApp(worker, 'Payroll'));
  appOnly = await relyingParty(worker, await createApp(worker, 'Ledger', { acceptable_authenticators: ['totp'] }));
});

after(async () => {
  for (const b of browsers) await b.close();
  await worker?.stop();
  state?.cleanup();
});

async function browserWith(args) {
  const b = await launch(args);
  browsers.push(b);
  return b;
}

/** A browser with the simulated person `name` (`options`: see `withPerson`) at the camera. */
async function browserFor(name, options) {
  const b = await withPerson(name, options);
  browsers.push(b);
  return b;
}

const begin = (browser, username, contextOptions) => beginFaceLogin({ browser, config, username, contextOptions, worker });

/** Camera open to the worker's decision, and the evidence's size, as the log shows them. */
function report(name, login) {
  const [open] = login.marks.get('biopass:camera-open') ?? [];
  const [start] = login.marks.get('biopass:capture-start') ?? [];
  const [colours] = login.marks.get('biopass:colours-start') ?? [];
  const [last] = login.marks.get('biopass:last-step') ?? [];
  const [decided] = login.marks.get('biopass:face-decided') ?? [];
  const at = (t) => Math.round(t - open);
  console.log(`  ${name}: camera open to decision ${at(decided)} ms (capture start ${at(start)}, colours ${at(colours)}-${at(last)}, evidence ${login.evidenceBytes()} bytes)`);
}

test('first login enrols the face with consent, the second authenticates with it', { timeout: 400_000 }, async () => {
  const browser = await browserFor('person-a');
  const first = await begin(browser, 'grace@example.com');
  await first.page.getByRole('button', { name: /^Face/ }).click();
  await first.page.getByRole('heading', { name: 'Set up face sign-in' }).waitFor();
  const go = first.page.getByRole('button', { name: 'Continue' });
  assert.equal(await go.isDisabled(), true, 'no capture before consent');
  await axe(first.page, 'login-face-consent');
  assert.ok(await first.page.locator('#face-colours-warning').filter({ hasText: 'The screen will show a few bright colours for about two seconds.' }).isVisible(), 'warned before the colours');
  await first.page.getByLabel(/I agree to .+ processing my face/).check();
  // The person stays beside the oval while the capture screen is checked (it takes them
  // about two seconds once they are in it).
  await first.page.evaluate(() => { window.__person.away = true; });
  await go.click();
  await first.page.locator('#face-instruction').filter({ hasText: 'Fit your face in the small oval' }).waitFor({ timeout: 60_000 });
  await first.page.locator('#face-guidance').filter({ hasText: /Move your face into the oval|cannot see a face/ }).waitFor({ timeout: 30_000 });
  await axe(first.page, 'login-face-capture');
  await first.page.evaluate(() => { window.__person.away = false; });
  const claims = await redeem(config, first);
  assert.equal(first.recoveryCodes?.length, 10, 'the first enrolment showed the recovery codes');
  report('enrolment', first);
  assert.deepEqual(claims.amr, ['face']);
  const m = first.marks;
  assert.ok(m.get('biopass:tracked').length >= 4, 'frames were tracked');
  assert.ok(m.get('biopass:colours-start'), 'the colours were shown');
  assert.ok(m.get('biopass:face-verified'), 'the worker accepted the evidence');
  // The step list followed the capture, one step after another, and the colours' bar
  // reached its end.
  const steps = [...m.keys()].filter((k) => k.startsWith('step:'));
  assert.deepEqual(steps, ['step:1. Small oval', 'step:2. Come closer', 'step:3. Colours'], `steps shown: ${steps}`);
  const bars = [...m.keys()].filter((k) => k.startsWith('colours:'));
  const full = bars.map((b) => b.slice(8).split('/').map(Number)).find(([v, max]) => max >= 4 && v === max);
  assert.ok(full, `the colours' progress reached its end: ${bars}`);

  assert.ok(m.get('biopass:models-downloaded'), `a first visit downloads the models: ${[...m.keys()]}`);
  const sent = first.evidenceBytes();
  assert.ok(sent > 10_000 && sent < 400_000, `evidence of ${sent} bytes`);

  // The second visit, in the same browser profile, takes the models from Cache Storage.
  const second = await beginFaceLogin({ context: first.context, config, username: 'grace@example.com', worker });
  await second.page.getByRole('heading', { name: 'Sign in with your face' }).waitFor();
  const others = await second.page.getByRole('button', { name: /instead/ }).allInnerTexts();
  assert.deepEqual(others, ['Use a recovery code instead'], 'no other authenticator to offer, but the recovery codes');
  const again = await redeem(config, second);
  report('sign-in', second);
  assert.equal(again.sub, claims.sub);
  assert.deepEqual(again.amr, ['face']);
  assert.ok(second.marks.get('biopass:models-from-cache'), 'models from the cache');

  // Her only authenticator is her face; on a computer whose camera she does not allow, she
  // is not stranded: one of her recovery codes signs her in.
  const refusing = await begin(await browserWith(['--use-fake-device-for-media-stream']), 'grace@example.com');
  const f = await failure(refusing.page, 60_000);
  assert.equal(f.title, 'Camera access refused', f.message);
  await refusing.page.getByRole('button', { name: 'Use a recovery code instead' }).click();
  await refusing.page.getByLabel('Recovery code', { exact: true }).fill(first.recoveryCodes[0]);
  await refusing.page.getByRole('button', { name: 'Sign in' }).click();
  const byCode = await redeem(config, refusing);
  assert.equal(byCode.sub, claims.sub);
  assert.deepEqual(byCode.amr, ['otp']);
});

test('a person deletes their face data by proving it is them (asking for reduced motion)', { timeout: 400_000 }, async () => {
  const browser = await browserFor('person-a');
  const enrol = await begin(browser, 'ada@example.com');
  await enrol.page.getByRole('button', { name: /^Face/ }).click();
  await enrol.page.getByLabel(/I agree to .+ processing my face/).check();
  await enrol.page.getByRole('button', { name: 'Continue' }).click();
  const claims = await redeem(config, enrol);
  const face = async () => (await admin(worker, 'GET', `/users/${claims.sub}`)).body.authenticators.face;
  assert.equal(await face(), true);

  // Reduced motion: the page asks for it, the worker issues slower colours.
  const login = await begin(browser, 'ada@example.com', { reducedMotion: 'reduce' });
  const issued = login.page.waitForResponse((r) => r.url().endsWith('/face/challenge'));
  await login.page.getByText('Delete my face data', { exact: true }).click();
  await login.page.getByLabel('Delete my face data when I sign in').check();
  const challenge = await issued;
  assert.deepEqual(challenge.request().postDataJSON(), { reduced_motion: true });
  const { flashes } = await challenge.json();
  assert.ok(flashes.every((f) => f.ms >= 600), JSON.stringify(flashes));
  const again = await redeem(config, login);
  report('sign-in, reduced motion', login);
  assert.deepEqual(again.amr, ['face']);
  assert.equal(await face(), false, 'the enrolment is gone');
  const audit = (await admin(worker, 'GET', '/audit')).body.items;
  assert.ok(audit.some((e) => e.action === 'user.face.delete' && e.actor === 'user:ada@example.com'));

  const next = await begin(browser, 'ada@example.com');
  await next.page.getByRole('heading', { name: 'Choose how you will sign in' }).waitFor();
});

test('an application that takes only the authenticator app: a person with a face proves it with the face, then sets up the app', { timeout: 400_000 }, async () => {
  const browser = await browserFor('person-a');
  const account = new Account('hal@example.com');
  const enrol = await begin(browser, account.username);
  await enrol.page.getByRole('button', { name: /^Face/ }).click();
  await enrol.page.getByLabel(/I agree to .+ processing my face/).check();
  await enrol.page.getByRole('button', { name: 'Continue' }).click();
  const first = await redeem(config, enrol);

  const login = await beginFaceLogin({ browser, config: appOnly, username: account.username, worker });
  await login.page.locator('#must-add').filter({ hasText: 'Ledger now asks for your authenticator app' }).waitFor();
  await axe(login.page, 'login-must-add');
  // The face check starts by itself; once it passes, the app is set up in the same sign-in.
  await login.page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor({ timeout: 150_000 });
  await login.page.getByText('Add an authenticator app to your account.').waitFor();
  await login.page.getByRole('img', { name: /QR code/ }).waitFor();
  account.seed = base32Decode((await login.page.locator('code.secret').textContent()).trim());
  await login.page.getByLabel('6-digit code from the app').fill(await account.nextCode());
  await login.page.getByRole('button', { name: 'Confirm and sign in' }).click();
  const claims = await redeem(appOnly, login);
  assert.equal(claims.sub, first.sub);
  assert.deepEqual(claims.amr, ['face', 'otp']);
});

/** Waits for the failure box and returns its title and message. */
async function failure(page, timeout = 150_000) {
  const box = page.locator('.failure');
  await box.waitFor({ timeout });
  return { title: (await box.locator('h3').textContent()).trim(), message: (await box.locator('p').textContent()).trim() };
}

test('another person on an enrolled account is not recognised, each attempt counted, locked at the sixth', { timeout: 900_000 }, async () => {
  const browser = await browserFor('person-b');
  const login = await begin(browser, 'grace@example.com');
  await login.page.getByRole('heading', { name: 'Sign in with your face' }).waitFor();
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const f = await failure(login.page);
    if (attempt < 5) {
      assert.equal(f.title, 'Not recognised', `attempt ${attempt}: ${f.message}`);
      assert.match(f.message, new RegExp(`${5 - attempt} attempts left`));
      if (attempt === 1) await axe(login.page, 'login-face-not-recognised');
      await login.page.getByRole('button', { name: 'Try again' }).click();
      await login.page.locator('.failure').waitFor({ state: 'detached' });
    } else {
      assert.equal(f.title, 'Face sign-in is locked', f.message);
      assert.equal(await login.page.getByRole('button', { name: 'Try again' }).count(), 0, 'no retry while locked');
    }
  }
  // The sixth attempt, even from a fresh sign-in, is refused before any capture.
  const sixth = await begin(browser, 'grace@example.com');
  const f = await failure(sixth.page, 30_000);
  assert.equal(f.title, 'Face sign-in is locked');
  assert.match(f.message, /Too many failed attempts/);
  await shot(sixth.page, 'login-face-locked');
  assert.ok(!sixth.page.url().startsWith(CALLBACK));
});

/** A first sign-in that chooses the face and consents; returns the page at the camera. */
async function enrolWith(video, username) {
  const browser = Array.isArray(video) ? await browserWith(video) : video;
  const login = await begin(browser, username);
  await login.page.getByRole('button', { name: /^Face/ }).click();
  await login.page.getByLabel(/I agree to .+ processing my face/).check();
  await login.page.getByRole('button', { name: 'Continue' }).click();
  return login.page;
}

test('live guidance: too dark, two faces, no face; time runs out without a face', { timeout: 300_000 }, async () => {
  const cases = [
    ['dark.y4m', /too dark/],
    ['two-faces.y4m', /More than one face/],
    ['no-face.y4m', /cannot see a face/],
  ];
  let page;
  for (const [video, expected] of cases) {
    await page?.context().browser().close();
    page = await enrolWith(camera(video), `guide-${video.split('.')[0]}@example.com`);
    const guidance = page.locator('#face-guidance');
    await guidance.filter({ hasText: expected }).waitFor({ timeout: 60_000 })
      .catch(async (e) => { await shot(page, `failed-${video}`); throw new Error(`${video}: guidance "${await guidance.textContent().catch(() => '?')}": ${e.message}`); });
    assert.equal(await page.locator('#face-instruction').textContent(), 'Fit your face in the small oval');
    await axe(page, `login-face-${video.split('.')[0]}`);
    if (video === 'dark.y4m') {
      // The capture covers the window; Escape (or its Stop button) ends it.
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Stop', 'the keyboard starts on Stop');
      await page.keyboard.press('Escape');
      const stopped = await failure(page, 10_000);
      assert.equal(stopped.title, 'Face check stopped');
      await page.getByRole('button', { name: 'Try again' }).click();
      await guidance.filter({ hasText: expected }).waitFor({ timeout: 60_000 });
    }
  }
  // Nobody ever shows a face: the check ends with "Time is up" and a retry.
  const f = await failure(page, 120_000);
  assert.equal(f.title, 'Time is up');
  assert.ok(await page.getByRole('button', { name: 'Try again' }).isVisible());
});

test('camera errors are explained: no camera, permission refused', { timeout: 120_000 }, async () => {
  // No fake device: this machine has no camera.
  const none = await enrolWith([], 'nocam@example.com');
  let f = await failure(none, 60_000);
  assert.equal(f.title, 'No camera found', f.message);
  assert.match(f.message, /Connect a camera, or use another way to sign in/);
  await axe(none, 'login-face-no-camera');
  // A camera, but the person refuses access (no auto-accept of the prompt).
  const refused = await enrolWith(['--use-fake-device-for-media-stream'], 'refused@example.com');
  f = await failure(refused, 60_000);
  assert.equal(f.title, 'Camera access refused', f.message);
  // The other authenticator stays reachable.
  await refused.getByRole('button', { name: 'Set up an authenticator app instead' }).click();
  await refused.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
});

test('a head the screen does not light is refused, and the person is told why', { timeout: 200_000 }, async () => {
  // The simulated person, but nothing of the screen's light reaches the face: what a
  // picture or a replay shows.
  const page = await enrolWith(await browserFor('person-a', { k: 0 }), 'unlit@example.com');
  const f = await failure(page);
  assert.match(f.message, /light of the screen/, `${f.title}: ${f.message}; ${await pageState(page)}`);
  assert.ok(await page.getByRole('button', { name: 'Try again' }).isVisible());
});

/** Waits for the console's heading `name`, or fails with what the login page says instead. */
async function arrive(page, name) {
  const box = page.locator('.failure');
  const refused = box.waitFor({ timeout: 150_000 }).then(async () => `the page says: ${(await box.innerText()).replace(/\s+/g, ' ')}; ${await pageState(page)}`, () => null);
  const arrived = page.getByRole('heading', { name }).waitFor({ timeout: 150_000 }).then(() => null);
  const failed = await Promise.race([arrived, refused.then((m) => m ?? arrived)]);
  if (failed) {
    await shot(page, `failed-${name}`);
    throw new Error(failed);
  }
}

test('an admin enrols their face from the one-time link and signs in to the console with it', { timeout: 400_000 }, async () => {
  const browser = await browserFor('person-a');
  const page = await (await browser.newContext()).newPage();
  await open(page, `${worker.url}/console#bootstrap=${worker.adminToken}`, worker);
  await page.getByLabel('User name').fill('root');
  await page.getByRole('button', { name: 'Create and continue' }).click();
  await page.getByRole('button', { name: /^Face/ }).click();
  await page.getByLabel(/I agree to .+ processing my face/).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  // The first enrolment shows the recovery codes, then the console.
  await arrive(page, 'Save your recovery codes');
  await saveRecoveryCodes(page);
  await arrive(page, 'Applications');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Administrator user name').fill('root');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Sign in with your face' }).waitFor();
  await arrive(page, 'Applications');
  await shot(page, 'console-after-face-sign-in');
  // The audit log names the face sign-ins of the console.
  const audit = await page.evaluate(async () => (await (await fetch('/admin/api/audit')).json()));
  const logins = audit.items.filter((e) => e.action === 'login.success' && e.actor === 'user:root');
  assert.ok(logins.length >= 2, JSON.stringify(audit.items.slice(0, 5)));
  assert.ok(logins.every((e) => /face/.test(e.detail ?? '')), JSON.stringify(logins));
});
