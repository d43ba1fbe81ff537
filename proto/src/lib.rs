//! Wire types shared by the edge worker and the SPA: what crosses HTTP, and nothing else.
//!
//! The crate has serde-only dependencies so it builds for `wasm32-unknown-unknown` (the SPA
//! and the worker) and natively (tests).
//!
//! # Layout
//! - [`oauth`]: RFC 6749 / RFC 9126 / OpenID Connect responses and the OAuth error body.
//! - [`admin`]: the admin API (applications, groups, users, deployments).
//! - [`login`]: the login API the universal-login SPA uses to finish a login transaction.
//! - [`error`]: the typed JSON error of the admin and login APIs.
//! - [`tracker`]: what the login page's face tracker (a Web Worker) reports per frame.

pub mod admin;
pub mod error;
pub mod login;
pub mod oauth;
pub mod tracker;
