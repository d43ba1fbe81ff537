// An upgrade on real parts, run by hand (not in scripts/test: it needs a build of an earlier
// commit): failed answers counted by an earlier build still count once this one takes over
// the same persisted Vault and KV state. The earlier build keeps a user's recovery-code
// counter in an object of its own (`fail:recovery_code:{user}`); this one keeps it in the
// user's status object and takes on the earlier one at its first use.
//   git worktree add /tmp/earlier 41aa837 && (cd /tmp/earlier && scripts/build.sh)
//   node tests/upgrade.mjs /tmp/earlier
// (or link node_modules and public into the worktree and copy its builds: see bench/protocol.mjs's
// PROTOCOL_BASELINE.) It fails (exit 1) when the counts do not carry over.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { newState, startWorker, createApp } from './lib/worker.mjs';
import { Account, authorizeUrl, loginWithTotp, pushRequest, startLogin } from './lib/login.mjs';

const earlier = process.argv[2];
if (!earlier) throw new Error('usage: node tests/upgrade.mjs <checkout of an earlier commit, built>');
const challenge = createHash('sha256').update('verifier').digest('base64url');
// A well-formed recovery code nobody was given.
const WRONG = '7K3QD-M9XPA';

/** A vouched-for sign-in of `account`: its authorize URL (a pushed request). */
const pushed = async (worker, app, account) => authorizeUrl(worker.url, app, await pushRequest(worker.url, app, account.username, challenge));

/** Answers `codes` in one sign-in; each answer's status and message. */
async function recovery(worker, app, account, codes) {
  const { browser, tx } = await startLogin(worker.url, await pushed(worker, app, account));
  const out = [];
  for (const code of codes) {
    const a = await browser.json('POST', `/api/login/${tx}/recovery`, { code });
    out.push([a.status, a.body.message ?? a.body.step]);
  }
  return out;
}

const state = newState();
const account = new Account('upgrade@example.com');
let app;
const before = await startWorker(state, { root: earlier });
try {
  app = await createApp(before, 'Upgrade');
  await loginWithTotp(before.url, await pushed(before, app, account), account);
  assert.equal(account.recoveryCodes?.length, 10);
  const three = await recovery(before, app, account, [WRONG, WRONG, WRONG]);
  assert.deepEqual(three.map(([s]) => s), [401, 401, 401]);
  assert.match(three[2][1], /2 attempts left/);
} finally {
  await before.stop();
}
const now = await startWorker(state);
try {
  const two = await recovery(now, app, account, [WRONG, WRONG]);
  // The earlier build's three count: one attempt is left, and the next failure locks.
  assert.equal(two[0][0], 401);
  assert.match(two[0][1], /1 attempts left/);
  assert.equal(two[1][0], 429);
  // Locked for the right code too.
  const [[status]] = await recovery(now, app, account, [account.recoveryCodes[0]]);
  assert.equal(status, 429);
  console.log('ok: the earlier build\'s failures count in this one, and its lock holds');
} finally {
  await now.stop();
  state.cleanup();
}
process.exit(0);
