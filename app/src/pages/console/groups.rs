//! Groups: list, create, delete (refused while an application uses the group), members.

use crate::api::{self, ApiFail};
use crate::components::{datetime, ErrorBanner};
use biopass_proto::admin::{CreateGroup, Group};
use leptos::prelude::*;

#[component]
pub fn GroupsPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let groups = LocalResource::new(move || {
        reload.track();
        api::groups()
    });
    let name = RwSignal::new(String::new());
    // The name stays in its field until the group exists: a refused name is corrected, not
    // typed again, and the refusal is said against the field.
    let create = Action::new_local(move |n: &String| {
        let input = CreateGroup { name: n.clone() };
        async move {
            let g = api::create_group(&input).await?;
            name.set(String::new());
            reload.update(|n| *n += 1);
            Ok::<_, ApiFail>(g)
        }
    });
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let created = Signal::derive(move || create.value().get().and_then(Result::ok).map(|g| g.name));
    view! {
        <h1>"Groups"</h1>
        <form class="row" on:submit=move |ev| { ev.prevent_default(); create.dispatch(name.get()); }>
            <label for="group-name">"New group"</label>
            <input
                id="group-name"
                required=true
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=move || error.get().is_some().then_some("group-name-error")
                prop:value=move || name.get()
                on:input=move |ev| {
                    name.set(event_target_value(&ev));
                    if error.get_untracked().is_some() {
                        create.value().set(None);
                    }
                }
            />
            <button type="submit" disabled=move || create.pending().get()>"Create group"</button>
        </form>
        <Show when=move || error.get().is_some()>
            <p class="error" id="group-name-error" role="alert">{move || error.get().map(|e| e.message).unwrap_or_default()}</p>
        </Show>
        <p class="muted" role="status">{move || created.get().map(|n| format!("Created the group {n}.")).unwrap_or_default()}</p>
        <Transition fallback=|| view! { <p>"Loading groups…"</p> }>
            {move || groups.get().map(|r| match r {
                Ok(gs) if gs.is_empty() => view! { <p class="muted">"No groups yet."</p> }.into_any(),
                Ok(gs) => view! {
                    <div class="table-wrap" role="region" aria-label="Groups" tabindex="0"><table>
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Created"</th><th scope="col">"Members"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                        <tbody>{gs.into_iter().map(|g| view! { <GroupRow group=g reload=reload/> }).collect_view()}</tbody>
                    </table></div>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </Transition>
    }
}

/// Members a row shows when asked.
const MEMBERS_SHOWN: usize = 20;

#[component]
fn GroupRow(group: Group, reload: RwSignal<u32>) -> impl IntoView {
    let id = group.id.clone();
    // Members are read when asked for, a page at a time: a row costs no listing.
    let members = Action::new_local({
        let id = id.clone();
        move |_: &()| {
            let id = id.clone();
            async move { api::users(Some(&id), "", MEMBERS_SHOWN, None).await }
        }
    });
    let confirming = RwSignal::new(false);
    let delete = Action::new_local(move |_: &()| {
        let id = id.clone();
        async move {
            let r = api::delete_group(&id).await?;
            reload.update(|n| *n += 1);
            Ok::<_, ApiFail>(r)
        }
    });
    let error = Signal::derive(move || delete.value().get().and_then(Result::err));
    let name = group.name.clone();
    view! {
        <tr>
            <td>{group.name.clone()}</td>
            <td>{datetime(group.created_at)}</td>
            <td>
                {move || match members.value().get() {
                    None if members.pending().get() => view! { <span>"…"</span> }.into_any(),
                    None => view! { <button type="button" class="secondary small" aria-label=format!("Show members of {}", group.name) on:click=move |_| { members.dispatch(()); }>"Show members"</button> }.into_any(),
                    Some(Ok(p)) if p.items.is_empty() => view! { <span>"None"</span> }.into_any(),
                    Some(Ok(p)) => {
                        let more = if p.next_cursor.is_some() { " and more (search them on the Users page)" } else { "" };
                        view! { <span>{p.items.into_iter().map(|u| u.username).collect::<Vec<_>>().join(", ")}{more}</span> }.into_any()
                    }
                    Some(Err(e)) => view! { <span class="error" role="alert">{e.message}</span> }.into_any(),
                }}
            </td>
            <td class="actions">
                <Show when=move || confirming.get() fallback=move || view! {
                    <button type="button" class="danger small" on:click=move |_| confirming.set(true)>"Delete"</button>
                }>
                    <span>"Delete " {name.clone()} "?"</span>
                    <button type="button" class="danger small" on:click=move |_| { delete.dispatch(()); }>"Confirm delete"</button>
                    <button type="button" class="secondary small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </Show>
                <ErrorBanner error=error/>
            </td>
        </tr>
    }
}
