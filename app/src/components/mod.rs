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
