// CreateAuthChallenge against a fake issuer and a fake DescribeUserPool: the pushed
// authorization request, the refusals and their reports, and an issuer that is slow or
// says no.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  create, aws, newInstance, createEvent, context, startFakeIssuer, useFake, captureLogs,
  CLIENT_ID, CLIENT_SECRET, SECRET_ARN, ACCOUNT, REGION, POOL, CALLBACK, APP_CLIENT, CUSTOM_ONLY,
} from './fake.mjs';

let fake;
let pools = 0;
/** A pool id not seen yet, so the per-container cache starts empty for it; the stack
 * under test serves it (until the next test). */
const freshPool = (config = { CaseSensitive: false }, client = CUSTOM_ONLY) => {
  const id = `${REGION}_Pool${++pools}`;
  fake.pools.set(id, config);
  fake.clients.set(`${id}/${APP_CLIENT}`, client);
  process.env.UserPoolId = id;
  return id;
};

before(async () => {
  fake = await startFakeIssuer();
  useFake(fake);
  fake.pools.set(POOL, { CaseSensitive: false });
  fake.clients.set(`${POOL}/${APP_CLIENT}`, CUSTOM_ONLY);
});
after(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
  fake.mode = {};
  process.env.UserPoolId = POOL;
});

const s256 = (v) => createHash('sha256').update(v).digest('base64url');
const basicOf = (h) => Buffer.from(h.replace(/^Basic /, ''), 'base64').toString().split(':').map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));

