//! The universal login route (`/login?tx=...`): reads the transaction's next step from the
//! login API and walks the person through it. The worker decides; this page only asks.

use crate::api::{self, ApiFail};
use crate::components::{CodeInput, ErrorBanner};
use super::face::FaceStep;
use super::go;
use biopass_proto::login::{AuthenticatorKind, FacePurpose, LoginComplete, LoginState, LoginStep};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;


#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let tx = move || query.read().get("tx").unwrap_or_default();
    let state = LocalResource::new(move || {
        let tx = tx();
        async move { api::login_state(&tx).await }
    });
    view! {
        <main class="card" aria-live="polite">
            <Suspense fallback=|| view! { <p>"Loading your sign-in…"</p> }>
                {move || state.get().map(|result| match result {
                    Ok(s) => view! { <Steps tx=tx() state=s/> }.into_any(),
                    Err(e) => view! {
                        <h1>"Sign-in cannot continue"</h1>
                        <p class="error" role="alert">{e.message}</p>
                    }.into_any(),
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Steps(tx: String, state: LoginState) -> impl IntoView {
    let header = view! {
        <h1>"Sign in to " {state.application_name.clone()}</h1>
        <p class="muted">"Signing in as " <strong>{state.username.clone()}</strong></p>
    };
    let body = match state.step {
        LoginStep::Enrol { allowed } if allowed.is_empty() => view! {
            <p role="alert">"You have no authenticator set up, and this sign-in cannot set one up. Ask your administrator."</p>
        }.into_any(),
        LoginStep::Enrol { allowed } => view! { <Enrol tx=tx allowed=allowed/> }.into_any(),
        LoginStep::Authenticate { enrolled } if enrolled.is_empty() => view! {
            <p role="alert">"None of your authenticators can be used here. Ask your administrator."</p>
        }.into_any(),
        LoginStep::Authenticate { enrolled } => view! { <Authenticate tx=tx enrolled=enrolled/> }.into_any(),
        LoginStep::Done { redirect_to } => {
            go(&redirect_to);
            view! { <p>"Signed in. Returning to the application…"</p> }.into_any()
        }
    };
    view! { {header} {body} }
}

/// First sign-in: choose an authenticator (when more than one is allowed), then set it up.
#[component]
fn Enrol(tx: String, allowed: Vec<AuthenticatorKind>) -> impl IntoView {
    let only = (allowed.len() == 1).then(|| allowed[0]);
    let chosen = RwSignal::new(only);
    let can_choose = only.is_none();
    let to_totp = Callback::new(move |()| chosen.set(Some(AuthenticatorKind::Totp)));
    move || match chosen.get() {
        Some(AuthenticatorKind::Face) => {
            let other = can_choose.then_some(("Set up an authenticator app instead", to_totp));
            match other {
                Some(o) => view! { <FaceStep tx=tx.clone() purpose=FacePurpose::Enrol other=o/> }.into_any(),
                None => view! { <FaceStep tx=tx.clone() purpose=FacePurpose::Enrol/> }.into_any(),
            }
        }
        Some(AuthenticatorKind::Totp) => view! {
            <TotpEnrol tx=tx.clone()/>
            <Show when=move || can_choose>
                <p class="alternative"><button type="button" class="link" on:click=move |_| chosen.set(None)>"Choose another way"</button></p>
            </Show>
        }.into_any(),
        None => view! {
            <h2>"Choose how you will sign in"</h2>
            <p>"This is your first sign-in with Biopass. Choose the authenticator you will use from now on."</p>
            <div class="choices">
                <button type="button" class="choice" on:click=move |_| chosen.set(Some(AuthenticatorKind::Face))>
                    <strong>"Face"</strong>
                    <span>"Look at your camera and move your head as asked. Nothing to install."</span>
                </button>
                <button type="button" class="choice" on:click=move |_| chosen.set(Some(AuthenticatorKind::Totp))>
                    <strong>"Authenticator app"</strong>
                    <span>"Type a 6-digit code from an app on your phone."</span>
                </button>
            </div>
        }.into_any(),
    }
}

/// Later sign-ins: the face when it is enrolled, with the authenticator app as the other way.
/// A person with a face enrolment can withdraw it here: it is deleted when they next prove
/// who they are, so nobody else can wipe it.
#[component]
fn Authenticate(tx: String, enrolled: Vec<AuthenticatorKind>) -> impl IntoView {
    let has_face = enrolled.contains(&AuthenticatorKind::Face);
    let has_totp = enrolled.contains(&AuthenticatorKind::Totp);
    let using = RwSignal::new(if has_face { AuthenticatorKind::Face } else { AuthenticatorKind::Totp });
    let forget = RwSignal::new(false);
    let to_totp = Callback::new(move |()| using.set(AuthenticatorKind::Totp));
    let step = move || match using.get() {
        AuthenticatorKind::Face if has_totp => view! {
            <FaceStep tx=tx.clone() purpose=FacePurpose::Authenticate forget_face=forget other=("Use your authenticator app instead", to_totp)/>
        }.into_any(),
        AuthenticatorKind::Face => view! { <FaceStep tx=tx.clone() purpose=FacePurpose::Authenticate forget_face=forget/> }.into_any(),
        AuthenticatorKind::Totp => view! {
            <TotpVerify tx=tx.clone() forget_face=forget/>
            <Show when=move || has_face>
                <p class="alternative"><button type="button" class="link" on:click=move |_| using.set(AuthenticatorKind::Face)>"Use your face instead"</button></p>
            </Show>
        }.into_any(),
    };
    view! {
        {step}
        <Show when=move || has_face>
            <details class="forget">
                <summary>"Delete my face data"</summary>
                <p>"Your face template is used only to sign you in. Tick the box, then finish this sign-in: once you are signed in, it is deleted, and next time you choose a new way to sign in."</p>
                <label class="check">
                    <input type="checkbox" id="forget-face" prop:checked=move || forget.get() on:change=move |ev| forget.set(event_target_checked(&ev))/>
                    "Delete my face data when I sign in"
                </label>
            </details>
        </Show>
    }
}

/// Submits a code and follows the redirect on success.
fn code_action(tx: String, confirm: bool, forget_face: Option<RwSignal<bool>>) -> Action<String, Result<LoginComplete, ApiFail>> {
    Action::new_local(move |code: &String| {
        let (tx, code) = (tx.clone(), code.trim().to_owned());
        let forget = forget_face.is_some_and(|f| f.get_untracked());
        async move {
            let done = if confirm { api::totp_confirm(&tx, code).await } else { api::totp_verify(&tx, code, forget).await }?;
            go(&done.redirect_to);
            Ok(done)
        }
    })
}

#[component]
fn TotpEnrol(tx: String) -> impl IntoView {
    let offer = LocalResource::new({
        let tx = tx.clone();
        move || {
            let tx = tx.clone();
            async move { api::totp_enrol(&tx).await }
        }
    });
    let code = RwSignal::new(String::new());
    let submit = code_action(tx, true, None);
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    view! {
        <h2>"Set up an authenticator app"</h2>
        <p>"This is your first sign-in with Biopass. Scan the code with an authenticator app (for example Google Authenticator, Microsoft Authenticator or 1Password), then type the 6-digit code it shows."</p>
        <Suspense fallback=|| view! { <p>"Preparing your code…"</p> }>
            {move || offer.get().map(|r| match r {
                Ok(o) => view! {
                    <figure class="qr">
                        <div role="img" aria-label="QR code for your authenticator app" inner_html=o.qr_svg.clone()></div>
                        <figcaption>"Cannot scan? Enter this key: " <code class="secret">{o.secret.clone()}</code></figcaption>
                    </figure>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </Suspense>
        <form on:submit=move |ev| { ev.prevent_default(); submit.dispatch(code.get()); }>
            <CodeInput value=code label="6-digit code from the app"/>
            <ErrorBanner error=error/>
            <button type="submit" disabled=move || submit.pending().get()>
                {move || if submit.pending().get() { "Checking…" } else { "Confirm and sign in" }}
            </button>
        </form>
    }
}

#[component]
fn TotpVerify(tx: String, #[prop(optional)] forget_face: Option<RwSignal<bool>>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let submit = code_action(tx, false, forget_face);
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    view! {
        <h2>"Enter your code"</h2>
        <form on:submit=move |ev| { ev.prevent_default(); submit.dispatch(code.get()); }>
            <CodeInput value=code label="6-digit code from your authenticator app"/>
            <ErrorBanner error=error/>
            <button type="submit" disabled=move || submit.pending().get()>
                {move || if submit.pending().get() { "Checking…" } else { "Sign in" }}
            </button>
        </form>
    }
}
