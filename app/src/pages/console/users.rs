//! Users: search, groups, enrolled authenticators, reset an enrolment, disable, delete
//! (with confirmation; administrators lose their role first).

use crate::api::{self, ApiFail};
use crate::components::{datetime, ErrorBanner};
use biopass_proto::admin::{Group, UpdateUser, User};
use biopass_proto::login::AuthenticatorKind;
use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let reload = RwSignal::new(0u32);
    // The page shown: its cursor, and the cursors of the pages before it.
    let cursor = RwSignal::new(None::<String>);
    let previous = RwSignal::new(Vec::<Option<String>>::new());
    let indexing = RwSignal::new(None::<usize>);
    let groups = LocalResource::new(api::groups);
    let group_names = Signal::derive(move || groups.get().and_then(Result::ok).unwrap_or_default());
    // A deployment upgraded from before the user index indexes its users once.
    let reindex = Action::new_local(move |_: &()| async move {
        let status = api::directory().await?;
        if status.indexed {
            return Ok::<_, ApiFail>(());
        }
        let (mut done, mut next) = (0usize, None);
        loop {
            indexing.set(Some(done));
            let r = api::reindex(next).await?;
            done += r.indexed;
            next = r.next_cursor;
            if next.is_none() {
                break;
            }
        }
        indexing.set(None);
        reload.update(|n| *n += 1);
        Ok(())
    });
    reindex.dispatch(());
    let reindex_error = Signal::derive(move || reindex.value().get().and_then(Result::err));
    let users = LocalResource::new(move || {
        reload.track();
        let q = query.get();
        let at = cursor.get();
        async move { api::users(None, &q, PAGE, at.as_deref()).await }
    });
    let search = move |q: String| {
        query.set(q);
        cursor.set(None);
        previous.set(Vec::new());
    };
    view! {
        <h1>"Users"</h1>
        <form role="search" class="row" on:submit=move |ev| ev.prevent_default()>
            <label for="user-search">"Search by the start of a user name"</label>
            <input id="user-search" type="search" prop:value=move || query.get() on:input=move |ev| search(event_target_value(&ev))/>
        </form>
        <Show when=move || indexing.get().is_some()>
            <p class="muted" role="status">{move || format!("Updating the user index ({} users so far)…", indexing.get().unwrap_or_default())}</p>
        </Show>
        <ErrorBanner error=reindex_error/>
        <Transition fallback=|| view! { <p>"Loading users…"</p> }>
            {move || users.get().map(|r| match r {
                Ok(p) if p.items.is_empty() && previous.with(Vec::is_empty) => view! { <p class="muted">"No users match. Users are registered at their first sign-in."</p> }.into_any(),
                Ok(p) => {
                    let next = p.next_cursor.clone();
                    view! {
                        <table>
                            <thead><tr><th scope="col">"User name"</th><th scope="col">"Groups"</th><th scope="col">"Authenticators"</th><th scope="col">"Status"</th><th scope="col">"Registered"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>{p.items.into_iter().map(|u| view! { <UserRow user=u reload=reload groups=group_names/> }).collect_view()}</tbody>
                        </table>
                        <nav class="row" aria-label="Pages of users">
                            <button type="button" class="secondary small" disabled=move || previous.with(Vec::is_empty)
                                on:click=move |_| { let back = previous.try_update(Vec::pop).flatten().flatten(); cursor.set(back); }>"Previous page"</button>
                            <button type="button" class="secondary small" disabled=next.is_none()
                                on:click=move |_| { previous.update(|v| v.push(cursor.get_untracked())); cursor.set(next.clone()); }>"Next page"</button>
                        </nav>
                    }.into_any()
                }
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </Transition>
    }
}

/// Users a page shows.
const PAGE: usize = 50;

/// What an admin does to a user from their row.
#[derive(Clone)]
enum UserChange {
    Update(String, UpdateUser),
    Reset(String, AuthenticatorKind),
    Delete(String),
}

#[component]
fn UserRow(user: User, reload: RwSignal<u32>, groups: Signal<Vec<Group>>) -> impl IntoView {
    let id = user.id.clone();
    let act = Action::new_local(move |change: &UserChange| {
        let change = change.clone();
        async move {
            match change {
                UserChange::Update(id, u) => drop(api::update_user(&id, &u).await?),
                UserChange::Reset(id, kind) => drop(api::reset_authenticator(&id, kind).await?),
                UserChange::Delete(id) => drop(api::delete_user(&id).await?),
            }
            reload.update(|n| *n += 1);
            Ok::<_, ApiFail>(())
        }
    });
    let error = Signal::derive(move || act.value().get().and_then(Result::err));
    let mut auths = Vec::new();
    if user.authenticators.face {
        auths.push("Face".to_owned());
    }
    if user.authenticators.totp {
        auths.push("Authenticator app".to_owned());
    }
    match user.authenticators.passkeys.len() {
        0 => {}
        1 => auths.push("Passkey".to_owned()),
        n => auths.push(format!("{n} passkeys")),
    }
    let status = if user.disabled {
        "Disabled"
    } else if user.admin {
        "Administrator"
    } else {
        "Active"
    };
    let name = user.username.clone();
    let (reset_totp, reset_face, reset_passkeys, toggle, remove) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
    let has_passkeys = !user.authenticators.passkeys.is_empty();
    let passkeys_label = format!("Reset passkeys for {}", user.username);
    let disabled = user.disabled;
    let admin = user.admin;
    let confirming = RwSignal::new(false);
    let question = format!("delete-q-{id}");
    let delete_label = format!("Delete {}", user.username);
    let delete_text = format!(
        "Delete {}? Their authenticators are erased and their sessions and tokens stop working; at their next sign-in they enrol as someone new. The audit log keeps what they did.",
        user.username
    );
    view! {
        <tr>
            <td>{user.username.clone()}</td>
            <td>{
                let ids = user.groups.clone();
                move || {
                    let all = groups.get();
                    let names: Vec<String> = ids.iter().map(|id| all.iter().find(|g| &g.id == id).map(|g| g.name.clone()).unwrap_or_else(|| id.clone())).collect();
                    if names.is_empty() { "None".to_owned() } else { names.join(", ") }
                }
            }</td>
            <td>{if auths.is_empty() { "None enrolled".to_owned() } else { auths.join(", ") }}</td>
            <td>{status}</td>
            <td>{datetime(user.created_at)}</td>
            <td class="actions">
                <Show when=move || user.authenticators.totp>
                    <button type="button" class="secondary small" aria-label=format!("Reset app for {name}")
                        on:click={ let id = reset_totp.clone(); move |_| { act.dispatch(UserChange::Reset(id.clone(), AuthenticatorKind::Totp)); } }>"Reset app"</button>
                </Show>
                <Show when=move || user.authenticators.face>
                    <button type="button" class="secondary small" aria-label=format!("Reset face for {}", user.username)
                        on:click={ let id = reset_face.clone(); move |_| { act.dispatch(UserChange::Reset(id.clone(), AuthenticatorKind::Face)); } }>"Reset face"</button>
                </Show>
                <Show when=move || has_passkeys>
                    <button type="button" class="secondary small" aria-label=passkeys_label.clone()
                        on:click={ let id = reset_passkeys.clone(); move |_| { act.dispatch(UserChange::Reset(id.clone(), AuthenticatorKind::Passkey)); } }>"Reset passkeys"</button>
                </Show>
                <button type="button" class=if disabled { "secondary small" } else { "danger small" }
                    on:click={ let id = toggle.clone(); move |_| { act.dispatch(UserChange::Update(id.clone(), UpdateUser { disabled: Some(!disabled), ..Default::default() })); } }>
                    {if disabled { "Enable" } else { "Disable" }}
                </button>
                <Show when=move || !admin>
                    <button type="button" class="danger small" aria-label=delete_label.clone() on:click=move |_| confirming.set(true)>"Delete"</button>
                </Show>
                <Show when=move || confirming.get()>
                    <div class="confirm" role="alertdialog" aria-labelledby=question.clone()>
                        <p id=question.clone()>{delete_text.clone()}</p>
                        <button type="button" class="danger small"
                            on:click={ let id = remove.clone(); move |_| { confirming.set(false); act.dispatch(UserChange::Delete(id.clone())); } }>"Delete now"</button>
                        <button type="button" class="secondary small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </div>
                </Show>
                <ErrorBanner error=error/>
            </td>
        </tr>
    }
}