test('pushes an authorization request with exactly the agreed parameters', async () => {
  const event = await create.handler(createEvent(), context);
  const [par] = fake.of('/par');
  assert.equal(par.method, 'POST');
  assert.equal(par.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(basicOf(par.headers.authorization), [CLIENT_ID, CLIENT_SECRET]);
  const params = Object.fromEntries(new URLSearchParams(par.body));
  const secret = event.response.privateChallengeParameters;
  assert.deepEqual(Object.keys(secret).sort(), ['code_verifier', 'nonce', 'redirect_uri', 'state']);
  assert.deepEqual(params, {
    response_type: 'code',
    scope: 'openid',
    redirect_uri: CALLBACK,
    login_hint: 'ada@example.com',
    nonce: secret.nonce,
    state: secret.state,
    code_challenge: s256(secret.code_verifier),
    code_challenge_method: 'S256',
    cognito_user_pool_id: POOL,
    cognito_region: REGION,
    aws_account_id: ACCOUNT,
    cognito_app_client_id: APP_CLIENT,
    cognito_sign_in_without_biopass: '',
  });
  assert.equal(secret.redirect_uri, CALLBACK);
  assert.match(secret.code_verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.match(secret.nonce, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(event.response.challengeMetadata, 'BIOPASS');
});

test('the app gets only the authorize URL with the request_uri Biopass returned', async () => {
  let requestUri;
  fake.mode['/par'] = () => {
    requestUri = 'urn:ietf:params:oauth:request_uri:abc&x=1';
    return [201, { request_uri: requestUri, expires_in: 60 }];
  };
  const event = await create.handler(createEvent(), context);
  const pub = event.response.publicChallengeParameters;
  assert.deepEqual(Object.keys(pub), ['url']);
  const url = new URL(pub.url);
  assert.equal(`${url.origin}${url.pathname}`, `${fake.url}/authorize`);
  assert.deepEqual(Object.fromEntries(url.searchParams), { client_id: CLIENT_ID, request_uri: requestUri });
  assert.ok(!pub.url.includes(event.response.privateChallengeParameters.nonce), 'the nonce stays private');
});

test('every challenge has its own nonce, state and verifier', async () => {
  const a = (await create.handler(createEvent(), context)).response.privateChallengeParameters;
  const b = (await create.handler(createEvent(), context)).response.privateChallengeParameters;
  for (const k of ['nonce', 'state', 'code_verifier']) assert.notEqual(a[k], b[k], k);
});

test('reads the pool settings once per container with a signed DescribeUserPool', async () => {
  const pool = freshPool();
  await create.handler(createEvent({ userPoolId: pool }), context);
  await create.handler(createEvent({ userPoolId: pool }), context);
  const describes = fake.aws('DescribeUserPool');
  assert.equal(describes.length, 1);
  const [d] = describes;
  assert.deepEqual(JSON.parse(d.body), { UserPoolId: pool });
  assert.equal(d.headers['content-type'], 'application/x-amz-json-1.1');
  assert.match(d.headers.authorization, new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDTEST/\\d{8}/${REGION}/cognito-idp/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$`));
  assert.equal(d.headers['x-amz-security-token'], 'test-session-token');
  assert.equal(fake.of('/par').length, 2);
});

test('a phone-number user name is refused, reported, and never pushed', async () => {
  const { error } = await captureLogs(() => create.handler(createEvent({ userName: '+447700900123' }), context));
  assert.match(error.message, /phone number/);
  const [report] = fake.of('/cognito/events');
  assert.equal(report.headers['content-type'], 'application/json');
  assert.deepEqual(basicOf(report.headers.authorization), [CLIENT_ID, CLIENT_SECRET]);
  assert.deepEqual(JSON.parse(report.body), { aws_account_id: ACCOUNT, region: REGION, user_pool_id: POOL, error: 'phone_number_user_name' });
  assert.equal(fake.of('/par').length, 0);
});

test('user names with a plus that are not phone numbers are signed in', async () => {
  await create.handler(createEvent({ userName: 'ada+test@example.com' }), context);
  assert.equal(new URLSearchParams(fake.of('/par')[0].body).get('login_hint'), 'ada+test@example.com');
});

test('a case-sensitive pool is refused, reported, and never pushed', async () => {
  const pool = freshPool({ CaseSensitive: true });
  const { error } = await captureLogs(() => create.handler(createEvent({ userPoolId: pool }), context));
  assert.match(error.message, /case-sensitive/);
  const [report] = fake.of('/cognito/events');
  assert.deepEqual(JSON.parse(report.body), { aws_account_id: ACCOUNT, region: REGION, user_pool_id: pool, error: 'case_sensitive_user_pool' });
  assert.equal(fake.of('/par').length, 0);
});

test('a pool without UsernameConfiguration predates the setting and is case-sensitive', async () => {
  const pool = freshPool(null);
  const { error } = await captureLogs(() => create.handler(createEvent({ userPoolId: pool }), context));
  assert.match(error.message, /case-sensitive/);
  assert.equal(fake.of('/par').length, 0);
});

test('the refusal stands when the report cannot be delivered in time', async () => {
  fake.mode['/cognito/events'] = 'hang';
  const started = Date.now();
  const { error } = await captureLogs(() => create.handler(createEvent({ userName: '+15555550100' }), context));
  assert.match(error.message, /phone number/);
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});

test('DescribeUserPool failing is a clear error, and is asked again next time', async () => {
  const pool = `${REGION}_Unknown`;
  process.env.UserPoolId = pool;
  fake.clients.set(`${pool}/${APP_CLIENT}`, CUSTOM_ONLY);
  const first = await captureLogs(() => create.handler(createEvent({ userPoolId: pool }), context));
  assert.match(first.error.message, /could not read this user pool's settings \(DescribeUserPool: ResourceNotFoundException\)/);
  fake.pools.set(pool, { CaseSensitive: false });
  await create.handler(createEvent({ userPoolId: pool }), context);
  assert.equal(fake.aws('DescribeUserPool').length, 2);
});

test('an issuer that does not answer fails the challenge within the budget', async () => {
  fake.mode['/par'] = 'hang';
  const started = Date.now();
  const { error } = await captureLogs(() => create.handler(createEvent(), context));
  const took = Date.now() - started;
  assert.match(error.message, /Biopass did not answer in time/);
  assert.ok(took >= 2000 && took < 3000, `took ${took} ms`);
});

test('DescribeUserPool and the PAR share one budget', async () => {
  const slowly = (answer) => () => new Promise((r) => setTimeout(() => r(answer), 1500));
  fake.mode['/'] = slowly([200, { UserPool: { UsernameConfiguration: { CaseSensitive: false } } }]);
  fake.mode['/par'] = slowly([201, { request_uri: 'urn:ietf:params:oauth:request_uri:late', expires_in: 60 }]);
  const started = Date.now();
  const { error } = await captureLogs(() => create.handler(createEvent({ userPoolId: freshPool() }), context));
  const took = Date.now() - started;
  assert.match(error.message, /Biopass did not answer in time/);
  assert.ok(took < 3000, `took ${took} ms: each call alone is within 2.5 s, together they are not`);
});

test('an issuer that cannot be reached fails the challenge with a clear error', async () => {
  process.env.Issuer = 'http://127.0.0.1:9';
  try {
    const { error } = await captureLogs(() => create.handler(createEvent(), context));
    assert.match(error.message, /Biopass could not be reached/);
  } finally {
    process.env.Issuer = fake.url;
  }
});

test('an issuer error is passed on to the app', async () => {
  fake.mode['/par'] = () => [400, { error: 'invalid_request', error_description: 'redirect_uri is not an allowed callback URL' }];
  const { error } = await captureLogs(() => create.handler(createEvent(), context));
  assert.equal(error.message, 'Biopass refused the sign-in request (invalid_request: redirect_uri is not an allowed callback URL)');
  fake.mode['/par'] = () => [401, { error: 'invalid_client' }];
  const second = await captureLogs(() => create.handler(createEvent(), context));
  assert.match(second.error.message, /invalid_client/);
  fake.mode['/par'] = () => [500, undefined];
  const third = await captureLogs(() => create.handler(createEvent(), context));
  assert.match(third.error.message, /HTTP 500/);
});

test('without a redirect_uri in the client metadata the app is told what to send', async () => {
  const { error } = await captureLogs(() => create.handler(createEvent({ clientMetadata: {} }), context));
  assert.match(error.message, /ClientMetadata.*redirect_uri/);
  assert.equal(fake.of('/par').length, 0);
});

test('an unknown user is never pushed', async () => {
  const { error } = await captureLogs(() => create.handler(createEvent({ userNotFound: true }), context));
  assert.ok(error);
  assert.equal(fake.requests.length, 0);
});

test('without its configuration the function says so', async () => {
  const saved = process.env.ClientSecretArn;
  delete process.env.ClientSecretArn;
  try {
    const { error } = await captureLogs(() => create.handler(createEvent(), context));
    assert.match(error.message, /ClientId, Issuer, ClientSecretArn and UserPoolId/);
  } finally {
    process.env.ClientSecretArn = saved;
  }
});

test('the client secret comes from Secrets Manager, signed with the role, once per function instance', async () => {
  const instance = newInstance();
  await instance.create.handler(createEvent(), context);
  await instance.create.handler(createEvent(), context);
  const reads = fake.secretReads();
  assert.equal(reads.length, 1, 'read once, then kept');
  assert.deepEqual(JSON.parse(reads[0].body), { SecretId: SECRET_ARN });
  assert.match(reads[0].headers.authorization, new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDTEST/\\d{8}/${REGION}/secretsmanager/aws4_request, `));
  assert.equal(reads[0].headers['x-amz-security-token'], 'test-session-token');
  for (const par of fake.of('/par')) assert.deepEqual(basicOf(par.headers.authorization), [CLIENT_ID, CLIENT_SECRET]);
});

test('a rotated secret is read again when Biopass refuses the kept one, and the sign-in goes on', async () => {
  await create.handler(createEvent(), context); // keeps the current secret
  fake.requests.length = 0;
  fake.rotate('the new secret after Rotate');
  const event = await create.handler(createEvent(), context);
  assert.match(event.response.publicChallengeParameters.url, /request_uri=/);
  const pars = fake.of('/par');
  assert.equal(pars.length, 2, 'refused once with the old secret, then pushed with the new');
  assert.deepEqual(basicOf(pars[1].headers.authorization), [CLIENT_ID, 'the new secret after Rotate']);
  assert.equal(fake.secretReads().length, 1);
  fake.rotate(CLIENT_SECRET);
});

test('a secret rotated in Biopass but not yet in the stack fails with Biopass\'s reason, once re-read', async () => {
  await create.handler(createEvent(), context);
  fake.requests.length = 0;
  fake.rotate('only Biopass has this one', { stored: false });
  try {
    const { error } = await captureLogs(() => create.handler(createEvent(), context));
    assert.match(error.message, /Biopass refused the sign-in request \(invalid_client/);
    assert.equal(fake.of('/par').length, 2);
    assert.equal(fake.secretReads().length, 1);
  } finally {
    fake.rotate(CLIENT_SECRET);
  }
});

test('a secret the role cannot read says so and pushes nothing', async () => {
  const saved = process.env.ClientSecretArn;
  process.env.ClientSecretArn = `${SECRET_ARN}-gone`;
  try {
    const { error, logs } = await captureLogs(() => create.handler(createEvent(), context));
    assert.match(error.message, /could not read its client secret from AWS Secrets Manager \(ResourceNotFoundException\); check the stack's IAM role/);
    assert.equal(fake.of('/par').length, 0);
    assert.ok(!logs.join('\n').includes(CLIENT_SECRET));
  } finally {
    process.env.ClientSecretArn = saved;
  }
});

test('logs carry no secret, nonce, state or verifier', async () => {
  const { result, logs } = await captureLogs(() => create.handler(createEvent(), context));
  const secret = result.response.privateChallengeParameters;
  assert.ok(logs.length > 0);
  for (const line of logs) {
    for (const value of [CLIENT_SECRET, secret.nonce, secret.state, secret.code_verifier]) assert.ok(!line.includes(value), line);
  }
});

test('a user pool other than the stack\'s own is refused, reported, never pushed, and fails in Define', async () => {
  const other = `${REGION}_Elsewhere`;
  fake.pools.set(other, { CaseSensitive: false });
  const { error } = await captureLogs(() => create.handler(createEvent({ userPoolId: other }), context));
  assert.match(error.message, /not the one these Biopass triggers were deployed for/);
  const [report] = fake.of('/cognito/events');
  assert.deepEqual(JSON.parse(report.body), { aws_account_id: ACCOUNT, region: REGION, user_pool_id: other, error: 'user_pool_not_in_stack' });
  assert.equal(fake.of('/par').length, 0);
  assert.equal(fake.aws('DescribeUserPool').length, 0, 'nothing of the other pool is read');
  const { define, defineEvent, SRP_A, PASSWORD_OK } = await import('./fake.mjs');
  const event = { ...defineEvent([SRP_A, PASSWORD_OK]), userPoolId: other };
  const decided = await captureLogs(() => define.handler(event));
  assert.equal(decided.result.response.failAuthentication, true);
  assert.equal(decided.result.response.issueTokens, false);
  const own = await captureLogs(() => define.handler(defineEvent([SRP_A, PASSWORD_OK])));
  assert.equal(own.result.response.challengeName, 'CUSTOM_CHALLENGE', 'its own pool goes on');
});

test('an app client that lets users sign in without Biopass is reported with the pushed request', async () => {
  const pool = freshPool({ CaseSensitive: false }, { ExplicitAuthFlows: ['ALLOW_CUSTOM_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] });
  await create.handler(createEvent({ userPoolId: pool }), context);
  const params = new URLSearchParams(fake.of('/par')[0].body);
  assert.equal(params.get('cognito_app_client_id'), APP_CLIENT);
  assert.equal(params.get('cognito_sign_in_without_biopass'), 'USER_SRP_AUTH');
  const [read] = fake.aws('DescribeUserPoolClient');
  assert.deepEqual(JSON.parse(read.body), { UserPoolId: pool, ClientId: APP_CLIENT });
  assert.match(read.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/cognito-idp\/aws4_request, /);
  await create.handler(createEvent({ userPoolId: pool }), context);
  assert.equal(fake.aws('DescribeUserPoolClient').length, 1, 'read once per container (for 10 minutes)');
  assert.equal(new URLSearchParams(fake.of('/par')[1].body).get('cognito_sign_in_without_biopass'), 'USER_SRP_AUTH');
});

test('an app client that cannot be read does not stop the sign-in, and says so in the log', async () => {
  const pool = freshPool();
  fake.clients.delete(`${pool}/${APP_CLIENT}`);
  const { result, logs } = await captureLogs(() => create.handler(createEvent({ userPoolId: pool }), context));
  assert.ok(result.response.publicChallengeParameters.url);
  const params = new URLSearchParams(fake.of('/par')[0].body);
  assert.equal(params.has('cognito_app_client_id'), false);
  assert.ok(logs.some((l) => l.includes('"appClient":"unchecked"') && l.includes('DescribeUserPoolClient: ResourceNotFoundException')), logs.join('\n'));
});

test('the ways around Biopass are read from the app client settings as Cognito defines them', () => {
  const ways = create.signInWithoutBiopass;
  assert.deepEqual(ways(CUSTOM_ONLY), []);
  assert.deepEqual(ways({}), ['USER_SRP_AUTH'], 'no ExplicitAuthFlows: Cognito allows SRP by default');
  assert.deepEqual(ways({ ExplicitAuthFlows: [] }), ['USER_SRP_AUTH']);
  assert.deepEqual(ways({ ExplicitAuthFlows: ['ALLOW_CUSTOM_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH'] }), ['ADMIN_USER_PASSWORD_AUTH', 'USER_PASSWORD_AUTH']);
  assert.deepEqual(ways({ ExplicitAuthFlows: ['ALLOW_CUSTOM_AUTH', 'ALLOW_USER_AUTH'] }), ['USER_AUTH']);
  assert.deepEqual(ways({ ExplicitAuthFlows: ['CUSTOM_AUTH_FLOW_ONLY'] }), [], 'legacy custom-only');
  assert.deepEqual(ways({ ExplicitAuthFlows: ['ADMIN_NO_SRP_AUTH'] }), ['ADMIN_USER_PASSWORD_AUTH', 'USER_SRP_AUTH'], 'legacy names keep SRP on');
  assert.deepEqual(ways({ ...CUSTOM_ONLY, AllowedOAuthFlowsUserPoolClient: true, SupportedIdentityProviders: ['COGNITO'] }), ['HOSTED_UI']);
  assert.deepEqual(ways({ ...CUSTOM_ONLY, AllowedOAuthFlowsUserPoolClient: true, SupportedIdentityProviders: ['Google'] }), [], 'federated sign-in only: no Cognito password');
});

test('SigV4 signs the AWS documentation example (IAM ListUsers) to its published signature', () => {
  const signed = aws.sigv4({
    method: 'GET',
    url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: '',
    region: 'us-east-1',
    service: 'iam',
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    now: new Date('2015-08-30T12:36:00Z'),
  });
  assert.equal(signed['x-amz-date'], '20150830T123600Z');
  assert.equal(signed.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, '
    + 'SignedHeaders=content-type;host;x-amz-date, '
    + 'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
});
