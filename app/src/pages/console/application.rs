//! One application: the Settings, Groups and Cognito integration tabs of the product page.

use super::applications::type_name;
use crate::api::{self, ApiFail};
use crate::components::{datetime, CopyButton, ErrorBanner};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use biopass_idp::face;
use biopass_idp::ids::CallbackUrl;
use biopass_proto::admin::{Application, ClientAuthMethod, FaceAssurance, IdTokenAlg, UpdateApplication};
use biopass_proto::login::AuthenticatorKind;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Settings,
    Groups,
    Cognito,
}

impl Tab {
    const ALL: [Self; 3] = [Self::Settings, Self::Groups, Self::Cognito];

    fn id(self) -> &'static str {
        match self {
            Self::Settings => "tab-settings",
            Self::Groups => "tab-groups",
            Self::Cognito => "tab-cognito",
        }
    }

    /// The tab an arrow, Home or End key moves to from this one (WAI-ARIA tabs pattern,
    /// wrapping at the ends); None for other keys.
    fn after_key(self, key: &str) -> Option<Self> {
        let at = Self::ALL.iter().position(|t| *t == self).unwrap_or(0);
        let n = Self::ALL.len();
        match key {
            "ArrowRight" => Some(Self::ALL[(at + 1) % n]),
            "ArrowLeft" => Some(Self::ALL[(at + n - 1) % n]),
            "Home" => Some(Self::ALL[0]),
            "End" => Some(Self::ALL[n - 1]),
            _ => None,
        }
    }
}

/// The update-stack command of the last secret rotation (with its application's client id):
/// kept by the page, so it stays on screen through the reloads other saves make, until the
/// admin dismisses it.
#[derive(Clone, Copy)]
struct RotationNotice(RwSignal<Option<(String, String)>>);

