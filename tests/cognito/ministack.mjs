// ministack (PyPI, a local AWS emulator) for the Cognito end-to-end test: started from the
// set-up's venv on a free port for one test file, and driven with the AWS wire protocols
// over fetch (Cognito: JSON 1.1; CloudFormation: query/XML). Requests carry a SigV4-shaped
// Authorization header because ministack reads the region from its credential scope; it
// does not check signatures.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/worker.mjs';
import { startService } from '../lib/service.mjs';

const VENV = join(process.env.BIOPASS_CACHE || join(homedir(), '.cache', 'biopass'), 'venv');

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

export async function startMinistack() {
  const python = join(VENV, 'bin', 'python');
  if (!existsSync(python)) throw new Error(`no venv at ${VENV}: run scripts/setup.sh`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = await startService('ministack', python, ['-m', 'ministack'], {
    env: {
      ...process.env,
      BIND_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      IOT_MTLS_ENABLED: '0',
      SFTP_ENABLED: '0',
      // Unsigned calls (the browser's InitiateAuth) land in this account and region too.
      MINISTACK_ACCOUNT_ID: ACCOUNT,
      MINISTACK_REGION: REGION,
    },
    healthUrl: `${url}/_ministack/health`,
  });
  return { url, output: service.output, stop: service.stop };
}

function authorization(service) {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  return `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/${day}/${REGION}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
}

/** A Cognito user pools API call; throws with the AWS error type and message. */
export async function cognito(aws, operation, body) {
  const r = await fetch(`${aws.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
      authorization: authorization('cognito-idp'),
    },
    body: JSON.stringify(body),
  });
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${operation}: ${r.status} ${answer.__type || ''} ${answer.message || ''}`);
  return answer;
}

/** Flattens { a: [x, y] } into the query protocol's a.member.1=x&a.member.2=y. */
function queryParams(action, params) {
  const form = new URLSearchParams({ Action: action, Version: '2010-05-15' });
  for (const [key, value] of Object.entries(params)) {
    if (!Array.isArray(value)) { form.set(key, value); continue; }
    value.forEach((item, i) => {
      if (typeof item !== 'object') { form.set(`${key}.member.${i + 1}`, item); return; }
      for (const [k, v] of Object.entries(item)) form.set(`${key}.member.${i + 1}.${k}`, v);
    });
  }
  return form;
}

/** A CloudFormation API call; returns the XML answer as text. */
export async function cloudformation(aws, action, params = {}) {
  const r = await fetch(`${aws.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: authorization('cloudformation') },
    body: queryParams(action, params).toString(),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${action}: ${r.status} ${text}`);
  return text;
}

/** A function's configuration (Lambda GetFunctionConfiguration). */
export async function lambdaConfiguration(aws, nameOrArn) {
  const r = await fetch(`${aws.url}/2015-03-31/functions/${encodeURIComponent(nameOrArn)}/configuration`, { headers: { authorization: authorization('lambda') } });
  if (!r.ok) throw new Error(`GetFunctionConfiguration: ${r.status} ${await r.text()}`);
  return r.json();
}

/** A secret's current value (Secrets Manager GetSecretValue). */
export async function secretValue(aws, arn) {
  const r = await fetch(`${aws.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue', authorization: authorization('secretsmanager') },
    body: JSON.stringify({ SecretId: arn }),
  });
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`GetSecretValue: ${r.status} ${answer.__type || ''} ${answer.message || ''}`);
  return answer.SecretString;
}

/** The text of every <name> element, in order (enough for the answers read here). */
export function xmlValues(xml, name) {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&'));
}

/** Creates the stack and waits for CREATE_COMPLETE; returns its outputs by key. */
export async function createStack(aws, name, templateBody, parameters) {
  await cloudformation(aws, 'CreateStack', {
    StackName: name,
    TemplateBody: templateBody,
    Capabilities: ['CAPABILITY_IAM'],
    Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
  });
  return settled(aws, name, 'CREATE_COMPLETE');
}

/** Waits until the stack `name` is in `done`; returns its outputs by key. */
async function settled(aws, name, done) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const xml = await cloudformation(aws, 'DescribeStacks', { StackName: name });
    const [status] = xmlValues(xml, 'StackStatus');
    if (status === done) {
      const keys = xmlValues(xml, 'OutputKey');
      const values = xmlValues(xml, 'OutputValue');
      return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    }
    if (!status?.endsWith('IN_PROGRESS') || Date.now() > deadline) {
      const events = await cloudformation(aws, 'DescribeStackEvents', { StackName: name });
      throw new Error(`stack ${name} is ${status}: ${xmlValues(events, 'ResourceStatusReason').join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * UpdateStack with the previous template and `parameters` as the AWS CLI sends them
 * (`[{ ParameterKey, ParameterValue }]` or `[{ ParameterKey, UsePreviousValue: true }]`);
 * waits for UPDATE_COMPLETE.
 */
export async function updateStack(aws, name, parameters) {
  await cloudformation(aws, 'UpdateStack', {
    StackName: name,
    UsePreviousTemplate: 'true',
    Capabilities: ['CAPABILITY_IAM'],
    Parameters: parameters.map(({ ParameterKey, ParameterValue, UsePreviousValue }) => (
      UsePreviousValue ? { ParameterKey, UsePreviousValue: 'true' } : { ParameterKey, ParameterValue })),
  });
  return settled(aws, name, 'UPDATE_COMPLETE');
}
