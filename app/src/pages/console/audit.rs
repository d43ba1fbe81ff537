//! The audit log: every admin action and every login outcome, newest first, paged; filtered
//! by who, action, application or user, outcome and time range (searched by the server);
//! exported as CSV or JSON with the same filters.

use crate::api::{self, ApiFail};
use crate::components::ErrorBanner;
use biopass_proto::admin::AuditEntry;
use leptos::prelude::*;

fn when(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    d.to_iso_string().as_string().map(|s| s.replacen('T', " ", 1).chars().take(19).collect::<String>() + " UTC").unwrap_or_default()
}

/// A `datetime-local` field's value (the browser's time zone) as Unix milliseconds, as text.
fn local_ms(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    let t = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time();
    if t.is_finite() && t >= 0.0 {
        format!("{}", t as u64)
    } else {
        String::new()
    }
}

/// The outcome the server files an entry under, for people.
fn outcome(e: &AuditEntry) -> &'static str {
    match biopass_idp::audit::outcome(e) {
        biopass_proto::admin::AuditOutcome::Success => "Success",
        biopass_proto::admin::AuditOutcome::Refused => "Refused",
        biopass_proto::admin::AuditOutcome::Attack => "Attack",
    }
}

/// The filter fields.
#[derive(Clone, Copy)]
struct Filters {
    actor: RwSignal<String>,
    action: RwSignal<String>,
    target: RwSignal<String>,
    outcome: RwSignal<String>,
    since: RwSignal<String>,
    until: RwSignal<String>,
}

impl Filters {
    fn new() -> Self {
        Self {
            actor: RwSignal::new(String::new()),
            action: RwSignal::new(String::new()),
            target: RwSignal::new(String::new()),
            outcome: RwSignal::new(String::new()),
            since: RwSignal::new(String::new()),
            until: RwSignal::new(String::new()),
        }
    }

    /// As query parameters (times in Unix milliseconds; "until" includes its whole minute).
    fn params(&self) -> Vec<(&'static str, String)> {
        let until = local_ms(&self.until.get_untracked()).parse::<u64>().map(|t| (t + 59_999).to_string()).unwrap_or_default();
        vec![
            ("actor", self.actor.get_untracked()),
            ("action", self.action.get_untracked()),
            ("target", self.target.get_untracked()),
            ("outcome", self.outcome.get_untracked()),
            ("since", local_ms(&self.since.get_untracked())),
            ("until", until),
        ]
    }

    fn clear(&self) {
        for s in [self.actor, self.action, self.target, self.outcome, self.since, self.until] {
            s.set(String::new());
        }
    }
}

