//! The typed JSON error returned by the admin and login APIs (OAuth endpoints use
//! [`crate::oauth::OAuthErrorBody`] instead, as the RFCs require).

use serde::{Deserialize, Serialize};

/// A machine-readable error code; the HTTP status is derived from it by the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    /// The request body or a parameter is malformed or fails validation (400).
    InvalidInput,
    /// No credentials, or credentials that are not valid (401).
    Unauthenticated,
    /// Authenticated, but not allowed to do this (403).
    Forbidden,
    /// The thing named in the path does not exist (404).
    NotFound,
    /// The request conflicts with the current state, e.g. a duplicate name (409).
    Conflict,
    /// The login transaction, challenge or enrolment has expired (410).
    Expired,
    /// Too many failed attempts; try again later (429).
    Locked,
    /// The authenticator answer was wrong (401 on the login API).
    WrongAnswer,
    /// Something failed on our side; details are in the server log only (500).
    Internal,
}

impl ApiErrorCode {
    /// Every code (what a test that must cover each one walks).
    pub const ALL: [Self; 9] = [
        Self::InvalidInput,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::Expired,
        Self::Locked,
        Self::WrongAnswer,
        Self::Internal,
    ];
}

/// The body of every error response of the admin and login APIs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong, for programs.
    pub error: ApiErrorCode,
    /// What went wrong, for people: safe to show in the UI.
    pub message: String,
    /// The field the error is about, where there is one (form validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds until a locked-out action may be retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}
