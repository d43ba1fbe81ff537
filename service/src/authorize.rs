//! The authorization endpoint's decision (RFC 6749 4.1.1, RFC 9126 4), once the edge worker
//! has read the parameters: the application, the request (pushed, or plain where the
//! application allows it), who signs in (found, or registered when the request was vouched
//! for), and a new login transaction bound to the browser, or the error to send back.

use crate::context::Context;
use crate::http::Failure;
use crate::oauth::{invalid_request_uri, misused, resolve, spend, start_pushed_transaction, start_transaction, OneTimeError, Resolved};
use crate::records::Records;
use crate::store::{both, OneTime};
use crate::users::{named_and_disabled, settle_user};
use biopass_idp::application::ApplicationRecord;
use biopass_idp::authorize::{self, AuthorizeError, ClientView, Params};
use biopass_idp::error::{OAuthError, OAuthErrorCode};
use biopass_idp::random::Entropy;
use biopass_idp::transaction::LoginTransaction;

/// Where `/authorize` sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorized {
    /// To the login page of transaction `tx_id`, bound to `browser` (its cookie).
    Login { tx_id: String, browser: String },
    /// Back to the application's redirect URI with an error (RFC 6749 4.1.2.1).
    Back(String),
}

/// What the protocol checks need to know of an application.
pub fn client_view(app: &ApplicationRecord) -> ClientView<'_> {
    ClientView { client_id: app.client_id.as_str(), public: app.is_public(), allowed_callback_urls: &app.allowed_callback_urls }
}

fn page(e: AuthorizeError) -> Failure {
    match e {
        AuthorizeError::Fatal(e) | AuthorizeError::Redirect { error: e, .. } => Failure::Page(e),
    }
}

/// Sends the authorization request back to the application with an error (`to`), spending
/// its pushed request: a request URI is spent by its first use, whether a sign-in starts or
/// not, and a later use gets the error page of a spent one.
async fn ended<V: OneTime>(vault: &V, now: u64, resolved: Option<&Resolved>, to: Authorized) -> Result<Authorized, Failure> {
    if let Some(r) = resolved {
        if !spend(vault, now, r).await? {
            return Err(Failure::Page(invalid_request_uri()));
        }
    }
    Ok(to)
}

