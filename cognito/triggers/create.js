// Biopass edge - CreateAuthChallenge trigger for Amazon Cognito custom authentication.
// Pushes an authorization request (RFC 9126) to Biopass as the application: the user's
// lower-cased name as login_hint, a nonce, PKCE S256, the app's redirect_uri (from the
// ClientMetadata of RespondToAuthChallenge) and where the login comes from (user pool,
// region, AWS account). The app gets the authorize URL; nonce, PKCE verifier, state and
// redirect_uri stay in the private parameters for VerifyAuthChallengeResponse.
// Refuses phone-number user names, case-sensitive user pools and user pools other than the
// stack's own, and tells Biopass so the admin sees why. Reads the calling app client's
// settings and tells Biopass when they let users sign in without it (a password-only flow
// or the hosted UI). Every call shares one budget well under Cognito's 5 s limit.
'use strict';

const crypto = require('node:crypto');
const aws = require('./aws.js');

const BUDGET_MS = 2500;
const PHONE_NUMBER = /^\+[0-9]+$/;
const caseSensitivePools = new Map(); // userPoolId -> boolean, read once per container
// `${userPoolId}/${appClientId}` -> { at, flows }: the app client's ways around Biopass,
// read again after APP_CLIENT_TTL_MS so a corrected app client stops being reported.
const appClients = new Map();
const APP_CLIENT_TTL_MS = 10 * 60 * 1000;

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const random = () => b64url(crypto.randomBytes(32));
const formEncode = (s) => encodeURIComponent(s).replace(/%20/g, '+');

/** The stack's settings; the client secret is read by `withSecret`. */
function settings() {
  const { ClientId, Issuer, ClientSecretArn, UserPoolId } = process.env;
  if (!ClientId || !Issuer || !ClientSecretArn || !UserPoolId) {
    throw new Error('Biopass triggers are not configured: the stack must set ClientId, Issuer, ClientSecretArn and UserPoolId');
  }
  return { clientId: ClientId, issuer: Issuer.replace(/\/+$/, ''), secretArn: ClientSecretArn, userPoolId: UserPoolId, secret: null };
}

/** `config` with its client secret from Secrets Manager in the function's own region
 * (`fresh`: not the one kept). */
async function withSecret(config, eventRegion, deadline, fresh = false) {
  const region = process.env.AWS_REGION || eventRegion;
  config.secret = await aws.clientSecret(config.secretArn, region, deadline, (m) => new Error(m), fresh);
  return config;
}

/** A call to Biopass as the application; a refused secret is read again once (it was rotated). */
async function asApplication(config, region, what, url, init, deadline) {
  const send = () => call(what, url, { ...init, headers: { ...init.headers, authorization: basic(config) } }, deadline);
  const r = await send();
  if (r.status !== 401) return r;
  await withSecret(config, region, deadline, true);
  return send();
}

/** HTTP Basic client authentication (RFC 6749 2.3.1: form-encode, then base64). */
function basic({ clientId, secret }) {
  return 'Basic ' + Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64');
}

/** fetch within what is left of the budget; a timeout or network error says what failed. */
async function call(what, url, init, deadline) {
  const left = deadline - Date.now();
  if (left <= 0) throw new Error(`${what} did not answer in time`);
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(left) });
  } catch (e) {
    const timedOut = e && (e.name === 'TimeoutError' || e.name === 'AbortError');
    throw new Error(timedOut ? `${what} did not answer in time` : `${what} could not be reached`);
  }
}

/** A signed Cognito user pools API call (JSON 1.1); the answer, or an error naming it. */
async function cognitoCall(operation, payload, region, deadline) {
  const r = await aws.awsCall({
    service: 'cognito-idp', target: `AWSCognitoIdentityProviderService.${operation}`,
    payload, region, deadline, fail: (m) => new Error(`Amazon Cognito (${operation}): ${m}`),
  });
  if (!r.ok) throw new Error(`Biopass could not read this user pool's settings (${operation}: ${r.type}); check the stack's IAM role`);
  return r.body;
}

