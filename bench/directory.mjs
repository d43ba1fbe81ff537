// The admin directory at scale under wrangler dev: USERS users in GROUPS groups, seeded into
// local KV in the worker's own shapes (tests/lib/seed.mjs), then the console's calls, each
// RUNS times: the first and a later page of users, a search by the start of a name, a
// group's members, the groups list and a user's record. Prints p50/p95 latency beside the
// target of issue 15 (a page and a search < 300 ms).
//   node bench/directory.mjs [users=100000] [groups=1000] [runs=20]
import { newState, startWorker, admin } from '../tests/lib/worker.mjs';
import { bulkPut, directoryEntries } from '../tests/lib/seed.mjs';

const USERS = Number(process.argv[2] ?? 100000);
const GROUPS = Number(process.argv[3] ?? 1000);
const RUNS = Number(process.argv[4] ?? 20);

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

const state = newState();
const t0 = performance.now();
const { entries, groupIds } = directoryEntries({ users: USERS, groups: GROUPS });
await bulkPut(state, entries);
console.log(`seeded ${USERS} users, ${GROUPS} groups (${entries.length} KV entries) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const worker = await startWorker(state);
try {
  const first = await admin(worker, 'GET', '/users?limit=50');
  if (first.status !== 200 || first.body.items.length !== 50) throw new Error(`first page: ${first.status} ${JSON.stringify(first.body).slice(0, 300)}`);
  let later = first.body.next_cursor;
  for (let i = 0; i < 20; i += 1) later = (await admin(worker, 'GET', `/users?limit=50&cursor=${encodeURIComponent(later)}`)).body.next_cursor;
  const someone = first.body.items[7];
  const calls = [
    ['users, first page of 50', '/users?limit=50'],
    ['users, 21st page of 50', `/users?limit=50&cursor=${encodeURIComponent(later)}`],
    ['search "seed-0420" (first 50)', '/users?q=seed-0420&limit=50'],
    ['search, one name', `/users?q=${encodeURIComponent(someone.username)}`],
    ['group members, first 50', `/groups/${groupIds[GROUPS >> 1]}/members?limit=50`],
    [`groups list (${GROUPS})`, '/groups'],
    ['one user', `/users/${someone.id}`],
  ];
  console.log(`\n${'call'.padEnd(34)} ${'items'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}   target`);
  for (const [name, path] of calls) {
    const ms = [];
    let items = 0;
    for (let i = 0; i < RUNS; i += 1) {
      const s = performance.now();
      const r = await admin(worker, 'GET', path);
      ms.push(performance.now() - s);
      if (r.status !== 200) throw new Error(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
      items = Array.isArray(r.body) ? r.body.length : (r.body.items?.length ?? 1);
    }
    console.log(`${name.padEnd(34)} ${String(items).padStart(6)} ${pct(ms, 50).toFixed(0).padStart(8)} ${pct(ms, 95).toFixed(0).padStart(8)}   < 300 ms (page, search)`);
  }
} finally {
  await worker.stop();
  state.cleanup();
}
