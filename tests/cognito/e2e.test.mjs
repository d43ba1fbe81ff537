// The Cognito round trip end to end: the real worker under wrangler dev, the template it
// generates deployed with CreateStack in ministack (a local AWS emulator running the
// triggers as node subprocesses), a user pool and app client with the triggers attached,
// and the example app (examples/cognito-app) in headless Chromium: password, Biopass
// login with first-time enrolment, back to the app's callback, Cognito tokens. Refusals
// (phone-number user names, case-sensitive pools, a pool the stack does not serve) reach the
// admin as deployment errors; an app client that lets a password alone in is flagged; users
// of two pools are two people. Each pool gets its own stack, as the deployment guide says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newState, startWorker, admin, freePorts } from '../lib/worker.mjs';
import { Account } from '../lib/login.mjs';
import { base32Decode } from '../lib/totp.mjs';
import { launch, saveRecoveryCodes, shot } from '../lib/browser.mjs';
import { startMinistack, cognito, createStack, updateStack, lambdaConfiguration, secretValue, ACCOUNT, REGION } from './ministack.mjs';
import { startApp } from '../../examples/cognito-app/server.mjs';
import { startAmplifyApp } from '../../examples/amplify-app/server.mjs';
import cognitoIdentity from 'amazon-cognito-identity-js';

const USERNAME = 'Ada.Lovelace@example.com';
const PASSWORD = 'Correct-Horse-Battery-9';
/** The app client flows the deployment guide asks for: nothing that skips Biopass. */
const GUIDE_FLOWS = ['ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'];
let worker, state, aws, browser, app, biopass, template, pool, usedCode;
/** Ports of the example apps of the second and third pools, whose callbacks Biopass allows. */
let openPort, otherPort, amplifyPort;
let stacks = 0;
const account = new Account(USERNAME.toLowerCase());

/**
 * A user pool with its own Biopass stack (the template from the admin API, deployed with
 * the pool's ID) attached as its triggers, an app client with `flows`, and a user. With
 * `triggersOf`, the pool is attached to another pool's stack instead.
 */
async function userPool(name, { caseSensitive, username, flows = GUIDE_FLOWS, triggersOf }) {
  const { UserPool } = await cognito(aws, 'CreateUserPool', { PoolName: name, UsernameConfiguration: { CaseSensitive: caseSensitive } });
  const stack = triggersOf?.stack ?? `biopass-${biopass.clientId.toLowerCase().replace(/_/g, '-')}-${++stacks}`;
  const triggers = triggersOf?.triggers ?? await createStack(aws, stack, template, {
    ClientId: biopass.clientId, Issuer: worker.url, ClientSecret: biopass.secret, UserPoolId: UserPool.Id,
  });
  await cognito(aws, 'UpdateUserPool', {
    UserPoolId: UserPool.Id,
    LambdaConfig: {
      DefineAuthChallenge: triggers.DefineAuthChallengeArn,
      CreateAuthChallenge: triggers.CreateAuthChallengeArn,
      VerifyAuthChallengeResponse: triggers.VerifyAuthChallengeResponseArn,
    },
  });
  const { UserPoolClient } = await cognito(aws, 'CreateUserPoolClient', {
    UserPoolId: UserPool.Id, ClientName: 'example-app', ExplicitAuthFlows: flows, AuthSessionValidity: 15,
  });
  await cognito(aws, 'AdminCreateUser', { UserPoolId: UserPool.Id, Username: username, MessageAction: 'SUPPRESS' });
  await cognito(aws, 'AdminSetUserPassword', { UserPoolId: UserPool.Id, Username: username, Password: PASSWORD, Permanent: true });
  return { id: UserPool.Id, clientId: UserPoolClient.ClientId, triggers, stack };
}

