// Side-by-side protocol benchmark: Biopass's OAuth endpoints against a peer worker on
// Cloudflare's @cloudflare/workers-oauth-provider (bench/peer: grants every authorization at
// once to a fixed user, so its numbers are the library's protocol work alone), all under
// the repo's wrangler dev on 127.0.0.1, each with its own port and state. The peer runs
// twice: bare (bench/peer/wrangler.toml) and behind static assets routed like Biopass's
// provider (bench/peer/wrangler.assets.toml: wrangler dev puts its asset router in front of
// a Worker with assets, and that router's CPU is in the workerd process measured; on
// Cloudflare it is not the Worker's CPU); and the provider runs again without its static assets
// (PROTOCOL_BARE=0 leaves it out), to compare with the bare peer; and the peer again with the
// provider's bindings and no assets (bench/peer/wrangler.bindings.toml, PROTOCOL_BINDINGS=0
// leaves it out), so that the provider without its assets, against it, compares the two
// Workers' code alone. In interleaved rounds (each worker goes first in turn, the
// others follow in an order shuffled per round, and each measurement is taken on every worker
// one after the other) it
// measures, per worker: discovery (the
// metadata document, sequential and concurrent), the code exchange at /token (codes made
// just before, each worker's right before its exchanges: Biopass by whole TOTP sign-ins of new users, the peer by /authorize; only the
// POST /token calls are measured), /userinfo with the fresh access tokens, and whole
// returning sign-ins (Biopass: PAR, authorize, login state, TOTP verify of an enrolled user,
// token; the peer: authorize, token). Prints one table: workerd CPU ms per request (median,
// min-max over rounds), the ratios of pairs of workers (Biopass to every other; the provider
// without assets to the bare peer and to the peer with its bindings; of each round's figures:
// median, quartiles, 95% bootstrap interval of the median, min-max), requests/s and p50/p99
// latency (medians over rounds); a second table of the latency tail: p99 of all rounds'
// latencies pooled, and each pair's ratio of pooled p99s with a 95% bootstrap interval; and each
// worker's bundle size gzipped, each Worker's startup CPU (wrangler check startup), the resident memory of each wrangler dev's workerd at the
// end; then each worker's CPU per second while idle (nothing sent
// for PROTOCOL_IDLE seconds, default 20, right after the rounds: Biopass's one-time objects
// still wait for their expiry alarms; with PROTOCOL_IDLE past the sign-ins' 15-minute
// lifetime every alarm has rung, and the idle CPU per sign-in made is their whole cost). The peer needs its package: `npm ci --prefix bench/peer`.
//   node bench/protocol.mjs [rounds=5] [requests=30] [discovery=200] [concurrency=8]
//   (or PROTOCOL_ROUNDS, PROTOCOL_REQUESTS, PROTOCOL_DISCOVERY, PROTOCOL_CONCURRENCY)
//   PROTOCOL_ONLY=discovery measures the metadata document alone (many rounds in minutes).
//   PROTOCOL_JSON=FILE writes every round's measurements to FILE.
//   PROTOCOL_BARE=0 leaves out the provider run without its static assets.
//   PROTOCOL_BINDINGS=0 leaves out the peer with the provider's bindings.
//   PROTOCOL_DRESSED=1 adds the peer with the provider's bindings and assets.
//   PROTOCOL_FLOOR=1 (with PROTOCOL_ONLY=discovery) adds a Worker that only answers a fixed
//   text, and prints each worker's CPU above it: its own code's share.
//   PROTOCOL_LIVES=K starts every worker again K-1 times during the rounds (see LIVES).
//   PROTOCOL_BASELINE_ASSETS=0 runs that baseline without its static assets, like the
//   provider's no-assets column, and prints the ratios of the two.
//   PROTOCOL_BASELINE=DIR also runs the provider built in checkout DIR (a worktree of an
//   earlier commit after its build) as a further column, Biopass@<its commit>.
// requests: codes exchanged, userinfo calls and sign-ins per worker and round; discovery:
// metadata GETs per worker and round, sequential and again at `concurrency`.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, TICK, newState, startWorker, createApp, groupCpuMs, groupProcesses, workerdCpuMs, workerdRssMiB } from '../tests/lib/worker.mjs';
import { PEER_DIR, PEER_METADATA, WRANGLER, startPeerDev } from './lib.mjs';
import { Account, authorizeUrl, loginWithTotp, pushRequest } from '../tests/lib/login.mjs';
import { step } from '../tests/lib/totp.mjs';

