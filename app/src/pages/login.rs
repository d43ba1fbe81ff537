//! The universal login route (`/login?tx=...`): reads the transaction's next step from the
//! login API and walks the person through it. The worker decides; this page only asks.

use super::face::FaceStep;
use super::go;
use crate::api::{self, ApiFail};
use crate::components::{focus_new_headings, CodeInput, CopyButton, ErrorBanner};
use crate::lang::t;
use biopass_i18n::fill;
use biopass_proto::login::{AuthenticatorKind, FacePurpose, LoginState, LoginStep, RecoveryAnswer, TotpAnswer};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Moves the page on after an answer with an authenticator was accepted: back to the
/// application with the code, or to the next step the worker named (adding another
/// authenticator).
#[derive(Clone, Copy)]
pub struct Advance(Callback<(AuthenticatorKind, LoginStep)>);

impl Advance {
    /// `kind` was just accepted; `step` is what the worker answered.
    pub fn run(self, kind: AuthenticatorKind, step: LoginStep) {
        self.0.run((kind, step));
    }
}

/// The login page's [`Advance`]; outside it, only "done" leads anywhere.
pub fn use_advance() -> Advance {
    use_context::<Advance>().unwrap_or_else(|| {
        Advance(Callback::new(|(_, step)| {
            if let LoginStep::Done { redirect_to } = step {
                go(&redirect_to);
            }
        }))
    })
}

/// The authenticator a person last signed in with on this browser, by user name. Before
/// anyone proved who they are the worker shows every name the same step (it must not say
/// which authenticators an account has), so the page opens with the one this browser saw
/// work, the face otherwise. Only this browser's own history: nothing the worker said.
mod last_used {
    use biopass_proto::login::AuthenticatorKind;

    fn key(username: &str) -> String {
        format!("biopass.last-authenticator.{}", username.to_lowercase())
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    pub fn get(username: &str) -> Option<AuthenticatorKind> {
        serde_json::from_str(&storage()?.get_item(&key(username)).ok()??).ok()
    }

    pub fn set(username: &str, kind: AuthenticatorKind) {
        if let (Some(store), Ok(value)) = (storage(), serde_json::to_string(&kind)) {
            // A browser that refuses storage (private mode, quota) only loses the default.
            let _ = store.set_item(&key(username), &value);
        }
    }
}

/// What a person authenticating asked for once it succeeds.
#[derive(Clone, Copy)]
pub struct AfterSignIn {
    /// Delete their face enrolment.
    pub forget_face: RwSignal<bool>,
    /// Go on to add another authenticator.
    pub add_authenticator: RwSignal<bool>,
}

impl AfterSignIn {
    /// `(forget_face, add_authenticator)` as they are now.
    pub fn get(self) -> (bool, bool) {
        (self.forget_face.get_untracked(), self.add_authenticator.get_untracked())
    }
}

fn kinds_text(kinds: &[AuthenticatorKind]) -> String {
    kinds.iter().map(|k| t().kind(*k)).collect::<Vec<_>>().join(t().or)
}

/// What ticking "also add" does, in words: set up the authenticators of `can_add`, or make
/// new recovery codes; `None` when nothing can be added.
fn offer_text(can_add: &[AuthenticatorKind]) -> Option<String> {
    let real: Vec<_> = can_add.iter().copied().filter(|k| *k != AuthenticatorKind::RecoveryCode).collect();
    let codes = can_add.contains(&AuthenticatorKind::RecoveryCode);
    match (real.is_empty(), codes) {
        (true, false) => None,
        (true, true) => Some(t().offer_codes.to_owned()),
        (false, false) => Some(fill(t().offer_kinds, &[("kinds", &kinds_text(&real))])),
        (false, true) => Some(fill(t().offer_kinds_or_codes, &[("kinds", &kinds_text(&real))])),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    crate::lang::use_browser_language();
    let query = use_query_map();
    let tx = move || query.read().get("tx").unwrap_or_default();
    let state = LocalResource::new(move || {
        let tx = tx();
        async move { api::login_state(&tx).await }
    });
    // New recovery codes, shown once: they are in no later answer.
    let codes = RwSignal::new(None::<Vec<String>>);
    provide_context(Advance(Callback::new(move |(kind, step)| {
        if let Some(Ok(s)) = state.get_untracked() {
            // A recovery code is for when the usual way fails: not the next default.
            if kind != AuthenticatorKind::RecoveryCode {
                last_used::set(&s.username, kind);
            }
        }
        match step {
            LoginStep::Done { redirect_to } => go(&redirect_to),
            LoginStep::RecoveryCodes { codes: new } => codes.set(Some(new)),
            _ => state.refetch(),
        }
    })));
    let main = NodeRef::<leptos::html::Main>::new();
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        main.get().is_some_and(|m| {
            focus_new_headings(&m);
            true
        })
    });
    view! {
        <main class="card" aria-live="polite" node_ref=main>
            <Suspense fallback=|| view! { <p>{t().loading}</p> }>
                {move || state.get().map(|result| match result {
                    Ok(s) => view! { <Steps tx=tx() state=s shown=codes.get()/> }.into_any(),
                    Err(e) => view! {
                        <h1>{t().cannot_continue}</h1>
                        <p class="error" role="alert">{e.message}</p>
                    }.into_any(),
                })}
            </Suspense>
        </main>
    }
}