#[component]
pub fn ApplicationPage() -> impl IntoView {
    provide_context(RotationNotice(RwSignal::new(None)));
    let save_status = SaveStatus(RwSignal::new(None));
    provide_context(save_status);
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let app = LocalResource::new(move || {
        reload.track();
        let id = id();
        async move { api::application(&id).await }
    });
    let tab = RwSignal::new(Tab::Settings);
    view! {
        <p class="save-status muted" role="status" aria-live="polite" id="save-status">{move || save_status.0.get().map(|(_, m)| m).unwrap_or_default()}</p>
        <Transition fallback=|| view! { <p>"Loading the application…"</p> }>
            {move || app.get().map(|r| match r {
                Ok(a) => view! {
                    <h1>{a.name.clone()}</h1>
                    <p class="muted">{type_name(a.application_type)}</p>
                    <div role="tablist" aria-label="Application sections" class="tabs">
                        <TabButton tab=tab me=Tab::Settings label="Settings"/>
                        <TabButton tab=tab me=Tab::Groups label="Groups"/>
                        <TabButton tab=tab me=Tab::Cognito label="Cognito integration"/>
                    </div>
                    <div role="tabpanel" id="tab-panel" aria-labelledby=move || tab.get().id()>
                        {move || match tab.get() {
                            Tab::Settings => view! { <Settings app=a.clone() reload=reload/> }.into_any(),
                            Tab::Groups => view! { <GroupsTab app=a.clone() reload=reload/> }.into_any(),
                            Tab::Cognito => view! { <CognitoTab app=a.clone() tab=tab/> }.into_any(),
                        }}
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn TabButton(tab: RwSignal<Tab>, me: Tab, label: &'static str) -> impl IntoView {
    // Only the selected tab is in the Tab order; arrows, Home and End move between tabs.
    let keys = move |ev: web_sys::KeyboardEvent| {
        let Some(next) = me.after_key(&ev.key()) else { return };
        ev.prevent_default();
        tab.set(next);
        let target = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(next.id()));
        if let Some(button) = target.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()) {
            let _ = button.focus();
        }
    };
    view! {
        <button type="button" role="tab" class="tab" id=me.id() aria-controls="tab-panel"
            aria-selected=move || (tab.get() == me).to_string()
            tabindex=move || if tab.get() == me { "0" } else { "-1" }
            on:keydown=keys
            on:click=move |_| tab.set(me)>{label}</button>
    }
}

/// Saves a partial update and reloads the page's data.
fn update_action(id: String, reload: RwSignal<u32>) -> Action<UpdateApplication, Result<Application, ApiFail>> {
    let status = use_context::<SaveStatus>();
    Action::new_local(move |u: &UpdateApplication| {
        let (id, u) = (id.clone(), u.clone());
        async move {
            let r = api::update_application(&id, &u).await?;
            if let Some(s) = status {
                s.saved(&u);
            }
            reload.update(|n| *n += 1);
            Ok(r)
        }
    })
}

/// The page's "Saved" line: a polite status outside the settings (which a save reloads), so
/// it is still there, and announced, after the reload.
#[derive(Clone, Copy)]
struct SaveStatus(RwSignal<Option<(u32, String)>>);

impl SaveStatus {
    /// Says which setting `u` saved; the count makes a second save of the same setting a
    /// new announcement.
    fn saved(self, u: &UpdateApplication) {
        self.said(&format!("Saved: {}.", saved_setting(u)));
    }

    /// Announces `text`.
    fn said(self, text: &str) {
        self.0.update(|s| {
            let n = s.as_ref().map_or(0, |(n, _)| n + 1);
            *s = Some((n, text.to_owned()));
        });
    }
}

/// The setting an update changes, as the page names it.
fn saved_setting(u: &UpdateApplication) -> &'static str {
    if u.name.is_some() {
        "name"
    } else if u.client_auth_method.is_some() || u.public_key_jwk.is_some() {
        "client authentication method"
    } else if u.client_authentication.is_some() {
        "client authentication"
    } else if u.allowed_callback_urls.is_some() {
        "allowed callback URLs"
    } else if u.group_id.is_some() {
        "group"
    } else if u.acceptable_authenticators.is_some() {
        "acceptable authenticators"
    } else if u.face_assurance.is_some() {
        "face match assurance"
    } else if u.id_token_signed_response_alg.is_some() {
        "ID token signature"
    } else if u.require_pushed_authorization_requests.is_some() {
        "pushed requests only"
    } else if u.aws_region.is_some() {
        "region"
    } else {
        "settings"
    }
}

#[component]
fn Settings(app: Application, reload: RwSignal<u32>) -> impl IntoView {
    view! {
        <IntegrationBox app=app.clone() reload=reload/>
        <LogoBox app=app.clone() reload=reload/>
        <CallbackBox app=app.clone()/>
        <AuthenticatorsBox app=app.clone() reload=reload/>
        <FaceAssuranceBox app=app.clone() reload=reload/>
        <IdTokenAlgBox app=app reload=reload/>
    }
}

/// The logo the login page shows beside the application's name: a PNG, JPEG or WebP file of
/// at most 64 KB, checked by the server; Remove takes it away.
#[component]
fn LogoBox(app: Application, reload: RwSignal<u32>) -> impl IntoView {
    let status = use_context::<SaveStatus>();
    let input = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<ApiFail>);
    let id = app.client_id.clone();
    let change = Action::new_local(move |file: &Option<web_sys::File>| {
        let (id, file) = (id.clone(), file.clone());
        async move {
            let r = match &file {
                Some(f) => api::set_logo(&id, f).await,
                None => api::remove_logo(&id).await,
            };
            match r {
                Ok(_) => {
                    error.set(None);
                    if let Some(s) = status {
                        s.said(if file.is_some() { "Saved: logo." } else { "Removed: logo." });
                    }
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let chosen = move || input.get_untracked().and_then(|i| i.files()).and_then(|l| l.get(0));
    let name = app.name.clone();
    let current = app.logo_url.clone().map(|url| view! { <img class="logo-preview" src=url alt=format!("{name} logo")/> });
    let has_logo = app.logo_url.is_some();
    view! {
        <section class="box" aria-labelledby="logo">
            <h2 id="logo">"Logo"</h2>
            <p class="muted" id="logo-help">"Shown to users beside the application's name when they sign in: a PNG, JPEG or WebP image of at most 64 KB, about 48 pixels high."</p>
            {current}
            <form class="row" on:submit=move |ev| {
                ev.prevent_default();
                match chosen() {
                    Some(f) => { change.dispatch(Some(f)); }
                    None => error.set(Some(ApiFail { code: biopass_proto::error::ApiErrorCode::InvalidInput, message: "Choose an image file first.".into(), field: Some("logo".into()) })),
                }
            }>
                <label for="logo-file">"Image file"</label>
                <input type="file" id="logo-file" node_ref=input accept="image/png,image/jpeg,image/webp" aria-describedby="logo-help"
                    aria-invalid=move || error.get().is_some().then_some("true")/>
                <button type="submit" class="secondary small" disabled=move || change.pending().get()>"Upload logo"</button>
                <Show when=move || has_logo>
                    <button type="button" class="secondary small" disabled=move || change.pending().get() on:click=move |_| { change.dispatch(None); }>"Remove logo"</button>
                </Show>
            </form>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert" id="logo-error">{move || error.get().map(|e| e.message).unwrap_or_default()}</p>
            </Show>
        </section>
    }
}

/// The ID token's signature algorithm (`id_token_signed_response_alg`): ES256 by default,
/// RS256 for relying parties that verify nothing else. The Cognito stack checks either.
#[component]
fn IdTokenAlgBox(app: Application, reload: RwSignal<u32>) -> impl IntoView {
    let save = update_action(app.client_id.clone(), reload);
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let current = app.id_token_signed_response_alg;
    view! {
        <section class="box" aria-labelledby="id-token-alg">
            <h2 id="id-token-alg">"ID token signature"</h2>
            <p class="muted">"The algorithm the application's ID tokens are signed with. Both keys are published in the JWKS and rotated together; the Amazon Cognito stack verifies either."</p>
            <fieldset class="choices-inline">
                <legend class="sr-only">"ID token signature"</legend>
                {IdTokenAlg::ALL.into_iter().map(|alg| {
                    let id = format!("id-token-alg-{}", alg.as_str());
                    view! {
                        <div class="check">
                            <input type="radio" name="id-token-alg" id=id.clone() prop:checked=alg == current
                                on:change=move |_| { save.dispatch(UpdateApplication { id_token_signed_response_alg: Some(alg), ..Default::default() }); }/>
                            <label for=id>{alg.label()}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <ErrorBanner error=save_error/>
        </section>
    }
}

/// The face-match level: each choice with its threshold and the false non-match rate
/// measured there (`biopass_idp::face::calibration`).
#[component]
fn FaceAssuranceBox(app: Application, reload: RwSignal<u32>) -> impl IntoView {
    let save = update_action(app.client_id.clone(), reload);
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let current = app.face_assurance;
    view! {
        <section class="box" aria-labelledby="face-assurance">
            <h2 id="face-assurance">"Face match assurance"</h2>
            <p class="muted">"How rarely another person's face may be accepted as a user's (the false match rate, FMR). A stricter level asks more people to try again (the false non-match rate, FNMR, measured on real photos of faces). NIST SP 800-63B asks for 1:1,000 or stricter."</p>
            <fieldset class="choices-inline">
                <legend class="sr-only">"Face match assurance"</legend>
                {FaceAssurance::ALL.into_iter().map(|level| {
                    let c = face::calibration(level);
                    let id = format!("face-assurance-{}", level.as_str());
                    let default = if level == FaceAssurance::default() { " (default)" } else { "" };
                    view! {
                        <div class="check">
                            <input type="radio" name="face-assurance" id=id.clone() prop:checked=level == current
                                on:change=move |_| { save.dispatch(UpdateApplication { face_assurance: Some(level), ..Default::default() }); }/>
                            <label for=id>
                                {format!("{}{default}", level.label())}
                                <span class="muted">{format!(" \u{2014} expected FNMR {:.1} % (95 % bound {:.1} %), threshold {:.3}", c.fnmr * 100.0, c.fnmr_upper * 100.0, c.threshold)}</span>
                            </label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <ErrorBanner error=save_error/>
        </section>
    }
}

/// The authenticators users of this application may sign in with. One must stay ticked
/// (the API refuses none); a user with none of the ticked ones proves who they are with
/// one of theirs at their next sign-in and then sets up an accepted one.
#[component]
fn AuthenticatorsBox(app: Application, reload: RwSignal<u32>) -> impl IntoView {
    let save = update_action(app.client_id.clone(), reload);
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let accepted = app.acceptable_authenticators;
    view! {
        <section class="box" aria-labelledby="authenticators">
            <h2 id="authenticators">"Acceptable authenticators"</h2>
            <p class="muted">"Users of this application sign in with one of these. Someone who has none of them confirms who they are with their own authenticator at their next sign-in, then sets up an accepted one."</p>
            <fieldset class="choices-inline">
                <legend class="sr-only">"Acceptable authenticators"</legend>
                {AuthenticatorKind::ALL.into_iter().map(|kind| {
                    let on = accepted.contains(&kind);
                    let only = on && accepted.len() == 1;
                    let others = accepted.clone();
                    let id = format!("accept-{}", kind.id());
                    view! {
                        <div class="check">
                            <input type="checkbox" id=id.clone() prop:checked=on disabled=only
                                aria-describedby=only.then_some("accept-last")
                                on:change=move |ev| {
                                    let mut next: Vec<_> = others.iter().copied().filter(|k| *k != kind).collect();
                                    if event_target_checked(&ev) { next.push(kind); }
                                    save.dispatch(UpdateApplication { acceptable_authenticators: Some(next), ..Default::default() });
                                }/>
                            <label for=id>{authenticator_name(kind)}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            {(accepted.len() == 1).then(|| view! { <p class="muted" id="accept-last">"At least one authenticator stays accepted."</p> })}
            <ErrorBanner error=save_error/>
        </section>
    }
}

/// An authenticator's name as the console shows it.
fn authenticator_name(kind: AuthenticatorKind) -> &'static str {
    match kind {
        AuthenticatorKind::Face => "Face",
        AuthenticatorKind::Totp => "Authenticator app (TOTP)",
        AuthenticatorKind::Passkey => "Passkey (WebAuthn)",
        AuthenticatorKind::RecoveryCode => "Recovery codes",
    }
}

/// The methods in the order the console offers them.
const METHODS: [ClientAuthMethod; 3] = [ClientAuthMethod::ClientSecret, ClientAuthMethod::PrivateKeyJwt, ClientAuthMethod::ClientSecretJwt];

/// A method's value in the select.
fn method_value(m: ClientAuthMethod) -> &'static str {
    match m {
        ClientAuthMethod::ClientSecret => "client_secret",
        ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
        ClientAuthMethod::ClientSecretJwt => "client_secret_jwt",
    }
}

fn method_label(m: ClientAuthMethod) -> &'static str {
    match m {
        ClientAuthMethod::ClientSecret => "Client ID and secret",
        ClientAuthMethod::PrivateKeyJwt => "Public key",
        ClientAuthMethod::ClientSecretJwt => "JSON Web Token (JWT)",
    }
}

#[component]
fn IntegrationBox(app: Application, reload: RwSignal<u32>) -> impl IntoView {
    let save = update_action(app.client_id.clone(), reload);
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let client_id = app.client_id.clone();
    let issuer = app.issuer.clone();
    let auth_on = app.client_authentication;
    let par_only = app.require_pushed_authorization_requests;
    // The method is one form with one save: choosing "Public key" asks for the key first,
    // and nothing is stored until Save; the line under the form says what is stored.
    let method = app.client_auth_method;
    let chosen = RwSignal::new(method);
    let key_text = RwSignal::new(app.public_key_jwk.as_ref().map(|v| v.to_string()).unwrap_or_default());
    let key_error = RwSignal::new(None::<String>);
    // The region the rotation's update-stack command uses: the one Biopass saw the stack
    // in, else one an administrator enters here (the product page names it in this box).
    let save_region = update_action(app.client_id.clone(), reload);
    let region_error = Signal::derive(move || save_region.value().get().and_then(Result::err));
    let region_text = RwSignal::new(app.aws_region.clone().unwrap_or_default());
    let region_view = match (app.deployment_region.clone(), app.aws_region.clone()) {
        (Some(seen), _) => view! { <dd><code>{seen}</code> <span class="muted">" (where Biopass saw your stack)"</span></dd> }.into_any(),
        (None, stored) => view! {
            <dd>
                <form class="row" on:submit=move |ev| { ev.prevent_default(); save_region.dispatch(UpdateApplication { aws_region: Some(region_text.get()), ..Default::default() }); }>
                    <input id="aws-region" aria-label="Region of your stack" placeholder="eu-west-1" autocomplete="off"
                        aria-invalid=move || region_error.get().is_some().then_some("true")
                        aria-describedby=move || if region_error.get().is_some() { "aws-region-error" } else { "aws-region-help" }
                        prop:value=move || region_text.get() on:input=move |ev| region_text.set(event_target_value(&ev))/>
                    <button type="submit" class="secondary small" disabled=move || save_region.pending().get()>"Save region"</button>
                </form>
                <Show when=move || region_error.get().is_some()>
                    <p class="error" role="alert" id="aws-region-error">{move || region_error.get().map(|e| e.message).unwrap_or_default()}</p>
                </Show>
                <p class="muted" id="aws-region-help" aria-live="polite">{match stored {
                    Some(r) => format!("Saved: {r}. Biopass has not seen your stack yet; a secret rotation's update-stack command uses this region."),
                    None => "Biopass has not seen your stack yet: enter its region for the update-stack command of a secret rotation.".to_owned(),
                }}</p>
            </dd>
        }.into_any(),
    };
    let save_method = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let m = chosen.get();
        let public_key_jwk = if m == ClientAuthMethod::PrivateKeyJwt {
            match parse_public_key(&key_text.get()) {
                Ok(jwk) => Some(jwk),
                Err(message) => {
                    key_error.set(Some(message));
                    return;
                }
            }
        } else {
            None
        };
        key_error.set(None);
        save.dispatch(UpdateApplication { client_auth_method: Some(m), public_key_jwk, ..Default::default() });
    };
    view! {
        <section class="box" aria-labelledby="integration">
            <h2 id="integration">"Integration information"</h2>
            <dl class="fields">
                <dt>"Client ID"</dt>
                <dd><code>{client_id.clone()}</code> <CopyButton text=Signal::derive(move || client_id.clone()) label="Client ID"/></dd>
                <dt>"Issuer"</dt>
                <dd><code>{issuer.clone()}</code> <CopyButton text=Signal::derive(move || issuer.clone()) label="Issuer"/></dd>
                <dt>"Region"</dt>
                {region_view}
            </dl>
            <div class="check">
                <input type="checkbox" id="client-auth" prop:checked=auth_on
                    on:change=move |ev| { save.dispatch(UpdateApplication { client_authentication: Some(event_target_checked(&ev)), ..Default::default() }); }/>
                <label for="client-auth">"Client authentication"</label>
            </div>
            <div class="check">
                <input type="checkbox" id="require-par" prop:checked=par_only aria-describedby="require-par-help"
                    on:change=move |ev| { save.dispatch(UpdateApplication { require_pushed_authorization_requests: Some(event_target_checked(&ev)), ..Default::default() }); }/>
                <label for="require-par">"Only the application starts sign-ins (pushed requests)"</label>
            </div>
            <p class="muted" id="require-par-help">
                "When ticked, a sign-in starts only from a request the application pushes with its credentials (RFC 9126), as the Cognito stack does, so a user name typed elsewhere starts nothing. Untick it only for an OpenID Connect application that redirects to Biopass directly; such sign-ins never enrol an authenticator."
            </p>
            <Show when=move || auth_on>
                <form class="auth-method" on:submit=save_method>
                    <label for="auth-method">"Method"</label>
                    <select id="auth-method" aria-describedby="auth-method-stored" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        chosen.set(METHODS.into_iter().find(|m| method_value(*m) == v).unwrap_or(ClientAuthMethod::ClientSecret));
                        key_error.set(None);
                    }>
                        {METHODS.into_iter().map(|m| view! { <option value=method_value(m) selected=move || chosen.get() == m>{method_label(m)}</option> }).collect_view()}
                    </select>
                    <Show when=move || chosen.get() == ClientAuthMethod::PrivateKeyJwt>
                        <label for="public-key">"The application's public key (JWK, or PEM for P-256 and Ed25519)"</label>
                        <textarea id="public-key" rows="5" aria-describedby="public-key-error" prop:value=move || key_text.get() on:input=move |ev| key_text.set(event_target_value(&ev))></textarea>
                        <Show when=move || key_error.get().is_some()>
                            <p class="error" role="alert" id="public-key-error">{move || key_error.get().unwrap_or_default()}</p>
                        </Show>
                    </Show>
                    <p class="muted" id="auth-method-stored" aria-live="polite">
                        {move || if chosen.get() == method { format!("Saved: {}.", method_label(method)) } else { format!("Saved: {}. Not changed until you save.", method_label(method)) }}
                    </p>
                    <button type="submit" disabled=move || chosen.get() == method && method != ClientAuthMethod::PrivateKeyJwt>"Save method"</button>
                </form>
                <SecretField client_id=app.client_id.clone()/>
            </Show>
            <ErrorBanner error=save_error/>
        </section>
    }
}

/// Turns a pasted JWK, or a PEM public key of P-256 or Ed25519, into a JWK.
fn parse_public_key(text: &str) -> Result<serde_json::Value, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Paste the application's public key first.".into());
    }
    if t.starts_with('{') {
        return serde_json::from_str(t).map_err(|_| "This is not valid JSON.".to_owned());
    }
    let body: String = t.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body.trim()).map_err(|_| "Paste a JWK or a PEM public key (-----BEGIN PUBLIC KEY-----).".to_owned())?;
    const P256_SPKI: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42,
        0x00,
    ];
    const ED25519_SPKI: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    if der.len() == 91 && der.starts_with(&P256_SPKI) && der[26] == 4 {
        return Ok(serde_json::json!({ "kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(&der[27..59]), "y": URL_SAFE_NO_PAD.encode(&der[59..91]) }));
    }
    if der.len() == 44 && der.starts_with(&ED25519_SPKI) {
        return Ok(serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(&der[12..]) }));
    }
    Err("Only P-256 and Ed25519 PEM keys are read here; paste RSA keys as a JWK.".into())
}

#[component]
fn SecretField(client_id: String) -> impl IntoView {
    let secret = RwSignal::new(None::<String>);
    let reveal = Action::new_local({
        let id = client_id.clone();
        move |_: &()| {
            let id = id.clone();
            async move {
                let s = api::application_secret(&id).await?;
                secret.set(Some(s.client_secret));
                Ok::<_, ApiFail>(())
            }
        }
    });
    let confirming = RwSignal::new(false);
    let notice = use_context::<RotationNotice>().unwrap_or_else(|| RotationNotice(RwSignal::new(None))).0;
    let rotate = Action::new_local({
        let id = client_id.clone();
        move |_: &()| {
            let id = id.clone();
            async move {
                let r = api::rotate_secret(&id).await?;
                secret.set(Some(r.client_secret.clone()));
                confirming.set(false);
                notice.set(Some((id, r.update_stack_command.clone())));
                Ok::<_, ApiFail>(r)
            }
        }
    });
    let error = Signal::derive(move || reveal.value().get().and_then(Result::err).or_else(|| rotate.value().get().and_then(Result::err)));
    let this_app = client_id.clone();
    let rotated = move || notice.get().filter(|(id, _)| *id == this_app).map(|(_, cmd)| cmd);
    view! {
        <label for="client-secret">"Client secret"</label>
        <div class="row">
            <input id="client-secret" readonly=true type=move || if secret.get().is_some() { "text" } else { "password" }
                prop:value=move || secret.get().unwrap_or_else(|| "••••••••••••••••••••••••".into())/>
            <button type="button" class="secondary small" on:click=move |_| { if secret.get().is_some() { secret.set(None) } else { reveal.dispatch(()); } }>
                {move || if secret.get().is_some() { "Hide" } else { "Reveal" }}
            </button>
            <Show when=move || secret.get().is_some()>
                <CopyButton text=Signal::derive(move || secret.get().unwrap_or_default()) label="client secret"/>
            </Show>
            <button type="button" class="secondary small" on:click=move |_| confirming.set(true)>"Rotate secret"</button>
        </div>
        <Show when=move || confirming.get()>
            <div class="confirm" role="alertdialog" aria-labelledby="rotate-q">
                <p id="rotate-q">"Rotate the secret? The current secret stops working at once; you must update your Cognito stack with the new one."</p>
                <button type="button" class="danger small" on:click=move |_| { rotate.dispatch(()); }>"Rotate now"</button>
                <button type="button" class="secondary small" on:click=move |_| confirming.set(false)>"Cancel"</button>
            </div>
        </Show>
        {move || rotated().map(|cmd| {
            view! {
                <div class="notice" role="status">
                    <p>"New secret created. Update the stack in AWS with this command:"</p>
                    <pre class="command"><code>{cmd.clone()}</code></pre>
                    <CopyButton text=Signal::derive(move || cmd.clone()) label="update-stack command"/>
                    <button type="button" class="secondary small" on:click=move |_| notice.set(None)>"Dismiss"</button>
                </div>
            }
        })}
        <ErrorBanner error=error/>
    }
}

#[component]
fn CallbackBox(app: Application) -> impl IntoView {
    let urls = RwSignal::new(app.allowed_callback_urls.clone());
    let new_url = RwSignal::new(String::new());
    let inline = RwSignal::new(None::<String>);
    // Saves without reloading the page, so edits made while a save is in flight stay on
    // screen; the list the server stored comes back and replaces the local one.
    let id = app.client_id.clone();
    let status = use_context::<SaveStatus>();
    let save = Action::new_local(move |u: &UpdateApplication| {
        let (id, u) = (id.clone(), u.clone());
        async move {
            let saved = api::update_application(&id, &u).await?;
            if let Some(s) = status {
                s.saved(&u);
            }
            Ok::<_, ApiFail>(saved)
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            if !save.pending().get_untracked() {
                urls.set(saved.allowed_callback_urls);
            }
        }
    });
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let validate = move |candidate: &str, skip: Option<usize>| -> Result<String, String> {
        let parsed = CallbackUrl::parse(candidate)?;
        let dup = urls.get().iter().enumerate().any(|(i, u)| Some(i) != skip && u == parsed.as_str());
        if dup {
            Err(format!("\"{}\" is already in the list.", parsed.as_str()))
        } else {
            Ok(parsed.as_str().to_owned())
        }
    };
    let commit = move |list: Vec<String>| {
        save.dispatch(UpdateApplication { allowed_callback_urls: Some(list), ..Default::default() });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match validate(&new_url.get(), None) {
            Ok(u) => {
                inline.set(None);
                let mut list = urls.get();
                list.push(u);
                urls.set(list.clone());
                new_url.set(String::new());
                commit(list);
            }
            Err(m) => inline.set(Some(m)),
        }
    };
    view! {
        <section class="box" aria-labelledby="callbacks">
            <h2 id="callbacks">"Allowed callback URLs"</h2>
            <p class="muted">"Biopass sends users back only to these URLs, compared exactly. https only (http for localhost and 127.0.0.1), no wildcards or fragments."</p>
            <ul class="url-list">
                {move || urls.get().into_iter().enumerate().map(|(i, u)| view! { <CallbackRow index=i url=u urls=urls validate=validate commit=commit/> }).collect_view()}
            </ul>
            <Show when=move || urls.get().is_empty()><p class="muted">"No callback URLs yet: sign-ins for this application cannot finish."</p></Show>
            <form class="row" on:submit=add>
                <label for="new-callback" class="sr-only">"New callback URL"</label>
                <input id="new-callback" placeholder="https://app.example.com/callback" aria-describedby="callback-error"
                    aria-invalid=move || inline.get().is_some().to_string()
                    prop:value=move || new_url.get()
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        inline.set(if v.trim().is_empty() { None } else { validate(&v, None).err() });
                        new_url.set(v);
                    }/>
                <button type="submit">"Add URL"</button>
            </form>
            <p id="callback-error" class="error" role="alert" hidden=move || inline.get().is_none()>{move || inline.get().unwrap_or_default()}</p>
            <ErrorBanner error=save_error/>
        </section>
    }
}

#[component]
fn CallbackRow(
    index: usize,
    url: String,
    urls: RwSignal<Vec<String>>,
    validate: impl Fn(&str, Option<usize>) -> Result<String, String> + Copy + Send + Sync + 'static,
    commit: impl Fn(Vec<String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(url.clone());
    let err = RwSignal::new(None::<String>);
    let input_id = format!("callback-{index}");
    view! {
        <li>
            <Show when=move || editing.get() fallback={
                let url = url.clone();
                move || view! {
                    <code>{url.clone()}</code>
                    <button type="button" class="secondary small" aria-label=format!("Edit {url}") on:click=move |_| editing.set(true)>"Edit"</button>
                    <button type="button" class="danger small" aria-label=format!("Remove {url}") on:click=move |_| {
                        let mut list = urls.get();
                        if index < list.len() { list.remove(index); }
                        urls.set(list.clone());
                        commit(list);
                    }>"Remove"</button>
                }
            }>
                <label for=input_id.clone() class="sr-only">"Callback URL"</label>
                <input id=input_id.clone() prop:value=move || draft.get() on:input=move |ev| {
                    let v = event_target_value(&ev);
                    err.set(validate(&v, Some(index)).err());
                    draft.set(v);
                }/>
                <button type="button" class="small" on:click=move |_| match validate(&draft.get(), Some(index)) {
                    Ok(u) => {
                        let mut list = urls.get();
                        if index < list.len() { list[index] = u; }
                        urls.set(list.clone());
                        editing.set(false);
                        commit(list);
                    }
                    Err(m) => err.set(Some(m)),
                }>"Save"</button>
                <button type="button" class="secondary small" on:click=move |_| editing.set(false)>"Cancel"</button>
                <Show when=move || err.get().is_some()><p class="error" role="alert">{move || err.get().unwrap_or_default()}</p></Show>
            </Show>
        </li>
    }
}

#[component]
fn GroupsTab(app: Application, reload: RwSignal<u32>) -> impl IntoView {
    let groups = LocalResource::new(api::groups);
    let group_id = app.group_id.clone();
    let members = LocalResource::new({
        let g = group_id.clone();
        move || {
            let g = g.clone();
            async move { api::users(Some(&g), "", 100, None).await }
        }
    });
    let save = update_action(app.client_id.clone(), reload);
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    view! {
        <section class="box" aria-labelledby="group-h">
            <h2 id="group-h">"Assigned group"</h2>
            <p class="muted">"Users who sign in through this application for the first time are registered in Biopass and added to this group."</p>
            <Transition fallback=|| view! { <p>"Loading groups…"</p> }>
                {move || groups.get().map(|r| match r {
                    Ok(gs) => {
                        let current = group_id.clone();
                        view! {
                            <label for="assigned-group">"Group"</label>
                            <select id="assigned-group" on:change=move |ev| { save.dispatch(UpdateApplication { group_id: Some(event_target_value(&ev)), ..Default::default() }); }>
                                {gs.into_iter().map(|g| { let sel = g.id == current; view! { <option value=g.id.clone() selected=sel>{g.name}</option> } }).collect_view()}
                            </select>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
            <ErrorBanner error=error/>
        </section>
        <section class="box" aria-labelledby="members-h">
            <h2 id="members-h">"Members"</h2>
            <Transition fallback=|| view! { <p>"Loading members…"</p> }>
                {move || members.get().map(|r| match r {
                    Ok(p) if p.items.is_empty() => view! { <p class="muted">"No members yet. Users appear here after their first sign-in."</p> }.into_any(),
                    Ok(p) => {
                        let more = p.next_cursor.is_some().then_some(view! { <p class="muted">"The first 100 are shown; search the others on the Users page."</p> });
                        view! {
                            <ul>{p.items.into_iter().map(|u| view! { <li>{u.username}</li> }).collect_view()}</ul>
                            {more}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CognitoTab(app: Application, tab: RwSignal<Tab>) -> impl IntoView {
    let id = app.client_id.clone();
    let guide = LocalResource::new({
        let id = id.clone();
        move || {
            let id = id.clone();
            async move { api::cognito_guide(&id).await }
        }
    });
    let deployments = LocalResource::new({
        let id = id.clone();
        move || {
            let id = id.clone();
            async move { api::deployments(&id).await }
        }
    });
    view! {
        <section class="box" aria-labelledby="deploy-h">
            <h2 id="deploy-h">"Deployment"</h2>
            <Transition fallback=|| view! { <p>"Loading the guide…"</p> }>
                {move || guide.get().map(|r| match r {
                    Ok(g) => {
                        let cmd = g.create_stack_command.clone();
                        view! {
                            <ol class="steps">{g.steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ol>
                            <div class="row">
                                <a class="button" href=g.template_path.clone() download=g.template_file.clone()>"Deploy: download the template"</a>
                                {g.quick_create_url.clone().map(|u| view! { <a class="button secondary" href=u target="_blank" rel="noopener">"Deploy in the AWS console"</a> })}
                            </div>
                            <p>"Or with the AWS CLI:"</p>
                            <pre class="command"><code>{cmd.clone()}</code></pre>
                            <CopyButton text=Signal::derive(move || cmd.clone()) label="create-stack command"/>
                            <p class="muted">"Stack name: " <code>{g.stack_name.clone()}</code></p>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
            <p class="warning">"Not supported: user pools where a phone number is the user name, and user pools with case-sensitive user names. Logins from those are refused with a clear error, shown below."</p>
        </section>
        <section class="box" aria-labelledby="prev-h">
            <h2 id="prev-h">"Previous deployments"</h2>
            <Transition fallback=|| view! { <p>"Loading deployments…"</p> }>
                {move || deployments.get().map(|r| match r {
                    Ok(ds) if ds.is_empty() => view! { <p class="muted">"No deployment has contacted Biopass yet. A deployment appears here when a user first tries to sign in through it."</p> }.into_any(),
                    Ok(ds) => view! {
                        <div class="table-wrap" role="region" aria-label="Deployments" tabindex="0"><table>
                            <thead><tr><th scope="col">"AWS account"</th><th scope="col">"Region"</th><th scope="col">"First seen"</th><th scope="col">"Last seen"</th><th scope="col">"User pools"</th></tr></thead>
                            <tbody>{ds.into_iter().map(|d| view! {
                                <tr>
                                    <td><code>{d.aws_account_id}</code></td>
                                    <td>{d.region}</td>
                                    <td>{datetime(d.first_seen)}</td>
                                    <td>{datetime(d.last_seen)}</td>
                                    <td><ul class="plain">{d.user_pools.into_iter().map(|p| view! {
                                        <li><code>{p.user_pool_id}</code>
                                            {p.error.map(|e| view! { <span class="badge error-badge">{e.label()}</span> })}
                                            {p.app_clients.into_iter().filter(|c| !c.sign_in_without_biopass.is_empty()).map(|c| view! {
                                                <p class="error bypass" role="alert">
                                                    "App client " <code>{c.app_client_id}</code> " lets users sign in without Biopass ("
                                                    {c.sign_in_without_biopass.iter().map(|f| bypass_name(f)).collect::<Vec<_>>().join(", ")}
                                                    "). Fix: in Amazon Cognito, edit this app client's authentication flows to allow only ALLOW_CUSTOM_AUTH and ALLOW_REFRESH_TOKEN_AUTH, and turn off its hosted UI (managed login) sign-in."
                                                </p>
                                            }).collect_view()}
                                        </li>
                                    }).collect_view()}</ul></td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
        <section class="box" aria-labelledby="trouble-h">
            <h2 id="trouble-h">"Troubleshooting"</h2>
            <h3>"Rotate secret"</h3>
            <p>"If the secret may have leaked, rotate it in Settings and update the stack with the command shown."</p>
            <button type="button" class="secondary small" on:click=move |_| tab.set(Tab::Settings)>"Go to Settings"</button>
            <h3>"Delete and re-deploy"</h3>
            <p>"If the triggers misbehave, delete the stack and deploy it again:"</p>
            <pre class="command"><code>{move || guide.get().and_then(Result::ok).map(|g| format!("aws cloudformation delete-stack --stack-name {} --region <region>", g.stack_name)).unwrap_or_default()}</code></pre>
            <p>"Then download the template again and create the stack, and re-attach the three triggers to the user pool."</p>
        </section>
    }
}

/// A way around Biopass, as the admin knows it from the Cognito console.
fn bypass_name(flow: &str) -> &str {
    match flow {
        "USER_SRP_AUTH" => "ALLOW_USER_SRP_AUTH: password with SRP",
        "USER_PASSWORD_AUTH" => "ALLOW_USER_PASSWORD_AUTH: plain password",
        "ADMIN_USER_PASSWORD_AUTH" => "ALLOW_ADMIN_USER_PASSWORD_AUTH: server-side password",
        "USER_AUTH" => "ALLOW_USER_AUTH: choice-based sign-in",
        "HOSTED_UI" => "the hosted UI",
        other => other,
    }
}