const num = (i, name, def) => {
  const v = Number(process.argv[i] ?? process.env[name] ?? def);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
const ROUNDS = num(2, 'PROTOCOL_ROUNDS', 5);
const N = num(3, 'PROTOCOL_REQUESTS', 30);
const IDLE = Number(process.env.PROTOCOL_IDLE ?? 20);
const DISCOVERY = num(4, 'PROTOCOL_DISCOVERY', 200);
const CONC = num(5, 'PROTOCOL_CONCURRENCY', 8);
// A checkout (e.g. a git worktree of an earlier commit, built) whose provider runs beside
// this one's, as a third column to compare with.
const BASELINE = process.env.PROTOCOL_BASELINE && resolve(process.env.PROTOCOL_BASELINE);
// PROTOCOL_BASELINE_ASSETS=0: the baseline without its [assets] (as "Biopass (no assets)"),
// so that the two compare the builds' code alone.
const BASELINE_BARE = process.env.PROTOCOL_BASELINE_ASSETS === '0';
// PROTOCOL_ONLY=discovery: the metadata measurements alone, so many rounds fit in minutes
// (a small difference needs many rounds to stand out from the machine's noise).
const ONLY = process.env.PROTOCOL_ONLY;
// PROTOCOL_BARE=0 leaves out "Biopass (no assets)": the provider's Worker with its bindings
// but without static assets, so that wrangler dev runs no asset router in front of it, as
// the bare peer has none. Its ratio to the bare peer compares the two Workers' own CPU;
// Biopass with its assets compares with peer+assets.
const BARE = (process.env.PROTOCOL_BARE ?? '1') !== '0';
// PROTOCOL_BINDINGS=0 leaves out "peer (provider bindings)": the peer's Worker with the
// bindings the provider's has (a Durable Object namespace, a second KV namespace, the face
// service behind a service binding, started beside it), none of them called. Its ratio to
// the bare peer is what the bindings cost per request; "Biopass (no assets)" against it
// differs from it in the code that answers only.
const BINDINGS = (process.env.PROTOCOL_BINDINGS ?? '1') !== '0';
const BINDINGS_NAME = 'peer (provider bindings)';
// PROTOCOL_DRESSED=1 adds "peer (bindings+assets)": the peer's Worker with the provider's
// bindings and the provider's assets and routing (bench/peer/wrangler.bindings-assets.toml),
// to compare Biopass with as scripts/run starts it.
const DRESSED = process.env.PROTOCOL_DRESSED === '1';
// PROTOCOL_FLOOR=1 (with PROTOCOL_ONLY=discovery) adds "floor": a Worker that answers every
// request with the provider's metadata document as a fixed text and does nothing else
// (bench/peer/floor.js). Its CPU per request is the share every worker pays to the runtime and
// wrangler dev; a worker's CPU above the floor is its own code's, and the bench prints the
// provider's (without assets) and the bare peer's side by side.
const FLOOR = process.env.PROTOCOL_FLOOR === '1';
const FLOOR_NAME = 'floor';
// PROTOCOL_JSON=FILE also writes every round's measurements there (each worker's CPU, rate
// and latencies per row and round, and when each request started, in Unix ms, to set
// against a trace of the workers), for analyses the tables do not print.
const JSON_OUT = process.env.PROTOCOL_JSON;
// PROTOCOL_LIVES=K: the rounds are split into K lives, and before each life after the first
// every worker is stopped and started again (on the same state). Two workerd processes of the
// same code differ in their tail by up to ~14 % for as long as they run, which resampling the
// rounds of one life does not see: with K > 1 the tail table's interval resamples whole lives.
const LIVES = num(undefined, 'PROTOCOL_LIVES', 1);
if (LIVES > ROUNDS) throw new Error('PROTOCOL_LIVES cannot exceed the rounds');
/** The life (0..LIVES-1) of round `r`. */
const lifeOf = (r) => Math.floor((r * LIVES) / ROUNDS);
if (ONLY !== undefined && ONLY !== 'discovery') throw new Error(`PROTOCOL_ONLY can be discovery, not ${ONLY}`);
if (BASELINE_BARE && !(BASELINE && BARE)) throw new Error('PROTOCOL_BASELINE_ASSETS=0 needs PROTOCOL_BASELINE and the no-assets column');
if (FLOOR && !ONLY) throw new Error('PROTOCOL_FLOOR=1 needs PROTOCOL_ONLY=discovery: the floor answers nothing else');
const CALLBACK = 'https://rp.example.com/callback';
const BUILD = join(ROOT, 'edge-worker/build');
const started = performance.now();

for (const built of [join(BUILD, 'index.js'), join(ROOT, 'face-service/build/index.js')]) {
  if (!existsSync(built)) throw new Error(`${built} is missing: run scripts/build.sh first`);
}
if (!existsSync(join(PEER_DIR, 'node_modules/@cloudflare/workers-oauth-provider'))) throw new Error('the peer has no packages: run `npm ci --prefix bench/peer` first');
const version = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
const PEER_VERSION = version(join(PEER_DIR, 'node_modules/@cloudflare/workers-oauth-provider'));
const WRANGLER_VERSION = version(join(ROOT, 'node_modules/wrangler'));

// Every HTTP request goes through here: counted, and its latency kept while a measurement
// records (`recording`). It wraps tests/lib's fetch, which resends what wrangler dev's proxy
// dropped before the worker saw it.
const baseFetch = globalThis.fetch;
// `recording`: each request's latency in `all` and its start (Unix ms, to set against traces
// of the workers) in `at`.
let recording = null;
globalThis.fetch = async (input, init) => {
  const t0 = performance.now();
  const r = await baseFetch(input, init);
  if (recording) {
    recording.all.push(performance.now() - t0);
    recording.at.push(performance.timeOrigin + t0);
  }
  return r;
};

/** Resamples of the latency-tail table's bootstrap. */
const BOOTSTRAP = 400;
/** A small deterministic generator of numbers in [0, 1) (mulberry32), so a table prints the same twice. */
const seeded = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
/**
 * The 95% bootstrap interval of `stat` (a function of a list of round indices) over `all`
 * rounds: whole lives drawn with replacement when PROTOCOL_LIVES > 1 (two processes of the
 * same code differ for as long as they run), otherwise rounds. The workers of a pair are
 * drawn together: their rounds are paired.
 */
function bootstrapped(all, random, stat) {
  const lives = Array.from({ length: LIVES }, (_, k) => all.filter((i) => lifeOf(i) === k));
  const stats = Array.from({ length: BOOTSTRAP }, () => {
    const rounds = LIVES > 1
      ? Array.from({ length: LIVES }, () => lives[Math.floor(random() * LIVES)]).flat()
      : all.map(() => all[Math.floor(random() * all.length)]);
    return stat(rounds);
  }).filter(Number.isFinite);
  return { lo: quantile(stats, 0.025), hi: quantile(stats, 0.975) };
}
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b), h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
/** The `q` quantile of `xs`, interpolated between the nearest ranks. */
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b), at = q * (s.length - 1), lo = Math.floor(at); return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo); };
const basic = (id, secret) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};
async function ok(r, what, status = 200) {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${await r.text()}`);
  return r;
}

/** POST /token for a code; returns the access token. */
async function exchange(side, { code, verifier }) {
  const r = await ok(await fetch(`${side.url}/token`, {
    method: 'POST',
    headers: { authorization: basic(side.clientId, side.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }),
  }), `${side.name} token`);
  return (await r.json()).access_token;
}

async function userinfo(side, token) {
  await (await ok(await fetch(`${side.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } }), `${side.name} userinfo`)).text();
}