/// The application a sign-in is for, as the person knows it: the login page names it, never
/// the provider behind it (per-application branding; the name is the application's in the
/// console).
#[derive(Clone)]
pub struct SignInTo(pub String);

/// The name of the application being signed in to ("this application" outside a sign-in).
pub fn application_name() -> String {
    use_context::<SignInTo>().map_or_else(|| t().this_application.to_owned(), |a| a.0)
}

#[component]
fn Steps(
    tx: String,
    state: LoginState,
    /// Recovery codes just made, to show (once) instead of the step.
    shown: Option<Vec<String>>,
) -> impl IntoView {
    provide_context(SignInTo(state.application_name.clone()));
    if let Some(d) = web_sys::window().and_then(|w| w.document()) {
        d.set_title(&fill(t().title, &[("app", &state.application_name)]));
    }
    // The application's logo, when its admin set one (served from this origin).
    let logo = state.application_logo.clone().map(|url| view! { <img class="app-logo" src=url alt=format!("{} logo", state.application_name)/> });
    let header = view! {
        {logo}
        <h1>{fill(t().title, &[("app", &state.application_name)])}</h1>
        <p class="muted">{t().signing_in_as} " " <strong>{state.username.clone()}</strong></p>
    };
    let app = state.application_name.clone();
    let step = match shown {
        Some(codes) => LoginStep::RecoveryCodes { codes },
        None => state.step,
    };
    let body = match step {
        LoginStep::Enrol { allowed, .. } if allowed.is_empty() => view! {
            <p role="alert">{t().no_authenticator_no_enrol}</p>
        }
        .into_any(),
        LoginStep::Enrol { allowed, additional, optional } => view! { <Enrol tx=tx allowed=allowed additional=additional optional=optional/> }.into_any(),
        LoginStep::Authenticate { enrolled, .. } if enrolled.is_empty() => view! {
            <p role="alert">{t().none_usable}</p>
        }
        .into_any(),
        LoginStep::Authenticate { enrolled, can_add, must_add } => view! {
            <Authenticate tx=tx app=app username=state.username.clone() enrolled=enrolled can_add=can_add must_add=must_add/>
        }
        .into_any(),
        LoginStep::Done { redirect_to } => {
            go(&redirect_to);
            view! { <p>{t().signed_in_returning}</p> }.into_any()
        }
        LoginStep::RecoveryCodes { codes } => view! { <SaveCodes tx=tx codes=codes/> }.into_any(),
    };
    view! { {header} {body} }
}

/// The words of a choice between authenticators.
fn choice_text(kind: AuthenticatorKind) -> (&'static str, &'static str) {
    let t = t();
    match kind {
        AuthenticatorKind::Face => (t.choice_face, t.choice_face_what),
        AuthenticatorKind::Totp => (t.choice_totp, t.choice_totp_what),
        AuthenticatorKind::Passkey => (t.choice_passkey, t.choice_passkey_what),
        AuthenticatorKind::RecoveryCode => (t.choice_recovery, t.choice_recovery_what),
    }
}

