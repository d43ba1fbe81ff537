//! Biopass edge's orchestration over storage, without the Workers runtime: what the edge
//! worker's handlers call once they have parsed a request, generic over the storage traits,
//! with time and randomness passed in. Native tests run it against the in-memory store with
//! a clock they advance (`tests/main.rs`), in milliseconds.
//!
//! # Layout
//! - [`store`]: the [`store::OneTime`] trait (the Vault: one-time and counted things) and
//!   its typed helpers; the edge worker's Durable Object client implements it.
//! - [`memory`]: an in-memory [`store::OneTime`] with a clock that tests advance.
//! - [`http`]: errors as HTTP (status, headers, body), pure and unit-tested.
//! - [`lockout`]: counting an answer before it is checked, per authenticator, browser,
//!   address and account, and what a refusal says.
//! - [`oauth`]: pushed requests, login transactions, authorization codes and client
//!   assertion ids: stored, then taken exactly once.
//!
//! Keys come from `biopass_idp::schema` only.

pub mod http;
pub mod lockout;
pub mod memory;
pub mod oauth;
pub mod store;
