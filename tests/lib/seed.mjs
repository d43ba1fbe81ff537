// Seeds a worker's local KV (stopped) with users and groups through Miniflare's KV, in the
// shapes the worker writes: `user:{id}` records, `username:{name}` name keys,
// `group:{id}` with the group as metadata, and, when `indexed`, the directory's index keys
// with the user's admin view as metadata (`biopass_idp::directory`). Unindexed users are
// what a deployment from before the index holds.
import { randomBytes } from 'node:crypto';
import { Miniflare } from 'miniflare';
import { join } from 'node:path';

const CHUNK = 500;
/** The local id of the BIOPASS namespace in wrangler.toml. */
const NAMESPACE = 'biopass-local';

const token = (n) => randomBytes(n).toString('base64url');

/** Entries for `groups` groups and `users` users named `{prefix}-{number}@example.com`,
 * user i in group i mod groups. */
export function directoryEntries({ users, groups, prefix = 'seed', indexed = true, now = Math.floor(Date.now() / 1000) }) {
  const entries = [];
  const groupIds = [];
  for (let g = 0; g < groups; g += 1) {
    const group = { id: token(12), name: `${prefix} group ${String(g).padStart(4, '0')}`, created_at: now };
    groupIds.push(group.id);
    entries.push({ key: `group:${group.id}`, value: JSON.stringify(group), metadata: group });
  }
  const width = String(users).length;
  for (let i = 0; i < users; i += 1) {
    const username = `${prefix}-${String(i).padStart(width, '0')}@example.com`;
    const record = { id: token(16), username, user_pool: null, groups: groups ? [groupIds[i % groups]] : [], created_at: now, disabled: false, admin: false, totp: null, face: null };
    entries.push({ key: `user:${record.id}`, value: JSON.stringify(record) });
    entries.push({ key: `username:${username}`, value: record.id });
    if (indexed) {
      const view = { id: record.id, username, groups: record.groups, authenticators: { totp: false, face: false }, disabled: false, admin: false, created_at: now, user_pool_id: null };
      entries.push({ key: `uname:${username}:${record.id}`, value: '', metadata: view });
      for (const g of record.groups) entries.push({ key: `member:${g}:${username}:${record.id}`, value: '', metadata: view });
    }
  }
  return { entries, groupIds };
}

/** Writes `entries` into the local KV of `state` (see `newState`), through Miniflare's own
 * KV simulator on the directory `wrangler dev --persist-to` uses (about 6 times faster than
 * `wrangler kv bulk put --local`); the worker must be stopped. */
export async function bulkPut(state, entries) {
  const mf = new Miniflare({
    modules: true,
    script: `export default { async fetch(request, env) {
      const entries = await request.json();
      await Promise.all(entries.map((e) => env.KV.put(e.key, e.value, e.metadata === undefined ? {} : { metadata: e.metadata })));
      return new Response(String(entries.length));
    } }`,
    kvNamespaces: { KV: NAMESPACE },
    kvPersist: join(state.dir, 'wrangler', 'v3', 'kv'),
  });
  try {
    for (let at = 0; at < entries.length; at += CHUNK) {
      const batch = entries.slice(at, at + CHUNK);
      const r = await mf.dispatchFetch('http://seed/', { method: 'POST', body: JSON.stringify(batch) });
      const written = await r.text();
      if (r.status !== 200 || Number(written) !== batch.length) throw new Error(`seeding local KV: ${r.status} ${written.slice(0, 300)}`);
    }
  } finally {
    await mf.dispose();
  }
}