/** UsernameConfiguration.CaseSensitive of the pool, by a signed DescribeUserPool call. */
async function describeCaseSensitive(userPoolId, region, deadline) {
  const answer = await cognitoCall('DescribeUserPool', { UserPoolId: userPoolId }, region, deadline);
  const config = (answer.UserPool || {}).UsernameConfiguration;
  // Pools without UsernameConfiguration predate the setting and are case-sensitive.
  return !config || config.CaseSensitive !== false;
}

// App client flows that sign a user in with the password alone (or without Biopass):
// none of them runs the custom authentication triggers. ALLOW_USER_AUTH is choice-based
// sign-in (password, SRP, passkeys, one-time codes); legacy names without ALLOW_ too.
const BYPASS_FLOWS = {
  ALLOW_USER_SRP_AUTH: 'USER_SRP_AUTH',
  ALLOW_USER_PASSWORD_AUTH: 'USER_PASSWORD_AUTH',
  ALLOW_ADMIN_USER_PASSWORD_AUTH: 'ADMIN_USER_PASSWORD_AUTH',
  ALLOW_USER_AUTH: 'USER_AUTH',
  USER_PASSWORD_AUTH: 'USER_PASSWORD_AUTH',
  ADMIN_NO_SRP_AUTH: 'ADMIN_USER_PASSWORD_AUTH',
};

/**
 * The ways an app client (UserPoolClientType) lets users sign in without Biopass, sorted.
 * Without ExplicitAuthFlows Cognito allows ALLOW_USER_SRP_AUTH (with ALLOW_CUSTOM_AUTH and
 * ALLOW_REFRESH_TOKEN_AUTH); with legacy names, SRP stays on unless CUSTOM_AUTH_FLOW_ONLY
 * is set. The hosted UI (managed login) cannot run custom challenges, so an app client
 * with OAuth flows and the Cognito identity provider signs users in with the password.
 */
function signInWithoutBiopass(client) {
  const flows = Array.isArray(client.ExplicitAuthFlows) ? client.ExplicitAuthFlows : [];
  const out = new Set(flows.map((f) => BYPASS_FLOWS[f]).filter(Boolean));
  const modern = flows.some((f) => f.startsWith('ALLOW_'));
  if (flows.length === 0 || (!modern && !flows.includes('CUSTOM_AUTH_FLOW_ONLY'))) out.add('USER_SRP_AUTH');
  const providers = Array.isArray(client.SupportedIdentityProviders) ? client.SupportedIdentityProviders : [];
  if (client.AllowedOAuthFlowsUserPoolClient === true && providers.includes('COGNITO')) out.add('HOSTED_UI');
  return [...out].sort();
}

/** The calling app client's ways around Biopass, or null when they could not be read. */
async function appClientBypass(userPoolId, appClientId, region, deadline) {
  const key = `${userPoolId}/${appClientId}`;
  const cached = appClients.get(key);
  if (cached && Date.now() - cached.at < APP_CLIENT_TTL_MS) return cached.flows;
  try {
    const answer = await cognitoCall('DescribeUserPoolClient', { UserPoolId: userPoolId, ClientId: appClientId }, region, deadline);
    const flows = signInWithoutBiopass(answer.UserPoolClient || {});
    appClients.set(key, { at: Date.now(), flows });
    return flows;
  } catch (e) {
    // The sign-in goes on: the check informs the admin, it cannot close the hole itself.
    console.log(JSON.stringify({ trigger: 'create', appClient: 'unchecked', reason: e.message }));
    return null;
  }
}

async function poolIsCaseSensitive(userPoolId, region, deadline) {
  if (!caseSensitivePools.has(userPoolId)) {
    caseSensitivePools.set(userPoolId, await describeCaseSensitive(userPoolId, region, deadline));
  }
  return caseSensitivePools.get(userPoolId);
}

