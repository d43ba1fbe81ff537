// Face login against the real worker under wrangler dev, with evidence synthesised from
// the demo photos by model/examples/facesynth.rs (head turns by a depth-aware warp, each
// frame checked with our pipeline): enrolment with consent, authentication, another
// person's face and the lock-out, and protocol attacks made by script. Prints the
// worker's CPU time for one verification (cold: models loaded; warm).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newState, startWorker } from '../lib/worker.mjs';
import {
  PERSON_A, PERSON_B, buildTool, synth, frontalCount, createApp, relyingParty, beginLogin, workerdCpuMs,
} from './helpers.mjs';

let worker, state, config;

before(async () => {
  buildTool();
  state = newState();
  worker = await startWorker(state);
  config = await relyingParty(worker, await createApp(worker, 'Payroll'));
});

after(async () => {
  await worker?.stop();
  state?.cleanup();
});

/** The evidence POST, with the workerd CPU time it took. */
async function timedEvidence(login, body) {
  const cpu0 = workerdCpuMs(worker.pgid);
  const t0 = performance.now();
  const r = await login.evidence(body);
  return { r, cpuMs: workerdCpuMs(worker.pgid) - cpu0, wallMs: performance.now() - t0 };
}

function report(what, frames, { cpuMs, wallMs }) {
  console.log(`==> worker CPU for one face verification (${what}, ${frames} frames): ${cpuMs.toFixed(0)} ms CPU (workerd user+sys), ${wallMs.toFixed(0)} ms wall`);
}

/** Enrols `person` for `username` (consent given); returns the redeemed tokens. */
async function enrol(username, person, { timed } = {}) {
  const login = await beginLogin(worker, config, username);
  const s = await login.loginState();
  assert.equal(s.body.step, 'enrol', JSON.stringify(s.body));
  assert.ok(s.body.allowed.includes('face'));
  const c = await login.challenge();
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.purpose, 'enrol');
  const frames = await synth(person, c.body.steps);
  const t = await timedEvidence(login, { nonce: c.body.nonce, consent: true, frames });
  assert.equal(t.r.status, 200, JSON.stringify(t.r.body));
  if (timed) report(timed, frames.length, t);
  return login.redeem(t.r.body.redirect_to);
}

/** An authentication challenge for `username`, with its login. */
async function authChallenge(username) {
  const login = await beginLogin(worker, config, username);
  const s = await login.loginState();
  assert.equal(s.body.step, 'authenticate', JSON.stringify(s.body));
  assert.deepEqual(s.body.enrolled, ['face']);
  const c = await login.challenge();
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.purpose, 'authenticate');
  assert.ok(c.body.steps.length >= 2 && c.body.steps.length <= 3 && new Set(c.body.steps).size === c.body.steps.length);
  return { login, challenge: c.body };
}

function assertError(r, status, code, pattern) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error, code, JSON.stringify(r.body));
  if (pattern) assert.match(JSON.stringify(r.body), pattern);
}

test('first login: face enrolment needs consent; then the code is redeemed with amr face', async () => {
  const login = await beginLogin(worker, config, 'alice@example.com');
  const c = await login.challenge();
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.purpose, 'enrol');
  assert.ok(c.body.expires_at > Date.now() / 1000 + 60);
  const frames = await synth(PERSON_A, c.body.steps);
  const nFrontal = frontalCount(frames);
  assert.ok(nFrontal >= 3, 'the template is built from several frontal frames');
  assert.equal(frames.length, nFrontal + c.body.steps.length);
  assertError(await login.evidence({ nonce: c.body.nonce, frames }), 400, 'invalid_input', /consent/);
  // The refused attempt spent its nonce; a new challenge, with consent, enrols.
  const again = await login.challenge();
  const t = await timedEvidence(login, { nonce: again.body.nonce, consent: true, frames: await synth(PERSON_A, again.body.steps) });
  assert.equal(t.r.status, 200, JSON.stringify(t.r.body));
  report('cold: enrolment, first use of the models in this isolate', nFrontal + again.body.steps.length, t);
  const tokens = await login.redeem(t.r.body.redirect_to);
  const claims = tokens.claims();
  assert.deepEqual(claims.amr, ['face']);
  assert.equal(claims.preferred_username, 'alice@example.com');
  assert.equal(claims.nonce, login.nonce);
});

