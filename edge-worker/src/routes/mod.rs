//! HTTP handlers: parse, call the pure crate, map the result.
//!
//! - [`oauth`]: discovery, JWKS, PAR, authorize, token, userinfo.
//! - [`login`]: the login API of the universal-login SPA.
//! - [`admin`]: the admin API.

pub mod admin;
pub mod login;
pub mod oauth;
