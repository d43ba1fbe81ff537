//! The service against the in-memory Vault and records, with a clock the tests advance: lock-outs,
//! their windows and concurrency, and the one-time semantics every flow relies on, in
//! milliseconds instead of real sleeps.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authorize;
mod console;
mod face;
mod helpers;
mod lockout;
mod login;
mod oauth;
mod one_time;
mod passkey;
mod records;
mod recovery;
mod tokens;
mod users;