/** Tells Biopass why a login was refused; the refusal stands even if this fails. */
async function report(config, where, error, deadline) {
  try {
    const r = await asApplication(config, where.region, 'Biopass', `${config.issuer}/cognito/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...where, error }),
    }, deadline);
    if (r.status !== 204) console.log(JSON.stringify({ trigger: 'create', report: 'refused', status: r.status }));
  } catch (e) {
    console.log(JSON.stringify({ trigger: 'create', report: 'failed', reason: e.message }));
  }
}

const REFUSALS = {
  phone_number_user_name:
    'Biopass cannot sign in users whose user name is a phone number; ask your administrator to use user names or e-mail addresses',
  case_sensitive_user_pool:
    'Biopass does not support user pools with case-sensitive user names; this user pool must be created with case-insensitive user names',
  user_pool_not_in_stack:
    'This user pool is not the one these Biopass triggers were deployed for; deploy a Biopass stack for this user pool',
};

async function refuse(config, where, error, deadline) {
  console.log(JSON.stringify({ trigger: 'create', userPoolId: where.user_pool_id, refused: error }));
  await report(config, where, error, deadline);
  throw new Error(REFUSALS[error]);
}

/** The pushed authorization request; returns the authorize URL and what Verify needs. */
async function push(config, event, where, bypass, deadline) {
  const redirectUri = (event.request.clientMetadata || {}).redirect_uri;
  if (!redirectUri) {
    throw new Error('The app must send ClientMetadata {"redirect_uri": "<its callback URL>"} with RespondToAuthChallenge');
  }
  const nonce = random();
  const state = random();
  const verifier = random();
  const form = new URLSearchParams({
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri,
    login_hint: event.userName.toLowerCase(),
    nonce,
    state,
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    cognito_user_pool_id: where.user_pool_id,
    cognito_region: where.region,
    aws_account_id: where.aws_account_id,
  });
  const appClientId = (event.callerContext || {}).clientId;
  if (bypass && appClientId) {
    form.set('cognito_app_client_id', appClientId);
    form.set('cognito_sign_in_without_biopass', bypass.join(' '));
  }
  const r = await asApplication(config, where.region, 'Biopass', `${config.issuer}/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  }, deadline);
  const answer = await r.json().catch(() => ({}));
  if (r.status !== 201 || typeof answer.request_uri !== 'string') {
    const why = [answer.error, answer.error_description].filter(Boolean).join(': ') || `HTTP ${r.status}`;
    throw new Error(`Biopass refused the sign-in request (${why})`);
  }
  const query = new URLSearchParams({ client_id: config.clientId, request_uri: answer.request_uri });
  return {
    url: `${config.issuer}/authorize?${query}`,
    secret: { nonce, code_verifier: verifier, state, redirect_uri: redirectUri },
  };
}

exports.handler = async (event, context) => {
  const deadline = Date.now() + BUDGET_MS;
  const config = settings();
  const where = {
    aws_account_id: String((context && context.invokedFunctionArn) || '').split(':')[4] || '',
    region: event.region,
    user_pool_id: event.userPoolId,
  };
  if (event.request.userNotFound === true) throw new Error('Unknown user');
  await withSecret(config, event.region, deadline);
  if (event.userPoolId !== config.userPoolId) return refuse(config, where, 'user_pool_not_in_stack', deadline);
  if (PHONE_NUMBER.test(event.userName)) return refuse(config, where, 'phone_number_user_name', deadline);
  if (await poolIsCaseSensitive(event.userPoolId, event.region, deadline)) {
    return refuse(config, where, 'case_sensitive_user_pool', deadline);
  }
  const appClientId = (event.callerContext || {}).clientId;
  const bypass = appClientId ? await appClientBypass(event.userPoolId, appClientId, event.region, deadline) : null;
  const { url, secret } = await push(config, event, where, bypass, deadline);
  event.response = event.response || {};
  event.response.publicChallengeParameters = { url };
  event.response.privateChallengeParameters = secret;
  event.response.challengeMetadata = 'BIOPASS';
  console.log(JSON.stringify({ trigger: 'create', userPoolId: event.userPoolId, pushed: true }));
  return event;
};

exports.signInWithoutBiopass = signInWithoutBiopass;