test('second login of the same person: face authentication, no enrolment', async () => {
  const { login, challenge } = await authChallenge('alice@example.com');
  const frames = await synth(PERSON_A, challenge.steps);
  const t = await timedEvidence(login, { nonce: challenge.nonce, frames });
  assert.equal(t.r.status, 200, JSON.stringify(t.r.body));
  report('warm: authentication', frames.length, t);
  const claims = (await login.redeem(t.r.body.redirect_to)).claims();
  assert.deepEqual(claims.amr, ['face']);
  assert.equal(claims.preferred_username, 'alice@example.com');
  // Warm again, to see the spread.
  const second = await authChallenge('alice@example.com');
  const f2 = await synth(PERSON_A, second.challenge.steps);
  const t2 = await timedEvidence(second.login, { nonce: second.challenge.nonce, frames: f2 });
  assert.equal(t2.r.status, 200, JSON.stringify(t2.r.body));
  report('warm: authentication, again', f2.length, t2);
});

test('a reused nonce is refused (410) even after a success', async () => {
  const { login, challenge } = await authChallenge('alice@example.com');
  const frames = await synth(PERSON_A, challenge.steps);
  assert.equal((await login.evidence({ nonce: challenge.nonce, frames })).status, 200);
  // Same nonce, on a new login of the same user and on the finished one.
  const other = await authChallenge('alice@example.com');
  assertError(await other.login.evidence({ nonce: challenge.nonce, frames }), 410, 'expired');
  assertError(await login.evidence({ nonce: challenge.nonce, frames }), 410, 'expired');
  // A spent nonce stays spent after a refused attempt too.
  const bad = await authChallenge('alice@example.com');
  const swapped = await synth(PERSON_A, bad.challenge.steps);
  swapped.splice(0, frontalCount(swapped));
  assertError(await bad.login.evidence({ nonce: bad.challenge.nonce, frames: swapped }), 400, 'invalid_input');
  assertError(await bad.login.evidence({ nonce: bad.challenge.nonce, frames: await synth(PERSON_A, bad.challenge.steps) }), 410, 'expired');
});

/** A PNG whose header claims `width` x `height` pixels (its data is a few bytes). */
function claimedPng(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 3, 0, 0, 0, 0, 1])), chunk('IEND', Buffer.alloc(0))]);
}

