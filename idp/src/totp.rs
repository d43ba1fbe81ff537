//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 6 digits,
//! 30-second steps, one step of drift either way, and no code accepted twice (the caller
//! stores the last accepted step and passes it back in).

use crate::random::Entropy;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const PERIOD: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps of clock drift accepted on each side.
pub const DRIFT: u64 = 1;

/// A TOTP seed (20 random bytes, the HMAC-SHA-1 block recommendation of RFC 4226).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSeed(Vec<u8>);

impl std::fmt::Debug for TotpSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSeed(<hidden>)")
    }
}

impl TotpSeed {
    pub fn generate(rng: &mut impl Entropy) -> Self {
        Self(rng.bytes::<20>().to_vec())
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The seed in RFC 4648 base32 without padding, as authenticator apps want it.
    pub fn to_base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// The `otpauth://` URI (Key Uri Format) for enrolment in an authenticator app.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        // The label's separator must stay a literal colon; spaces as %20, not '+'.
        let label = format!("{}:{}", enc(issuer), enc(account)).replace('+', "%20");
        format!("otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}", self.to_base32(), enc(issuer).replace('+', "%20"),)
    }
}

/// HOTP value (RFC 4226 5.3) for `counter`, truncated to `digits` digits.
pub fn hotp(seed: &[u8], counter: u64, digits: u32) -> u32 {
    let mut block = [0u8; 64];
    let key: Vec<u8> = if seed.len() > 64 {
        use sha1::Digest;
        Sha1::digest(seed).to_vec()
    } else {
        seed.to_vec()
    };
    block[..key.len()].copy_from_slice(&key);
    let mut mac = <Hmac<Sha1> as KeyInit>::new(&block.into());
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24 | u32::from(h[offset + 1]) << 16 | u32::from(h[offset + 2]) << 8 | u32::from(h[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The TOTP step of Unix time `now`.
pub fn step_at(now: u64) -> u64 {
    now / PERIOD
}

/// The six-digit code for Unix time `now`, zero-padded.
pub fn code_at(seed: &TotpSeed, now: u64) -> String {
    format!("{:06}", hotp(&seed.0, step_at(now), DIGITS))
}

/// Why a TOTP answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpRejection {
    /// Not six digits.
    Malformed,
    /// No step within the drift window gives this code.
    Wrong,
    /// The code is right but its step was already used (a replay).
    Reused,
}

/// Whether `answer` has the shape of a code (six ASCII digits, spaces around allowed),
/// before any secret is consulted.
#[must_use]
pub fn well_formed(answer: &str) -> bool {
    let answer = answer.trim();
    answer.len() == DIGITS as usize && answer.bytes().all(|b| b.is_ascii_digit())
}

/// Checks `answer` at Unix time `now`. `last_used_step` is the step of the last accepted
/// code for this seed; a code of that step or an earlier one is refused, so each code
/// works once. Returns the step to store as the new `last_used_step`.
///
/// # Errors
/// [`TotpRejection`] saying why.
pub fn verify(seed: &TotpSeed, answer: &str, now: u64, last_used_step: Option<u64>) -> Result<u64, TotpRejection> {
    if !well_formed(answer) {
        return Err(TotpRejection::Malformed);
    }
    let answer = answer.trim();
    let current = step_at(now);
    let mut matched = None;
    for step in current.saturating_sub(DRIFT)..=current + DRIFT {
        let candidate = format!("{:06}", hotp(&seed.0, step, DIGITS));
        // Compare every candidate in constant time; keep the last match.
        if bool::from(subtle::ConstantTimeEq::ct_eq(candidate.as_bytes(), answer.as_bytes())) {
            matched = Some(step);
        }
    }
    let step = matched.ok_or(TotpRejection::Wrong)?;
    if last_used_step.is_some_and(|last| step <= last) {
        return Err(TotpRejection::Reused);
    }
    Ok(step)
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, upper case, no padding.
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in data {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &[u8] = b"12345678901234567890";

    /// RFC 6238 Appendix B, the SHA-1 column (8 digits).
    #[test]
    fn rfc6238_appendix_b_sha1() {
        let vectors =
            [(59u64, 94287082u32), (1111111109, 7081804), (1111111111, 14050471), (1234567890, 89005924), (2000000000, 69279037), (20000000000, 65353130)];
        for (time, expected) in vectors {
            assert_eq!(hotp(SEED, time / 30, 8), expected, "T={time}");
            // Six digits are the last six of the eight.
            assert_eq!(hotp(SEED, time / 30, 6), expected % 1_000_000, "T={time}");
        }
    }

    /// RFC 4226 Appendix D.
    #[test]
    fn rfc4226_appendix_d() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(hotp(SEED, counter as u64, 6), *value);
        }
    }

    #[test]
    fn drift_and_single_use() {
        let seed = TotpSeed::from_bytes(SEED.to_vec());
        let now = 1_234_567_890;
        let code = code_at(&seed, now);
        let step = verify(&seed, &code, now, None).unwrap();
        assert_eq!(step, now / 30);
        // The same code again is a replay.
        assert_eq!(verify(&seed, &code, now, Some(step)), Err(TotpRejection::Reused));
        // One step of drift either way is accepted, two are not.
        assert!(verify(&seed, &code_at(&seed, now - 30), now, None).is_ok());
        assert!(verify(&seed, &code_at(&seed, now + 30), now, None).is_ok());
        assert_eq!(verify(&seed, &code_at(&seed, now - 60), now, None), Err(TotpRejection::Wrong));
        assert_eq!(verify(&seed, &code_at(&seed, now + 60), now, None), Err(TotpRejection::Wrong));
        // An older code after a newer one was used is refused too.
        let newer = verify(&seed, &code_at(&seed, now + 30), now, None).unwrap();
        assert_eq!(verify(&seed, &code_at(&seed, now), now, Some(newer)), Err(TotpRejection::Reused));
        assert_eq!(verify(&seed, "12345", now, None), Err(TotpRejection::Malformed));
        assert_eq!(verify(&seed, "abcdef", now, None), Err(TotpRejection::Malformed));
    }

    #[test]
    fn base32_and_uri() {
        // RFC 4648 section 10.
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
        let seed = TotpSeed::from_bytes(SEED.to_vec());
        assert_eq!(seed.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = seed.otpauth_uri("Biopass", "alice@example.com");
        assert_eq!(uri, "otpauth://totp/Biopass:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Biopass&algorithm=SHA1&digits=6&period=30");
        assert_eq!(format!("{seed:?}"), "TotpSeed(<hidden>)");
    }
}