async function discovery(side) {
  await (await ok(await fetch(`${side.url}${side.metadata}`), `${side.name} discovery`)).text();
}

// Biopass: users sign in with TOTP. A user's code for a 30-second step counts once, and
// a code is good for the current step or the next, so a user can sign in again without
// waiting only while their last step is not ahead of the clock (`ready`). New users enrol
// to make the codes of the code-exchange phase, which also fills this pool.
const ready = (a) => a.lastStep <= step();
let users = 0;

function biopass(worker, app, name = 'Biopass') {
  const pool = [];
  const side = { name, flows: 0, url: worker.url, pgid: worker.pgid, metadata: '/.well-known/openid-configuration', clientId: app.client_id, secret: app.secret, stop: worker.stop };
  async function signInToCode(account) {
    side.flows++;
    const { verifier, challenge } = pkce();
    const cb = await loginWithTotp(side.url, authorizeUrl(side.url, app, await pushRequest(side.url, app, account.username, challenge, CALLBACK)), account);
    return { code: new URL(cb).searchParams.get('code'), verifier };
  }
  /** A code from a whole sign-in of a new user (TOTP enrolment). */
  side.code = async () => {
    const account = new Account(`protocol-${users++}@example.com`);
    const code = await signInToCode(account);
    pool.push(account);
    return code;
  };
  /** Enrols users until `n` can sign in again at once. */
  side.prepare = async (n) => {
    while (pool.filter(ready).length < n) await side.code();
  };
  /** A returning sign-in: PAR, authorize, login state, TOTP verify, token. */
  side.signIn = async () => {
    const account = pool.find(ready);
    if (!account) throw new Error('no enrolled user can sign in without waiting');
    return exchange(side, await signInToCode(account));
  };
  return side;
}

async function startPeer(name, config) {
  const { url, pgid, stop } = await startPeerDev(config);
  const side = { name, url, pgid, metadata: PEER_METADATA, stop };
  try {
    // One confidential client through RFC 7591 dynamic registration (client_secret_basic).
    const reg = await (await ok(await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Bench', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'client_secret_basic' }),
    }), 'peer registration', 201)).json();
    side.clientId = reg.client_id;
    side.secret = reg.client_secret;
  } catch (e) {
    await side.stop();
    throw e;
  }
  /** A code from GET /authorize, which the peer grants at once. */
  side.code = async () => {
    const { verifier, challenge } = pkce();
    const u = `${url}/authorize?${new URLSearchParams({ response_type: 'code', client_id: side.clientId, redirect_uri: CALLBACK, scope: 'openid', state: randomBytes(8).toString('hex'), code_challenge: challenge, code_challenge_method: 'S256' })}`;
    const r = await ok(await fetch(u, { redirect: 'manual' }), 'peer authorize', 302);
    return { code: new URL(r.headers.get('location')).searchParams.get('code'), verifier };
  };
  side.prepare = async () => {};
  side.signIn = async () => exchange(side, await side.code());
  return side;
}

