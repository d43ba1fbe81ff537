//! Biopass edge's protocol logic: pure functions and plain data, no I/O. Time is passed in
//! as Unix seconds and randomness as an [`random::Entropy`], so everything here is
//! deterministic under test. The edge worker wires these to HTTP, KV and Durable Objects.
//!
//! # Layout
//! - [`error`]: OAuth errors (RFC codes) and admin/login API failures.
//! - [`ids`]: newtypes that parse: `ClientId`, `CallbackUrl`, `UserName`.
//! - [`random`]: the entropy trait and a deterministic test source.
//! - [`secretbox`]: AES-256-GCM at rest under keys derived from the master secret.
//! - [`pkce`]: RFC 7636, S256 only.
//! - [`totp`]: RFC 6238 codes, drift and single use.
//! - [`keys`]: the ES256 signing keyset, rotation, JWKS, signing and verification.
//! - [`claims`]: token contents and lifetimes.
//! - [`client_auth`]: the five client authentication methods.
//! - [`authorize`]: authorization and pushed authorization request validation.
//! - [`grant`]: authorization codes and their redemption rules.
//! - [`deployment`]: the "Previous deployments" records.
//! - [`passkey`]: WebAuthn registration and authentication checks (passkeys).
//! - [`face`]: face challenges and the decision on measured evidence.
//! - [`face_service`]: the wire to the face service, which measures the evidence's frames.
//! - [`guidance`]: the login page's live face guidance and capture sequence.
//! - [`application`]: the "Amazon Cognito MFA Application" entity and its admin rules.
//! - [`audit`]: the audit log's search (outcomes, filters) and CSV export.
//! - [`user`]: users and their enrolled authenticators.
//! - [`recovery`]: one-time recovery codes (made, hashed, typed, used).
//! - [`schema`]: every KV and Vault key: what is stored where.
//! - [`directory`]: the admin directory's index keys (users by name, group members) and page sizes.
//! - [`transaction`]: login transactions between `/authorize` and the code.
//! - [`lockout`]: counting failed answers: lock-outs and growing delays.
//! - [`session`]: admin console sessions and CSRF.
//! - [`discovery`]: OpenID Connect Discovery metadata.
//! - [`qr`]: QR codes as SVG for TOTP enrolment.
//! - [`cognito`]: the CloudFormation template with the Cognito triggers for an application.

pub mod application;
pub mod audit;
pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod cognito;
pub mod deployment;
pub mod directory;
pub mod discovery;
pub mod error;
pub mod face;
pub mod face_service;
pub mod grant;
pub mod guidance;
pub mod ids;
pub mod keys;
pub mod lockout;
pub mod logo;
pub mod passkey;
pub mod pkce;
pub mod qr;
pub mod random;
pub mod recovery;
pub mod schema;
pub mod secretbox;
pub mod session;
pub mod totp;
pub mod transaction;
pub mod user;
