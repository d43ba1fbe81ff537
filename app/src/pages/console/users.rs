//! Users: search, groups, enrolled authenticators, reset an enrolment, disable, delete
//! (with confirmation; administrators lose their role first), and the users who never
//! enrolled, deleted together.

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
                        <div class="table-wrap" role="region" aria-label="Users" tabindex="0"><table>
                            <thead><tr><th scope="col">"User name"</th><th scope="col">"Groups"</th><th scope="col">"Authenticators"</th><th scope="col">"Status"</th><th scope="col">"Registered"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>{p.items.into_iter().map(|u| view! { <UserRow user=u reload=reload groups=group_names/> }).collect_view()}</tbody>
                        </table></div>
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
        <CleanUp reload=reload/>
    }
}

/// The users a sign-in registered and that never enrolled an authenticator (the person
/// stopped before enrolment), deleted in bulk after a confirmation that says who goes.
#[component]
fn CleanUp(reload: RwSignal<u32>) -> impl IntoView {
    let days = RwSignal::new("1".to_owned());
    let asking = RwSignal::new(None::<u64>);
    let said = RwSignal::new(None::<String>);
    let run = Action::new_local(move |before: &u64| {
        let before = *before;
        async move {
            let (mut deleted, mut cursor) = (0usize, None);
            loop {
                let r = api::clean_up_users(before, cursor).await?;
                deleted += r.deleted.len();
                cursor = r.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            said.set(Some(match deleted {
                0 => "No user was left to clean up.".to_owned(),
                1 => "Deleted 1 user who never enrolled.".to_owned(),
                n => format!("Deleted {n} users who never enrolled."),
            }));
            reload.update(|n| *n += 1);
            Ok::<_, ApiFail>(())
        }
    });
    let error = Signal::derive(move || run.value().get().and_then(Result::err));
    let cutoff = move || {
        let days: f64 = days.get_untracked().trim().parse().ok().filter(|d: &f64| d.is_finite() && *d >= 0.0)?;
        let now = js_sys::Date::now() / 1000.0;
        Some((now - days * 86_400.0).max(0.0) as u64)
    };
    view! {
        <section class="box" aria-labelledby="cleanup-heading">
            <h2 id="cleanup-heading">"Users who never enrolled"</h2>
            <p class="muted">"A first sign-in registers its user before they enrol an authenticator; someone who stopped there is listed as Never enrolled. They can be deleted together; administrators are kept."</p>
            <form class="row" on:submit=move |ev| { ev.prevent_default(); said.set(None); asking.set(cutoff()); }>
                <div>
                    <label for="cleanup-days">"Registered more than this many days ago"</label>
                    <input id="cleanup-days" type="number" min="0" max="3650" step="1" required=true prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))/>
                </div>
                <button type="submit" class="secondary" disabled=move || run.pending().get()>"Delete users who never enrolled…"</button>
            </form>
            {move || asking.get().map(|before| view! {
                <div class="confirm" role="alertdialog" aria-labelledby="cleanup-question">
                    <p id="cleanup-question">{format!(
                        "Delete every user who never enrolled an authenticator and registered before {}? Their records and names are erased; if they sign in again they register anew. The audit log records each.",
                        datetime(before)
                    )}</p>
                    <div class="row">
                        <button type="button" class="danger" on:click=move |_| { asking.set(None); run.dispatch(before); }>"Delete them now"</button>
                        <button type="button" class="secondary" on:click=move |_| asking.set(None)>"Cancel"</button>
                    </div>
                </div>
            })}
            <p role="status">{move || if run.pending().get() { Some("Deleting…".to_owned()) } else { said.get() }}</p>
            <ErrorBanner error=error/>
        </section>
    }
}

/// A user's status, as the list and their page say it.
pub(super) fn status(user: &User) -> &'static str {
    if user.disabled {
        "Disabled"
    } else if user.admin {
        "Administrator"
    } else if user.authenticators.is_empty() {
        "Never enrolled"
    } else {
        "Active"
    }
}

