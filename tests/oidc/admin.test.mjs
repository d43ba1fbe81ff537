// The admin API against the real worker: applications of type "Amazon Cognito MFA
// Application", their secrets and callback URLs, groups, users, key rotation, and the
// typed JSON errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newState, startWorker, admin } from '../lib/worker.mjs';
import { bulkPut, directoryEntries } from '../lib/seed.mjs';

let worker, state;
before(async () => { state = newState(); worker = await startWorker(state); });
after(async () => { await worker?.stop(); state?.cleanup(); });

test('without the admin token every call is 401 with a typed error', async () => {
  for (const token of ['', 'wrong-token']) {
    const r = await admin(worker, 'GET', '/applications', undefined, token);
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'unauthenticated');
    assert.ok(r.body.message);
  }
});

test('applications: create, list, get, update, reveal secret, delete', async () => {
  const created = await admin(worker, 'POST', '/applications', {
    name: 'Payroll', application_type: 'amazon_cognito_mfa', allowed_callback_urls: ['https://payroll.example.com/cb', 'http://localhost:3000/cb'],
  });
  assert.equal(created.status, 201);
  const app = created.body;
  assert.equal(app.issuer, worker.url);
  assert.equal(app.client_authentication, true);
  assert.equal(app.client_auth_method, 'client_secret');
  assert.equal(app.client_secret, undefined, 'the secret is never part of the application view');
  assert.ok(app.group_id, 'every application has a group');
  const groups = await admin(worker, 'GET', '/groups');
  assert.ok(groups.body.some((g) => g.id === app.group_id && g.name === 'Payroll users'));

  const list = await admin(worker, 'GET', '/applications');
  assert.ok(list.body.some((a) => a.client_id === app.client_id));
  const got = await admin(worker, 'GET', `/applications/${app.client_id}`);
  assert.deepEqual(got.body, app);

  const secret = await admin(worker, 'GET', `/applications/${app.client_id}/secret`);
  assert.equal(secret.status, 200);
  assert.equal(Buffer.from(secret.body.client_secret, 'base64url').length, 32, '256-bit secret');

  const upd = await admin(worker, 'PATCH', `/applications/${app.client_id}`, { name: 'Payroll EU', allowed_callback_urls: ['https://payroll.example.eu/cb'] });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.name, 'Payroll EU');
  assert.deepEqual(upd.body.allowed_callback_urls, ['https://payroll.example.eu/cb']);

  // The face-match level: FMR 1 in 10,000 unless chosen; a PATCH without it keeps it.
  assert.equal(app.face_assurance, 'fmr_1_in_10000');
  const strict = await admin(worker, 'PATCH', `/applications/${app.client_id}`, { face_assurance: 'fmr_1_in_100000' });
  assert.equal(strict.status, 200);
  assert.equal(strict.body.face_assurance, 'fmr_1_in_100000');
  const renamed = await admin(worker, 'PATCH', `/applications/${app.client_id}`, { name: 'Payroll EU' });
  assert.equal(renamed.body.face_assurance, 'fmr_1_in_100000');
  const unknown = await admin(worker, 'PATCH', `/applications/${app.client_id}`, { face_assurance: 'fmr_1_in_10' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error, 'invalid_input');
  const lenient = await admin(worker, 'POST', '/applications', { name: 'Kiosk', application_type: 'amazon_cognito_mfa', face_assurance: 'fmr_1_in_1000' });
  assert.equal(lenient.status, 201);
  assert.equal(lenient.body.face_assurance, 'fmr_1_in_1000');

  const del = await admin(worker, 'DELETE', `/applications/${app.client_id}`);
  assert.equal(del.status, 200);
  assert.equal((await admin(worker, 'GET', `/applications/${app.client_id}`)).status, 404);
  const metadata = await fetch(`${worker.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=authorization_code&code=x&client_id=${app.client_id}&client_secret=${secret.body.client_secret}` });
  assert.equal(metadata.status, 401, 'a deleted application cannot authenticate');
});

test('callback URL rules: https only (http on localhost), no fragments, wildcards or duplicates', async () => {
  for (const [urls, why] of [
    [['http://payroll.example.com/cb'], 'http'],
    [['https://*.example.com/cb'], 'wildcard'],
    [['https://payroll.example.com/cb#x'], 'fragment'],
    [['https://a.example.com/cb', 'https://a.example.com/cb'], 'duplicate'],
    [['not a url'], 'garbage'],
  ]) {
    const r = await admin(worker, 'POST', '/applications', { name: 'X', application_type: 'amazon_cognito_mfa', allowed_callback_urls: urls });
    assert.equal(r.status, 400, why);
    assert.equal(r.body.error, 'invalid_input');
    assert.equal(r.body.field, 'allowed_callback_urls');
  }
  const ok = await admin(worker, 'POST', '/applications', { name: 'Local', application_type: 'amazon_cognito_mfa', allowed_callback_urls: ['http://127.0.0.1:8080/cb', 'http://localhost/cb'] });
  assert.equal(ok.status, 201);
});

