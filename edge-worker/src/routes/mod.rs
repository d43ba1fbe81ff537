//! HTTP handlers: parse, call the pure crate, map the result.
//!
//! - [`oauth`]: discovery, JWKS, PAR, authorize, token, userinfo.
//! - [`login`]: the login API of the universal-login SPA.
//! - [`admin`]: the admin API.
//! - [`console`]: admin console sign-in (the console is an OpenID client of ours).

pub mod admin;
pub mod console;
pub mod login;
pub mod oauth;
