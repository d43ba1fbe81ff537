//! The platform's time and randomness, behind the pure crate's parameters.

use crate::error::{AppError, AppResult};
use biopass_idp::random::SeededEntropy;

/// Unix milliseconds now: the only read of the platform's clock (clippy's
/// `disallowed-methods` refuses it anywhere else); everything else is given the time.
#[allow(clippy::disallowed_methods)]
pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// Unix seconds now.
pub fn now() -> u64 {
    now_ms() / 1000
}

/// A CSPRNG for this request, seeded from `crypto.getRandomValues`.
///
/// # Errors
/// Internal when the platform has no randomness (never on Workers).
pub fn entropy() -> AppResult<SeededEntropy> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| AppError::internal(format!("getrandom: {e}")))?;
    Ok(SeededEntropy::new(seed))
}
