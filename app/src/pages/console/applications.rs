//! The application list: create (with the type picker) and delete (with a confirmation).

use crate::api::{self, ApiFail};
use crate::components::{datetime, ErrorBanner};
use biopass_proto::admin::{Application, ApplicationType, CreateApplication};
use leptos::prelude::*;
use leptos_router::components::A;

pub fn type_name(t: ApplicationType) -> &'static str {
    match t {
        ApplicationType::AmazonCognitoMfa => "Amazon Cognito MFA Application",
    }
}

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        api::applications()
    });
    let name = RwSignal::new(String::new());
    let create = Action::new_local(move |typed: &String| {
        let input = CreateApplication {
            name: typed.clone(),
            application_type: ApplicationType::AmazonCognitoMfa,
            group_id: None,
            allowed_callback_urls: Vec::new(),
            client_authentication: None,
            client_auth_method: None,
            public_key_jwk: None,
            acceptable_authenticators: None,
            face_assurance: None,
            id_token_signed_response_alg: None,
            require_pushed_authorization_requests: None,
        };
        async move {
            let app = api::create_application(&input).await?;
            name.set(String::new());
            reload.update(|n| *n += 1);
            Ok::<_, ApiFail>(app)
        }
    });
    // The link to the application just created, while it is in the list: deleted, it goes.
    let created = move || {
        create.value().get().and_then(Result::ok).filter(|a| match list.get() {
            Some(Ok(apps)) => apps.iter().any(|x| x.client_id == a.client_id),
            _ => true,
        })
    };
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <h1>"Applications"</h1>
        <section class="box" aria-labelledby="new-app">
            <h2 id="new-app">"Create an application"</h2>
            <form class="row" on:submit=move |ev| { ev.prevent_default(); create.dispatch(name.get()); }>
                <div>
                    <label for="app-type">"Type"</label>
                    <select id="app-type"><option value="amazon_cognito_mfa">"Amazon Cognito MFA Application"</option></select>
                </div>
                <div>
                    <label for="app-name">"Name"</label>
                    <input id="app-name" required=true prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <button type="submit" disabled=move || create.pending().get()>"Create application"</button>
            </form>
            <ErrorBanner error=error/>
            {move || created().map(|a| view! {
                <p role="status">"Created " <A href=format!("/console/applications/{}", a.client_id)>{a.name}</A> "."</p>
            })}
        </section>
        <Transition fallback=|| view! { <p>"Loading applications…"</p> }>
            {move || list.get().map(|r| match r {
                Ok(apps) if apps.is_empty() => view! { <p class="muted">"No applications yet. Create one to link a Cognito user pool."</p> }.into_any(),
                Ok(apps) => view! { <AppTable apps=apps reload=reload/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn AppTable(apps: Vec<Application>, reload: RwSignal<u32>) -> impl IntoView {
    view! {
        <div class="table-wrap" role="region" aria-label="Applications" tabindex="0"><table>
            <caption class="sr-only">"Applications"</caption>
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col">"Client ID"</th><th scope="col">"Created"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>
                {apps.into_iter().map(|a| view! { <AppRow app=a reload=reload/> }).collect_view()}
            </tbody>
        </table></div>
    }
}

#[component]
fn AppRow(app: Application, reload: RwSignal<u32>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let id = app.client_id.clone();
    let delete = Action::new_local(move |_: &()| {
        let id = id.clone();
        async move {
            let r = api::delete_application(&id).await;
            if r.is_ok() {
                reload.update(|n| *n += 1);
            }
            r
        }
    });
    let error = Signal::derive(move || delete.value().get().and_then(Result::err));
    let name = app.name.clone();
    view! {
        <tr>
            <td><A href=format!("/console/applications/{}", app.client_id)>{app.name.clone()}</A></td>
            <td>{type_name(app.application_type)}</td>
            <td><code>{app.client_id.clone()}</code></td>
            <td>{datetime(app.created_at)}</td>
            <td class="actions">
                <Show when=move || confirming.get() fallback=move || view! {
                    <button type="button" class="danger small" on:click=move |_| confirming.set(true)>"Delete"</button>
                }>
                    <span role="alert">"Delete " {name.clone()} "? Users can no longer sign in through it."</span>
                    <button type="button" class="danger small" on:click=move |_| { delete.dispatch(()); }>"Confirm delete"</button>
                    <button type="button" class="secondary small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </Show>
                <ErrorBanner error=error/>
            </td>
        </tr>
    }
}
