// Biopass edge - what the Create and Verify triggers share: signed AWS API calls (JSON 1.1,
// Signature Version 4, with the function's own role) and the application's client secret,
// read from AWS Secrets Manager. The template inlines this file into each function, so the
// stack stays one file with no dependency to install. The secret is never logged.
'use strict';

const crypto = require('node:crypto');

// How long a function instance keeps the secret it read. A rotated secret (update-stack
// after "Rotate secret") reaches running instances within this time, and at once when
// Biopass refuses the old one: the callers read it again and retry (`clientSecret(..., true)`).
const SECRET_TTL_MS = 5 * 60 * 1000;
const secrets = new Map(); // secret ARN -> { at, value }

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const uriEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

/** AWS Signature Version 4: the headers to add to a request. */
function sigv4({ method, url, headers, body, region, service, accessKeyId, secretAccessKey, sessionToken, now = new Date() }) {
  const u = new URL(url);
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const all = { ...headers, host: u.host, 'x-amz-date': amzDate };
  if (sessionToken) all['x-amz-security-token'] = sessionToken;
  const names = Object.keys(all).map((k) => k.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), String(v).trim()]));
  const query = [...u.searchParams].map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).sort().join('&');
  const canonical = [method, u.pathname || '/', query, names.map((n) => `${n}:${lower[n]}\n`).join(''), names.join(';'), sha256(body || '')].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secretAccessKey, day), region), service), 'aws4_request');
  const signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  const out = { 'x-amz-date': amzDate };
  if (sessionToken) out['x-amz-security-token'] = sessionToken;
  out.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return out;
}

/**
 * A signed JSON 1.1 call to an AWS API (`service`: its endpoint's name and signing name;
 * `target`: the X-Amz-Target header), within what is left of `deadline`. Answers { ok, status, type, body }; throws
 * `fail(message)` when the API cannot be reached in time.
 */
async function awsCall({ service, target, payload, region, deadline, fail }) {
  const url = process.env.AWS_ENDPOINT_URL || `https://${service}.${region}.amazonaws.com/`;
  const body = JSON.stringify(payload);
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target };
  const signed = sigv4({
    method: 'POST', url, headers, body, region, service,
    accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    sessionToken: process.env.AWS_SESSION_TOKEN,
  });
  const left = deadline - Date.now();
  if (left <= 0) throw fail(`${service} did not answer in time`);
  let r;
  try {
    r = await fetch(url, { method: 'POST', headers: { ...headers, ...signed }, body, signal: AbortSignal.timeout(left) });
  } catch (e) {
    const timedOut = e && (e.name === 'TimeoutError' || e.name === 'AbortError');
    throw fail(timedOut ? `${service} did not answer in time` : `${service} could not be reached`);
  }
  const answer = await r.json().catch(() => ({}));
  return { ok: r.ok, status: r.status, type: String(answer.__type || r.status).split('#').pop(), body: answer };
}

/**
 * The application's client secret: the SecretString of the Secrets Manager secret the
 * stack names in `ClientSecretArn`, kept for SECRET_TTL_MS; `fresh` reads it again.
 */
async function clientSecret(arn, region, deadline, fail, fresh = false) {
  const kept = secrets.get(arn);
  if (!fresh && kept && Date.now() - kept.at < SECRET_TTL_MS) return kept.value;
  const r = await awsCall({
    service: 'secretsmanager', target: 'secretsmanager.GetSecretValue',
    payload: { SecretId: arn }, region, deadline, fail,
  });
  if (!r.ok || typeof r.body.SecretString !== 'string' || !r.body.SecretString) {
    throw fail(`Biopass could not read its client secret from AWS Secrets Manager (${r.ok ? 'no SecretString' : r.type}); check the stack's IAM role`);
  }
  secrets.set(arn, { at: Date.now(), value: r.body.SecretString });
  return r.body.SecretString;
}

module.exports = { sigv4, awsCall, clientSecret, SECRET_TTL_MS };
