// The presentation-attack suite of the light-and-distance check, against the real worker:
// every attack a person with the password and photos of the user can mount with the
// project's own tools (model/examples/livesynth.rs) is refused, counted toward the
// lock-out, and recorded in the audit log as an attack, with the check that caught it.
// The genuine simulation passes (protocol.test.mjs); the rates over many attempts are
// bench/liveness.mjs's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { admin, newState, startWorker } from '../lib/worker.mjs';
import { PERSON_A, buildTool, synth, createApp, relyingParty, beginLogin } from './helpers.mjs';

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

/** Enrols PERSON_A as `username`; returns the evidence that succeeded (for the replay). */
async function enrol(username) {
  const login = await beginLogin(worker, config, username);
  const c = (await login.challenge()).body;
  const capture = await synth(PERSON_A, c);
  const r = await login.evidence({ nonce: c.nonce, consent: true, ...capture });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await login.saved(r)).status, 200);
  return capture;
}

async function challengeFor(username, body) {
  const login = await beginLogin(worker, config, username);
  const c = await login.challenge(body);
  assert.equal(c.status, 200, JSON.stringify(c.body));
  return { login, challenge: c.body };
}

/** The attack's evidence is refused and counted; the audit log names the check. */
async function refused(username, what, post, kinds, left) {
  const r = await post();
  assert.equal(r.status, 401, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.error, 'wrong_answer', what);
  assert.match(r.body.message, new RegExp(`${left} attempts? left`), what);
  const audit = (await admin(worker, 'GET', '/audit')).body.items;
  const entry = audit.find((e) => e.action === 'face.attack' && e.actor === `user:${username}`);
  assert.ok(entry, `${what}: recorded as an attack`);
  assert.ok(kinds.some((k) => entry.detail.includes(k)), `${what}: ${entry.detail}`);
  console.log(`  ${what}: ${r.status} "${r.body.message}" audit: ${entry.detail}`);
  return entry;
}

// Each attacked account takes four attacks (the fifth would lock it).
const ATTACKS = [
  ['a still photo (no movement, no light response)', 'still', ['no_distance_change']],
  ['a flat print brought closer, lit by the screen', 'paper', ['flat_face', 'light_not_local']],
  // Refused by the light check, or (1 in 30 in the benchmark) first by the perspective check.
  ['the head warped in 3D from one photo, no light response', 'warp', ['no_light_response', 'flat_face']],
  ['the whole picture tinted in step with the colours', 'tint', ['light_not_local']],
  ['the right light one colour late', 'late', ['no_light_response']],
  ['the colours in reverse order', 'reversed', ['no_light_response']],
  // The screen's moiré and gamma also blur the landmarks: 2 in 30 in the benchmark are refused
  // by the perspective check first.
  ['a screen replay of a capture of another sequence', 'screen', ['no_light_response', 'not_live', 'flat_face']],
];

test('photo, print, 3D warp, tint, wrong timing or order, screen replay: each refused, counted and recorded as an attack', { timeout: 400_000 }, async () => {
  const accounts = ['mallory-1@example.com', 'mallory-2@example.com'];
  for (const a of accounts) await enrol(a);
  for (const [i, [what, attack, kinds]] of ATTACKS.entries()) {
    const username = accounts[Math.floor(i / 4)];
    const { login, challenge } = await challengeFor(username);
    const capture = await synth(PERSON_A, challenge, attack, i + 1);
    await refused(username, what, () => login.evidence({ nonce: challenge.nonce, ...capture }), kinds, 4 - (i % 4));
  }
});

test('a replay of a successful capture, evidence of another sign-in, and times that do not fit: refused, counted, recorded', { timeout: 400_000 }, async () => {
  const victim = 'trent@example.com';
  const earlier = await enrol(victim);
  // 1. The frames of the successful enrolment, replayed into a new challenge.
  const one = await challengeFor(victim);
  await new Promise((r) => setTimeout(r, earlier.frames.at(-1).t_ms));
  await refused(victim, 'a recording of an earlier successful capture', () => one.login.evidence({ nonce: one.challenge.nonce, ...earlier }), ['no_light_response', 'evidence_inconsistent', 'no_distance_change'], 4);
  // 2. A genuine capture for one sign-in's challenge, posted to another sign-in.
  const mine = await challengeFor(victim);
  const theirs = await challengeFor(victim);
  const capture = await synth(PERSON_A, mine.challenge);
  await refused(victim, 'evidence of another sign-in', () => theirs.login.evidence({ nonce: mine.challenge.nonce, ...capture }), ['evidence_inconsistent'], 3);
  // 3. Frames claiming a longer capture than the time since the challenge: the colours
  // (and every frame in them) are claimed to have come 5 s later than the challenge has
  // really been out, however long synthesising took on a loaded machine; everything else
  // about the capture stays consistent.
  const hasty = await challengeFor(victim, { reduced_motion: true });
  const issued = Date.now();
  const synthesised = await synth(PERSON_A, { ...hasty.challenge, received_at: 0 });
  const late = Date.now() - issued + 5000;
  const early = {
    flashes_at_ms: synthesised.flashes_at_ms + late,
    frames: synthesised.frames.map((f) => (f.phase === 'light' ? { ...f, t_ms: f.t_ms + late } : f)),
  };
  await refused(victim, 'a capture claiming more time than it had', () => hasty.login.evidence({ nonce: hasty.challenge.nonce, ...early }), ['evidence_inconsistent'], 2);
  // 4. The colours claimed to start at another time than the frames show them.
  const shifted = await challengeFor(victim);
  const frames = await synth(PERSON_A, shifted.challenge);
  await refused(victim, 'the colour times shifted', () => shifted.login.evidence({ nonce: shifted.challenge.nonce, frames: frames.frames, flashes_at_ms: frames.flashes_at_ms + 150 }), ['evidence_inconsistent'], 1);
});
