// What a company's web app does to sign in through Amazon Cognito with Biopass as the
// second factor (amazon-cognito-identity-js, CUSTOM_AUTH with SRP):
//   1. user name and password -> Cognito checks the password (SRP), then the custom
//      challenge arrives with the Biopass URL; save the Cognito session and follow it;
//   2. Biopass authenticates the user and sends the browser back to /callback?code=...;
//   3. answer the custom challenge with the code; Cognito issues its tokens.
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';
import { config, el, passwordForm, show, showError, showTokens } from '../../lib/page.js';

const PENDING = 'biopass-example:pending';

function pool(cfg) {
  return new CognitoUserPool({ UserPoolId: cfg.userPoolId, ClientId: cfg.clientId, endpoint: cfg.endpoint || undefined });
}

/** Saves what the callback needs, then sends the browser to Biopass. */
function followChallenge(user, username, parameters) {
  if (!parameters || !parameters.url) return showError('The sign-in challenge did not come from Biopass.');
  sessionStorage.setItem(PENDING, JSON.stringify({ username, session: user.Session }));
  show(el('p', {}, 'Continuing to Biopass...'));
  window.location.assign(parameters.url);
}

function signInForm(cfg) {
  const { form, status } = passwordForm();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const username = form.username.value.trim();
    const user = new CognitoUser({ Username: username, Pool: pool(cfg) });
    user.setAuthenticationFlowType('CUSTOM_AUTH');
    const details = new AuthenticationDetails({
      Username: username,
      Password: form.password.value,
      ClientMetadata: { redirect_uri: cfg.redirectUri },
    });
    status.textContent = 'Checking your password...';
    user.authenticateUser(details, {
      customChallenge: (parameters) => followChallenge(user, username, parameters),
      onSuccess: () => showError('Cognito issued tokens without the Biopass step: the user pool triggers are not attached.'),
      onFailure: (err) => {
        status.textContent = '';
        show(form, status, el('p', { role: 'alert' }, err.message || String(err)));
      },
    });
  });
  show(form, status);
}

/** Back from Biopass: answer the custom challenge with the code. */
function callback(cfg) {
  const params = new URLSearchParams(window.location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, '', '/callback');
  if (params.get('error')) {
    return showError(`Biopass did not sign you in: ${params.get('error_description') || params.get('error')}.`);
  }
  const code = params.get('code');
  if (!code) return showError('Biopass sent no code back.');
  if (!pending) return showError('This sign-in was started in another tab or has expired. Start again.');
  const user = new CognitoUser({ Username: pending.username, Pool: pool(cfg) });
  user.setAuthenticationFlowType('CUSTOM_AUTH');
  user.Session = pending.session;
  show(el('p', { role: 'status' }, 'Finishing sign-in...'));
  user.sendCustomChallengeAnswer(code, {
    onSuccess: (session) => showTokens(session.getIdToken().getJwtToken(), session.getAccessToken().getJwtToken()),
    // A wrong answer: Cognito offers a new challenge (up to 3); the user can try again.
    customChallenge: (parameters) => {
      show(
        el('h2', {}, 'Not signed in'),
        el('p', { role: 'alert' }, 'Biopass could not confirm this sign-in; no tokens were issued.'),
        el('button', { type: 'button', id: 'retry' }, 'Try the second step again'),
      );
      document.getElementById('retry').addEventListener('click', () => followChallenge(user, pending.username, parameters));
    },
    onFailure: (err) => showError(`No tokens were issued: ${err.message || err}`),
  }, { redirect_uri: cfg.redirectUri });
}

config()
  .then((cfg) => (window.location.pathname === '/callback' ? callback(cfg) : signInForm(cfg)))
  .catch((e) => showError(e.message, false));
