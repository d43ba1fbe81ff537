//! The audit log: every admin action and every login outcome, newest first, paged.

use crate::api::{self, ApiFail};
use crate::components::ErrorBanner;
use biopass_proto::admin::AuditEntry;
use leptos::prelude::*;

fn when(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    d.to_iso_string().as_string().map(|s| s.replacen('T', " ", 1).chars().take(19).collect::<String>() + " UTC").unwrap_or_default()
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let cursor = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let load = Action::new_local(move |c: &Option<String>| {
        let c = c.clone();
        async move {
            let page = api::audit(50, c.as_deref()).await?;
            entries.update(|e| e.extend(page.items));
            done.set(page.next_cursor.is_none());
            cursor.set(page.next_cursor);
            Ok::<_, ApiFail>(())
        }
    });
    load.dispatch(None);
    let error = Signal::derive(move || load.value().get().and_then(Result::err));
    view! {
        <h1>"Audit log"</h1>
        <table>
            <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"On"</th><th scope="col">"Detail"</th><th scope="col">"From"</th></tr></thead>
            <tbody>
                {move || entries.get().into_iter().map(|e| view! {
                    <tr>
                        <td>{when(e.at_ms)}</td>
                        <td>{e.actor}</td>
                        <td><code>{e.action}</code></td>
                        <td>{e.target.unwrap_or_default()}</td>
                        <td>{e.detail.unwrap_or_default()}</td>
                        <td>{e.ip.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <Show when=move || load.pending().get()><p>"Loading…"</p></Show>
        <Show when=move || entries.get().is_empty() && !load.pending().get()><p class="muted">"Nothing recorded yet."</p></Show>
        <ErrorBanner error=error/>
        <Show when=move || !done.get()>
            <button type="button" class="secondary" on:click=move |_| { load.dispatch(cursor.get()); }>"Load more"</button>
        </Show>
    }
}
