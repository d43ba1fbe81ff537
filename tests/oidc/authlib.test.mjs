// A second relying party from another ecosystem: Python Authlib and joserfc (PyPI, in the
// set-up's venv, see requirements.txt) with their library defaults, against the real worker
// under wrangler dev: every client authentication method, ES256 and RS256 ID tokens, and
// the conformance cases (tests/oidc/authlib_rp.py). Its lines are printed as it runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { newState, startWorker, ROOT } from '../lib/worker.mjs';

const VENV = join(process.env.BIOPASS_CACHE || join(homedir(), '.cache', 'biopass'), 'venv');
let worker, state;

before(async () => {
  state = newState();
  worker = await startWorker(state);
});

after(async () => {
  await worker?.stop();
  state?.cleanup();
});

function run(command, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('Authlib + joserfc with their defaults: each client authentication method, ES256 and RS256, and the conformance cases', async () => {
  const python = join(VENV, 'bin', 'python');
  assert.ok(existsSync(python), `no venv at ${VENV}: run scripts/setup.sh`);
  const { code, out } = await run(python, [join(ROOT, 'tests', 'oidc', 'authlib_rp.py')], {
    ...process.env, BIOPASS_URL: worker.url, BIOPASS_ADMIN_TOKEN: worker.adminToken,
  });
  console.log(out.trimEnd().split('\n').map((l) => `# ${l}`).join('\n'));
  assert.equal(code, 0, out);
  assert.match(out, /^0 failed$/m);
  // 3 discovery checks, 2 per application (5 applications), 6 conformance cases.
  assert.equal((out.match(/^ok /gm) || []).length, 3 + 2 * 5 + 6, out);
});
