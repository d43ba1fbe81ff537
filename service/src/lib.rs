//! Biopass edge's orchestration over storage, without the Workers runtime: what the edge
//! worker's handlers call once they have parsed a request, generic over the storage traits,
//! with time and randomness passed in. Native tests run it against the in-memory stores with
//! a clock they advance (`tests/service/main.rs`), in milliseconds.
//!
//! # Layout
//! - [`authorize`]: the authorization endpoint's decision: the request (pushed or plain),
//!   who signs in, and a login transaction bound to the browser, or the error to send back.
//! - [`console`]: the admin console's sign-in (start, bootstrap link, callback into a
//!   session) and the session check of every admin API call.
//! - [`context`]: [`context::Context`], the stores, configuration, instant and entropy of
//!   one request, and the audit log's writer.
//! - [`store`]: the [`store::OneTime`] trait (the Vault: one-time and counted things) and
//!   its typed helpers; the edge worker's Durable Object client implements it.
//! - [`records`]: the [`records::Records`] trait (KV) and [`records::RecordStore`], the
//!   product's records over it (applications, groups, users and their index, deployments,
//!   the audit log); the edge worker implements the trait over KV.
//! - [`memory`]: the in-memory [`store::OneTime`] and [`records::Records`], and a clock
//!   that tests advance.
//! - [`http`]: errors as HTTP (status, headers, body), pure and unit-tested.
//! - [`keys`]: the signing keyset, created once (the Vault decides) and rotated.
//! - [`lockout`]: counting an answer before it is checked, per authenticator, browser,
//!   address and account, and what a refusal says.
//! - [`login`]: the login API's steps (state, TOTP enrolment and sign-in, face challenges,
//!   who may answer, the end of a sign-in), over a [`context::Context`].
//! - [`oauth`]: pushed requests, login transactions, authorization codes and client
//!   assertion ids: stored, then taken exactly once.
//! - [`tokens`]: a code redeemed into signed ID and access tokens; the userinfo check.
//! - [`users`]: who a sign-in is for (found, registered, or adopted by a user pool), and
//!   whether they may still sign in.
//!
//! Keys come from `biopass_idp::schema` only.

pub mod authorize;
pub mod console;
pub mod context;
pub mod http;
pub mod keys;
pub mod lockout;
pub mod login;
pub mod memory;
pub mod oauth;
pub mod records;
pub mod store;
pub mod tokens;
pub mod users;
