//! Validation of authorization requests (RFC 6749 4.1.1, OpenID Connect Core 3.1.2.1,
//! RFC 7636) and pushed authorization requests (RFC 9126).
//!
//! Errors split in two, as RFC 6749 4.1.2.1 requires: while the client or the redirect URI
//! is not established, the error is shown to the user and never redirected
//! ([`AuthorizeError::Fatal`]); after that, it goes back to the client
//! ([`AuthorizeError::Redirect`]).

use crate::error::{OAuthError, OAuthErrorCode};
use crate::ids::{CallbackUrl, UserName};
use crate::pkce::CodeChallenge;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Parameters of a request, by name. A repeated parameter is an error (RFC 6749 3.1), so
/// the caller gives us each name's values.
pub type Params = BTreeMap<String, Vec<String>>;

/// What the validated request asks for. Stored in the login transaction (and, for PAR,
/// under the `request_uri`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<CodeChallenge>,
    pub scope: Vec<String>,
    #[serde(default)]
    pub login_hint: Option<UserName>,
    /// Cognito context sent by our stack with PAR (user pool, region, account).
    #[serde(default)]
    pub cognito: Option<CognitoContext>,
}

/// Where a Cognito login comes from, as our CreateAuthChallenge trigger reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CognitoContext {
    pub user_pool_id: String,
    pub region: String,
    pub aws_account_id: String,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Show an error page; do not redirect.
    Fatal(OAuthError),
    /// Redirect to the client's `redirect_uri` with this error and `state`.
    Redirect { redirect_uri: String, state: Option<String>, error: OAuthError },
}

/// What the validation needs to know about the client.
pub struct ClientView<'a> {
    pub client_id: &'a str,
    pub public: bool,
    pub allowed_callback_urls: &'a [CallbackUrl],
}

/// The one value of parameter `name` (none when absent or empty).
///
/// # Errors
/// `invalid_request` when it is repeated (RFC 6749 3.1: parameters must not be).
pub fn single<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, OAuthError> {
    match params.get(name).map(Vec::as_slice) {
        None | Some([]) => Ok(None),
        Some([one]) => Ok(Some(one.as_str()).filter(|s| !s.is_empty())),
        Some(_) => Err(OAuthError::invalid_request(format!("{name} is repeated"))),
    }
}

fn bounded(value: Option<&str>, name: &str, max: usize) -> Result<Option<String>, OAuthError> {
    match value {
        Some(v) if v.len() > max => Err(OAuthError::invalid_request(format!("{name} is too long (at most {max} characters)"))),
        Some(v) => Ok(Some(v.to_owned())),
        None => Ok(None),
    }
}

/// The `client_id` of a request, before the client is looked up.
///
/// # Errors
/// `Fatal(invalid_request)` when it is missing or repeated.
pub fn client_id(params: &Params) -> Result<String, AuthorizeError> {
    single(params, "client_id")
        .map_err(AuthorizeError::Fatal)?
        .map(str::to_owned)
        .ok_or_else(|| AuthorizeError::Fatal(OAuthError::invalid_request("client_id is missing")))
}

