// CPU profile of the provider's isolate (V8's sampling profiler, 100 us, through workerd's
// own inspector: the target `core:user:biopass-edge`, found among the workerd processes'
// listening ports) over N calls of one kind: `token` (code exchanges), `userinfo`,
// `discovery` or `signin` (whole returning TOTP sign-ins: PAR, authorize, login state, TOTP,
// token). Prints the sampled non-idle time per call and the 40 largest self times per call,
// each with the source around it (wasm-bindgen's import shims say which runtime API they call).
// The Vault runs in the same isolate, so its work is included. A profile slows what it
// samples: use it to find where time goes, and bench/protocol.mjs to measure.
//   node --experimental-websocket bench/profile.mjs [token|userinfo|discovery|signin] [N=30]
// (Node 20 needs the flag for its WebSocket; after scripts/build.sh.)
import { createHash, randomBytes } from 'node:crypto';
import { newState, startWorker, createApp, groupProcesses } from '../tests/lib/worker.mjs';
import { Account, loginWithTotp } from '../tests/lib/login.mjs';
const what = process.argv[2] ?? 'token';
if (!['token', 'userinfo', 'discovery', 'signin'].includes(what)) throw new Error(`what to profile: token, userinfo, discovery or signin, not ${what}`);
const N = Number(process.argv[3] ?? 30);
const CALLBACK = 'https://rp.example.com/callback';
const state = newState();
const worker = await startWorker(state);
try {
  const app = await createApp(worker, 'Prof');
  const basic = 'Basic ' + Buffer.from(`${app.client_id}:${app.secret}`).toString('base64');
  let users = 0; const pool = [];
  async function code(account = new Account(`p-${users++}@example.com`)) {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const r = await fetch(`${worker.url}/par`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: CALLBACK, scope: 'openid', login_hint: account.username, code_challenge: challenge, code_challenge_method: 'S256' }) });
    const { request_uri } = await r.json();
    const cb = await loginWithTotp(worker.url, `${worker.url}/authorize?${new URLSearchParams({ client_id: app.client_id, request_uri })}`, account);
    pool.push(account);
    return { code: new URL(cb).searchParams.get('code'), verifier };
  }
  const exchange = async ({ code, verifier }) => (await (await fetch(`${worker.url}/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }) })).json()).access_token;
  const codes = []; for (let i = 0; i < N + 2; i++) codes.push(await code());
  const accounts = [...pool];
  if (what === 'signin') await new Promise((r) => setTimeout(r, 31000));
  const { execSync } = await import('node:child_process');
  let target;
  // This worker's workerd only (another run's could still be listening).
  const ours = new Set(groupProcesses(worker.pgid).map((p) => String(p.pid)));
  for (const l of execSync('ss -ltnpH').toString().split('\n').filter((l) => l.includes('workerd') && ours.has(l.match(/pid=(\d+)/)?.[1]))) {
    const port = l.split(/\s+/)[3].split(':').pop();
    try { const ts = await (await globalThis.fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(1500) })).json(); target = ts.find((t) => t.id === 'core:user:biopass-edge') ?? target; } catch { /* not an inspector */ }
  }
  if (!target) throw new Error('no workerd inspector lists core:user:biopass-edge');
  console.error(target.webSocketDebuggerUrl);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.addEventListener('open', r));
  let id = 0; const waiting = new Map();
  ws.addEventListener('message', (m) => { const d = JSON.parse(m.data); if (d.id && waiting.has(d.id)) { waiting.get(d.id)(d.result); waiting.delete(d.id); } });
  const send = (method, params = {}) => new Promise((r) => { const i = ++id; waiting.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  // warm
  const toks = [await exchange(codes.pop()), await exchange(codes.pop())];
  await send('Profiler.start');
  if (what === 'token') { for (const c of codes) toks.push(await exchange(c)); }
  else if (what === 'userinfo') { for (let i = 0; i < N; i++) await (await fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${toks[i % 2]}` } })).text(); }
  else if (what === 'signin') { for (let i = 0; i < N; i++) await exchange(await code(accounts[i])); }
  else if (what === 'discovery') { for (let i = 0; i < N; i++) await (await fetch(`${worker.url}/.well-known/openid-configuration`)).text(); }
  const { profile } = await send('Profiler.stop');
  const self = new Map(); const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map(); for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const dt = (profile.endTime - profile.startTime) / profile.samples.length / 1000;
  let total = 0;
  for (const [nid, c] of counts) { const n = byId.get(nid); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + c); if (!['(idle)', '(program)'].includes(n.callFrame.functionName)) total += c; }
  console.log(`${what}: ${N} calls, sampled ${(total * dt / N).toFixed(2)} ms non-idle per call`);
  await send('Debugger.enable');
  const srcs = new Map();
  const snippet = async (k) => {
    const n = [...byId.values()].find((n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}` === k);
    if (!n || !n.callFrame.scriptId || n.callFrame.scriptId === '0') return '';
    if (!srcs.has(n.callFrame.scriptId)) srcs.set(n.callFrame.scriptId, (await send('Debugger.getScriptSource', { scriptId: n.callFrame.scriptId }))?.scriptSource ?? '');
    const line = srcs.get(n.callFrame.scriptId).split('\n')[n.callFrame.lineNumber] ?? '';
    return line.slice(Math.max(0, n.callFrame.columnNumber - 60), n.callFrame.columnNumber + 160).replace(/\s+/g, ' ');
  };
  for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((c * dt / N).toFixed(3).padStart(8), k, '|', await snippet(k));
  ws.close();
} finally { await worker.stop(); state.cleanup(); }
