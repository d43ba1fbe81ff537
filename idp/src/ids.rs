//! Newtypes that parse: a value of these types has passed its rules.

use crate::error::ApiFailure;
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// The "Client ID" of an application: 16 random bytes, base64url (22 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// Accepts what we generate: 16 to 64 characters of `[A-Za-z0-9_-]`.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = (16..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(s.to_owned()))
    }

    pub fn generate(rng: &mut impl crate::random::Entropy) -> Self {
        Self(rng.token::<16>())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An entry of the "Allowed callback URLs" box. Redirect URIs of requests are compared
/// with these by exact string equality: no prefix, wildcard or normalisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallbackUrl(String);

impl CallbackUrl {
    /// The rules of the admin API and console: an absolute `https` URL, or `http` on
    /// `localhost`, `127.0.0.1` or `[::1]`; no fragment; no wildcard; no user info; at
    /// most 2000 characters.
    ///
    /// # Errors
    /// A message for people, naming the rule that failed.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("a callback URL cannot be empty".into());
        }
        if s.len() > 2000 {
            return Err("a callback URL can have at most 2000 characters".into());
        }
        if s.contains('*') {
            return Err("wildcards are not allowed: list every callback URL exactly".into());
        }
        if s.contains('#') {
            return Err("a callback URL cannot contain a fragment (#...)".into());
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("a callback URL cannot contain spaces".into());
        }
        let url = url::Url::parse(s).map_err(|_| format!("\"{s}\" is not an absolute URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("a callback URL cannot contain a user name or password".into());
        }
        let host = url.host_str().unwrap_or_default();
        match url.scheme() {
            "https" if !host.is_empty() => {}
            "http" if matches!(host, "localhost" | "127.0.0.1" | "[::1]") => {}
            "http" => return Err("http is only allowed for localhost and 127.0.0.1; use https".into()),
            _ => return Err("a callback URL must use https".into()),
        }
        Ok(Self(s.to_owned()))
    }

    /// Parses a whole list, refusing duplicates.
    ///
    /// # Errors
    /// The first bad entry, as a failure of field `allowed_callback_urls`.
    pub fn parse_list(inputs: &[String]) -> Result<Vec<Self>, ApiFailure> {
        let mut out: Vec<Self> = Vec::with_capacity(inputs.len());
        for input in inputs {
            let url = Self::parse(input).map_err(|m| ApiFailure::invalid_field("allowed_callback_urls", m))?;
            if out.contains(&url) {
                return Err(ApiFailure::invalid_field("allowed_callback_urls", format!("\"{}\" is listed twice", url.0)));
            }
            out.push(url);
        }
        if out.len() > 100 {
            return Err(ApiFailure::invalid_field("allowed_callback_urls", "at most 100 callback URLs"));
        }
        Ok(out)
    }

    /// Exact match of a request's `redirect_uri` against the allowed list.
    pub fn is_allowed(allowed: &[Self], redirect_uri: &str) -> bool {
        allowed.iter().any(|u| u.0 == redirect_uri)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user name as Biopass keys users: Unicode NFKC, trimmed and lower-cased (Cognito pools
/// we support are case-insensitive, so `Alice` and `alice` are one person; NFKC makes
/// look-alike compatibility forms, such as full-width letters, one name too).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserName(String);

/// Longest user name in characters (Amazon Cognito's limit) and in UTF-8 bytes (so every
/// key built from it stays well under KV's 512-byte key limit).
pub const USER_NAME_MAX_CHARS: usize = 128;
pub const USER_NAME_MAX_BYTES: usize = 256;

impl UserName {
    /// # Errors
    /// A message for people when the name is empty, too long, has control or invisible
    /// (format) characters or is a phone number (not supported, product page 3-1).
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.len() > 4 * USER_NAME_MAX_BYTES {
            return Err(format!("a user name must have 1 to {USER_NAME_MAX_CHARS} characters"));
        }
        let lowered: String = input.nfkc().collect::<String>().trim().to_lowercase();
        let s: String = lowered.nfkc().collect();
        if s.is_empty() || s.chars().count() > USER_NAME_MAX_CHARS {
            return Err(format!("a user name must have 1 to {USER_NAME_MAX_CHARS} characters"));
        }
        if s.len() > USER_NAME_MAX_BYTES {
            return Err(format!("a user name can be at most {USER_NAME_MAX_BYTES} bytes long (fewer characters outside the Latin alphabet)"));
        }
        if s.chars().any(char::is_control) {
            return Err("a user name cannot contain control characters".into());
        }
        if s.chars().any(is_format_char) {
            return Err("a user name cannot contain invisible characters (such as a zero-width space)".into());
        }
        if is_phone_number(&s) {
            return Err("user names that are phone numbers are not supported".into());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True for the invisible characters of Unicode's general category Cf (format), e.g. zero-width
/// spaces and joiners, bidirectional controls, the byte order mark, tag characters: they
/// would make two names that look the same distinct.
pub fn is_format_char(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// True for E.164 phone numbers (`+` and 7 to 15 digits), the form Cognito uses when a
/// phone number is the user name.
pub fn is_phone_number(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_rules() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com:8443/cb?x=1",
            "http://localhost:3000/callback",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
        ] {
            assert!(CallbackUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "http://app.example.com/callback",
            "https://*.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "ftp://example.com/",
            "javascript:alert(1)",
            "/relative/path",
            "https://exa mple.com/",
            "http://localhost.evil.com/cb",
        ] {
            assert!(CallbackUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn callback_list_refuses_duplicates() {
        let list = vec!["https://a.example/cb".to_owned(), "https://a.example/cb".to_owned()];
        let err = CallbackUrl::parse_list(&list).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("allowed_callback_urls"));
    }

    #[test]
    fn redirect_uri_matching_is_exact() {
        let allowed = CallbackUrl::parse_list(&["https://a.example/cb".to_owned()]).unwrap();
        assert!(CallbackUrl::is_allowed(&allowed, "https://a.example/cb"));
        for near in [
            "https://a.example/cb/",
            "https://a.example/cb?x=1",
            "https://a.example/cbx",
            "https://A.example/cb",
            "https://a.example/c%62",
            "https://a.example:443/cb",
            "https://a.example/cb#",
            "https://a.example/",
        ] {
            assert!(!CallbackUrl::is_allowed(&allowed, near), "{near}");
        }
    }

    #[test]
    fn user_names_are_lower_cased_and_phone_numbers_refused() {
        assert_eq!(UserName::parse("  Alice ").unwrap().as_str(), "alice");
        assert!(UserName::parse("+14155550123").is_err());
        assert!(UserName::parse("").is_err());
        assert!(UserName::parse("a\u{0}b").is_err());
        assert!(UserName::parse("+1 not a phone").is_ok());
        assert!(is_phone_number("+447700900123"));
        assert!(!is_phone_number("447700900123"));
    }

    #[test]
    fn user_names_are_normalised_bounded_and_visible() {
        assert_eq!(UserName::parse("ＡＤＡ@example.com").unwrap().as_str(), "ada@example.com", "full-width letters are NFKC-folded");
        assert_eq!(UserName::parse("Cafe\u{301}").unwrap(), UserName::parse("Café").unwrap(), "one name however the accent is typed");
        for invisible in ["ada\u{200B}@example.com", "\u{FEFF}ada", "ad\u{202E}a", "a\u{2060}da", "ada\u{E0041}"] {
            assert!(UserName::parse(invisible).unwrap_err().contains("invisible"), "{invisible:?}");
        }
        let emoji = "\u{1F600}".repeat(128);
        assert!(emoji.chars().count() == 128 && emoji.len() == 512);
        assert!(UserName::parse(&emoji).unwrap_err().contains("bytes"), "512 bytes are refused with a clear message");
        assert!(UserName::parse(&"a".repeat(128)).is_ok());
        assert!(UserName::parse(&"a".repeat(129)).is_err());
        assert!(UserName::parse(&"a".repeat(100_000)).is_err());
    }

    proptest::proptest! {
        /// Any input: an error or a name within the bounds, never a panic, and parsing is
        /// stable (a parsed name parses to itself).
        #[test]
        fn user_name_parsing_never_panics_and_is_idempotent(input in "\\PC{0,300}|[\\u{0}-\\u{FFFF}]{0,200}") {
            if let Ok(name) = UserName::parse(&input) {
                proptest::prop_assert!(name.as_str().len() <= USER_NAME_MAX_BYTES);
                proptest::prop_assert!(!name.as_str().chars().any(|c| c.is_control() || is_format_char(c)));
                proptest::prop_assert_eq!(UserName::parse(name.as_str()).ok(), Some(name.clone()));
            }
        }

        /// Any redirect URI: parsing never panics, and an allowed one matches only itself.
        #[test]
        fn callback_urls_never_panic_and_match_exactly(input in "\\PC{0,200}", other in "\\PC{0,60}") {
            if let Ok(url) = CallbackUrl::parse(&input) {
                let allowed = [url.clone()];
                proptest::prop_assert!(CallbackUrl::is_allowed(&allowed, url.as_str()));
                let different = format!("{}{other}", url.as_str());
                proptest::prop_assert_eq!(CallbackUrl::is_allowed(&allowed, &different), other.is_empty());
            }
        }
    }

    #[test]
    fn client_ids() {
        let mut rng = crate::random::TestEntropy::new(1);
        let id = ClientId::generate(&mut rng);
        assert_eq!(id.as_str().len(), 22);
        assert_eq!(ClientId::parse(id.as_str()), Some(id));
        assert_eq!(ClientId::parse("short"), None);
        assert_eq!(ClientId::parse("has spaces in it, not ok"), None);
    }
}