/// The link to another way of signing in.
fn instead_text(kind: AuthenticatorKind) -> &'static str {
    let t = t();
    match kind {
        AuthenticatorKind::Face => t.instead_face,
        AuthenticatorKind::Totp => t.instead_totp,
        AuthenticatorKind::Passkey => t.instead_passkey,
        AuthenticatorKind::RecoveryCode => t.instead_recovery,
    }
}

/// First sign-in, or adding an authenticator (`additional`) after proving who one is:
/// choose one (when more than one is allowed), then set it up.
#[component]
fn Enrol(tx: String, allowed: Vec<AuthenticatorKind>, additional: bool, optional: bool) -> impl IntoView {
    let only = (allowed.len() == 1).then(|| allowed[0]);
    let chosen = RwSignal::new(only);
    let can_choose = only.is_none();
    // From the face step: straight to the one other way, or back to the choice.
    let others: Vec<AuthenticatorKind> = allowed.iter().copied().filter(|k| !matches!(k, AuthenticatorKind::Face | AuthenticatorKind::RecoveryCode)).collect();
    let from_face = match others.as_slice() {
        [one] => {
            let one = *one;
            let label = if one == AuthenticatorKind::Totp { t().setup_totp_instead } else { t().create_passkey_instead };
            (label, Callback::new(move |()| chosen.set(Some(one))))
        }
        _ => (t().choose_another_way, Callback::new(move |()| chosen.set(None))),
    };
    let another = move || {
        view! {
            <Show when=move || can_choose>
                <p class="alternative"><button type="button" class="link" on:click=move |_| chosen.set(None)>{t().choose_another_way}</button></p>
            </Show>
        }
    };
    let skip = optional.then(|| view! { <SkipAddition tx=tx.clone()/> });
    let step = move || match chosen.get() {
        Some(AuthenticatorKind::Face) if can_choose => view! { <FaceStep tx=tx.clone() purpose=FacePurpose::Enrol other=from_face/> }.into_any(),
        Some(AuthenticatorKind::Face) => view! { <FaceStep tx=tx.clone() purpose=FacePurpose::Enrol/> }.into_any(),
        Some(AuthenticatorKind::Totp) => view! { <TotpEnrol tx=tx.clone() additional=additional/> {another()} }.into_any(),
        Some(AuthenticatorKind::Passkey) => view! { <PasskeyStep tx=tx.clone() purpose=FacePurpose::Enrol additional=additional/> {another()} }.into_any(),
        Some(AuthenticatorKind::RecoveryCode) => view! { <NewCodes tx=tx.clone()/> {another()} }.into_any(),
        None => view! {
            <h2>{if additional { t().add_a_way } else { t().choose_how }}</h2>
            <p>{if additional {
                t().add_confirmed.to_owned()
            } else {
                fill(t().first_sign_in_choose, &[("app", &application_name())])
            }}</p>
            <div class="choices">
                {allowed.iter().map(|&kind| {
                    let (title, what) = choice_text(kind);
                    view! {
                        <button type="button" class="choice" id=format!("choose-{}", kind.id()) on:click=move |_| chosen.set(Some(kind))>
                            <strong>{title}</strong>
                            <span>{what}</span>
                        </button>
                    }
                }).collect_view()}
            </div>
        }
        .into_any(),
    };
    view! { {step} {skip} }
}

/// An addition the person asked for and may skip: "Skip this and finish signing in" ends the
/// sign-in with what they proved (their camera failed, or they changed their mind).
#[component]
fn SkipAddition(tx: String) -> impl IntoView {
    let skip = finish_action(tx);
    let error = Signal::derive(move || skip.value().get().and_then(Result::err));
    view! {
        <p class="alternative">
            <button type="button" class="link" disabled=move || skip.pending().get() on:click=move |_| { skip.dispatch(()); }>{t().skip_addition}</button>
        </p>
        <ErrorBanner error=error/>
    }
}

/// Ends the sign-in with what was proved in it (`POST /api/login/{tx}/skip`) and goes back to
/// the application: skipping an addition, or continuing once new recovery codes are saved.
fn finish_action(tx: String) -> Action<(), Result<(), ApiFail>> {
    Action::new_local(move |_: &()| {
        let tx = tx.clone();
        async move {
            if let LoginStep::Done { redirect_to } = api::skip_addition(&tx).await? {
                go(&redirect_to);
            }
            Ok(())
        }
    })
}

