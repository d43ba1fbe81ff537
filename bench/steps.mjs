// Latency of each request of a returning TOTP sign-in (PAR, authorize, login state, TOTP
// answer, token), sequential, against the provider under wrangler dev: p50, p90, p99 and max
// per step over ROUNDS x USERS sign-ins, after each user's first sign-in (which enrols them)
// and a wait for a fresh TOTP step. Where bench/protocol.mjs gives a sign-in's requests
// together, this says which of them is slow. Also prints a request URI's length.
// STEPS_SYNCS=1 also counts, per step, the durable writes of the local simulation (fsync
// calls of the worker's workerd, by `strace`, which scripts/setup.sh installs): a Vault object's
// write-ahead log, its directory (an object's file made or reopened after it went idle),
// the objects' alarm index, and KV. Under strace the latencies are not the figures to quote.
//   node bench/steps.mjs [users=40] [rounds=3]   (after scripts/build.sh)
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newState, startWorker, createApp, groupProcesses } from '../tests/lib/worker.mjs';
import { Account, authorizeUrl, loginWithTotp, pushRequest, Browser } from '../tests/lib/login.mjs';
const state = newState();
const worker = await startWorker(state);
const CALLBACK = 'https://rp.example.com/callback';
try {
  const app = await createApp(worker, 'Steps');
  const basic = 'Basic ' + Buffer.from(`${app.client_id}:${app.secret}`).toString('base64');
  const par = (account, challenge) => pushRequest(worker.url, app, account.username, challenge, CALLBACK);
  const accounts = [];
  const USERS = Number(process.argv[2] ?? 40), ROUNDS = Number(process.argv[3] ?? 3);
  for (let i = 0; i < USERS; i++) { const a = new Account(`s-${i}@example.com`); const uri = await par(a, createHash('sha256').update('v').digest('base64url')); await loginWithTotp(worker.url, authorizeUrl(worker.url, app, uri), a); accounts.push(a); }
  console.log('request_uri length', (await par(accounts[0], createHash('sha256').update('v').digest('base64url'))).length);
  // Every user's first code was used: the next sign-ins answer in a later TOTP step.
  await new Promise((r) => setTimeout(r, 31000));
  const times = { par: [], authorize: [], state: [], totp: [], token: [] };
  const windows = [];
  const syncLog = join(tmpdir(), `biopass-steps-syncs-${process.pid}.log`);
  let tracer = null;
  if (process.env.STEPS_SYNCS === '1') {
    const pids = groupProcesses(worker.pgid).filter((p) => p.comm === 'workerd').map((p) => String(p.pid));
    tracer = spawn('strace', ['-f', '-y', '-ttt', '-e', 'trace=fsync,fdatasync', '-o', syncLog, ...pids.flatMap((p) => ['-p', p])], { stdio: 'ignore' });
    await new Promise((resolve, reject) => { tracer.once('error', reject); setTimeout(resolve, 2000); });
  }
  const t = async (k, f) => {
    const from = Date.now() / 1000;
    const t0 = performance.now();
    const v = await f();
    times[k].push(performance.now() - t0);
    windows.push([from, Date.now() / 1000, k]);
    return v;
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const a of accounts) {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const uri = await t('par', () => par(a, challenge));
      const b = new Browser(worker.url);
      const r = await t('authorize', async () => { const r = await b.fetch(authorizeUrl(worker.url, app, uri)); await r.text(); return r; });
      const tx = new URL(r.headers.get('location'), worker.url).searchParams.get('tx');
      await t('state', () => b.json('GET', `/api/login/${tx}`));
      const code = await a.nextCode();
      const done = await t('totp', () => b.json('POST', `/api/login/${tx}/totp`, { code }));
      const c = new URL(done.body.redirect_to).searchParams.get('code');
      await t('token', async () => (await fetch(`${worker.url}/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: c, redirect_uri: CALLBACK, code_verifier: verifier }) })).json());
    }
  }
  const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1); };
  for (const [k, xs] of Object.entries(times)) console.log(k.padEnd(10), 'n', xs.length, 'p50', q(xs, 0.5), 'p90', q(xs, 0.9), 'p99', q(xs, 0.99), 'max', q(xs, 1));
  if (tracer) {
    tracer.kill();
    await new Promise((r) => setTimeout(r, 500));
    printSyncs(readFileSync(syncLog, 'utf8'), windows, ROUNDS, Object.keys(times));
    rmSync(syncLog, { force: true });
  }
} finally { await worker.stop(); state.cleanup(); }

/** Per step, the fsync calls within its requests, by what they wrote, per request: in the
 * first round (every object idle since the users enrolled) and in the later rounds. */
function printSyncs(log, windows, rounds, steps) {
  const kind = (file) => {
    if (file.includes('/kv/')) return 'KV';
    if (/metadata\.sqlite/.test(file)) return 'alarm index';
    if (/\.sqlite-wal$/.test(file)) return 'object log';
    return 'directory';
  };
  const syncs = [];
  for (const line of log.split('\n')) {
    const m = /^\d+\s+([\d.]+)\s+f(?:data)?sync\(\d+<([^>]*)>/.exec(line);
    if (m && m[2].includes('/wrangler/')) syncs.push([Number(m[1]), kind(m[2])]);
  }
  const perRound = windows.length / rounds;
  for (const [label, part] of [['first round', windows.slice(0, perRound)], ['later rounds', windows.slice(perRound)]]) {
    if (part.length === 0) continue;
    console.log(`durable writes per request, ${label}:`);
    for (const step of steps) {
      const mine = part.filter((w) => w[2] === step);
      const counts = {};
      for (const [at, k] of syncs) if (mine.some(([a, b]) => at >= a && at <= b)) counts[k] = (counts[k] ?? 0) + 1;
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const detail = Object.entries(counts).map(([k, n]) => `${k} ${(n / mine.length).toFixed(2)}`).join(', ');
      console.log(`  ${step.padEnd(10)} ${(total / mine.length).toFixed(2)}${detail ? ` (${detail})` : ''}`);
    }
  }
}
