// Drives a login transaction through the login API the way the SPA does, with a cookie
// jar, and answers with TOTP codes computed like an authenticator app.
import { base32Decode, hotp, step } from './totp.mjs';

export class Browser {
  constructor(base) {
    this.base = base;
    this.cookies = new Map();
  }
  async fetch(url, opts = {}) {
    const headers = new Headers(opts.headers || {});
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(new URL(url, this.base), { ...opts, headers, redirect: 'manual' });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return r;
  }
  async json(method, url, body) {
    const r = await this.fetch(url, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  }
}

/** An end user and their authenticator app. */
export class Account {
  constructor(username) {
    this.username = username;
    this.seed = null;
    this.lastStep = -1;
  }
  /** A code for a step not used yet (the current one, or the next, which drift allows). */
  async nextCode() {
    for (;;) {
      const now = step();
      const s = Math.max(now, this.lastStep + 1);
      if (s <= now + 1) {
        this.lastStep = s;
        return hotp(this.seed, s);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * A pushed authorization request (RFC 9126) of `app` (a confidential client: `client_id`,
 * `secret`) for `username`, as the Cognito stack makes one: its `request_uri`.
 */
export async function pushRequest(base, app, username, challenge, redirectUri = 'https://rp.example.com/callback') {
  const r = await fetch(`${base}/par`, {
    method: 'POST',
    headers: { authorization: 'Basic ' + Buffer.from(`${app.client_id}:${app.secret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: redirectUri, scope: 'openid', login_hint: username, code_challenge: challenge, code_challenge_method: 'S256' }),
  });
  if (r.status !== 201) throw new Error(`PAR: ${r.status} ${await r.text()}`);
  return (await r.json()).request_uri;
}

/** The authorize URL that starts the sign-in of a pushed request. */
export function authorizeUrl(base, app, requestUri) {
  return `${base}/authorize?${new URLSearchParams({ client_id: app.client_id, request_uri: requestUri })}`;
}

/** Starts a login at authUrl; returns { browser, tx } once the SPA route is reached. */
export async function startLogin(base, authUrl, browser = new Browser(base)) {
  const r = await browser.fetch(authUrl);
  const location = r.headers.get('location');
  if (r.status !== 302 || !location?.startsWith('/login?tx=')) {
    throw new Error(`authorize did not start a login: ${r.status} ${location} ${await r.text()}`);
  }
  return { browser, tx: new URL(location, base).searchParams.get('tx') };
}

/**
 * The answer to a first enrolment is the person's new recovery codes, shown once: keeps
 * them on `account` (`recoveryCodes`) and finishes the sign-in as the page's Continue does.
 * Any other answer is returned as it is.
 */
export async function savedCodes(browser, tx, answer, account = {}) {
  if (answer.status !== 200 || answer.body.step !== 'recovery_codes') return answer;
  if (answer.body.codes?.length !== 10) throw new Error(`recovery codes: ${JSON.stringify(answer.body)}`);
  account.recoveryCodes = answer.body.codes;
  return browser.json('POST', `/api/login/${tx}/skip`);
}

/** Completes a login with TOTP (enrolling first if needed); returns the callback URL. */
export async function loginWithTotp(base, authUrl, account, browser) {
  const { browser: b, tx } = await startLogin(base, authUrl, browser);
  const state = await b.json('GET', `/api/login/${tx}`);
  if (state.status !== 200) throw new Error(`login state: ${JSON.stringify(state.body)}`);
  let done;
  if (state.body.step === 'enrol') {
    const enrol = await b.json('POST', `/api/login/${tx}/totp/enrol`);
    if (enrol.status !== 200) throw new Error(`enrol: ${JSON.stringify(enrol.body)}`);
    account.seed = base32Decode(enrol.body.secret);
    account.lastStep = -1;
    done = await b.json('POST', `/api/login/${tx}/totp/enrol/confirm`, { code: await account.nextCode() });
    done = await savedCodes(b, tx, done, account);
  } else if (state.body.step === 'authenticate') {
    done = await b.json('POST', `/api/login/${tx}/totp`, { code: await account.nextCode() });
  } else {
    throw new Error(`unexpected step ${JSON.stringify(state.body)}`);
  }
  if (done.status !== 200) throw new Error(`login failed: ${done.status} ${JSON.stringify(done.body)}`);
  return done.body.redirect_to;
}
