//! The admin console. Signed in with the admin token from the bootstrap link
//! (`/console#token=...`), kept in this tab's session storage only.

use crate::api::{self, ApiFail};
use crate::components::ErrorBanner;
use biopass_proto::admin::{ApplicationType, CreateApplication};
use leptos::prelude::*;

fn token_from_location() -> Option<String> {
    let w = web_sys::window()?;
    let hash = w.location().hash().ok()?;
    let token = hash.strip_prefix("#token=")?.to_owned();
    // Keep the token out of the address bar and history.
    let _ = w.history().ok()?.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/console"));
    Some(token)
}

#[component]
pub fn ConsolePage() -> impl IntoView {
    let token = RwSignal::new(token_from_location().unwrap_or_default());
    view! {
        <main class="card wide">
            <h1>"Biopass admin console"</h1>
            <Show
                when=move || !token.get().is_empty()
                fallback=move || view! {
                    <p>"Open the one-time admin link printed by the run command to sign in."</p>
                }
            >
                <Applications token=token.get()/>
            </Show>
        </main>
    }
}

#[component]
fn Applications(token: String) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new({
        let token = token.clone();
        move || {
            reload.track();
            let token = token.clone();
            async move { api::applications(&token).await }
        }
    });
    let name = RwSignal::new(String::new());
    let create = Action::new_local({
        let token = token.clone();
        move |name: &String| {
            let (token, name) = (token.clone(), name.clone());
            async move {
                let input = CreateApplication {
                    name,
                    application_type: ApplicationType::AmazonCognitoMfa,
                    group_id: None,
                    allowed_callback_urls: Vec::new(),
                    client_authentication: None,
                    client_auth_method: None,
                    public_key_jwk: None,
                };
                let app = api::create_application(&token, &input).await?;
                reload.update(|n| *n += 1);
                Ok::<_, ApiFail>(app)
            }
        }
    });
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <h2>"Applications"</h2>
        <form class="inline" on:submit=move |ev| { ev.prevent_default(); create.dispatch(name.get()); }>
            <label for="app-name">"New Amazon Cognito MFA Application"</label>
            <input id="app-name" required=true prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <button type="submit">"Create"</button>
        </form>
        <ErrorBanner error=error/>
        <Suspense fallback=|| view! { <p>"Loading applications…"</p> }>
            {move || list.get().map(|r| match r {
                Ok(apps) if apps.is_empty() => view! { <p class="muted">"No applications yet."</p> }.into_any(),
                Ok(apps) => view! {
                    <table>
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Client ID"</th><th scope="col">"Issuer"</th></tr></thead>
                        <tbody>
                            {apps.into_iter().map(|a| view! {
                                <tr><td>{a.name}</td><td><code>{a.client_id}</code></td><td><code>{a.issuer}</code></td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </Suspense>
    }
}
