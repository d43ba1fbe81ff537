// Starts the real provider Worker and the face service under one `wrangler dev` on a free
// port with its own state directory and secrets, for one test file. Both Workers must have
// been built (scripts/test does it).
import './devproxy.mjs';
import { startService } from './service.mjs';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * `n` free ports, all different: each is free only until someone binds it, and the system
 * may hand the same one out again once it is closed.
 */
export async function freePorts(n) {
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** A fresh state directory and secrets; pass it to startWorker (again, for restarts). */
export function newState() {
  const dir = mkdtempSync(join(tmpdir(), 'biopass-state-'));
  const adminToken = randomBytes(32).toString('base64url');
  const envFile = join(dir, 'test.env');
  writeFileSync(envFile, [
    `BIOPASS_MASTER_KEY=${randomBytes(32).toString('base64')}`,
    `ADMIN_TOKEN_SHA256=${createHash('sha256').update(adminToken).digest('hex')}`,
    '',
  ].join('\n'));
  return { dir, adminToken, envFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The provider's wrangler config, then the face service's: what `scripts/run` starts. */
const PROVIDER_AND_FACE = ['wrangler.toml', 'face-service/wrangler.toml'];

/** Where each worker's whole log goes (tests/out is not committed). */
const LOGS = join(ROOT, 'tests', 'out');

/**
 * Starts the worker under wrangler dev on 127.0.0.1. `host` names it in its issuer URL:
 * `localhost` for passkeys (WebAuthn needs a domain name as relying party, not an IP).
 * `root`: the checkout whose built Workers run (another one's build, for a bench's baseline).
 * `configs`: the wrangler configs it runs, the provider's first (by default with the face
 * service it calls, as `scripts/run` starts them).
 */
export async function startWorker(state, { port, host = '127.0.0.1', root = ROOT, configs = PROVIDER_AND_FACE } = {}) {
  // A free port is only free until someone binds it: between freePort() and wrangler's bind
  // another process (another test file's workerd, its internal sockets) may take it. Such a
  // start is tried again on new ports (or, for a restart on a fixed port, the same one a
  // moment later); any other failure is the test's.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce(state, { port: port ?? await freePort(), host, root, configs });
    } catch (e) {
      if (attempt >= 3 || !String(e.message).includes('Address already in use')) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

async function startWorkerOnce(state, { port, host, root, configs }) {
  mkdirSync(LOGS, { recursive: true });
  const url = `http://${host}:${port}`;
  let inspectorPort;
  do inspectorPort = await freePort(); while (inspectorPort === port);
  const service = await startService('wrangler dev', join(ROOT, 'node_modules/.bin/wrangler'), [
    // The provider first (its port, its vars), then what it calls.
    'dev', ...configs.flatMap((c) => ['-c', c]),
    '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', join(state.dir, 'wrangler'),
    '--env-file', state.envFile,
    '--var', `ISSUER:${url}`,
    '--inspector-port', String(inspectorPort),
    '--show-interactive-dev-session=false', '--log-level', process.env.BIOPASS_WORKER_LOG ?? 'info',
  ], {
    cwd: root,
    // No fetch of Cloudflare's `Request.cf` sample: there is no internet here.
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    healthUrl: `${url}/.well-known/openid-configuration`,
    logFile: join(LOGS, `wrangler-${port}.log`),
  });
  return { ...service, url, port, inspectorPort, adminToken: state.adminToken };
}

/** Calls the admin API; returns { status, body }. */
export async function admin(worker, method, path, body, token = worker.adminToken) {
  const r = await fetch(`${worker.url}/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = text; }
  return { status: r.status, body: parsed, headers: r.headers };
}

/**
 * Creates an application through the admin API (`extra`: more settings; its callback is
 * `callback`) and, when it authenticates, reads its secret. Throws with the answer on failure.
 */
export async function createApp(worker, name, extra = {}, callback = 'https://rp.example.com/callback') {
  const r = await admin(worker, 'POST', '/applications', { name, application_type: 'amazon_cognito_mfa', allowed_callback_urls: [callback], ...extra });
  if (r.status !== 201) throw new Error(`creating ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  let secret = null;
  if (r.body.client_authentication) {
    const s = await admin(worker, 'GET', `/applications/${r.body.client_id}/secret`);
    if (s.status !== 200) throw new Error(`reading the secret of ${name}: ${s.status} ${JSON.stringify(s.body)}`);
    secret = s.body.client_secret;
  }
  return { ...r.body, secret };
}

/** Clock ticks per second of /proc's CPU times. */
export const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/**
 * The processes of a process group (`pgid`) from /proc: `{ pid, comm, f }`, `f` the fields of
 * `/proc/{pid}/stat` after the command name (`f[2]` the group, `f[11]`/`f[12]` user/system
 * ticks, `f[13]`/`f[14]` those of reaped children).
 */
export function groupProcesses(pgid) {
  const found = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) found.push({ pid: Number(pid), comm, f });
    } catch { /* process went away */ }
  }
  return found;
}

/** User + system CPU time (ms) of the workerd processes of a worker's process group (its
 * `pgid`), from /proc: the runtime's own work included, so an upper bound of the Worker's. */
export function workerdCpuMs(pgid) {
  const ticks = groupProcesses(pgid).filter((p) => p.comm.startsWith('workerd')).reduce((t, p) => t + Number(p.f[11]) + Number(p.f[12]), 0);
  return (ticks * 1000) / TICK;
}

/** Resident memory (MiB) of the workerd processes of a worker's process group, from /proc. */
export function workerdRssMiB(pgid) {
  let kib = 0;
  for (const { pid, comm } of groupProcesses(pgid)) {
    if (!comm.startsWith('workerd')) continue;
    try {
      kib += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch { /* process went away */ }
  }
  return kib / 1024;
}

/**
 * What `workerdCpuMs` reads, for a long window, plus the time of the group's children that exited and
 * were reaped (cutime + cstime of every process in the group), so a runtime process that ends
 * within the window does not take its CPU out of the sum.
 */
export function groupCpuMs(pgid) {
  const ticks = groupProcesses(pgid).reduce((t, p) => t + (p.comm.startsWith('workerd') ? Number(p.f[11]) + Number(p.f[12]) : 0) + Number(p.f[13]) + Number(p.f[14]), 0);
  return (ticks * 1000) / TICK;
}
