// What a company's web app built on Amplify v6 does to sign in through Amazon Cognito with
// Biopass as the second factor:
//   1. signIn with CUSTOM_WITH_SRP and ClientMetadata {redirect_uri}: Cognito checks the
//      password (SRP), then the custom challenge arrives with the Biopass URL;
//   2. Biopass runs in a window of its own (a popup), so this page, and the sign-in state
//      Amplify keeps in memory, stay loaded however long the user takes. Amplify also keeps
//      that state in sessionStorage, but only for 3 minutes, and reads it back only when a
//      page loads: a full-page trip to Biopass longer than that (a first enrolment often is)
//      comes back to "signIn was not called before confirmSignIn";
//   3. Biopass sends the popup to /callback?code=..., which hands the query to this page
//      (postMessage, same origin only) and closes; this page answers the challenge with
//      confirmSignIn (the same ClientMetadata) and Cognito issues its tokens.
// Where popups are blocked, the page offers a button that opens the window (a click is
// what browsers allow popups for).
import { Amplify } from 'aws-amplify';
import { signIn, confirmSignIn, fetchAuthSession, signOut } from 'aws-amplify/auth';
import { config, el, passwordForm, show, showError, showTokens } from '../../lib/page.js';

const MESSAGE = 'biopass-callback';
const WINDOW = 'popup,width=480,height=760';

/** The popup's part: hand the callback's query to the page that opened it, then close. */
function callback() {
  if (!window.opener) {
    return showError('This page belongs to a sign-in window that is gone. Start again from the app.');
  }
  window.opener.postMessage({ type: MESSAGE, search: window.location.search }, window.location.origin);
  show(el('p', { role: 'status' }, 'Signed in with Biopass. You can close this window.'));
  window.close();
}

/** Resolves with the callback's query from `popup`; rejects when the window is closed first. */
function callbackFrom(popup) {
  return new Promise((resolve, reject) => {
    const done = () => {
      window.removeEventListener('message', onMessage);
      clearInterval(watch);
    };
    const onMessage = (event) => {
      if (event.origin !== window.location.origin || event.source !== popup || event.data?.type !== MESSAGE) return;
      done();
      resolve(new URLSearchParams(event.data.search));
    };
    const watch = setInterval(() => {
      if (popup.closed) {
        done();
        reject(new Error('The Biopass window was closed before the sign-in finished.'));
      }
    }, 500);
    window.addEventListener('message', onMessage);
  });
}

/** Opens Biopass at `url` in `popup` (or, if it was blocked, in one the user opens with a click). */
async function biopassWindow(popup, url, status) {
  if (popup && !popup.closed) {
    popup.location.assign(url);
    return popup;
  }
  return new Promise((resolve) => {
    const open = el('button', { type: 'button', id: 'open-biopass' }, 'Open the Biopass window');
    open.addEventListener('click', () => {
      const opened = window.open(url, 'biopass', WINDOW);
      if (opened) resolve(opened);
    });
    status.replaceChildren('Your browser blocked the Biopass window. ', open);
  });
}

async function finish(cfg, params) {
  if (params.get('error')) {
    throw new Error(`Biopass did not sign you in: ${params.get('error_description') || params.get('error')}.`);
  }
  const code = params.get('code');
  if (!code) throw new Error('Biopass sent no code back.');
  const result = await confirmSignIn({ challengeResponse: code, options: { clientMetadata: { redirect_uri: cfg.redirectUri } } });
  if (!result.isSignedIn) throw new Error('Biopass could not confirm this sign-in; no tokens were issued.');
  const { tokens } = await fetchAuthSession();
  showTokens(tokens.idToken.toString(), tokens.accessToken.toString());
}

function signInForm(cfg) {
  const { form, status } = passwordForm();
  const fail = (message) => show(form, status, el('p', { role: 'alert' }, message));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // Opened now, within the click, so that the browser allows it; Biopass's URL follows.
    let popup = window.open('', 'biopass', WINDOW);
    status.textContent = 'Checking your password...';
    try {
      // A sign-in left unfinished (another tab, an earlier try) would make signIn refuse.
      await signOut().catch(() => {});
      const { nextStep } = await signIn({
        username: form.username.value.trim(),
        password: form.password.value,
        options: { authFlowType: 'CUSTOM_WITH_SRP', clientMetadata: { redirect_uri: cfg.redirectUri } },
      });
      if (nextStep.signInStep === 'DONE') {
        throw new Error('Cognito issued tokens without the Biopass step: the user pool triggers are not attached.');
      }
      const url = nextStep.additionalInfo?.url;
      if (nextStep.signInStep !== 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE' || !url) {
        throw new Error('The sign-in challenge did not come from Biopass.');
      }
      status.textContent = 'Continue in the Biopass window...';
      popup = await biopassWindow(popup, url, status);
      const params = await callbackFrom(popup);
      show(el('p', { role: 'status' }, 'Finishing sign-in...'));
      await finish(cfg, params);
    } catch (err) {
      if (popup && !popup.closed) popup.close();
      status.textContent = '';
      fail(err.message || String(err));
    }
  });
  show(form, status);
}

config()
  .then((cfg) => {
    Amplify.configure({
      Auth: { Cognito: { userPoolId: cfg.userPoolId, userPoolClientId: cfg.clientId, ...(cfg.endpoint ? { userPoolEndpoint: cfg.endpoint } : {}) } },
    });
    return window.location.pathname === '/callback' ? callback() : signInForm(cfg);
  })
  .catch((e) => showError(e.message, false));
