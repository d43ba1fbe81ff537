//! One module per route, and [`go`], the one way pages leave the SPA.

pub mod console;
pub mod face;
pub mod home;
pub mod login;

/// Sends the browser to `url` (a redirect the worker chose: back to the application with
/// its code, or on to the universal login).
pub fn go(url: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(url);
    }
}