/** A plain SRP sign-in (what Amplify's default signIn() does): the password alone. */
function passwordOnly(p, username) {
  const { AuthenticationDetails, CognitoUser, CognitoUserPool } = cognitoIdentity;
  const user = new CognitoUser({ Username: username, Pool: new CognitoUserPool({ UserPoolId: p.id, ClientId: p.clientId, endpoint: `${aws.url}/` }) });
  user.setAuthenticationFlowType('USER_SRP_AUTH');
  return new Promise((resolve) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: PASSWORD }), {
      onSuccess: (session) => resolve({ tokens: session }),
      onFailure: (error) => resolve({ error }),
      customChallenge: () => resolve({ challenge: true }),
    });
  });
}

/** Waits until the app sent the browser to Biopass; fails with the app's error if it did not. */
async function toBiopass(page) {
  const alert = page.getByRole('alert');
  await Promise.race([page.waitForURL(`${worker.url}/login**`, { timeout: 30_000 }), alert.waitFor({ timeout: 30_000 })]);
  assert.ok(page.url().startsWith(worker.url), `not sent to Biopass: ${await alert.textContent().catch(() => '')}`);
}

/** The deployments of the application, as the admin API lists them. */
async function poolsSeen() {
  const { status, body } = await admin(worker, 'GET', `/applications/${biopass.clientId}/deployments`);
  assert.equal(status, 200);
  return body.flatMap((d) => d.user_pools);
}

