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
    let copied = RwSignal::new(false);
    let aria = format!("Copy {label}");
    view! {
        <button type="button" class="secondary small" aria-label=aria on:click=move |_| {
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&text.get());
                copied.set(true);
            }
        }>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
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