/// Validates an authorization request (or the body of a pushed one) for `client`.
/// `pushed` is true for PAR bodies, where `request_uri` is not allowed and Cognito context
/// parameters are accepted (they only come from a client-authenticated request).
///
/// # Errors
/// See [`AuthorizeError`].
pub fn validate(params: &Params, client: &ClientView<'_>, pushed: bool) -> Result<AuthorizationRequest, AuthorizeError> {
    let fatal = AuthorizeError::Fatal;
    let redirect_uri = single(params, "redirect_uri").map_err(fatal)?.ok_or_else(|| fatal(OAuthError::invalid_request("redirect_uri is missing")))?;
    if !CallbackUrl::is_allowed(client.allowed_callback_urls, redirect_uri) {
        return Err(fatal(OAuthError::invalid_request("redirect_uri is not one of the application's allowed callback URLs")));
    }
    let state_raw = single(params, "state").ok().flatten();
    let state = bounded(state_raw, "state", 2048).ok().flatten();
    if state_raw.is_some() && state.is_none() {
        // Refused, not dropped: a client that sent a state must get it back or an error.
        return Err(AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: None,
            error: OAuthError::invalid_request("state is too long (at most 2048 characters)"),
        });
    }
    let back = |error: OAuthError| AuthorizeError::Redirect { redirect_uri: redirect_uri.to_owned(), state: state.clone(), error };
    let get = |name: &str| single(params, name).map_err(back);

    if pushed && params.contains_key("request_uri") {
        return Err(back(OAuthError::invalid_request("request_uri is not allowed in a pushed request")));
    }
    if params.contains_key("request") {
        return Err(back(OAuthError::new(OAuthErrorCode::RequestNotSupported, "request objects are not supported")));
    }
    match get("response_type")? {
        Some("code") => {}
        Some(_) => return Err(back(OAuthError::new(OAuthErrorCode::UnsupportedResponseType, "only response_type=code is supported"))),
        None => return Err(back(OAuthError::invalid_request("response_type is missing"))),
    }
    if let Some(mode) = get("response_mode")? {
        if mode != "query" {
            return Err(back(OAuthError::invalid_request("only response_mode=query is supported")));
        }
    }
    let scope: Vec<String> = get("scope")?.unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if !scope.iter().any(|s| s == "openid") {
        return Err(back(OAuthError::new(OAuthErrorCode::InvalidScope, "scope must include openid")));
    }
    let granted: Vec<String> = scope.into_iter().filter(|s| s == "openid" || s == "profile").collect();
    // Core 3.1.2.1: a space-separated set; none alone, or not at all.
    let prompt: Vec<&str> = get("prompt")?.unwrap_or_default().split(' ').filter(|s| !s.is_empty()).collect();
    if prompt.contains(&"none") {
        if prompt.len() > 1 {
            return Err(back(OAuthError::invalid_request("prompt=none cannot be combined with other values")));
        }
        return Err(back(OAuthError::new(OAuthErrorCode::LoginRequired, "this provider always asks the user to authenticate")));
    }
    let code_challenge = match get("code_challenge")? {
        Some(c) => Some(CodeChallenge::parse(c, get("code_challenge_method")?).map_err(back)?),
        None if client.public => return Err(back(OAuthError::invalid_request("PKCE (code_challenge with S256) is required for public clients"))),
        None => None,
    };
    let nonce = bounded(get("nonce")?, "nonce", 512).map_err(back)?;
    let login_hint = match get("login_hint")? {
        Some(hint) => Some(UserName::parse(hint).map_err(|m| back(OAuthError::invalid_request(format!("login_hint: {m}"))))?),
        None => None,
    };
    let cognito = if pushed {
        match (get("cognito_user_pool_id")?, get("cognito_region")?, get("aws_account_id")?) {
            (Some(pool), Some(region), Some(account)) => Some(CognitoContext {
                user_pool_id: bounded(Some(pool), "cognito_user_pool_id", 64).map_err(back)?.unwrap_or_default(),
                region: bounded(Some(region), "cognito_region", 32).map_err(back)?.unwrap_or_default(),
                aws_account_id: bounded(Some(account), "aws_account_id", 16).map_err(back)?.unwrap_or_default(),
            }),
            _ => None,
        }
    } else {
        None
    };
    Ok(AuthorizationRequest {
        client_id: client.client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state,
        nonce,
        code_challenge,
        scope: granted,
        login_hint,
        cognito,
    })
}

/// `redirect_uri` with the parameters appended to its query (RFC 6749 4.1.2), plus `iss`
/// (RFC 9207).
pub fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = redirect_uri.to_owned();
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let query = ser.finish();
    out.push(if redirect_uri.contains('?') { '&' } else { '?' });
    out.push_str(&query);
    out
}