before(async () => {
  state = newState();
  [worker, aws] = await Promise.all([startWorker(state), startMinistack()]);
  let appPort;
  [appPort, openPort, otherPort, amplifyPort] = await freePorts(4);
  const callback = `http://127.0.0.1:${appPort}/callback`;

  const created = await admin(worker, 'POST', '/applications', {
    name: 'Example app', application_type: 'amazon_cognito_mfa', allowed_callback_urls: [callback, `http://127.0.0.1:${openPort}/callback`, `http://127.0.0.1:${otherPort}/callback`, `http://127.0.0.1:${amplifyPort}/callback`],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const secret = await admin(worker, 'GET', `/applications/${created.body.client_id}/secret`);
  biopass = { clientId: created.body.client_id, secret: secret.body.client_secret };

  const served = await admin(worker, 'GET', `/applications/${biopass.clientId}/cognito/template`);
  assert.equal(served.status, 200, `the admin API serves the template: ${JSON.stringify(served.body)}`);
  assert.equal(typeof served.body, 'string');
  assert.ok(served.body.includes(`Default: '${biopass.clientId}'`), 'the template carries the client id');
  template = served.body;

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
  await page.waitForURL(`${worker.url}/login**`, { waitUntil: 'commit' });
  await page.getByRole('button', { name: /^Authenticator app/ }).click();
  await page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
  account.seed = base32Decode((await page.locator('code.secret').textContent()).trim());
  await page.getByLabel('6-digit code from the app').fill(await account.nextCode());
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await saveRecoveryCodes(page);
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
  await page.waitForURL(`${worker.url}/login**`, { waitUntil: 'commit' });
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
  await page.waitForURL(`${worker.url}/login**`, { waitUntil: 'commit' });
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
  assert.deepEqual(seen.app_clients.map((c) => [c.app_client_id, c.sign_in_without_biopass]), [[pool.clientId, []]],
    'the Create trigger read the app client: custom authentication only');
});

test("the guide's app client lets no password-only sign-in through", async () => {
  const { tokens, error, challenge } = await passwordOnly(pool, USERNAME);
  assert.equal(tokens, undefined, 'no Cognito tokens for the password alone');
  assert.equal(challenge, undefined);
  assert.match(String(error?.message), /USER_SRP_AUTH is not enabled/);
});

test('an app client that lets a password alone in is flagged in Previous deployments', async () => {
  const open = await userPool('open-client-users', { caseSensitive: false, username: 'eve@example.com', flows: ['ALLOW_CUSTOM_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] });
  const bypass = await passwordOnly(open, 'eve@example.com');
  assert.ok(bypass.tokens, `with ALLOW_USER_SRP_AUTH the password alone gets tokens: the hole the console flags (${bypass.error?.message})`);
  const openApp = await startApp({ port: openPort, userPoolId: open.id, clientId: open.clientId, endpoint: `${aws.url}/` });
  try {
    const { context, page } = await signIn('eve@example.com', openApp.url);
    await toBiopass(page);
    await context.close();
  } finally {
    await openApp.close();
  }
  const seen = (await poolsSeen()).find((p) => p.user_pool_id === open.id);
  assert.deepEqual(seen?.app_clients.map((c) => [c.app_client_id, c.sign_in_without_biopass]), [[open.clientId, ['USER_SRP_AUTH']]], JSON.stringify(seen));
});

test('the same user name in another user pool is another person to Biopass', async () => {
  const other = await userPool('second-users', { caseSensitive: false, username: USERNAME });
  const otherApp = await startApp({ port: otherPort, userPoolId: other.id, clientId: other.clientId, endpoint: `${aws.url}/` });
  try {
    const { context, page } = await signIn(USERNAME, otherApp.url);
    await toBiopass(page);
    // Not the enrolled user's code step: this pool's user has nothing enrolled.
    await page.getByRole('button', { name: /^Authenticator app/ }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Enter your code' }).count(), 0);
    await context.close();
  } finally {
    await otherApp.close();
  }
  const { body } = await admin(worker, 'GET', `/users?q=${encodeURIComponent(USERNAME.toLowerCase())}`);
  assert.deepEqual(body.items.map((u) => u.user_pool_id).sort(), [pool.id, other.id].sort(), JSON.stringify(body));
});

test('a user pool the stack was not deployed for gets no tokens', async () => {
  const foreign = await userPool('foreign-users', { caseSensitive: false, username: 'mallory@example.com', triggersOf: pool });
  const foreignApp = await startApp({ userPoolId: foreign.id, clientId: foreign.clientId, endpoint: `${aws.url}/` });
  try {
    const { context, page } = await signIn('mallory@example.com', foreignApp.url);
    await page.getByRole('alert').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#id-token-claims').count(), 0);
    assert.ok(!page.url().startsWith(worker.url), 'never sent to Biopass');
    await context.close();
  } finally {
    await foreignApp.close();
  }
  assert.equal((await poolsSeen()).find((p) => p.user_pool_id === foreign.id), undefined, 'Define refuses before anything is pushed');
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
  const pools = await poolsSeen();
  assert.equal(pools.find((p) => p.user_pool_id === phonePool.id)?.error, 'phone_number_user_name', JSON.stringify(pools));
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
  const pools = await poolsSeen();
  assert.equal(pools.find((p) => p.user_pool_id === sensitive.id)?.error, 'case_sensitive_user_pool', JSON.stringify(pools));
});

/** The --parameters of an AWS CLI command in shorthand syntax, as the CLI sends them. */
function cliParameters(command) {
  const [, list] = /--parameters (.*?) --/.exec(command);
  return list.split(' ').map((item) => Object.fromEntries(item.split(',').map((kv) => {
    const at = kv.indexOf('=');
    const [k, v] = [kv.slice(0, at), kv.slice(at + 1)];
    return [k, k === 'UsePreviousValue' ? v === 'true' : v];
  })));
}

test('after Rotate secret, the update-stack command Biopass prints puts the new secret in Secrets Manager and sign-ins go on', async () => {
  const rotated = await admin(worker, 'POST', `/applications/${biopass.clientId}/secret/rotate`);
  assert.equal(rotated.status, 200);
  const command = rotated.body.update_stack_command;
  assert.match(command, new RegExp(`--region ${REGION}$`), 'the region of the deployment Biopass saw');
  const parameters = cliParameters(command);
  const secret = parameters.find((p) => p.ParameterKey === 'ClientSecret').ParameterValue;
  assert.notEqual(secret, biopass.secret);
  // Until the stack has it, the triggers hold only the old secret: no tokens.
  {
    const { context, page } = await signIn();
    await page.getByRole('alert').filter({ hasText: /Biopass/ }).waitFor({ timeout: 20_000 });
    await context.close();
  }
  await updateStack(aws, pool.stack, parameters);
  biopass.secret = secret;
  // The secret is in Secrets Manager, not in any function's environment.
  for (const arn of [pool.triggers.CreateAuthChallengeArn, pool.triggers.VerifyAuthChallengeResponseArn]) {
    const env = (await lambdaConfiguration(aws, arn)).Environment.Variables;
    assert.deepEqual(Object.keys(env).sort(), ['ClientId', 'ClientSecretArn', 'Issuer', 'UserPoolId']);
    assert.ok(!Object.values(env).includes(secret));
    assert.equal(await secretValue(aws, env.ClientSecretArn), secret, 'update-stack wrote the new secret');
  }
  const { context, page } = await signIn();
  await page.waitForURL(`${worker.url}/login**`, { waitUntil: 'commit' });
  await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
  await page.getByLabel('6-digit code from your authenticator app').fill(await account.nextCode());
  await page.getByRole('button', { name: 'Sign in' }).click();
  const claims = await tokens(page);
  assert.equal(claims['cognito:username'], USERNAME);
  await context.close();
});

/** Signs in to the Amplify app with the password; returns its page and the Biopass popup. */
async function amplifySignIn(context, amplify) {
  const page = await context.newPage();
  await page.goto(amplify.url);
  await page.getByLabel('User name').fill(USERNAME);
  await page.getByLabel('Password').fill(PASSWORD);
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Sign in' }).click()]);
  await popup.waitForURL(`${worker.url}/login**`, { waitUntil: 'commit', timeout: 30_000 });
  return { page, popup };
}

test('an Amplify v6 app (CUSTOM_WITH_SRP, Biopass in a popup) signs in past Amplify\'s 3-minute limit', async () => {
  const amplify = await startAmplifyApp({ port: amplifyPort, userPoolId: pool.id, clientId: pool.clientId, endpoint: `${aws.url}/` });
  const context = await browser.newContext();
  try {
    // The browser's clock is Playwright's, so the test lets 4 minutes pass at once while the
    // user is in Biopass, before the app answers the challenge.
    await context.clock.install();
    const { page, popup } = await amplifySignIn(context, amplify);
    await popup.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await popup.getByLabel('6-digit code from your authenticator app').fill(await account.nextCode());
    await context.clock.fastForward('04:00');
    // What Amplify kept in sessionStorage, and the app page's time, just before the answer.
    const stored = await page.evaluate(() => ({ expiry: Number(sessionStorage.getItem('CognitoSignInState.expiry')), now: Date.now() }));
    const closed = popup.waitForEvent('close');
    await popup.getByRole('button', { name: 'Sign in' }).click();
    await closed;
    const claims = await tokens(page);
    await shot(page, 'amplify-app-tokens');
    assert.equal(claims['cognito:username'], USERNAME);
    assert.equal(claims.aud, pool.clientId);
    // Amplify's stored sign-in state had expired when the challenge was answered: a page
    // that had gone to Biopass and come back would have found nothing to confirm.
    assert.ok(stored.expiry > 0, 'Amplify stored its sign-in state');
    assert.ok(stored.expiry < stored.now, `expired ${(stored.now - stored.expiry) / 1000} s before the answer`);
  } finally {
    await context.close();
    await amplify.close();
  }
});

test('the Amplify app says so when the Biopass window is closed before the end', async () => {
  const amplify = await startAmplifyApp({ port: amplifyPort, userPoolId: pool.id, clientId: pool.clientId, endpoint: `${aws.url}/` });
  const context = await browser.newContext();
  try {
    const { page, popup } = await amplifySignIn(context, amplify);
    await popup.close();
    await page.getByRole('alert').filter({ hasText: 'The Biopass window was closed before the sign-in finished.' }).waitFor();
    assert.equal(await page.locator('#id-token-claims').count(), 0);
  } finally {
    await context.close();
    await amplify.close();
  }
});