/// Decides an authorization request: `params` as sent, `request_uri` its PAR reference (if
/// any), `browser` the browser's binding cookie (a new one when it has none).
///
/// # Errors
/// An error page (never a redirect) for an unknown client, a bad redirect URI or a bad or
/// spent request URI; internal when a store fails.
pub async fn authorize<V: OneTime, R: Records>(
    cx: &mut Context<V, R>,
    params: &Params,
    request_uri: Option<&str>,
    browser: Option<String>,
) -> Result<Authorized, Failure> {
    let client_id = authorize::client_id(params).map_err(page)?;
    let app = cx
        .records
        .application(&client_id)
        .await?
        .ok_or_else(|| Failure::Page(OAuthError::new(OAuthErrorCode::InvalidClient, "this application is not known to Biopass (unknown client_id)")))?;
    let back = |uri: &str, state: Option<&str>, e: &OAuthError, issuer: &str| Authorized::Back(authorize::error_redirect(uri, state, e, issuer));
    let (request, may_enrol, resolved) = match request_uri {
        Some(uri) => {
            let resolved = match resolve(&cx.vault, &cx.master, cx.now, app.client_id.as_str(), uri).await {
                Ok(p) => p,
                Err(OneTimeError::Misused(e)) => {
                    misused(cx, "authorize.request_uri_misused", app.client_id.as_str(), &e, None).await;
                    return Err(Failure::Page(e));
                }
                Err(e) => return Err(Failure::Page(e.refusal()?)),
            };
            (resolved.pushed.request.clone(), resolved.pushed.authenticated, Some(resolved))
        }
        None => match authorize::validate(params, &client_view(&app), false) {
            Ok(r) if app.require_pushed_authorization_requests => {
                // RFC 9126 section 6: only the application's stack (after Cognito checked
                // the password) starts sign-ins, so a user name alone starts nothing here.
                let e = OAuthError::invalid_request(
                    "this application accepts only pushed authorization requests (RFC 9126): start the sign-in from the application",
                );
                return Ok(back(&r.redirect_uri, r.state.as_deref(), &e, &cx.issuer));
            }
            Ok(r) => (r, false, None),
            Err(AuthorizeError::Fatal(e)) => return Err(Failure::Page(e)),
            Err(AuthorizeError::Redirect { redirect_uri, state, error }) => return Ok(back(&redirect_uri, state.as_deref(), &error, &cx.issuer)),
        },
    };
    let Some(username) = request.login_hint.clone() else {
        let e = OAuthError::new(OAuthErrorCode::LoginRequired, "the request does not say who is signing in (login_hint is required)");
        return ended(&cx.vault, cx.now, resolved.as_ref(), back(&request.redirect_uri, request.state.as_deref(), &e, &cx.issuer)).await;
    };
    let browser = browser.filter(|c| c.len() == 43).unwrap_or_else(|| cx.rng.token::<32>());
    let tx = LoginTransaction::new(request, app.name.clone(), app.group_id.clone(), app.acceptable_authenticators.clone(), &browser, may_enrol, cx.now)
        .with_face_assurance(app.face_assurance)
        .with_logo(app.logo.as_ref().map(|l| l.url(app.client_id.as_str())));
    // A pushed request is spent before anything is written for it (a sealed one resolves
    // without the Vault), so a replay of it changes nothing: registers nobody, joins no group.
    // Meanwhile a vouched-for sign-in reads its user's record and status.
    let pool = tx.request.cognito.as_ref();
    let (vault, records, rng, now) = (&cx.vault, &cx.records, &mut cx.rng, cx.now);
    let (pushed, starts, name) = (resolved.as_ref(), &tx, &username);
    let spend = async move {
        match pushed {
            Some(r) => start_pushed_transaction(vault, rng, now, r, starts).await.map(Some),
            None => Ok(None),
        }
    };
    let look_up = async move {
        match may_enrol {
            true => named_and_disabled(records, vault, now, pool, name).await.map(Some),
            false => Ok(None),
        }
    };
    let (spent, found) = both(spend, look_up).await;
    let pushed_tx = match spent? {
        Some(started) => Some(started.ok_or_else(|| Failure::Page(invalid_request_uri()))?),
        None => None,
    };
    // Only a sign-in someone vouched for says at once that the account is disabled; in any
    // other, that is said once the person proved who they are (`crate::login`). The
    // transaction a disabled user's request started is never named to the browser, and
    // expires unused.
    let disabled = match found? {
        // Vouched for: the user found joins the application's group, or one is registered
        // (by this sign-in or a concurrent one, whose status is read then).
        Some(found) => {
            let known = found.as_ref().map(|(_, disabled)| *disabled);
            match (known, settle_user(cx, found.map(|(user, _)| user), &username, pool, &app, may_enrol).await?) {
                (Some(disabled), _) => disabled,
                (None, Some(registered)) => cx.is_disabled(&registered).await?,
                (None, None) => false,
            }
        }
        // Nobody vouched for it: nothing is looked up or said about the account here.
        None => false,
    };
    if disabled {
        let e = OAuthError::new(OAuthErrorCode::AccessDenied, "this account is disabled");
        return Ok(back(&tx.request.redirect_uri, tx.request.state.as_deref(), &e, &cx.issuer));
    }
    let tx_id = match pushed_tx {
        Some(id) => id,
        None => start_transaction(&cx.vault, &mut cx.rng, cx.now, &tx).await?,
    };
    Ok(Authorized::Login { tx_id, browser })
}