#[component]
fn TextFilter(id: &'static str, label: &'static str, value: RwSignal<String>, hint: &'static str) -> impl IntoView {
    view! {
        <div>
            <label for=id>{label}</label>
            <input id=id type="search" placeholder=hint prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        </div>
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let filters = Filters::new();
    // The filters of the entries shown (what Export downloads), and the search's state.
    let applied = RwSignal::new(Vec::<(&'static str, String)>::new());
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let cursor = RwSignal::new(None::<String>);
    let scanned = RwSignal::new(0u64);
    let load = Action::new_local(move |c: &Option<String>| {
        let c = c.clone();
        async move {
            let page = api::audit(&applied.get_untracked(), 50, c.as_deref()).await?;
            if c.is_none() {
                entries.set(Vec::new());
                scanned.set(0);
            }
            entries.update(|e| e.extend(page.items));
            scanned.update(|n| *n += page.scanned);
            cursor.set(page.next_cursor);
            Ok::<_, ApiFail>(())
        }
    });
    let search = move || {
        applied.set(filters.params());
        load.dispatch(None);
    };
    search();
    let error = Signal::derive(move || load.value().get().and_then(Result::err));
    let filtered = Signal::derive(move || applied.get().iter().any(|(_, v)| !v.is_empty()));
    let export = move |format: &'static str| api::audit_export_url(&applied.get(), format);
    view! {
        <h1>"Audit log"</h1>
        <form class="box filters" aria-label="Filter the audit log" on:submit=move |ev| { ev.prevent_default(); search(); }>
            <div class="filter-grid">
                <TextFilter id="audit-actor" label="Who" value=filters.actor hint="admin:root, user:alice…"/>
                <TextFilter id="audit-action" label="Action" value=filters.action hint="login, applications.update…"/>
                <TextFilter id="audit-target" label="Application or user" value=filters.target hint="A name or an id"/>
                <div>
                    <label for="audit-outcome">"Outcome"</label>
                    <select id="audit-outcome" prop:value=move || filters.outcome.get() on:change=move |ev| filters.outcome.set(event_target_value(&ev))>
                        <option value="">"Any"</option>
                        <option value="success">"Success"</option>
                        <option value="refused">"Refused"</option>
                        <option value="attack">"Attack"</option>
                    </select>
                </div>
                <div>
                    <label for="audit-since">"From"</label>
                    <input id="audit-since" type="datetime-local" prop:value=move || filters.since.get() on:input=move |ev| filters.since.set(event_target_value(&ev))/>
                </div>
                <div>
                    <label for="audit-until">"To"</label>
                    <input id="audit-until" type="datetime-local" prop:value=move || filters.until.get() on:input=move |ev| filters.until.set(event_target_value(&ev))/>
                </div>
            </div>
            <div class="row">
                <button type="submit" disabled=move || load.pending().get()>"Apply filters"</button>
                <button type="button" class="secondary" on:click=move |_| { filters.clear(); search(); }>"Clear"</button>
                <a class="button secondary" href=move || export("csv") download="biopass-audit.csv">"Export CSV"</a>
                <a class="button secondary" href=move || export("json") download="biopass-audit.json">"Export JSON"</a>
            </div>
        </form>
        <p class="muted" role="status">{move || {
            let n = entries.get().len();
            if load.pending().get() {
                "Searching…".to_owned()
            } else if filtered.get() {
                format!("{n} matching {} among the {} most recent looked at.", if n == 1 { "entry" } else { "entries" }, scanned.get())
            } else {
                format!("{n} {} shown.", if n == 1 { "entry" } else { "entries" })
            }
        }}</p>
        <div class="table-wrap" role="region" aria-label="Audit log" tabindex="0"><table>
            <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Outcome"</th><th scope="col">"On"</th><th scope="col">"Detail"</th><th scope="col">"From"</th></tr></thead>
            <tbody>
                {move || entries.get().into_iter().map(|e| {
                    let on = match (&e.target_name, &e.target) {
                        (Some(name), Some(id)) => view! { <span>{name.clone()}<br/><small class="muted">{id.clone()}</small></span> }.into_any(),
                        (None, Some(id)) => view! { <span>{id.clone()}</span> }.into_any(),
                        (Some(name), None) => view! { <span>{name.clone()}</span> }.into_any(),
                        (None, None) => view! { <span></span> }.into_any(),
                    };
                    let result = outcome(&e);
                    view! {
                        <tr>
                            <td>{when(e.at_ms)}</td>
                            <td>{e.actor}</td>
                            <td><code>{e.action}</code></td>
                            <td class=format!("outcome-{}", result.to_lowercase())>{result}</td>
                            <td>{on}</td>
                            <td>{e.detail.unwrap_or_default()}</td>
                            <td>{e.ip.unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
        <Show when=move || entries.get().is_empty() && !load.pending().get() && cursor.get().is_none()>
            <p class="muted">{move || if filtered.get() { "No entry matches these filters." } else { "Nothing recorded yet." }}</p>
        </Show>
        <ErrorBanner error=error/>
        <Show when=move || cursor.get().is_some()>
            <button type="button" class="secondary" disabled=move || load.pending().get() on:click=move |_| { load.dispatch(cursor.get()); }>
                {move || if filtered.get() { "Search further" } else { "Load more" }}
            </button>
        </Show>
    }
}
