//! What the audit log records about the caller (entries are written by
//! `biopass_service::context::Context::audit`; keys, retention and paging live in
//! `biopass_service::records`).

use crate::error::AppError;
use crate::http::Request;

/// The caller's IP address as Cloudflare reports it.
pub fn client_ip(req: &Request) -> Option<String> {
    req.headers().get("cf-connecting-ip").ok().flatten().or_else(|| req.headers().get("x-real-ip").ok().flatten())
}

/// Maps a bad audit query to a typed error.
pub fn bad_limit() -> AppError {
    AppError::Api(biopass_idp::error::ApiFailure::invalid_field("limit", "limit must be a number from 1 to 100"))
}