test('bad bodies and unknown types are typed 400s, not 500s', async () => {
  const r = await fetch(`${worker.url}/admin/api/applications`, { method: 'POST', headers: { authorization: `Bearer ${worker.adminToken}`, 'content-type': 'application/json' }, body: '{not json' });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'invalid_input');
  const t = await admin(worker, 'POST', '/applications', { name: 'X', application_type: 'saml_app' });
  assert.equal(t.status, 400);
  const pk = await admin(worker, 'POST', '/applications', { name: 'PK', application_type: 'amazon_cognito_mfa', client_auth_method: 'private_key_jwt' });
  assert.equal(pk.status, 400);
  assert.equal(pk.body.field, 'public_key_jwk');
  const priv = await admin(worker, 'POST', '/applications', { name: 'PK', application_type: 'amazon_cognito_mfa', client_auth_method: 'private_key_jwt', public_key_jwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' } });
  assert.equal(priv.status, 400);
  assert.match(priv.body.message, /public key only/);
  assert.equal((await admin(worker, 'GET', '/nothing-here')).status, 404);
});

test('groups: create, list, refuse duplicates, refuse deleting a used group, assign', async () => {
  const g = await admin(worker, 'POST', '/groups', { name: 'Finance' });
  assert.equal(g.status, 201);
  assert.equal((await admin(worker, 'POST', '/groups', { name: 'finance' })).status, 409);
  const app = (await admin(worker, 'POST', '/applications', { name: 'Ledger', application_type: 'amazon_cognito_mfa', group_id: g.body.id })).body;
  assert.equal(app.group_id, g.body.id);
  const del = await admin(worker, 'DELETE', `/groups/${g.body.id}`);
  assert.equal(del.status, 409);
  assert.match(del.body.message, /Ledger/);
  const other = (await admin(worker, 'POST', '/groups', { name: 'Audit' })).body;
  assert.equal((await admin(worker, 'PATCH', `/applications/${app.client_id}`, { group_id: other.id })).body.group_id, other.id);
  assert.equal((await admin(worker, 'PATCH', `/applications/${app.client_id}`, { group_id: 'no-such-group' })).status, 400);
  assert.equal((await admin(worker, 'DELETE', `/groups/${g.body.id}`)).status, 200);
  assert.ok(!(await admin(worker, 'GET', '/groups')).body.some((x) => x.id === g.body.id));
});

test('signing key rotation keeps the previous key in the JWKS', async () => {
  const before = await (await fetch(`${worker.url}/.well-known/jwks.json`)).json();
  const r = await admin(worker, 'POST', '/keys/rotate');
  assert.equal(r.status, 200);
  const after = await (await fetch(`${worker.url}/.well-known/jwks.json`)).json();
  const kids = after.keys.map((k) => k.kid);
  assert.ok(kids.includes(r.body.kid));
  for (const k of before.keys) assert.ok(kids.includes(k.kid), 'the previous key is still published');
});

test('deployments: recorded from pushed requests and stack reports, shown per application', async () => {
  const created = (await admin(worker, 'POST', '/applications', { name: 'Pools', application_type: 'amazon_cognito_mfa', allowed_callback_urls: ['https://app.example.com/cb'] })).body;
  const secret = (await admin(worker, 'GET', `/applications/${created.client_id}/secret`)).body.client_secret;
  const basic = `Basic ${Buffer.from(`${created.client_id}:${secret}`).toString('base64')}`;
  const push = (pool, extra = {}) => fetch(`${worker.url}/par`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example.com/cb', login_hint: 'pat', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', cognito_user_pool_id: pool, cognito_region: 'eu-west-1', aws_account_id: '123456789012', ...extra }),
  });
  assert.equal((await push('eu-west-1_AAA')).status, 201);
  assert.equal((await push('eu-west-1_BBB')).status, 201);
  assert.equal((await push('eu-west-1_AAA', { aws_account_id: 'not-an-account' })).status, 400);
  const report = (body, auth = basic) => fetch(`${worker.url}/cognito/events`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const r = await report({ aws_account_id: '123456789012', region: 'eu-west-1', user_pool_id: 'eu-west-1_CCC', error: 'case_sensitive_user_pool' });
  assert.equal(r.status, 204);
  assert.equal((await report({ aws_account_id: '123456789012', region: 'eu-west-1', user_pool_id: 'x', error: 'made_up' })).status, 400);
  const wrong = await report({ aws_account_id: '123456789012', region: 'eu-west-1', user_pool_id: 'eu-west-1_DDD' }, `Basic ${Buffer.from(`${created.client_id}:nope`).toString('base64')}`);
  assert.equal(wrong.status, 401);
  const list = await admin(worker, 'GET', `/applications/${created.client_id}/deployments`);
  assert.equal(list.status, 200);
  assert.equal(list.body.length, 1);
  const d = list.body[0];
  assert.equal(d.aws_account_id, '123456789012');
  assert.equal(d.region, 'eu-west-1');
  assert.deepEqual(d.user_pools.map((p) => [p.user_pool_id, p.error]), [['eu-west-1_AAA', null], ['eu-west-1_BBB', null], ['eu-west-1_CCC', 'case_sensitive_user_pool']]);
  assert.ok(d.first_seen > 0 && d.last_seen >= d.first_seen);
});