/// A form's submit button: `label`, or "Checking…" (disabled) while the answer is pending.
#[component]
fn SubmitButton(#[prop(into)] pending: Signal<bool>, label: &'static str) -> impl IntoView {
    view! {
        <button type="submit" disabled=move || pending.get()>
            {move || if pending.get() { t().checking } else { label }}
        </button>
    }
}

/// Later sign-ins: the authenticator this browser last saw work (the face otherwise), with
/// a link to each other one the person has. A person with a face enrolment can withdraw it
/// here: it is deleted when they next prove who they are, so nobody else can wipe it.
/// Where the application accepts an authenticator they do not have yet, they can add it
/// once they have proved who they are; where it accepts none of theirs (`must_add`), they
/// have to.
#[component]
fn Authenticate(tx: String, app: String, username: String, enrolled: Vec<AuthenticatorKind>, can_add: Vec<AuthenticatorKind>, must_add: bool) -> impl IntoView {
    let has_face = enrolled.contains(&AuthenticatorKind::Face);
    let first = last_used::get(&username).filter(|k| enrolled.contains(k));
    let default = [AuthenticatorKind::Face, AuthenticatorKind::Totp, AuthenticatorKind::Passkey].into_iter().find(|k| enrolled.contains(k));
    let using = RwSignal::new(first.or(default).unwrap_or(AuthenticatorKind::Totp));
    let after = AfterSignIn { forget_face: RwSignal::new(false), add_authenticator: RwSignal::new(false) };
    let adding = kinds_text(&can_add);
    let enrolled_text = kinds_text(&enrolled);
    let policy = must_add.then(|| {
        view! {
            <p class="notice" role="note" id="must-add">
                {fill(t().must_add, &[("app", &app), ("kinds", &adding), ("enrolled", &enrolled_text)])}
            </p>
        }
    });
    // What may be added: the tick box goes in the code form, or under the camera.
    let offer = if must_add { None } else { offer_text(&can_add) };
    let step = move || {
        let current = using.get();
        let mut others: Vec<AuthenticatorKind> = enrolled.iter().copied().filter(|k| *k != current).collect();
        let body = match current {
            AuthenticatorKind::Face if !others.is_empty() => {
                let first = others.remove(0);
                let to_first = Callback::new(move |()| using.set(first));
                view! {
                    <FaceStep tx=tx.clone() purpose=FacePurpose::Authenticate after=after other=(instead_text(first), to_first)/>
                    <AddOffer after=after adding=offer.clone()/>
                }
                .into_any()
            }
            AuthenticatorKind::Face => view! {
                <FaceStep tx=tx.clone() purpose=FacePurpose::Authenticate after=after/>
                <AddOffer after=after adding=offer.clone()/>
            }
            .into_any(),
            AuthenticatorKind::Totp => view! { <TotpVerify tx=tx.clone() after=after adding=offer.clone()/> }.into_any(),
            AuthenticatorKind::Passkey => view! {
                <PasskeyStep tx=tx.clone() purpose=FacePurpose::Authenticate after=after/>
                <AddOffer after=after adding=offer.clone()/>
            }
            .into_any(),
            AuthenticatorKind::RecoveryCode => view! { <RecoveryVerify tx=tx.clone() after=after adding=offer.clone()/> }.into_any(),
        };
        let links = others
            .into_iter()
            .map(|k| view! { <p class="alternative"><button type="button" class="link" on:click=move |_| using.set(k)>{instead_text(k)}</button></p> })
            .collect_view();
        view! { {body} {links} }
    };
    view! {
        {policy}
        {step}
        <Show when=move || has_face>
            <details class="forget">
                <summary>{t().delete_face}</summary>
                <p>{t().delete_face_what}</p>
                <label class="check">
                    <input type="checkbox" id="forget-face" prop:checked=move || after.forget_face.get() on:change=move |ev| after.forget_face.set(event_target_checked(&ev))/>
                    {t().delete_face_tick}
                </label>
            </details>
        </Show>
    }
}