/** The floor (PROTOCOL_FLOOR): a Worker answering `doc` to every request, nothing else. */
async function startFloor(doc) {
  const { url, pgid, stop } = await startPeerDev('wrangler.floor.toml', { DOC: doc });
  return { name: FLOOR_NAME, url, pgid, metadata: '/', stop };
}

/**
 * Runs `n` calls of `fn` with `conc` at a time; answers the workerd CPU per request (and per
 * call), requests/s, calls/s, and the p50/p99 latency of requests and of calls.
 */
async function measure(side, n, conc, fn) {
  const requests = { all: [], at: [] };
  const calls = [];
  const cpu0 = workerdCpuMs(side.pgid);
  const t0 = performance.now();
  recording = requests;
  let next = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(conc, n) }, async () => {
      while (next < n) {
        const i = next++;
        const c0 = performance.now();
        await fn(i);
        calls.push(performance.now() - c0);
      }
    }));
  } finally {
    recording = null;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = workerdCpuMs(side.pgid) - cpu0;
  return {
    request: { cpu: cpu / requests.all.length, rate: requests.all.length / wall, p50: pct(requests.all, 50), p99: pct(requests.all, 99), ...requests },
    call: { cpu: cpu / n, rate: n / wall, p50: pct(calls, 50), p99: pct(calls, 99), all: calls },
  };
}

const ROWS = [
  ['discovery, sequential', 'request'],
  [`discovery, ${CONC} concurrent`, 'request'],
  ['token (code exchange)', 'request'],
  ['userinfo', 'request'],
  ['sign-in, per flow', 'call'],
  ['sign-in, per HTTP request', 'request'],
];
const PEERS = [
  ['peer', 'wrangler.toml'],
  ['peer+assets', 'wrangler.assets.toml'],
  ...(BINDINGS ? [[BINDINGS_NAME, ['wrangler.bindings.toml', join(ROOT, 'face-service/wrangler.toml')]]] : []),
  ...(DRESSED ? [['peer (bindings+assets)', ['wrangler.bindings-assets.toml', join(ROOT, 'face-service/wrangler.toml')]]] : []),
];
const results = Object.fromEntries(ROWS.map(([row]) => [row, {}]));

/**
 * Biopass's codes live 60 s. A code takes a fraction of a second to make; when wrangler dev's
 * proxy stalls a request (it once left one unanswered for 60 s), the codes made before the
 * stall would expire before they are exchanged. So when one code took longer than `STALL_MS`,
 * the round's codes are made again (at most twice), and the stall is reported.
 */
const STALL_MS = 10_000;
async function freshCodes(side) {
  for (let attempt = 0; ; attempt++) {
    const made = [];
    let slowest = 0;
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      made.push(await side.code());
      slowest = Math.max(slowest, performance.now() - t0);
    }
    if (slowest <= STALL_MS) return made;
    if (attempt === 2) throw new Error(`${side.name}: a code took over ${STALL_MS / 1000} s to make in three tries`);
    console.log(`  ${side.name}: a code took ${(slowest / 1000).toFixed(1)} s to make (a stalled request); the round's codes made again`);
  }
}

/**
 * One round of every measurement, each taken on every worker one after the other in `order`
 * (so the machine's drift falls on all of them alike, and a round's ratios compare like with like).
 */
async function round(order) {
  const keep = (side, row, m) => (results[row][side.name] ??= []).push(m);
  for (const side of order) keep(side, ROWS[0][0], (await measure(side, DISCOVERY, 1, () => discovery(side))).request);
  for (const side of order) keep(side, ROWS[1][0], (await measure(side, DISCOVERY, CONC, () => discovery(side))).request);
  if (ONLY) return;
  // Each worker's codes are exchanged right after that worker made them, as a relying party
  // redeems a code as soon as the browser brings it back (not after the other workers made
  // theirs: minutes, in which the runtime closes the idle Durable Objects a code lives in).
  const tokens = new Map(order.map((side) => [side, []]));
  for (const side of order) {
    const made = await freshCodes(side);
    keep(side, ROWS[2][0], (await measure(side, N, 1, async (i) => { tokens.get(side).push(await exchange(side, made[i])); })).request);
  }
  for (const side of order) keep(side, ROWS[3][0], (await measure(side, N, 1, (i) => userinfo(side, tokens.get(side)[i]))).request);
  for (const side of order) await side.prepare(N);
  for (const side of order) {
    const s = await measure(side, N, 1, () => side.signIn());
    keep(side, ROWS[4][0], s.call);
    keep(side, ROWS[5][0], s.request);
  }
}

/** Gzipped size (default level, file by file) of the files `pick` chooses under `dir`. */
function bundle(dir, pick) {
  let raw = 0, gz = 0;
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) { if (!name.startsWith('.')) walk(p); continue; }
      if (!pick(name)) continue;
      const bytes = readFileSync(p);
      raw += bytes.length;
      gz += gzipSync(bytes).length;
      files.push(p.slice(dir.length + 1));
    }
  };
  walk(dir);
  return `${(raw / 1024).toFixed(1)} KiB, gzip ${(gz / 1024).toFixed(1)} KiB (${files.sort().join(', ')})`;
}

