//! The admin console (`/console/...`): sign-in (the one-time bootstrap link or a user name,
//! both through the universal login), the layout with navigation, and one module per page.

pub mod application;
pub mod applications;
pub mod audit;
pub mod groups;
pub mod user;
pub mod users;

use super::go;
use crate::api::{self, ApiFail};
use crate::components::ErrorBanner;
use biopass_proto::admin::AdminSession;
use biopass_proto::error::ApiErrorCode;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

/// The signed-in admin, provided to every console page.
#[derive(Clone)]
pub struct Me(pub AdminSession);

/// The bootstrap token of the one-time link (`/console#bootstrap=...`), removed from the
/// address bar once read.
fn bootstrap_token() -> Option<String> {
    let w = web_sys::window()?;
    let hash = w.location().hash().ok()?;
    let token = hash.strip_prefix("#bootstrap=")?.to_owned();
    let _ = w.history().ok()?.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/console"));
    Some(token)
}

#[component]
pub fn ConsoleLayout() -> impl IntoView {
    if let Some(d) = web_sys::window().and_then(|w| w.document()) {
        d.set_title("Biopass console");
    }
    let bootstrap = bootstrap_token();
    let session = LocalResource::new(api::session);
    view! {
        <Suspense fallback=|| view! { <main class="card"><p>"Loading the console…"</p></main> }>
            {move || {
                let bootstrap = bootstrap.clone();
                session.get().map(move |r| match (r, bootstrap) {
                    (_, Some(token)) => view! { <BootstrapForm token=token/> }.into_any(),
                    (Ok(s), None) => {
                        provide_context(Me(s));
                        view! { <Shell/> }.into_any()
                    }
                    (Err(e), None) if e.code == ApiErrorCode::Unauthenticated => view! { <SignInForm/> }.into_any(),
                    (Err(e), None) => view! { <main class="card"><p class="error" role="alert">{e.message}</p></main> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn Shell() -> impl IntoView {
    let me = use_context::<Me>().map(|m| m.0.username).unwrap_or_default();
    let sign_out = Action::new_local(|_: &()| async {
        let r = api::sign_out().await;
        go("/console");
        r
    });
    // On a narrow screen the navigation collapses behind a Menu button (the stylesheet shows
    // it whole from 48rem); it closes again when a page is chosen.
    let menu_open = RwSignal::new(false);
    view! {
        // The browser follows the fragment itself (rel=external: not a route change).
        <a class="skip-link" href="#main" rel="external">"Skip to the page"</a>
        <header class="topbar">
            <a class="brand" href="/console">"Biopass"</a>
            <button type="button" class="menu-toggle secondary small" aria-controls="console-menu"
                aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|o| *o = !*o)>"Menu"</button>
            <div id="console-menu" class="menu" class:open=move || menu_open.get()>
                <nav aria-label="Console" on:click=move |_| menu_open.set(false)>
                    <A href="/console" exact=true>"Applications"</A>
                    <A href="/console/users">"Users"</A>
                    <A href="/console/groups">"Groups"</A>
                    <A href="/console/audit">"Audit log"</A>
                </nav>
                <span class="who">{me}</span>
                <button type="button" class="secondary small" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
            </div>
        </header>
        <main class="page" id="main" tabindex="-1">
            <Outlet/>
        </main>
    }
}

/// A user-name form whose answer is a redirect into the universal login.
#[component]
fn UserNameForm(id: &'static str, label: &'static str, button: &'static str, submit: Action<String, Result<(), ApiFail>>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    view! {
        <form on:submit=move |ev| { ev.prevent_default(); submit.dispatch(username.get()); }>
            <label for=id>{label}</label>
            <input id=id autocomplete="username" required=true prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/>
            <ErrorBanner error=error/>
            <button type="submit" disabled=move || submit.pending().get()>{button}</button>
        </form>
    }
}

#[component]
fn SignInForm() -> impl IntoView {
    let submit = Action::new_local(move |name: &String| {
        let name = name.clone();
        async move {
            go(&api::start_sign_in(name).await?.redirect_to);
            Ok::<_, ApiFail>(())
        }
    });
    view! {
        <main class="card">
            <h1>"Biopass admin console"</h1>
            <UserNameForm id="admin-username" label="Administrator user name" button="Continue" submit=submit/>
            <p class="muted">"You will confirm with your authenticator app or your face."</p>
        </main>
    }
}

/// The one-time link: asks first whether it still works, so a spent or wrong link says so
/// (and offers the normal sign-in) instead of showing a form that cannot succeed.
#[component]
fn BootstrapForm(token: String) -> impl IntoView {
    let status = LocalResource::new({
        let token = token.clone();
        move || api::bootstrap_check(token.clone())
    });
    let submit = Action::new_local(move |name: &String| {
        let (token, name) = (token.clone(), name.clone());
        async move {
            go(&api::bootstrap(token, name).await?.redirect_to);
            Ok::<_, ApiFail>(())
        }
    });
    view! {
        <Suspense fallback=|| view! { <main class="card"><p>"Checking the link…"</p></main> }>
            {move || status.get().map(|r| match r {
                Ok(_) => view! {
                    <main class="card">
                        <h1>"Create the first administrator"</h1>
                        <p>"This one-time link creates the first administrator. Choose a user name; next you will set up an authenticator for it."</p>
                        <UserNameForm id="first-admin" label="User name" button="Create and continue" submit=submit/>
                    </main>
                }.into_any(),
                Err(e) if matches!(e.code, ApiErrorCode::Expired | ApiErrorCode::Unauthenticated) => view! {
                    <main class="card">
                        <h1>"This admin link cannot be used"</h1>
                        <p class="error" role="alert" id="bootstrap-spent">{e.message}</p>
                        <p><a href="/console" rel="external">"Sign in to the console"</a></p>
                    </main>
                }.into_any(),
                Err(e) => view! { <main class="card"><p class="error" role="alert">{e.message}</p></main> }.into_any(),
            })}
        </Suspense>
    }
}