test('Cognito integration: template download, deployment guide, and the rotate command with the deployed region', async () => {
  const created = (await admin(worker, 'POST', '/applications', { name: 'Stacked', application_type: 'amazon_cognito_mfa' })).body;
  const t = await fetch(`${worker.url}/admin/api/applications/${created.client_id}/cognito/template`, { headers: { authorization: `Bearer ${worker.adminToken}` } });
  assert.equal(t.status, 200);
  assert.match(t.headers.get('content-disposition'), /attachment; filename="biopass-.*\.yaml"/);
  const yaml = await t.text();
  assert.match(yaml, new RegExp(`Default: '${created.client_id}'`));
  assert.match(yaml, new RegExp(`Default: '${worker.url}'`));
  assert.match(yaml, /NoEcho: true/);
  const secret = (await admin(worker, 'GET', `/applications/${created.client_id}/secret`)).body.client_secret;
  assert.ok(!yaml.includes(secret), 'the template never carries the secret');
  const guide = await admin(worker, 'GET', `/applications/${created.client_id}/cognito`);
  assert.equal(guide.status, 200);
  assert.match(guide.body.create_stack_command, /^aws cloudformation create-stack --stack-name biopass-/);
  assert.equal(guide.body.quick_create_url ?? null, null);
  assert.ok(guide.body.steps.length >= 4);
  // After a deployment in one region, the rotate command names that region.
  const basic = `Basic ${Buffer.from(`${created.client_id}:${secret}`).toString('base64')}`;
  const ev = await fetch(`${worker.url}/cognito/events`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ aws_account_id: '210987654321', region: 'ap-southeast-2', user_pool_id: 'ap-southeast-2_X', error: 'phone_number_user_name' }) });
  assert.equal(ev.status, 204);
  const rot = await admin(worker, 'POST', `/applications/${created.client_id}/secret/rotate`);
  assert.match(rot.body.update_stack_command, /--region ap-southeast-2$/);
  assert.doesNotMatch(rot.body.update_stack_command, /ParameterKey=Region/);
});