/**
 * CPU ms of a Worker's startup (its modules evaluated and its wasm instantiated), by
 * `wrangler check startup` (it builds the Worker as `wrangler deploy` would and profiles its
 * startup in workerd): the profile's non-idle time of each of `times` runs. The profile
 * samples about every millisecond, so the figure is that coarse.
 */
function startupMs(cwd, config, times = 5) {
  const out = mkdtempSync(join(tmpdir(), 'biopass-startup-'));
  try {
    const runs = [];
    for (let i = 0; i < times; i++) {
      const file = join(out, `${i}.cpuprofile`);
      execFileSync(WRANGLER, ['check', 'startup', '-c', config, '--outfile', file], { cwd, stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } });
      const profile = JSON.parse(readFileSync(file, 'utf8'));
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      runs.push(profile.samples.reduce((t, id, j) => t + (byId.get(id).callFrame.functionName === '(idle)' ? 0 : profile.timeDeltas[j] ?? 0), 0) / 1000);
    }
    return runs;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Whether the workerd processes of a process group were started with an inspector. */
function inspector(pgid) {
  return groupProcesses(pgid).some(({ pid, comm }) => {
    try {
      return comm.startsWith('workerd') && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.startsWith('--inspector-addr'));
    } catch { return false; /* process went away */ }
  });
}

const state = newState();
const baselineState = BASELINE ? newState() : null;
const bareState = BARE ? newState() : null;
const BARE_NAME = 'Biopass (no assets)';

/**
 * The wrangler config of the provider in checkout `root` without its `[assets]` table (the
 * SPA; no protocol endpoint reads it), written into `dir` (the run's state) with `main` as an
 * absolute path.
 */
