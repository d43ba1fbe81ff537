//! The landing page and the not-found page.

use leptos::prelude::*;

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <main class="card">
            <h1>"Biopass"</h1>
            <p>"Multi-factor authentication for Amazon Cognito user pools."</p>
            <p>"You reach the sign-in pages from your application. Administrators use the "<a href="/console">"admin console"</a>"."</p>
        </main>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="card">
            <h1>"Page not found"</h1>
            <p><a href="/">"Go to the start page"</a></p>
        </main>
    }
}
