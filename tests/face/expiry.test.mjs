// A face challenge answered after its 90 s lifetime is refused (410), in its own worker so
// the wait runs alongside the other test files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newState, startWorker } from '../lib/worker.mjs';
import { PERSON_A, buildTool, synth, createApp, relyingParty, beginLogin } from './helpers.mjs';

let worker, state, config;

before(async () => {
  buildTool();
  state = newState();
  worker = await startWorker(state);
  config = await relyingParty(worker, await createApp(worker, 'Clock'));
});

after(async () => {
  await worker?.stop();
  state?.cleanup();
});

test('evidence for an expired face challenge is refused (410), a fresh one succeeds', { timeout: 360_000 }, async () => {
  const login = await beginLogin(worker, config, 'late@example.com');
  const c = await login.challenge();
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const lifetime = c.body.expires_at - Date.now() / 1000;
  assert.ok(lifetime > 85 && lifetime <= 91, `lifetime ${lifetime}`);
  const capture = await synth(PERSON_A, c.body);
  // Until 2 s past the expiry, however long synthesising took.
  await new Promise((r) => setTimeout(r, Math.max(0, (c.body.expires_at + 2) * 1000 - Date.now())));
  const late = await login.evidence({ nonce: c.body.nonce, consent: true, ...capture });
  assert.equal(late.status, 410, JSON.stringify(late.body));
  assert.equal(late.body.error, 'expired');
  // A capture of a fresh challenge of the same login is accepted.
  const fresh = await login.challenge();
  const ok = await login.evidence({ nonce: fresh.body.nonce, consent: true, ...(await synth(PERSON_A, fresh.body)) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const done = await login.saved(ok);
  const claims = (await login.redeem(done.body.redirect_to)).claims();
  assert.deepEqual(claims.amr, ['face']);
});