function withoutAssets(root, dir) {
  const lines = readFileSync(join(root, 'wrangler.toml'), 'utf8').split('\n');
  const out = [];
  let skipping = false;
  for (const line of lines) {
    if (/^\s*\[/.test(line)) skipping = line.trim() === '[assets]';
    if (!skipping) out.push(line.replace(/^main\s*=\s*"([^"]+)"/, (_, m) => `main = ${JSON.stringify(join(root, m))}`));
  }
  const text = out.join('\n');
  if (/\[assets\]|ASSETS|run_worker_first/.test(text) || !text.includes(`main = ${JSON.stringify(join(root, 'edge-worker/build/index.js'))}`)) {
    throw new Error('wrangler.toml changed shape: its assets could not be left out');
  }
  const file = join(dir, 'wrangler.no-assets.toml');
  writeFileSync(file, text);
  return file;
}
const sides = [];
/**
 * The workers' order in round `r`: each goes first in turn, and the others follow in an
 * order shuffled per round (seeded), so that no worker always follows the same one. What a
 * worker's process leaves running after its measurement (a provider closes the Vault objects
 * its requests opened some seconds later) falls on whichever is measured next; a plain
 * rotation would put it on the same neighbour every round.
 */
function orderOf(r) {
  const first = sides[r % sides.length];
  const rest = sides.filter((side) => side !== first);
  const random = seeded(7907 * (r + 1));
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return [first, ...rest];
}
/** Biopass's sign-ins made, by worker, over the lives stopped (see PROTOCOL_LIVES). */
const lastFlows = new Map();
/** Stops every worker started, the last first, and forgets them. */
async function stopAll() {
  for (const side of sides.splice(0).reverse()) {
    if (side.flows !== undefined) lastFlows.set(side.name, side.flows);
    await side.stop();
  }
}
try {
  // Started one after the other: two wrangler dev starting at once on 2 busy cores is slow.
  // A provider is in `sides` (to be stopped) before its set-up calls can fail.
  const startBiopass = async (st, name, root, configs) => {
    const worker = await startWorker(st, { root, configs });
    sides.push({ stop: worker.stop });
    sides[sides.length - 1] = biopass(worker, await createApp(worker, 'Protocol bench'), name);
  };
  const bareConfig = BARE ? withoutAssets(ROOT, bareState.dir) : null;
  const baselineConfigs = BASELINE_BARE ? [withoutAssets(BASELINE, baselineState.dir), 'face-service/wrangler.toml'] : undefined;
  // Every worker started (again: on the same state, Biopass's sign-ins counted on), and warmed up.
  const startAll = async () => {
    await startBiopass(state, 'Biopass');
    for (const [name, config] of PEERS) sides.push(await startPeer(name, config));
    if (BARE) await startBiopass(bareState, BARE_NAME, ROOT, [bareConfig, 'face-service/wrangler.toml']);
    if (FLOOR) sides.push(await startFloor(await (await ok(await fetch(`${sides[0].url}${sides[0].metadata}`), 'Biopass discovery')).text()));
    if (BASELINE) {
      // Another checkout's build of the provider, measured beside this one (its own state).
      const rev = execFileSync('git', ['-C', BASELINE, 'rev-parse', '--short', 'HEAD']).toString().trim();
      await startBiopass(baselineState, `Biopass@${rev}${BASELINE_BARE ? ' (no assets)' : ''}`, BASELINE, baselineConfigs);
    }
    for (const side of sides) if (side.flows !== undefined) side.flows = lastFlows.get(side.name) ?? 0;
    // Warm-up, not measured: isolates, Biopass's signing keys, the peer's client record.
    for (const side of sides) {
      await discovery(side);
      if (side.name === FLOOR_NAME) continue;
      await userinfo(side, await exchange(side, await side.code()));
      await side.prepare(1);
      await side.signIn();
    }
  };
  await startAll();
  const rssWarm = sides.map((side) => workerdRssMiB(side.pgid));
  const orders = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r > 0 && lifeOf(r) !== lifeOf(r - 1)) {
      await stopAll();
      await startAll();
      process.stderr.write(`life ${lifeOf(r) + 1}/${LIVES}: every worker started again\n`);
    }
    const order = orderOf(r);
    orders.push(order.map((side) => side.name));
    await round(order);
    process.stderr.write(`round ${r + 1}/${ROUNDS} done (${order[0].name} first, then ${order.slice(1).map((s) => s.name).join(', ')})\n`);
  }
  // Written before anything else can fail: a long run's measurements are not lost.
  if (JSON_OUT) {
    const workers = sides.map((side) => side.name);
    writeFileSync(JSON_OUT, JSON.stringify({ rounds: ROUNDS, requests: N, discovery: DISCOVERY, concurrency: CONC, bare: BARE, bindings: BINDINGS, dressed: DRESSED, floor: FLOOR, baselineWithoutAssets: BASELINE_BARE, lives: LIVES, workers, orders, results }));
  }

  // Idle: all workers at once, nothing sent (null when PROTOCOL_IDLE=0).
  let idle = null;
  if (IDLE > 0) {
    const idleFrom = sides.map((side) => groupCpuMs(side.pgid));
    await new Promise((r) => setTimeout(r, IDLE * 1000));
    idle = sides.map((side, i) => (groupCpuMs(side.pgid) - idleFrom[i]) / IDLE);
  }
  const rss = sides.map((side) => workerdRssMiB(side.pgid));
  const startup = { Biopass: startupMs(ROOT, 'wrangler.toml'), peer: startupMs(PEER_DIR, 'wrangler.toml') };

  const insp = sides.map((s) => `${s.name} ${inspector(s.pgid) ? 'on' : 'off'}`).join(', ');
  const peerDist = mkdtempSync(join(tmpdir(), 'biopass-peer-dist-'));
  let peerBundle;
  try {
    execFileSync(WRANGLER, ['deploy', '--dry-run', '--outdir', peerDist], { cwd: PEER_DIR, stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } });
    peerBundle = bundle(peerDist, (n) => /\.(m?js|wasm)$/.test(n));
  } finally {
    rmSync(peerDist, { recursive: true, force: true });
  }

  const f = (x, d = 2) => x.toFixed(d);
  const cell = (ms) => `${f(median(ms))} (${f(Math.min(...ms))}-${f(Math.max(...ms))})`;
  const names = sides.map((side) => side.name);
  // The ratios printed: Biopass's to every other worker's, and the bare Biopass's to the bare peer's.
  // (Not to a baseline run without its assets: the provider here has them.)
  const pairs = names.slice(1).filter((n) => !(BASELINE_BARE && n.startsWith('Biopass@'))).map((n) => [0, names.indexOf(n)]);
  if (names.includes(BARE_NAME)) pairs.push([names.indexOf(BARE_NAME), names.indexOf('peer')]);
  if (BASELINE_BARE) pairs.push([names.indexOf(BARE_NAME), names.findIndex((n) => n.startsWith('Biopass@'))]);
  if (names.includes(BINDINGS_NAME)) {
    pairs.push([names.indexOf(BINDINGS_NAME), names.indexOf('peer')]);
    if (names.includes(BARE_NAME)) pairs.push([names.indexOf(BARE_NAME), names.indexOf(BINDINGS_NAME)]);
  }
  if (names.includes(FLOOR_NAME)) {
    if (names.includes(BARE_NAME)) pairs.push([names.indexOf(BARE_NAME), names.indexOf(FLOOR_NAME)]);
    pairs.push([names.indexOf('peer'), names.indexOf(FLOOR_NAME)]);
  }
  const pairName = ([a, b]) => (a === 0 ? `ratio to ${names[b]}` : `${names[a]} to ${names[b]}`);
  const table = [['endpoint', ...names.map((n) => `${n} CPU ms/req`), ...pairs.map(pairName), ...names.map((n) => `${n} req/s`), ...names.map((n) => `${n} p50/p99 ms`)]];
  for (const [row, unit] of ROWS) {
    const got = names.map((n) => results[row][n]);
    if (got.some((xs) => !xs)) continue; // not measured (PROTOCOL_ONLY)
    const cpu = (xs) => xs.map((m) => m.cpu);
    const m = (xs, k) => median(xs.map((x) => x[k]));
    const perFlow = unit === 'call';
    table.push([
      row + (perFlow ? ' (CPU ms/flow, flows/s)' : ''),
      ...got.map((xs) => cell(cpu(xs))),
      // Per round, the first worker's CPU of the pair over the second's in that round: the
      // median, the quartiles and the range.
      ...pairs.map(([a, b]) => {
        const byRound = got[b].map((x, i) => (x.cpu > 0 ? got[a][i].cpu / x.cpu : NaN));
        const ratios = byRound.filter(Number.isFinite);
        if (!ratios.length) return '-';
        // The median's 95% interval, over the rounds (or lives) drawn again.
        const { lo, hi } = bootstrapped(byRound.map((_, i) => i), seeded(row.length * 104729 + b + 100 * a), (rounds) => median(rounds.map((i) => byRound[i]).filter(Number.isFinite)));
        return `${f(median(ratios), 2)}x [${f(quantile(ratios, 0.25), 2)}-${f(quantile(ratios, 0.75), 2)}] {${f(lo, 2)}-${f(hi, 2)}} (${f(Math.min(...ratios), 2)}-${f(Math.max(...ratios), 2)})`;
      }),
      ...got.map((xs) => f(m(xs, 'rate'), 1)),
      ...got.map((xs) => `${f(m(xs, 'p50'), 1)} / ${f(m(xs, 'p99'), 1)}`),
    ]);
  }
  // The tail on its own: p99 of every round's latencies pooled (more samples than one
  // round's), and for each pair the ratio of the pooled p99s with a bootstrap interval
  // over the rounds (whether a gap holds round after round or is one round's outliers).
  const tails = [['endpoint', ...names.map((n) => `${n} p99 ms, pooled`), ...pairs.map((pair) => `pooled p99 ${pairName(pair)} [95% bootstrap]`)]];
  const pooledP99 = (xs, rounds) => pct(rounds.flatMap((i) => xs[i].all), 99);
  for (const [row] of ROWS) {
    const got = names.map((n) => results[row][n]);
    if (got.some((xs) => !xs)) continue;
    const all = got[0].map((_, i) => i);
    tails.push([
      row,
      ...got.map((xs) => f(pooledP99(xs, all), 1)),
      ...pairs.map(([a, b]) => {
        // Rounds (or lives) drawn with replacement, the same for both workers (they are
        // paired), their latencies pooled: how far the ratio of the p99s moves with them.
        const { lo, hi } = bootstrapped(all, seeded(row.length * 7919 + b + 100 * a), (rounds) => pooledP99(got[a], rounds) / pooledP99(got[b], rounds));
        return `${f(pooledP99(got[a], all) / pooledP99(got[b], all), 2)}x [${f(lo, 2)}-${f(hi, 2)}]`;
      }),
    ]);
  }
  const widthsOf = (t) => t[0].map((_, i) => Math.max(...t.map((r) => r[i].length)));
  const lineOf = (w) => (r) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
  const rule = (w) => '|' + w.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|';
  const widths = widthsOf(table);
  const line = lineOf(widths);

  console.log(`\nProtocol endpoints: Biopass vs a peer on @cloudflare/workers-oauth-provider ${PEER_VERSION}, both under wrangler dev ${WRANGLER_VERSION} on 127.0.0.1`);
  console.log(`${ROUNDS} rounds, each worker first in turn and the others in an order shuffled per round, each measurement taken on the workers one after the other; per worker and round: discovery ${DISCOVERY} GETs sequential and ${DISCOVERY} at concurrency ${CONC}; ${N} code exchanges, ${N} userinfo calls, ${N} returning sign-ins, sequential`);
  console.log('sign-in: Biopass PAR + authorize + login state + TOTP verify + token (5 requests); peer authorize + token (2 requests, no user step: it grants at once)');
  console.log('peer: bench/peer/wrangler.toml; peer+assets: the same Worker behind static assets routed like Biopass\'s provider (bench/peer/wrangler.assets.toml; wrangler dev\'s asset router runs in front of');
  console.log('  every request of a Worker with assets, and its CPU is in the workerd process measured)');
  if (DRESSED) console.log('peer (bindings+assets): the peer\'s Worker with the provider\'s bindings and its assets and routing (bench/peer/wrangler.bindings-assets.toml)');
  if (BINDINGS) console.log(`${BINDINGS_NAME}: the peer's Worker with the provider's bindings (a Durable Object namespace, a second KV namespace, the face service behind a service binding, started beside it; none called) and no assets (bench/peer/wrangler.bindings.toml)`);
  if (BARE) console.log(`${BARE_NAME}: the provider's wrangler.toml without its [assets] table (no protocol endpoint reads them), so no asset router runs in front of it, as none runs in front of the bare peer`);
  console.log('CPU: user+sys time of the workerd processes of each wrangler dev (/proc), per request: an upper bound of the billed CPU (it includes the runtime\'s HTTP work, the local KV and');
  console.log(`  Durable Object simulation and wrangler's proxy worker), read in ${f(1000 / TICK, 0)} ms ticks; median (min-max) over rounds; ratio: of the same round's figures, median [quartiles] {95% bootstrap of the median, over ${LIVES > 1 ? 'lives' : 'rounds'}} (min-max) over rounds.`);
  console.log('  req/s and latency: medians over rounds.');
  console.log(`inspector: ${insp} (wrangler dev ${WRANGLER_VERSION} has no option or environment variable that switches it off: --inspector-port only moves it)\n`);
  console.log(line(table[0]));
  console.log(rule(widths));
  for (const r of table.slice(1)) console.log(line(r));
  const tailWidths = widthsOf(tails);
  console.log(`\nlatency tail (the sign-in's rows: its HTTP requests, and whole flows; the intervals resample ${LIVES > 1 ? `the ${LIVES} lives of the workers, each a start of every worker and its rounds` : 'the rounds, all of one life of the workers'}):`);
  console.log(lineOf(tailWidths)(tails[0]));
  console.log(rule(tailWidths));
  for (const r of tails.slice(1)) console.log(lineOf(tailWidths)(r));
  if (names.includes(FLOOR_NAME)) {
    // Each worker's own code: its CPU per request above the floor's in the same round.
    const floor = names.indexOf(FLOOR_NAME);
    console.log(`\nabove the floor (a worker's CPU ms per request minus the floor's in the same round: its own code's; median over rounds {95% bootstrap over ${LIVES > 1 ? 'lives' : 'rounds'}}):`);
    for (const [row] of ROWS.slice(0, 2)) {
      const got = names.map((n) => results[row][n]);
      const all = got[0].map((_, i) => i);
      const own = (a, rounds) => median(rounds.map((i) => got[a][i].cpu - got[floor][i].cpu));
      const interval = (a, b, stat) => bootstrapped(all, seeded(row.length * 6151 + b + 100 * a), stat);
      // Each worker's share above the floor, with its interval (none for the floor itself).
      const shares = names.map((_, a) => (a === floor ? null : interval(a, floor, (rounds) => own(a, rounds))));
      const signed = (x) => (x < 0 ? '' : '+') + f(x, 3);
      const cells = names.map((n, a) => (a === floor
        ? `floor ${f(median(got[floor].map((m) => m.cpu)))} ms`
        : `${n} ${signed(own(a, all))} {${f(shares[a].lo, 3)} to ${f(shares[a].hi, 3)}}`));
      const bare = names.indexOf(BARE_NAME), peer = names.indexOf('peer');
      let ratio = '';
      if (bare >= 0) {
        // A ratio only where the peer's own share stands clear of the floor (the lower end of
        // its 95% interval above 0): near zero, a ratio of two differences means nothing.
        if (shares[peer].lo > 0) {
          const { lo, hi } = interval(bare, peer, (rounds) => own(bare, rounds) / own(peer, rounds));
          ratio = `; ${BARE_NAME} over peer: ${f(own(bare, all) / own(peer, all))}x {${f(lo)}-${f(hi)}}`;
        } else ratio = `; no ratio: the peer's own share is not clear of the floor's noise`;
      }
      console.log(`  ${row}: ${cells.join(', ')}${ratio}`);
    }
  }
  if (!idle) console.log('\nidle: not measured (PROTOCOL_IDLE=0)');
  else console.log(`\nidle, right after the rounds, ${IDLE} s with nothing sent: ${sides.map((side, i) => `${side.name} ${f(idle[i], 1)} ms CPU/s`).join(', ')}`);
  if (idle && sides[0].flows) console.log(`  Biopass made ${sides[0].flows} sign-ins (each in its person's sign-in object, whose alarm rings after its last value expired): ${f((idle[0] * IDLE) / sides[0].flows, 2)} ms of idle CPU per sign-in in those ${IDLE} s`);
  console.log(`memory, resident, of each wrangler dev's workerd after the warm-up / after the rounds and the idle time: ${sides.map((side, i) => `${side.name} ${f(rssWarm[i], 0)} / ${f(rss[i], 0)} MiB`).join(', ')}`);
  console.log('  (Biopass\'s workerd also runs the face service, whose models are not loaded on this path, and every Vault object its sign-ins opened: on Cloudflare those run apart from the Worker)');
  console.log(`startup, CPU ms by wrangler check startup (5 runs, median (min-max)): ${Object.entries(startup).map(([n, ms]) => `${n} ${cell(ms)}`).join(', ')}`);
  console.log(`\nbundle, Biopass provider: edge-worker/build ${bundle(BUILD, (n) => /\.(m?js|wasm)$/.test(n))}`);
  const faceBuild = join(ROOT, 'face-service', 'build');
  console.log(`bundle, Biopass face service (not on the protocol path): face-service/build ${bundle(faceBuild, (n) => /\.(m?js|wasm)$/.test(n))}`);
  console.log(`bundle, peer: wrangler deploy --dry-run ${peerBundle}`);
  console.log(`ran ${f((performance.now() - started) / 1000, 0)} s`);
} finally {
  await stopAll();
  state.cleanup();
  baselineState?.cleanup();
  bareState?.cleanup();
}
