// What the example apps' pages share: their configuration, building nodes, and showing
// Cognito's tokens or why there are none.

/** The app's configuration from its server (user pool, app client, callback URL). */
export async function config() {
  const r = await fetch('/config.json');
  if (!r.ok) throw new Error('the app has no configuration');
  return r.json();
}

export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
};

const main = () => document.getElementById('app');

export function show(...nodes) {
  main().replaceChildren(...nodes);
}

export function showError(message, retry = true) {
  show(
    el('h2', {}, 'Not signed in'),
    el('p', { role: 'alert' }, message),
    ...(retry ? [el('p', {}, el('a', { href: '/' }, 'Sign in again'))] : []),
  );
}

/** The user name and password form, and the status line beside it. */
export function passwordForm() {
  const form = el('form', { 'aria-label': 'Sign in' },
    el('label', {}, 'User name', el('input', { name: 'username', autocomplete: 'username', required: '' })),
    el('label', {}, 'Password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: '' })),
    el('button', { type: 'submit' }, 'Sign in'));
  return { form, status: el('p', { role: 'status' }) };
}

/** The claims of a JWT (shown, not trusted: the app's server would verify it). */
export function claimsOf(jwt) {
  const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(decodeURIComponent(escape(atob(part))));
}

/** Cognito's ID and access tokens, and the ID token's claims. */
export function showTokens(id, access) {
  const claims = claimsOf(id);
  show(
    el('h2', {}, `Signed in as ${claims['cognito:username'] || claims.sub}`),
    el('p', {}, 'Amazon Cognito issued these tokens after the password and the Biopass step.'),
    el('h3', {}, 'ID token claims'),
    el('pre', { id: 'id-token-claims' }, JSON.stringify(claims, null, 2)),
    el('h3', {}, 'ID token'), el('p', { class: 'token', id: 'id-token' }, id),
    el('h3', {}, 'Access token'), el('p', { class: 'token', id: 'access-token' }, access),
    el('p', {}, el('a', { href: '/' }, 'Sign in again')),
  );
}
