//! Reusable view pieces.

use crate::api::ApiFail;
use leptos::prelude::*;

/// An error announced to screen readers, with the server's message.
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<ApiFail>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="error" role="alert">{move || error.get().map(|e| e.message).unwrap_or_default()}</p>
        </Show>
    }
}

/// A six-digit one-time-code field with its label.
#[component]
pub fn CodeInput(value: RwSignal<String>, #[prop(into)] label: String) -> impl IntoView {
    view! {
        <label for="code">{label}</label>
        <input
            id="code"
            name="code"
            type="text"
            inputmode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9]{6}"
            maxlength="6"
            required=true
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        />
    }
}

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>, #[prop(into)] label: String) -> impl IntoView {
    // None: not tried yet; Some(true): copied; Some(false): the browser refused (no
    // clipboard permission, or not a secure context), and the button says so.
    let copied = RwSignal::new(None::<bool>);
    let t = crate::lang::t();
    let aria = biopass_i18n::fill(t.copy_label, &[("label", &label)]);
    view! {
        <button type="button" class="secondary small" aria-label=aria on:click=move |_| {
            let Some(w) = web_sys::window() else { return copied.set(Some(false)) };
            let promise = w.navigator().clipboard().write_text(&text.get());
            leptos::task::spawn_local(async move {
                copied.set(Some(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()));
            });
        }>
            {move || match copied.get() {
                None => t.copy,
                Some(true) => t.copied,
                Some(false) => t.copy_failed,
            }}
        </button>
        <span class="sr-only" role="status">{move || match copied.get() {
            Some(true) => t.copied_status,
            Some(false) => t.copy_refused,
            None => "",
        }}</span>
    }
}

/// Formats Unix seconds as a UTC date and time.
pub fn datetime(secs: u64) -> String {
    let d = js_sys_date(secs as f64 * 1000.0);
    d.to_iso_string().as_string().map(|s| s.replacen('T', " ", 1).chars().take(16).collect::<String>() + " UTC").unwrap_or_default()
}

fn js_sys_date(ms: f64) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms))
}

/// Moves keyboard and screen-reader focus to the heading of each step the login page shows
/// (WCAG 2.4.3): when `root` gains an `h2` (or, failing one, an `h1`), that heading takes
/// focus, so a person who cannot see the page change hears where they are. Observes for the
/// page's life.
pub fn focus_new_headings(root: &web_sys::Node) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let moved = Closure::<dyn FnMut(js_sys::Array)>::new(move |records: js_sys::Array| {
        let mut heading = None;
        for record in records.iter() {
            let Ok(record) = record.dyn_into::<web_sys::MutationRecord>() else { continue };
            let added = record.added_nodes();
            for i in 0..added.length() {
                let Some(element) = added.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
                let found = ["h2", "h1"].iter().find_map(|tag| {
                    if element.tag_name().eq_ignore_ascii_case(tag) {
                        Some(element.clone())
                    } else {
                        element.query_selector(tag).ok().flatten()
                    }
                });
                if let Some(h) = found.and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok()) {
                    // An h2 (a step) wins over an h1 (the page) added with it.
                    if heading.as_ref().is_none_or(|old: &web_sys::HtmlElement| old.tag_name() == "H1") {
                        heading = Some(h);
                    }
                }
            }
        }
        if let Some(h) = heading {
            h.set_tab_index(-1);
            let _ = h.focus();
        }
    });
    let Ok(observer) = web_sys::MutationObserver::new(moved.as_ref().unchecked_ref()) else { return };
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    options.set_subtree(true);
    if observer.observe_with_options(root, &options).is_ok() {
        // The observer lives as long as the page; so must its callback.
        moved.forget();
    }
}