/// The names of the groups `ids` ("None" for none); an unknown id stands for itself.
pub(super) fn group_names(ids: &[String], all: &[Group]) -> String {
    let names: Vec<String> = ids.iter().map(|id| all.iter().find(|g| &g.id == id).map(|g| g.name.clone()).unwrap_or_else(|| id.clone())).collect();
    if names.is_empty() {
        "None".to_owned()
    } else {
        names.join(", ")
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
    let codes_left = user.authenticators.recovery_codes;
    if codes_left > 0 {
        auths.push(format!("Recovery codes ({codes_left} left)"));
    }
    let status = status(&user);
    let name = user.username.clone();
    let has_passkeys = !user.authenticators.passkeys.is_empty();
    let (has_totp, has_face) = (user.authenticators.totp, user.authenticators.face);
    let labels = [
        format!("Reset app for {name}"),
        format!("Reset face for {name}"),
        format!("Reset passkeys for {name}"),
        format!("Revoke codes of {name}"),
        format!("{} {name}", if user.disabled { "Enable" } else { "Disable" }),
        format!("{} {name}", if user.admin { "Remove administrator role of" } else { "Make administrator:" }),
        format!("Delete {name}"),
    ];
    let [totp_label, face_label, passkeys_label, codes_label, toggle_label, role_label, delete_label] = labels;
    let disabled = user.disabled;
    let admin = user.admin;
    // The action waiting for its confirmation: what is lost, the confirming button's words,
    // and the change. Every action that takes something away asks first.
    let pending = RwSignal::new(None::<(String, &'static str, UserChange)>);
    let question = format!("confirm-q-{id}");
    let ask = move |text: String, button: &'static str, change: UserChange| pending.set(Some((text, button, change)));
    let reset = |kind: AuthenticatorKind, text: String, button: &'static str| {
        let id = id.clone();
        move |_| ask(text.clone(), button, UserChange::Reset(id.clone(), kind))
    };
    let update = |change: UpdateUser, text: Option<String>, button: &'static str| {
        let id = id.clone();
        move |_| match &text {
            Some(t) => ask(t.clone(), button, UserChange::Update(id.clone(), change.clone())),
            None => {
                act.dispatch(UserChange::Update(id.clone(), change.clone()));
            }
        }
    };
    let reset_totp = reset(
        AuthenticatorKind::Totp,
        format!("Reset the authenticator app of {name}? The app they use now stops working for Biopass; they set up a new one at their next sign-in."),
        "Reset app now",
    );
    let reset_face = reset(
        AuthenticatorKind::Face,
        format!("Reset the face of {name}? Their enrolled face template is erased; they enrol their face again at their next sign-in."),
        "Reset face now",
    );
    let reset_passkeys = reset(
        AuthenticatorKind::Passkey,
        format!("Remove every passkey of {name}? The passkeys on their devices stop working for Biopass; they create a new one at their next sign-in."),
        "Remove passkeys now",
    );
    let revoke_codes = reset(
        AuthenticatorKind::RecoveryCode,
        format!("Revoke the recovery codes of {name}? The codes they saved stop working; they can make new ones after their next sign-in."),
        "Revoke codes now",
    );
    let toggle = update(
        UpdateUser { disabled: Some(!disabled), ..Default::default() },
        (!disabled).then(|| {
            format!(
                "Disable {name}? They cannot sign in, and their sessions, codes and tokens stop working at once, until an administrator enables them again."
            )
        }),
        "Disable now",
    );
    let role = update(
        UpdateUser { admin: Some(!admin), ..Default::default() },
        Some(if admin {
            format!("Remove the administrator role of {name}? They can no longer sign in to this console.")
        } else {
            format!("Make {name} an administrator? They can sign in to this console and change every application, user, group and key.")
        }),
        if admin { "Remove the role now" } else { "Make administrator" },
    );
    let delete = {
        let id = id.clone();
        let text = format!(
            "Delete {name}? Their authenticators are erased and their sessions and tokens stop working; at their next sign-in they enrol as someone new. The audit log keeps what they did."
        );
        move |_| ask(text.clone(), "Delete now", UserChange::Delete(id.clone()))
    };
    let confirm = move |_| {
        if let Some((_, _, change)) = pending.get_untracked() {
            pending.set(None);
            act.dispatch(change);
        }
    };
    view! {
        <tr>
            <td><a href=format!("/console/users/{}", user.id)>{user.username.clone()}</a></td>
            <td>{
                let ids = user.groups.clone();
                move || {
                    group_names(&ids, &groups.get())
                }
            }</td>
            <td>{if auths.is_empty() { "None enrolled".to_owned() } else { auths.join(", ") }}</td>
            <td>{status}</td>
            <td>{datetime(user.created_at)}</td>
            <td class="actions">
                <Show when=move || has_totp>
                    <button type="button" class="secondary small" aria-label=totp_label.clone() on:click=reset_totp.clone()>"Reset app"</button>
                </Show>
                <Show when=move || has_face>
                    <button type="button" class="secondary small" aria-label=face_label.clone() on:click=reset_face.clone()>"Reset face"</button>
                </Show>
                <Show when=move || has_passkeys>
                    <button type="button" class="secondary small" aria-label=passkeys_label.clone() on:click=reset_passkeys.clone()>"Reset passkeys"</button>
                </Show>
                <Show when=move || codes_left != 0>
                    <button type="button" class="secondary small" aria-label=codes_label.clone() on:click=revoke_codes.clone()>"Revoke codes"</button>
                </Show>
                <button type="button" class=if disabled { "secondary small" } else { "danger small" } aria-label=toggle_label on:click=toggle>
                    {if disabled { "Enable" } else { "Disable" }}
                </button>
                <button type="button" class="secondary small" aria-label=role_label on:click=role>
                    {if admin { "Remove administrator" } else { "Make administrator" }}
                </button>
                <Show when=move || !admin>
                    <button type="button" class="danger small" aria-label=delete_label.clone() on:click=delete.clone()>"Delete"</button>
                </Show>
                {move || pending.get().map(|(text, button, _)| view! {
                    <div class="confirm" role="alertdialog" aria-labelledby=question.clone()>
                        <p id=question.clone()>{text}</p>
                        <button type="button" class="danger small" on:click=confirm>{button}</button>
                        <button type="button" class="secondary small" on:click=move |_| pending.set(None)>"Cancel"</button>
                    </div>
                })}
                <ErrorBanner error=error/>
            </td>
        </tr>
    }
}