/// The error redirect of [`AuthorizeError::Redirect`].
pub fn error_redirect(redirect_uri: &str, state: Option<&str>, error: &OAuthError, issuer: &str) -> String {
    let mut pairs = vec![("error", error.code.as_str()), ("error_description", error.description.as_str())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", issuer));
    redirect_with(redirect_uri, &pairs)
}

/// The prefix of PAR request URIs (RFC 9126 2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut p = Params::new();
        for (k, v) in pairs {
            p.entry((*k).to_owned()).or_default().push((*v).to_owned());
        }
        p
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("client_id", "c1"),
            ("redirect_uri", "https://app.example/cb"),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", "st"),
            ("nonce", "n1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("login_hint", "Alice"),
        ]
    }

    fn client(public: bool, urls: &[CallbackUrl]) -> ClientView<'_> {
        ClientView { client_id: "c1", public, allowed_callback_urls: urls }
    }

    #[test]
    fn a_good_request() {
        let urls = CallbackUrl::parse_list(&["https://app.example/cb".into()]).unwrap();
        let r = validate(&params(&base()), &client(true, &urls), false).unwrap();
        assert_eq!(r.scope, vec!["openid", "profile"]);
        assert_eq!(r.login_hint.unwrap().as_str(), "alice");
        assert_eq!(r.nonce.as_deref(), Some("n1"));
        assert!(r.cognito.is_none());
    }

    #[test]
    fn bad_redirect_uris_are_never_redirected_to() {
        let urls = CallbackUrl::parse_list(&["https://app.example/cb".into()]).unwrap();
        for uri in ["https://evil.example/cb", "https://app.example/cb/x", ""] {
            let mut p = base();
            p[1] = ("redirect_uri", uri);
            assert!(matches!(validate(&params(&p), &client(true, &urls), false), Err(AuthorizeError::Fatal(_))), "{uri}");
        }
        let mut p = params(&base());
        p.get_mut("redirect_uri").unwrap().push("https://app.example/cb".into());
        assert!(matches!(validate(&p, &client(true, &urls), false), Err(AuthorizeError::Fatal(_))));
    }

    #[test]
    fn errors_after_the_redirect_uri_go_back_with_state() {
        let urls = CallbackUrl::parse_list(&["https://app.example/cb".into()]).unwrap();
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("response_type", "token")], "unsupported_response_type"),
            (vec![("scope", "profile")], "invalid_scope"),
            (vec![("code_challenge_method", "plain")], "invalid_request"),
            (vec![("prompt", "none")], "login_required"),
            (vec![("prompt", "none login")], "invalid_request"),
            (vec![("prompt", "consent none")], "invalid_request"),
            (vec![("request", "eyJhbGciOiJub25lIn0.e30.")], "request_not_supported"),
            (vec![("login_hint", "+14155550100")], "invalid_request"),
        ];
        for (over, code) in cases {
            let mut p = base();
            for (k, v) in &over {
                p.retain(|(n, _)| n != k);
                p.push((k, v));
            }
            match validate(&params(&p), &client(true, &urls), false) {
                Err(AuthorizeError::Redirect { state, error, .. }) => {
                    assert_eq!(error.code.as_str(), code);
                    assert_eq!(state.as_deref(), Some("st"));
                }
                other => panic!("{over:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn prompt_is_a_set_and_login_or_consent_start_a_sign_in() {
        let urls = CallbackUrl::parse_list(&["https://app.example/cb".into()]).unwrap();
        for prompt in ["login", "login consent", " consent  select_account "] {
            let mut p = base();
            p.push(("prompt", prompt));
            assert!(validate(&params(&p), &client(true, &urls), false).is_ok(), "{prompt}");
        }
    }

    #[test]
    fn pkce_is_required_for_public_clients_only() {
        let urls = CallbackUrl::parse_list(&["https://app.example/cb".into()]).unwrap();
        let p: Vec<_> = base().into_iter().filter(|(k, _)| !k.starts_with("code_challenge")).collect();
        assert!(validate(&params(&p), &client(true, &urls), false).is_err());
        assert!(validate(&params(&p), &client(false, &urls), false).is_ok());
    }

    #[test]
    fn cognito_context_only_from_pushed_requests() {
        let urls = CallbackUrl::parse_list(&["https://app.example/cb".into()]).unwrap();
        let mut p = base();
        p.extend([("cognito_user_pool_id", "eu-west-1_abc"), ("cognito_region", "eu-west-1"), ("aws_account_id", "123456789012")]);
        assert!(validate(&params(&p), &client(false, &urls), false).unwrap().cognito.is_none());
        let pushed = validate(&params(&p), &client(false, &urls), true).unwrap();
        assert_eq!(pushed.cognito.unwrap().aws_account_id, "123456789012");
        p.push(("request_uri", "urn:x"));
        assert!(validate(&params(&p), &client(false, &urls), true).is_err());
    }

    #[test]
    fn redirects_append_to_existing_queries() {
        assert_eq!(redirect_with("https://a/cb", &[("code", "x y")]), "https://a/cb?code=x+y");
        assert_eq!(redirect_with("https://a/cb?k=1", &[("code", "c")]), "https://a/cb?k=1&code=c");
        let e = OAuthError::invalid_request("bad");
        assert_eq!(
            error_redirect("https://a/cb", Some("s"), &e, "https://i"),
            "https://a/cb?error=invalid_request&error_description=bad&state=s&iss=https%3A%2F%2Fi"
        );
    }
}