test('crops that are not what they claim are refused with 400, and the spent nonce then answers 410, never 5xx', async () => {
  await enrol('dora@example.com', PERSON_A);
  const crops = [
    ['a context crop claiming 60000x60000 pixels', (f) => { f[0].context_png = claimedPng(60000, 60000).toString('base64'); }],
    ['a context crop of the wrong size', (f) => { f[0].context_png = claimedPng(64, 64).toString('base64'); }],
    ['an aligned crop that is not a JPEG', (f) => { f[0].aligned_jpeg = Buffer.from('not a jpeg at all').toString('base64'); }],
    ['an aligned crop cut short', (f) => { f[0].aligned_jpeg = f[0].aligned_jpeg.slice(0, 200); }],
    ['a crop that is not base64', (f) => { f[0].aligned_jpeg = '%%%'; }],
  ];
  for (const [what, mutate] of crops) {
    const { login, challenge } = await authChallenge('dora@example.com');
    const frames = await synth(PERSON_A, challenge.steps);
    mutate(frames);
    const first = await login.evidence({ nonce: challenge.nonce, frames });
    assertError(first, 400, 'invalid_input');
    const again = await login.evidence({ nonce: challenge.nonce, frames: await synth(PERSON_A, challenge.steps) });
    assertError(again, 410, 'expired');
    console.log(`  ${what}: ${first.status} ${first.body.message}; again: ${again.status}`);
  }
  // The worker is still whole: dora signs in with her face.
  const { login, challenge } = await authChallenge('dora@example.com');
  const ok = await login.evidence({ nonce: challenge.nonce, frames: await synth(PERSON_A, challenge.steps) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});

test('malformed evidence is refused with 400 and not counted', async () => {
  const cases = [
    ['steps out of order', (f) => { const k = frontalCount(f); const [a, b] = [f[k], f[k + 1]]; f[k] = b; f[k + 1] = a; }, /order/],
    ['the frontal frames missing', (f) => { f.splice(0, frontalCount(f)); }, /face the camera|first frame/],
    ['a step missing', (f) => { f.pop(); }, /movement/],
    ['the steps relabelled (frames in place, indices swapped)', (f) => { const k = frontalCount(f); f[k].step = 1; f[k + 1].step = 0; }, /order/],
  ];
  for (const [what, mutate, pattern] of cases) {
    const { login, challenge } = await authChallenge('alice@example.com');
    const frames = await synth(PERSON_A, challenge.steps);
    mutate(frames);
    const r = await login.evidence({ nonce: challenge.nonce, frames });
    assertError(r, 400, 'invalid_input', pattern);
    console.log(`  ${what}: ${r.status} ${r.body.message}`);
  }
  for (const [attack, pattern] of [['two-faces', /More than one face/], ['no-face', /No face/]]) {
    const { login, challenge } = await authChallenge('alice@example.com');
    const frames = await synth(PERSON_A, challenge.steps, ['--attack', attack]);
    const r = await login.evidence({ nonce: challenge.nonce, frames });
    assertError(r, 400, 'invalid_input', pattern);
    console.log(`  ${attack}: ${r.status} ${r.body.message}`);
  }
  // None of these counted: alice still has all her attempts (the next failure says 4 left).
  const { login, challenge } = await authChallenge('alice@example.com');
  const r = await login.evidence({ nonce: challenge.nonce, frames: await synth(PERSON_B, challenge.steps) });
  assertError(r, 401, 'wrong_answer', /4 attempts left/);
});

test("another person's crops with the enrolled user's embedding claimed are refused and counted", async () => {
  await enrol('carol@example.com', PERSON_A);
  const { login, challenge } = await authChallenge('carol@example.com');
  const frames = await synth(PERSON_B, challenge.steps, ['--claim-photo', PERSON_A.photo, '--claim-face', String(PERSON_A.face)]);
  assert.ok(frames.every((f) => Array.isArray(f.embedding) && f.embedding.length === 512));
  assertError(await login.evidence({ nonce: challenge.nonce, frames }), 401, 'wrong_answer', /recognise.*4 attempts left/);
});

test("another person's face: 401 counted; the fifth failure locks face login (429)", async () => {
  const tokens = await enrol('bob@example.com', PERSON_A);
  assert.deepEqual(tokens.claims().amr, ['face']);
  for (let i = 1; i <= 4; i += 1) {
    const { login, challenge } = await authChallenge('bob@example.com');
    const r = await login.evidence({ nonce: challenge.nonce, frames: await synth(PERSON_B, challenge.steps) });
    assertError(r, 401, 'wrong_answer', new RegExp(`recognise.*${5 - i} attempts? left`));
  }
  // Two challenges issued before the lock: the fifth failure locks, and the other one,
  // with the right face, is refused while locked.
  const fifth = await authChallenge('bob@example.com');
  const sixth = await authChallenge('bob@example.com');
  assertError(await fifth.login.evidence({ nonce: fifth.challenge.nonce, frames: await synth(PERSON_B, fifth.challenge.steps) }), 429, 'locked');
  assertError(await sixth.login.evidence({ nonce: sixth.challenge.nonce, frames: await synth(PERSON_A, sixth.challenge.steps) }), 429, 'locked');
  const login = await beginLogin(worker, config, 'bob@example.com');
  assertError(await login.challenge(), 429, 'locked', /15 minutes|minutes/);
});
