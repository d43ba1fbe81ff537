// The Cognito round trip end to end: the real worker under wrangler dev, the template it
// generates deployed with CreateStack in ministack (a local AWS emulator running the
// triggers as node subprocesses), a user pool and app client with the triggers attached,
// and the example app (examples/cognito-app) in headless Chromium: password, Biopass
// login with first-time enrolment, back to the app's callback, Cognito tokens. Refusals
// (phone-number user names, case-sensitive pools) reach the admin as deployment errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newState, startWorker, admin, freePort } from '../lib/worker.mjs';
import { Account } from '../lib/login.mjs';
import { base32Decode } from '../lib/totp.mjs';
import { launch, shot } from '../lib/browser.mjs';
import { startMinistack, cognito, createStack, ACCOUNT, REGION } from './ministack.mjs';
import { startApp } from '../../examples/cognito-app/server.mjs';

const USERNAME = 'Ada.Lovelace@example.com';
const PASSWORD = 'Correct-Horse-Battery-9';
let worker, state, aws, browser, app, biopass, triggers, pool, usedCode;
const account = new Account(USERNAME.toLowerCase());

/** A user pool with the triggers attached, an app client for CUSTOM_AUTH + SRP, a user. */
async function userPool(name, { caseSensitive, username }) {
  const { UserPool } = await cognito(aws, 'CreateUserPool', {
    PoolName: name,
    UsernameConfiguration: { CaseSensitive: caseSensitive },
    LambdaConfig: {
      DefineAuthChallenge: triggers.DefineAuthChallengeArn,
      CreateAuthChallenge: triggers.CreateAuthChallengeArn,
      VerifyAuthChallengeResponse: triggers.VerifyAuthChallengeResponseArn,
    },
  });
  const { UserPoolClient } = await cognito(aws, 'CreateUserPoolClient', {
    UserPoolId: UserPool.Id,
    ClientName: 'example-app',
    ExplicitAuthFlows: ['ALLOW_CUSTOM_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    AuthSessionValidity: 15,
  });
  await cognito(aws, 'AdminCreateUser', { UserPoolId: UserPool.Id, Username: username, MessageAction: 'SUPPRESS' });
  await cognito(aws, 'AdminSetUserPassword', { UserPoolId: UserPool.Id, Username: username, Password: PASSWORD, Permanent: true });
  return { id: UserPool.Id, clientId: UserPoolClient.ClientId };
}

before(async () => {
  state = newState();
  [worker, aws] = await Promise.all([startWorker(state), startMinistack()]);
  const appPort = await freePort();
  const callback = `http://127.0.0.1:${appPort}/callback`;

  const created = await admin(worker, 'POST', '/applications', {
    name: 'Example app', application_type: 'amazon_cognito_mfa', allowed_callback_urls: [callback],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const secret = await admin(worker, 'GET', `/applications/${created.body.client_id}/secret`);
  biopass = { clientId: created.body.client_id, secret: secret.body.client_secret };

  const template = await admin(worker, 'GET', `/applications/${biopass.clientId}/cognito/template`);
  assert.equal(template.status, 200, `the admin API serves the template: ${JSON.stringify(template.body)}`);
  assert.equal(typeof template.body, 'string');
  assert.ok(template.body.includes(`Default: '${biopass.clientId}'`), 'the template carries the client id');
  triggers = await createStack(aws, `biopass-${biopass.clientId.toLowerCase().replace(/_/g, '-')}`, template.body, {
    ClientId: biopass.clientId, Issuer: worker.url, ClientSecret: biopass.secret, Region: REGION,
  });

  pool = await userPool('company-users', { caseSensitive: false, username: USERNAME });
  app = await startApp({ port: appPort, userPoolId: pool.id, clientId: pool.clientId, endpoint: `${aws.url}/` });
  assert.equal(`${app.url}/callback`, callback);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await app?.close();
  await aws?.stop();
  await worker?.stop();
  state?.cleanup();
});

/** Opens the example app in a fresh browser context and signs in with the password. */
async function signIn(username = USERNAME, appUrl = app.url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(appUrl);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return { context, page };
}

/** Waits for the app to show Cognito's tokens; returns the ID token's claims. */
async function tokens(page) {
  const claims = page.locator('#id-token-claims');
  await claims.waitFor({ timeout: 20_000 });
  return JSON.parse(await claims.textContent());
}

test('first sign-in: password, Biopass registration and enrolment, Cognito tokens', async () => {
  const { context, page } = await signIn();
  await page.waitForURL(`${worker.url}/login**`);
  await page.getByRole('button', { name: /^Authenticator app/ }).click();
  await page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
  account.seed = base32Decode((await page.locator('code.secret').textContent()).trim());
  await page.getByLabel('6-digit code from the app').fill(await account.nextCode());
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await page.waitForURL(`${app.url}/callback**`);
  const claims = await tokens(page);
  await shot(page, 'cognito-app-tokens');
  assert.equal(claims['cognito:username'], USERNAME);
  assert.equal(claims.token_use, 'id');
  assert.ok(claims.iss.endsWith(`/${pool.id}`), claims.iss);
  assert.equal(claims.aud, pool.clientId);
  await context.close();
});

test('a later sign-in goes straight to the code', async () => {
  const { context, page } = await signIn();
  await page.waitForURL(`${worker.url}/login**`);
  await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
  await page.getByLabel('6-digit code from your authenticator app').fill(await account.nextCode());
  const back = page.waitForRequest((r) => r.url().startsWith(`${app.url}/callback`));
  await page.getByRole('button', { name: 'Sign in' }).click();
  usedCode = new URL((await back).url()).searchParams.get('code');
  const claims = await tokens(page);
  assert.equal(claims['cognito:username'], USERNAME);
  await context.close();
});

/** Signs in with the password, then comes back to the callback with `code` instead. */
async function answerWith(code) {
  const { context, page } = await signIn();
  await page.waitForURL(`${worker.url}/login**`);
  await page.goto(`${app.url}/callback?code=${encodeURIComponent(code)}&state=x`);
  await page.getByRole('alert').filter({ hasText: /no tokens were issued/i }).waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#id-token-claims').count(), 0);
  return { context, page };
}

test('a wrong code yields no tokens', async () => {
  const { context, page } = await answerWith('not-a-code-biopass-issued');
  await shot(page, 'cognito-app-wrong-code');
  await context.close();
});

test('a code already redeemed yields no tokens', async () => {
  assert.ok(usedCode, 'the previous test captured the code it used');
  const { context } = await answerWith(usedCode);
  await context.close();
});

test('the deployment (account, region, user pool) reaches the admin API', async () => {
  const { status, body } = await admin(worker, 'GET', `/applications/${biopass.clientId}/deployments`);
  assert.equal(status, 200);
  const deployment = body.find((d) => d.aws_account_id === ACCOUNT && d.region === REGION);
  assert.ok(deployment, JSON.stringify(body));
  const seen = deployment.user_pools.find((p) => p.user_pool_id === pool.id);
  assert.ok(seen, JSON.stringify(deployment));
  assert.equal(seen.error, null);
  assert.ok(deployment.first_seen <= deployment.last_seen);
});

test('a phone-number user name is refused with a clear error that reaches the admin', async () => {
  const phonePool = await userPool('phone-users', { caseSensitive: false, username: '+447700900123' });
  const phoneApp = await startApp({ userPoolId: phonePool.id, clientId: phonePool.clientId, endpoint: `${aws.url}/` });
  try {
    const { context, page } = await signIn('+447700900123', phoneApp.url);
    await page.getByRole('alert').filter({ hasText: 'phone number' }).waitFor({ timeout: 20_000 });
    await context.close();
  } finally {
    await phoneApp.close();
  }
  const { body } = await admin(worker, 'GET', `/applications/${biopass.clientId}/deployments`);
  const pools = body.flatMap((d) => d.user_pools);
  assert.equal(pools.find((p) => p.user_pool_id === phonePool.id)?.error, 'phone_number_user_name', JSON.stringify(body));
});

test('a case-sensitive user pool is refused with a clear error that reaches the admin', async () => {
  const sensitive = await userPool('case-sensitive-users', { caseSensitive: true, username: 'grace@example.com' });
  const sensitiveApp = await startApp({ userPoolId: sensitive.id, clientId: sensitive.clientId, endpoint: `${aws.url}/` });
  try {
    const { context, page } = await signIn('grace@example.com', sensitiveApp.url);
    await page.getByRole('alert').filter({ hasText: 'case-sensitive' }).waitFor({ timeout: 20_000 });
    await shot(page, 'cognito-app-case-sensitive-pool');
    await context.close();
  } finally {
    await sensitiveApp.close();
  }
  const { body } = await admin(worker, 'GET', `/applications/${biopass.clientId}/deployments`);
  const pools = body.flatMap((d) => d.user_pools);
  assert.equal(pools.find((p) => p.user_pool_id === sensitive.id)?.error, 'case_sensitive_user_pool', JSON.stringify(body));
});