test('the audit log pages admin actions, newest first', async () => {
  const page = await admin(worker, 'GET', '/audit?limit=5');
  assert.equal(page.status, 200);
  assert.equal(page.body.items.length, 5);
  assert.ok(page.body.next_cursor);
  const times = page.body.items.map((e) => e.at_ms);
  assert.deepEqual(times, [...times].sort((a, b) => b - a));
  assert.ok(page.body.items.every((e) => e.actor === 'api-token'));
  const next = await admin(worker, 'GET', `/audit?limit=5&cursor=${encodeURIComponent(page.body.next_cursor)}`);
  assert.ok(next.body.items[0].at_ms <= times[4]);
  assert.ok((await admin(worker, 'GET', '/audit?limit=1000')).status === 400);
  const all = [];
  let cursor;
  do {
    const p = await admin(worker, 'GET', `/audit?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...p.body.items);
    cursor = p.body.next_cursor;
  } while (cursor);
  assert.ok(all.some((e) => e.action === 'applications.secret.rotate'));
  assert.ok(all.some((e) => e.action === 'applications.create' && e.detail?.startsWith('refused')));
});

/** Every page of an admin listing, `limit` at a time: the pages and their names. */
async function allPages(path, limit) {
  const pages = [];
  let cursor;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await admin(worker, 'GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.items.length <= limit, `a page holds at most ${limit}`);
    pages.push(r.body.items.map((u) => u.username));
    cursor = r.body.next_cursor;
  } while (cursor && pages.length < 50);
  return pages;
}

test('the directory: users and group members a page at a time in name order, found by the start of a name, following group changes', async () => {
  const created = (await admin(worker, 'POST', '/applications', { name: 'Directory', application_type: 'amazon_cognito_mfa', allowed_callback_urls: ['https://dir.example.com/cb'] })).body;
  const secret = (await admin(worker, 'GET', `/applications/${created.client_id}/secret`)).body.client_secret;
  const basic = `Basic ${Buffer.from(`${created.client_id}:${secret}`).toString('base64')}`;
  const names = ['dir-c@example.com', 'dir-a@example.com', 'dir-e@example.com', 'dir-b@example.com', 'dir-d@example.com'];
  // Each user is registered by the application's (authenticated) pushed request.
  for (const name of names) {
    const par = await fetch(`${worker.url}/par`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ response_type: 'code', scope: 'openid', redirect_uri: 'https://dir.example.com/cb', login_hint: name, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }),
    });
    assert.equal(par.status, 201);
    const { request_uri } = await par.json();
    const r = await fetch(`${worker.url}/authorize?client_id=${created.client_id}&request_uri=${encodeURIComponent(request_uri)}`, { redirect: 'manual' });
    assert.equal(r.status, 302, await r.text());
  }
  const sorted = [...names].sort();
  const users = await allPages('/users?q=dir-', 2);
  assert.deepEqual(users.map((p) => p.length), [2, 2, 1]);
  assert.deepEqual(users.flat(), sorted);
  assert.deepEqual((await allPages('/users?q=DIR-B', 10)).flat(), ['dir-b@example.com'], 'the start of a name, any case');
  assert.deepEqual((await allPages('/users?q=b@example', 10)).flat(), [], 'the start, not the middle');
  const members = await allPages(`/groups/${created.group_id}/members`, 3);
  assert.deepEqual(members.flat(), sorted);
  for (const bad of ['0', '101', 'many']) {
    const r = await admin(worker, 'GET', `/users?limit=${bad}`);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_input');
  }
  // Moved to another group: gone from the first group's members, in the other's.
  const other = (await admin(worker, 'POST', '/groups', { name: 'Directory others' })).body;
  const b = (await admin(worker, 'GET', '/users?q=dir-b@')).body.items[0];
  assert.equal((await admin(worker, 'PATCH', `/users/${b.id}`, { groups: [other.id] })).status, 200);
  assert.deepEqual((await allPages(`/groups/${created.group_id}/members`, 10)).flat(), sorted.filter((n) => n !== 'dir-b@example.com'));
  assert.deepEqual((await allPages(`/groups/${other.id}/members`, 10)).flat(), ['dir-b@example.com']);
  assert.deepEqual((await admin(worker, 'GET', '/users?q=dir-b@')).body.items[0].groups, [other.id], 'the listing shows the change');
  // Members searched by the start of their name.
  assert.deepEqual((await allPages(`/groups/${created.group_id}/members?q=dir-d`, 10)).flat(), ['dir-d@example.com']);
  assert.equal((await admin(worker, 'GET', '/groups/no-such-group/members')).status, 400);
});

test('a deployment with users from before the index lists them once reindexed, in batches', async () => {
  await worker.stop();
  const { entries } = directoryEntries({ users: 230, groups: 3, prefix: 'legacy', indexed: false });
  await bulkPut(state, entries);
  worker = await startWorker(state);
  assert.deepEqual((await admin(worker, 'GET', '/users?q=legacy-')).body.items, [], 'not indexed yet');
  assert.equal((await admin(worker, 'GET', '/directory')).body.indexed, false);
  let cursor;
  let calls = 0;
  let indexed = 0;
  do {
    const r = await admin(worker, 'POST', '/directory/reindex', { cursor });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.indexed <= 100);
    indexed += r.body.indexed;
    cursor = r.body.next_cursor;
    calls += 1;
  } while (cursor && calls < 20);
  assert.ok(calls >= 3, `${calls} calls: batches of at most 100 records`);
  assert.ok(indexed >= 230, `${indexed} records indexed`);
  assert.equal((await admin(worker, 'GET', '/directory')).body.indexed, true);
  const legacy = (await allPages('/users?q=legacy-', 100)).flat();
  assert.equal(legacy.length, 230);
  assert.deepEqual(legacy, [...legacy].sort());
  assert.equal(legacy[0], 'legacy-000@example.com');
});
