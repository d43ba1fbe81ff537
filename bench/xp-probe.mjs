import { createHash } from 'node:crypto';
import { execSync } from 'node:child_process';
import { newState, startWorker, createApp } from '../tests/lib/worker.mjs';
import { Account, loginWithTotp } from '../tests/lib/login.mjs';
const state = newState();
const worker = await startWorker(state);
const CALLBACK = 'https://rp.example.com/callback';
const dump = (label) => { console.log('==', label); console.log(execSync(`cd ${state.dir} && find . -path '*biopass-edge-Vault*' -name '*.sqlite' | sort | while read f; do echo "$f $(stat -c %s $f) $(python3 -c "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);print([r[0] for r in c.execute('select key from _cf_KV')] if c.execute(\\"select count(*) from sqlite_master where name='_cf_KV'\\").fetchone()[0] else 'no table')" $f 2>&1)"; done`).toString()); };
try {
  const app = await createApp(worker, 'Probe');
  const basic = 'Basic ' + Buffer.from(`${app.client_id}:${app.secret}`).toString('base64');
  const par = async (account) => (await (await fetch(`${worker.url}/par`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: CALLBACK, scope: 'openid', login_hint: account.username, code_challenge: createHash('sha256').update('v').digest('base64url'), code_challenge_method: 'S256' }) })).json()).request_uri;
  const a = new Account('probe@example.com');
  await loginWithTotp(worker.url, `${worker.url}/authorize?${new URLSearchParams({ client_id: app.client_id, request_uri: await par(a) })}`, a);
  dump('after enrolment');
  await new Promise((r) => setTimeout(r, 31000));
  dump('31 s later');
  await loginWithTotp(worker.url, `${worker.url}/authorize?${new URLSearchParams({ client_id: app.client_id, request_uri: await par(a) })}`, a);
  dump('after a returning sign-in');
} finally { await worker.stop(); state.cleanup(); }