/// A passkey ceremony: the worker's options, the browser's WebAuthn call (the device asks
/// for the person's fingerprint, face or PIN), and the answer to the worker.
#[component]
fn PasskeyStep(
    tx: String,
    purpose: FacePurpose,
    /// Authentication: what the person asked for once this check succeeds.
    #[prop(optional)]
    after: Option<AfterSignIn>,
    #[prop(optional)] additional: bool,
) -> impl IntoView {
    let advance = use_advance();
    let enrolling = purpose == FacePurpose::Enrol;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let go = move |_| {
        let tx = tx.clone();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let options = api::passkey_options(&tx).await.map_err(|e| e.message)?;
                if enrolling {
                    let registration = crate::webauthn::create(&options).await.map_err(|e| e.message(true))?;
                    api::passkey_enrol(&tx, &registration).await.map_err(|e| e.message)
                } else {
                    let add = after.is_some_and(|a| a.get().1);
                    let assertion = crate::webauthn::get_assertion(&options, add).await.map_err(|e| e.message(false))?;
                    api::passkey_verify(&tx, &assertion).await.map_err(|e| e.message)
                }
            }
            .await;
            busy.set(false);
            match result {
                Ok(next) => advance.run(AuthenticatorKind::Passkey, next),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let t = t();
    let (title, text, button) = if enrolling {
        (t.passkey_create, if additional { t.passkey_add.to_owned() } else { fill(t.first_sign_in, &[("app", &application_name())]) }, t.passkey_create)
    } else {
        (t.passkey_sign_in, t.passkey_device_asks.to_owned(), t.passkey_use)
    };
    view! {
        <h2>{title}</h2>
        <p>{text} " " {t.passkey_stays}</p>
        <button type="button" id="passkey-go" on:click=go disabled=move || busy.get()>
            {move || if busy.get() { t.passkey_waiting } else { button }}
        </button>
        {move || error.get().map(|m| view! { <p class="error" role="alert" id="passkey-error">{m}</p> })}
    }
}

/// Submits a code; on success the page moves on to what the worker answered.
fn code_action(tx: String, confirm: bool, after: Option<AfterSignIn>) -> Action<String, Result<LoginStep, ApiFail>> {
    let advance = use_advance();
    Action::new_local(move |code: &String| {
        let (tx, code) = (tx.clone(), code.trim().to_owned());
        let (forget_face, add_authenticator) = after.map(AfterSignIn::get).unwrap_or_default();
        async move {
            let next =
                if confirm { api::totp_confirm(&tx, code).await } else { api::totp_verify(&tx, &TotpAnswer { code, forget_face, add_authenticator }).await }?;
            advance.run(AuthenticatorKind::Totp, next.clone());
            Ok(next)
        }
    })
}

#[component]
fn TotpEnrol(tx: String, additional: bool) -> impl IntoView {
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
    let t = t();
    let why = if additional { t.totp_add.to_owned() } else { fill(t.first_sign_in, &[("app", &application_name())]) };
    view! {
        <h2>{t.totp_setup}</h2>
        <p>{why} " " {t.totp_scan}</p>
        <Suspense fallback=move || view! { <p>{t.totp_preparing}</p> }>
            {move || offer.get().map(|r| match r {
                Ok(o) => {
                    let key = o.secret.clone();
                    view! {
                        <figure class="qr">
                            <div role="img" aria-label=t.totp_qr inner_html=o.qr_svg.clone()></div>
                            <figcaption>
                                {t.totp_cannot_scan} " " <code class="secret">{o.secret.clone()}</code> " "
                                <CopyButton text=Signal::derive(move || key.clone()) label=t.totp_the_key/>
                                <br/>
                                <a id="otpauth-link" href=o.otpauth_uri.clone()>{t.totp_open_here}</a>
                            </figcaption>
                        </figure>
                    }.into_any()
                }
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </Suspense>
        <form on:submit=move |ev| { ev.prevent_default(); submit.dispatch(code.get()); }>
            <CodeInput value=code label=t.totp_code_from_the_app/>
            <ErrorBanner error=error/>
            <SubmitButton pending=submit.pending() label=t.totp_confirm/>
        </form>
    }
}

/// The tick box that asks to add what `adding` says ([`offer_text`]) once this sign-in has
/// proved who the person is; nothing when there is none.
#[component]
fn AddOffer(after: AfterSignIn, adding: Option<String>) -> impl IntoView {
    adding.map(|adding| {
        view! {
            <label class="check">
                <input type="checkbox" id="add-authenticator" prop:checked=move || after.add_authenticator.get()
                    on:change=move |ev| after.add_authenticator.set(event_target_checked(&ev))/>
                {adding}
            </label>
        }
    })
}

#[component]
fn TotpVerify(tx: String, after: AfterSignIn, adding: Option<String>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let submit = code_action(tx, false, Some(after));
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    view! {
        <h2>{t().totp_enter}</h2>
        <form on:submit=move |ev| { ev.prevent_default(); submit.dispatch(code.get()); }>
            <CodeInput value=code label=t().totp_code_from_your_app/>
            <AddOffer after=after adding=adding/>
            <ErrorBanner error=error/>
            <SubmitButton pending=submit.pending() label=t().sign_in/>
        </form>
    }
}

/// Signing in with a recovery code: for when the usual authenticator cannot be used.
#[component]
fn RecoveryVerify(tx: String, after: AfterSignIn, adding: Option<String>) -> impl IntoView {
    let advance = use_advance();
    let code = RwSignal::new(String::new());
    let submit = Action::new_local(move |code: &String| {
        let (tx, code) = (tx.clone(), code.clone());
        let add_authenticator = after.add_authenticator.get_untracked();
        async move {
            let next = api::recovery_verify(&tx, &RecoveryAnswer { code, add_authenticator }).await?;
            advance.run(AuthenticatorKind::RecoveryCode, next);
            Ok::<_, ApiFail>(())
        }
    });
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    view! {
        <h2>{t().recovery_use}</h2>
        <p>{t().recovery_use_what}</p>
        <form on:submit=move |ev| { ev.prevent_default(); submit.dispatch(code.get()); }>
            <label for="recovery-code">{t().recovery_code}</label>
            <input id="recovery-code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="20"
                placeholder="XXXXX-XXXXX" prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
            <AddOffer after=after adding=adding/>
            <ErrorBanner error=error/>
            <SubmitButton pending=submit.pending() label=t().sign_in/>
        </form>
    }
}

/// Replacing one's recovery codes, after proving an authenticator in this sign-in.
#[component]
fn NewCodes(tx: String) -> impl IntoView {
    let advance = use_advance();
    let make = Action::new_local(move |_: &()| {
        let tx = tx.clone();
        async move {
            let next = api::recovery_new(&tx).await?;
            advance.run(AuthenticatorKind::RecoveryCode, next);
            Ok::<_, ApiFail>(())
        }
    });
    let error = Signal::derive(move || make.value().get().and_then(Result::err));
    view! {
        <h2>{t().recovery_new}</h2>
        <p>{t().recovery_new_what}</p>
        <button type="button" id="recovery-new" disabled=move || make.pending().get() on:click=move |_| { make.dispatch(()); }>{t().recovery_make}</button>
        <ErrorBanner error=error/>
    }
}

/// New recovery codes, shown this once, and the end of the sign-in once the person saved them.
#[component]
fn SaveCodes(tx: String, codes: Vec<String>) -> impl IntoView {
    let all = codes.join("\n");
    let saved = RwSignal::new(false);
    let finish = finish_action(tx);
    let error = Signal::derive(move || finish.value().get().and_then(Result::err));
    view! {
        <h2>{t().recovery_save}</h2>
        <p>{t().recovery_save_what}</p>
        <ol class="recovery-codes" id="recovery-codes">
            {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
        </ol>
        <p><CopyButton text=Signal::derive(move || all.clone()) label=t().recovery_the_codes/></p>
        <label class="check">
            <input type="checkbox" id="codes-saved" prop:checked=move || saved.get() on:change=move |ev| saved.set(event_target_checked(&ev))/>
            {t().recovery_saved}
        </label>
        <ErrorBanner error=error/>
        <button type="button" id="codes-continue" disabled=move || !saved.get() || finish.pending().get() on:click=move |_| { finish.dispatch(()); }>{t().continue_}</button>
    }
}
