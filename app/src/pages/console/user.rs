//! One user's page (`/console/users/{id}`): who they are, their groups and authenticators,
//! when they last signed in, and their recent entries in the audit log (what they did, and
//! what administrators did to them).

use crate::api::{self, ApiFail};
use crate::components::datetime;
use biopass_proto::admin::{AuditEntry, User};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// Audit entries the page shows.
const RECENT: usize = 20;

fn when(ms: u64) -> String {
    datetime(ms / 1000)
}

/// The user's recent audit entries, newest first: their own (as `user:{name}`) and those
/// about them (their id as the target).
async fn recent(user: &User) -> Result<Vec<AuditEntry>, ApiFail> {
    let actor = format!("user:{}", user.username);
    let own = api::audit(&[("actor", actor.clone())], 50, None).await?;
    let about = api::audit(&[("target", user.id.clone())], 50, None).await?;
    let mut all: Vec<AuditEntry> = own.items.into_iter().filter(|e| e.actor == actor).collect();
    all.extend(about.items.into_iter().filter(|e| e.target.as_deref() == Some(user.id.as_str())));
    all.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
    all.dedup();
    all.truncate(RECENT);
    Ok(all)
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let user = LocalResource::new(move || {
        let id = id();
        async move {
            let user = api::user(&id).await?;
            let entries = recent(&user).await?;
            Ok::<_, ApiFail>((user, entries))
        }
    });
    view! {
        <p><a href="/console/users">"← Users"</a></p>
        <Transition fallback=|| view! { <p>"Loading the user…"</p> }>
            {move || user.get().map(|r| match r {
                Ok((u, entries)) => view! { <UserDetail user=u entries=entries/> }.into_any(),
                Err(e) => view! { <h1>"User"</h1><p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn UserDetail(user: User, entries: Vec<AuditEntry>) -> impl IntoView {
    let groups = LocalResource::new(api::groups);
    let last_sign_in = entries.iter().find(|e| e.action == "login.success").map(|e| when(e.at_ms));
    let status = super::users::status(&user);
    let ids = user.groups.clone();
    let mut authenticators: Vec<String> = Vec::new();
    if user.authenticators.face {
        authenticators.push("Face".into());
    }
    if user.authenticators.totp {
        authenticators.push("Authenticator app".into());
    }
    for p in &user.authenticators.passkeys {
        authenticators.push(format!("Passkey {}… (since {})", p.credential_id.chars().take(8).collect::<String>(), datetime(p.enrolled_at)));
    }
    if user.authenticators.recovery_codes > 0 {
        authenticators.push(format!("Recovery codes ({} left)", user.authenticators.recovery_codes));
    }
    view! {
        <h1>{user.username.clone()}</h1>
        <section class="box" aria-labelledby="user-about">
            <h2 id="user-about">"About"</h2>
            <dl class="fields">
                <dt>"Status"</dt><dd>{status}</dd>
                <dt>"User id"</dt><dd><code>{user.id.clone()}</code></dd>
                <dt>"User pool"</dt><dd>{user.user_pool_id.clone().unwrap_or_else(|| "None (a Biopass user)".into())}</dd>
                <dt>"Registered"</dt><dd>{datetime(user.created_at)}</dd>
                <dt>"Last sign-in"</dt><dd>{last_sign_in.unwrap_or_else(|| "None recorded recently".into())}</dd>
                <dt>"Groups"</dt><dd>{move || {
                    super::users::group_names(&ids, &groups.get().and_then(Result::ok).unwrap_or_default())
                }}</dd>
                <dt>"Authenticators"</dt><dd>{if authenticators.is_empty() { "None enrolled".to_owned() } else { authenticators.join(", ") }}</dd>
            </dl>
        </section>
        <section class="box" aria-labelledby="user-recent">
            <h2 id="user-recent">"Recent activity"</h2>
            {if entries.is_empty() {
                view! { <p class="muted">"Nothing in the audit log for this user."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap" role="region" aria-label="Recent activity" tabindex="0"><table>
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"On"</th><th scope="col">"Detail"</th></tr></thead>
                        <tbody>{entries.into_iter().map(|e| view! {
                            <tr>
                                <td>{when(e.at_ms)}</td>
                                <td>{e.actor}</td>
                                <td><code>{e.action}</code></td>
                                <td>{e.target_name.or(e.target).unwrap_or_default()}</td>
                                <td>{e.detail.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}
