// Load benchmark of the provider under wrangler dev: full code flows (PAR, authorize,
// login with TOTP enrolment, token) driven by openid-client, and discovery/JWKS under wrk.
// Prints requests/s, p50/p99 latency, and the workerd process's CPU time per request
// (read from /proc: it includes the runtime's own HTTP and JS work, so it is an upper
// bound of the Worker's billed CPU time).
//   node bench/oidc.mjs [flows=200] [concurrency=8]
import { execFileSync } from 'node:child_process';
import * as client from 'openid-client';
import { newState, startWorker, admin, workerdCpuMs } from '../tests/lib/worker.mjs';
import { Account, loginWithTotp } from '../tests/lib/login.mjs';

const FLOWS = Number(process.argv[2] ?? 200);
const CONC = Number(process.argv[3] ?? 8);
const CALLBACK = 'https://rp.example.com/callback';


const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

const state = newState();
const worker = await startWorker(state);
const pgid = worker.pgid;
try {
  const created = (await admin(worker, 'POST', '/applications', { name: 'Bench', application_type: 'amazon_cognito_mfa', allowed_callback_urls: [CALLBACK] })).body;
  const secret = (await admin(worker, 'GET', `/applications/${created.client_id}/secret`)).body.client_secret;
  const config = await client.discovery(new URL(worker.url), created.client_id, { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
  let requests = 0;
  const counting = (url, opts) => { requests += 1; return fetch(url, opts); };
  config[client.customFetch] = counting;

  async function flow(i) {
    const verifier = client.randomPKCECodeVerifier();
    const t0 = performance.now();
    const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid', login_hint: `bench-${i}@example.com`, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const cb = await loginWithTotp(worker.url, url.href, new Account(`bench-${i}@example.com`));
    requests += 4; // authorize, state, enrol, confirm
    await client.authorizationCodeGrant(config, new URL(cb), { pkceCodeVerifier: verifier, idTokenExpected: true });
    return performance.now() - t0;
  }
  await flow(-1); // warm-up: keys, isolate
  requests = 0;
  const cpu0 = workerdCpuMs(pgid);
  const t0 = performance.now();
  const times = [];
  let next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < FLOWS) times.push(await flow(next++));
  }));
  const wall = (performance.now() - t0) / 1000;
  const cpu = workerdCpuMs(pgid) - cpu0;
  console.log(`\nFull code flows (PAR + authorize + login state + TOTP enrol + confirm + token), ${FLOWS} flows, concurrency ${CONC}`);
  console.log(`  flows/s ${(FLOWS / wall).toFixed(1)}   requests/s ${(requests / wall).toFixed(1)}   flow p50 ${pct(times, 50).toFixed(1)} ms   p99 ${pct(times, 99).toFixed(1)} ms`);
  console.log(`  workerd CPU: ${(cpu / FLOWS).toFixed(2)} ms per flow, ${(cpu / requests).toFixed(2)} ms per request (free plan limit: 10 ms per request)`);

  // Per endpoint: flows one at a time, the workerd CPU of each step summed (each step
  // includes the Durable Object and KV work it causes, which Cloudflare runs and bills
  // apart from the Worker's own CPU time).
  const { Browser } = await import('../tests/lib/login.mjs');
  const { base32Decode } = await import('../tests/lib/totp.mjs');
  const steps = { par: 0, authorize: 0, 'login state': 0, 'totp enrol': 0, 'totp confirm': 0, token: 0 };
  const N = Math.max(20, Math.floor(FLOWS / 2));
  for (let i = 0; i < N; i++) {
    const account = new Account(`step-${i}@example.com`);
    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    let c = workerdCpuMs(pgid);
    const lap = (name) => { const now = workerdCpuMs(pgid); steps[name] += now - c; c = now; };
    const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: CALLBACK, scope: 'openid', login_hint: account.username, code_challenge: challenge, code_challenge_method: 'S256' });
    lap('par');
    const b = new Browser(worker.url);
    const tx = new URL((await b.fetch(url.href)).headers.get('location'), worker.url).searchParams.get('tx');
    lap('authorize');
    await b.json('GET', `/api/login/${tx}`);
    lap('login state');
    account.seed = base32Decode((await b.json('POST', `/api/login/${tx}/totp/enrol`)).body.secret);
    lap('totp enrol');
    const done = await b.json('POST', `/api/login/${tx}/totp/enrol/confirm`, { code: await account.nextCode() });
    lap('totp confirm');
    await client.authorizationCodeGrant(config, new URL(done.body.redirect_to), { pkceCodeVerifier: verifier, idTokenExpected: true });
    lap('token');
  }
  console.log(`\nworkerd CPU per endpoint, ${N} sequential flows (ms per request, includes its DO and KV work)`);
  console.log('  ' + Object.entries(steps).map(([k, v]) => `${k} ${(v / N).toFixed(2)}`).join('   '));

  for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json']) {
    const c0 = workerdCpuMs(pgid);
    const out = execFileSync('wrk', ['-t2', '-c16', '-d10s', '--latency', `${worker.url}${path}`]).toString();
    const c = workerdCpuMs(pgid) - c0;
    const total = Number(/(\d+) requests in/.exec(out)[1]);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)[1];
    const p50 = /\s50%\s+(\S+)/.exec(out)[1];
    const p99 = /\s99%\s+(\S+)/.exec(out)[1];
    console.log(`\nGET ${path} (wrk, 2 threads, 16 connections, 10 s)`);
    console.log(`  requests/s ${rps}   p50 ${p50}   p99 ${p99}   workerd CPU ${(c / total).toFixed(3)} ms per request`);
  }
} finally {
  await worker.stop();
  state.cleanup();
}
