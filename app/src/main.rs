//! Biopass edge's single-page app (Leptos, client-side rendered): the universal login and
//! the admin console. Served by the edge worker as static assets.
//!
//! # Layout
//! - `main.rs`: mounts [`App`] and declares the routes.
//! - [`api`]: every HTTP call to the worker (login API, admin API) and its error type.
//! - [`pages`]: one module per route (`login` with its `face` step, `console`, `home`).
//! - [`components`]: reusable pieces (error banner, code input).
//! - [`lang`]: the login page's language, from the browser's, and its texts (`biopass_i18n`).
//! - [`face`]: the camera and the face tracker's Web Worker (`public/face-worker.js`).
//! - [`webauthn`]: the browser's passkey calls and their errors in words.

mod api;
mod components;
mod face;
mod lang;
mod pages;
mod webauthn;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=pages::home::NotFound>
                <Route path=path!("/") view=pages::home::Home/>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <ParentRoute path=path!("/console") view=pages::console::ConsoleLayout>
                    <Route path=path!("") view=pages::console::applications::ApplicationsPage/>
                    <Route path=path!("applications/:id") view=pages::console::application::ApplicationPage/>
                    <Route path=path!("users") view=pages::console::users::UsersPage/>
                    <Route path=path!("users/:id") view=pages::console::user::UserPage/>
                    <Route path=path!("groups") view=pages::console::groups::GroupsPage/>
                    <Route path=path!("audit") view=pages::console::audit::AuditPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
