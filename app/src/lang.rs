//! The login page's language: the first of the browser's languages (`navigator.languages`)
//! that the page speaks ([`biopass_i18n`]), English otherwise, chosen when the login page
//! mounts ([`use_browser_language`]). The admin console, which never chooses, stays English.

use biopass_i18n::{Lang, Texts};
use std::cell::Cell;

thread_local! {
    static LANG: Cell<Lang> = const { Cell::new(Lang::En) };
}

fn from_browser() -> Lang {
    let preferred: Vec<String> = web_sys::window().map(|w| w.navigator().languages().iter().filter_map(|v| v.as_string()).collect()).unwrap_or_default();
    Lang::pick(&preferred)
}

pub fn lang() -> Lang {
    LANG.with(Cell::get)
}

/// The texts in the page's language.
pub fn t() -> &'static Texts {
    lang().texts()
}

/// Speaks the first of the browser's languages the page knows from now on, and marks the
/// document with it (`<html lang>`, for screen readers and hyphenation).
pub fn use_browser_language() {
    LANG.with(|l| l.set(from_browser()));
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        // A document that refuses the attribute keeps the default: nothing to tell.
        let _ = root.set_attribute("lang", lang().tag());
    }
}
