// Test doubles for the trigger unit tests: a fake Biopass issuer (PAR, token, JWKS,
// Cognito event reports) that signs real ES256 ID tokens with node's crypto, and fake
// Cognito DescribeUserPool and DescribeUserPoolClient endpoints and a fake Secrets Manager
// GetSecretValue on the same server. Biopass's endpoints check the client secret as the real
// ones do (401 invalid_client). Every request is recorded.
// Trigger events are built from the AWS developer guide's documented shapes.
import { createServer } from 'node:http';
import { generateKeyPairSync, sign, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const define = require('../triggers/define.js');
export const create = require('../triggers/create.js');
export const verify = require('../triggers/verify.js');
export const aws = require('../triggers/aws.js');

/** The triggers as a new function instance loads them: nothing kept from earlier calls. */
export function newInstance() {
  for (const name of ['aws', 'create', 'verify']) delete require.cache[require.resolve(`../triggers/${name}.js`)];
  return { create: require('../triggers/create.js'), verify: require('../triggers/verify.js') };
}

export const CLIENT_ID = 'AbCdEfGhIjKlMnOpQrStUv';
export const CLIENT_SECRET = 'se cr+et/with:odd&chars';
export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ClientSecretValue-AbCdEf';
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const POOL = 'eu-west-1_Example1';
export const APP_CLIENT = '1example23456789';
/** An app client as the deployment guide asks for it: custom authentication only. */
export const CUSTOM_ONLY = { ExplicitAuthFlows: ['ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] };
export const CALLBACK = 'https://app.example.com/callback';

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A JWS signed by `key` (a private KeyObject): RS256 when the header says so, else ES256. */
export function jws(header, claims, key) {
  const input = `${b64(header)}.${b64(claims)}`;
  const options = header.alg === 'RS256' ? { key } : { key, dsaEncoding: 'ieee-p1363' };
  const signature = sign('sha256', Buffer.from(input), options);
  return `${input}.${signature.toString('base64url')}`;
}

export const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const newRsaKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

/** RFC 6749 2.3.1 as a server reads it: base64, then each part form-decoded. */
function authenticated(header, secret) {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header || '');
  if (!m) return false;
  const pair = Buffer.from(m[1], 'base64').toString('utf8');
  const at = pair.indexOf(':');
  const decode = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
  return at > 0 && decode(pair.slice(0, at)) === CLIENT_ID && decode(pair.slice(at + 1)) === secret;
}

export async function startFakeIssuer() {
  const { privateKey, publicKey } = newKey();
  const kid = 'key-1';
  // The RSA key of the same generation, for applications that take RS256 ID tokens.
  const rsa = newRsaKey();
  const rsaKid = 'rsa-1';
  const fake = {
    requests: [],
    /** Per path: 'hang' never answers; a function (request) -> [status, json] (or a promise of it) overrides. */
    mode: {},
    /** userPoolId -> UsernameConfiguration (null: the pool has none). */
    pools: new Map(),
    /** `${userPoolId}/${clientId}` -> UserPoolClientType fields (missing: not found). */
    clients: new Map(),
    /** code -> { claims, header, key } of the ID token it redeems for. */
    codes: new Map(),
    /** The client secret Biopass accepts, and secret ARN -> SecretString in Secrets Manager. */
    clientSecret: CLIENT_SECRET,
    secrets: new Map([[SECRET_ARN, CLIENT_SECRET]]),
    kid,
    privateKey,
    rsaKid,
    rsaPrivateKey: rsa.privateKey,
  };
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const path = new URL(req.url, 'http://x').pathname;
    const record = { method: req.method, path, headers: req.headers, body };
    fake.requests.push(record);
    const send = (status, json) => {
      res.writeHead(status, json === undefined ? {} : { 'content-type': 'application/json' });
      res.end(json === undefined ? '' : JSON.stringify(json));
    };
    const mode = fake.mode[path];
    if (mode === 'hang') return; // keeps the socket open until the caller gives up
    if (typeof mode === 'function') return send(...(await mode(record)));
    const biopass = ['/par', '/token', '/cognito/events'].includes(path);
    if (biopass && !authenticated(req.headers.authorization, fake.clientSecret)) {
      return send(401, { error: 'invalid_client', error_description: 'client authentication failed' });
    }
    if (req.method === 'POST' && path === '/par') {
      return send(201, { request_uri: `urn:ietf:params:oauth:request_uri:${randomBytes(8).toString('hex')}`, expires_in: 60 });
    }
    if (req.method === 'POST' && path === '/cognito/events') return send(204);
    if (req.method === 'GET' && path === '/.well-known/jwks.json') {
      return send(200, { keys: [
        { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' },
        { ...rsa.publicKey.export({ format: 'jwk' }), kid: rsaKid, use: 'sig', alg: 'RS256' },
      ] });
    }
    if (req.method === 'POST' && path === '/token') {
      const params = new URLSearchParams(body);
      const grant = fake.codes.get(params.get('code'));
      if (!grant) return send(400, { error: 'invalid_grant', error_description: 'the authorization code is invalid' });
      fake.codes.delete(params.get('code'));
      return send(200, {
        access_token: 'at', token_type: 'Bearer', expires_in: 300,
        id_token: jws({ alg: 'ES256', typ: 'JWT', kid, ...grant.header }, grant.claims, grant.key || privateKey),
      });
    }
    if (req.method === 'POST' && path === '/' && req.headers['x-amz-target'] === 'AWSCognitoIdentityProviderService.DescribeUserPoolClient') {
      const { UserPoolId, ClientId } = JSON.parse(body);
      const client = fake.clients.get(`${UserPoolId}/${ClientId}`);
      if (!client) return send(400, { __type: 'ResourceNotFoundException', message: 'User pool client does not exist.' });
      return send(200, { UserPoolClient: { UserPoolId, ClientId, ClientName: 'app', ...client } });
    }
    if (req.method === 'POST' && path === '/' && req.headers['x-amz-target'] === 'AWSCognitoIdentityProviderService.DescribeUserPool') {
      const { UserPoolId } = JSON.parse(body);
      if (!fake.pools.has(UserPoolId)) return send(400, { __type: 'ResourceNotFoundException', message: 'User pool does not exist.' });
      const config = fake.pools.get(UserPoolId);
      return send(200, { UserPool: { Id: UserPoolId, ...(config === null ? {} : { UsernameConfiguration: config }) } });
    }
    if (req.method === 'POST' && path === '/' && req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue') {
      const { SecretId } = JSON.parse(body);
      if (!fake.secrets.has(SecretId)) return send(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      return send(200, { ARN: SecretId, Name: 'ClientSecretValue', SecretString: fake.secrets.get(SecretId), VersionId: 'v1' });
    }
    send(404, { error: 'not_found' });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${server.address().port}`;
  fake.of = (path) => fake.requests.filter((r) => r.path === path);
  /** The Cognito API calls of one operation. */
  fake.aws = (operation) => fake.of('/').filter((r) => r.headers['x-amz-target'] === `AWSCognitoIdentityProviderService.${operation}`);
  /** The Secrets Manager reads. */
  fake.secretReads = () => fake.of('/').filter((r) => r.headers['x-amz-target'] === 'secretsmanager.GetSecretValue');
  /** Rotates the client secret: Biopass takes only `value`; Secrets Manager holds it only when `stored`. */
  fake.rotate = (value, { stored = true } = {}) => {
    fake.clientSecret = value;
    if (stored) fake.secrets.set(SECRET_ARN, value);
  };
  /** A code that redeems for an ID token with these claims (defaults: all correct). */
  /** The claims of a correct ID token for `nonce`, with `overrides`. */
  fake.claims = (nonce, overrides = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: fake.url, sub: 'u1', aud: CLIENT_ID, azp: CLIENT_ID, iat: now, exp: now + 300, auth_time: now, nonce, preferred_username: 'ada@example.com', ...overrides };
  };
  fake.issue = (nonce, claims = {}, { header = {}, key } = {}) => {
    const code = randomBytes(16).toString('base64url');
    fake.codes.set(code, { claims: fake.claims(nonce, claims), header, key });
    return code;
  };
  fake.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
  return fake;
}

/** The environment the stack gives the functions, pointed at the fake. */
export function useFake(fake) {
  Object.assign(process.env, {
    ClientId: CLIENT_ID,
    Issuer: fake.url,
    ClientSecretArn: SECRET_ARN,
    UserPoolId: POOL,
    AWS_ENDPOINT_URL: fake.url,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    AWS_SESSION_TOKEN: 'test-session-token',
  });
}

/** What the Lambda runtime passes as context. */
export const context = {
  functionName: 'biopass-abc-create',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:biopass-abc-create`,
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  getRemainingTimeInMillis: () => 5000,
};

// The common parameters of every user pool trigger event (developer guide, "Working with
// Lambda triggers"), then each trigger's request and response.
function common(triggerSource, userName) {
  return {
    version: '1',
    triggerSource,
    region: REGION,
    userPoolId: POOL,
    userName,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: APP_CLIENT },
  };
}

const attributes = { sub: '2b8e4f1a-6c1d-4c6e-9a3b-0c5d7e9f1a2b', 'cognito:user_status': 'CONFIRMED', email: 'ada@example.com', email_verified: 'true' };

export const SRP_A = { challengeName: 'SRP_A', challengeResult: true, challengeMetadata: null };
export const PASSWORD_OK = { challengeName: 'PASSWORD_VERIFIER', challengeResult: true, challengeMetadata: null };
export const PASSWORD_WRONG = { challengeName: 'PASSWORD_VERIFIER', challengeResult: false, challengeMetadata: null };
export const custom = (ok) => ({ challengeName: 'CUSTOM_CHALLENGE', challengeResult: ok, challengeMetadata: 'BIOPASS' });

export function defineEvent(session, { userNotFound = false, userName = 'Ada@Example.com' } = {}) {
  return {
    ...common('DefineAuthChallenge_Authentication', userName),
    request: { userAttributes: attributes, session, clientMetadata: { redirect_uri: CALLBACK }, userNotFound },
    response: { challengeName: null, issueTokens: false, failAuthentication: false },
  };
}

export function createEvent({ userName = 'Ada@Example.com', userPoolId = POOL, appClientId = APP_CLIENT, clientMetadata = { redirect_uri: CALLBACK }, userNotFound = false } = {}) {
  const base = common('CreateAuthChallenge_Authentication', userName);
  return {
    ...base,
    callerContext: { ...base.callerContext, clientId: appClientId },
    userPoolId,
    request: { userAttributes: attributes, challengeName: 'CUSTOM_CHALLENGE', session: [SRP_A, PASSWORD_OK], clientMetadata, userNotFound },
    response: { publicChallengeParameters: null, privateChallengeParameters: null, challengeMetadata: null },
  };
}

export function verifyEvent(answer, privateChallengeParameters, { userName = 'Ada@Example.com' } = {}) {
  return {
    ...common('VerifyAuthChallengeResponse_Authentication', userName),
    request: {
      userAttributes: attributes,
      privateChallengeParameters,
      challengeAnswer: answer,
      clientMetadata: { redirect_uri: CALLBACK },
      userNotFound: false,
    },
    response: { answerCorrect: null },
  };
}

/** Everything the functions print with console.log during `fn`. */
export async function captureLogs(fn) {
  const lines = [];
  const original = console.log;
  console.log = (...args) => lines.push(args.join(' '));
  try {
    return { result: await fn(), logs: lines };
  } catch (error) {
    return { error, logs: lines };
  } finally {
    console.log = original;
  }
}
