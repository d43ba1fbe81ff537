// Seeds a worker's local KV (stopped) with users and groups through `wrangler kv bulk put
// --local`, in the shapes the worker writes: `user:{id}` records, `username:{name}` name keys,
// `group:{id}` with the group as metadata, and, when `indexed`, the directory's index keys
// with the user's admin view as metadata (`biopass_idp::directory`). Unindexed users are
// what a deployment from before the index holds.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './worker.mjs';

const CHUNK = 20000;

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

/** Writes `entries` into the local KV of `state` (see `newState`); the worker must be stopped. */
export function bulkPut(state, entries) {
  for (let at = 0; at < entries.length; at += CHUNK) {
    const file = join(state.dir, `seed-${at}.json`);
    writeFileSync(file, JSON.stringify(entries.slice(at, at + CHUNK)));
    execFileSync(join(ROOT, 'node_modules/.bin/wrangler'), ['kv', 'bulk', 'put', file, '--binding', 'BIOPASS', '--local', '--persist-to', join(state.dir, 'wrangler')], {
      cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    });
  }
}
