// Benchmark of the worker's CPU for one face decision (issue 14's figure): the real provider
// and face service under wrangler dev, captures synthesised by model/examples/livesynth.rs
// (the genuine simulation of tests/face, person A). One enrolment (cold: the face service
// loads and optimises the models), then N authentications (warm). Per decision, workerd's
// CPU (user+sys from /proc) split by thread: the threads that run the Workers' code, and
// V8's background threads (the optimising compiler tiering the wasm up, the garbage
// collector), median and range. The reference is the issue's budget: 500 ms warm for the
// whole analysis.
//   node bench/decision.mjs [authentications=10]
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { newState, startWorker } from '../tests/lib/worker.mjs';
import { PERSON_A, buildTool, synth, createApp, relyingParty, beginLogin } from '../tests/face/helpers.mjs';

const RUNS = Number(process.argv[2] ?? 10);
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (xs) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;

/** CPU ms of every workerd thread of the process group, by thread id, with its name. */
function threads(pgid) {
  const out = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat;
    try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (!comm.startsWith('workerd') || Number(f[2]) !== pgid) continue;
    let tids = [];
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        const t = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = t.slice(t.indexOf('(') + 1, t.lastIndexOf(')'));
        const g = t.slice(t.lastIndexOf(')') + 2).split(' ');
        out.set(`${pid}/${tid}`, { name, ms: ((Number(g[11]) + Number(g[12])) * 1000) / TICK });
      } catch { /* thread ended */ }
    }
  }
  return out;
}

/** CPU spent between two snapshots: total, V8's background threads, and the rest. */
function spent(a, b) {
  let total = 0;
  let background = 0;
  for (const [id, { name, ms }] of b) {
    const d = ms - (a.get(id)?.ms ?? 0);
    total += d;
    if (/^V8 |DefaultWorke|WorkerThread/i.test(name)) background += d;
  }
  return { total, background, workers: total - background };
}

buildTool();
const state = newState();
const worker = await startWorker(state);
try {
  const config = await relyingParty(worker, await createApp(worker, 'Bench'));
  const decide = async (username, seed, extra) => {
    const login = await beginLogin(worker, config, username);
    const c = await login.challenge();
    if (c.status !== 200) throw new Error(`challenge: ${JSON.stringify(c.body)}`);
    const capture = await synth(PERSON_A, c.body, 'genuine', seed);
    const before = threads(worker.pgid);
    const r = await login.evidence({ nonce: c.body.nonce, ...extra, ...capture });
    const cpu = spent(before, threads(worker.pgid));
    return { ok: r.status === 200, status: r.status, frames: capture.frames.length, ...cpu };
  };
  const cold = await decide('bench@example.com', 1, { consent: true });
  if (!cold.ok) throw new Error(`enrolment refused (${cold.status})`);
  const warm = [];
  for (let i = 0; i < RUNS; i += 1) warm.push(await decide('bench@example.com', 100 + i));
  const accepted = warm.filter((w) => w.ok).length;
  const names = [...threads(worker.pgid).values()].map((t) => t.name);
  console.log(`\nworkerd threads: ${[...new Set(names)].join(', ')}`);
  console.log(`one face decision, workerd CPU in ms (median (range)); ${accepted}/${RUNS} warm decisions accepted`);
  console.log(`${'case'.padEnd(34)}${'frames'.padStart(8)}${'total'.padStart(16)}${'Workers'.padStart(16)}${'V8 background'.padStart(16)}`);
  console.log(`${'cold (enrolment, models loaded)'.padEnd(34)}${String(cold.frames).padStart(8)}${cold.total.toFixed(0).padStart(16)}${cold.workers.toFixed(0).padStart(16)}${cold.background.toFixed(0).padStart(16)}`);
  const col = (k) => fmt(warm.map((w) => w[k])).padStart(16);
  console.log(`${`warm (authentication, n=${RUNS})`.padEnd(34)}${fmt(warm.map((w) => w.frames)).padStart(8)}${col('total')}${col('workers')}${col('background')}`);
  const later = warm.slice(Math.floor(RUNS / 2));
  console.log(`${`warm, last ${later.length}`.padEnd(34)}${''.padStart(8)}${fmt(later.map((w) => w.total)).padStart(16)}${fmt(later.map((w) => w.workers)).padStart(16)}${fmt(later.map((w) => w.background)).padStart(16)}`);
  console.log(`${'reference: issue 14 budget, warm'.padEnd(34)}${''.padStart(8)}${'500'.padStart(16)}`);
} finally {
  await worker.stop();
  state.cleanup();
}
