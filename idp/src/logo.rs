//! An application's logo, as the login page shows it beside the application's name: PNG,
//! JPEG or WebP bytes of at most [`MAX_BYTES`]. The type is found from the bytes themselves
//! (their signature), never from what the upload says, and the image is served with that
//! type only, so no upload can become a page or a script. What the application's record
//! keeps is a [`LogoRef`]: the type and a version (a hash of the bytes) that makes the
//! logo's URL change when the logo does, so browsers may cache it for long.

use crate::error::ApiFailure;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The largest logo, in bytes.
pub const MAX_BYTES: usize = 64 * 1024;

/// The image types a logo may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoType {
    Png,
    Jpeg,
    Webp,
}

impl LogoType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    /// The type the bytes' signature says, if it is one of ours.
    fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }
}

/// Refuses a logo of `len` bytes when it is over [`MAX_BYTES`] (an upload's declared length
/// is checked with this before its body is read).
///
/// # Errors
/// `invalid_input` on the `logo` field.
pub fn check_size(len: usize) -> Result<(), ApiFailure> {
    if len > MAX_BYTES {
        return Err(ApiFailure::invalid_field("logo", format!("the logo must be at most {} KB (this one is {} KB)", MAX_BYTES / 1024, len.div_ceil(1024))));
    }
    Ok(())
}

/// A logo's bytes, checked. Stored as its type and the bytes in base64; read back, the
/// bytes are checked again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
pub struct Logo {
    kind: LogoType,
    bytes: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    kind: LogoType,
    data: String,
}

impl From<Logo> for Stored {
    fn from(l: Logo) -> Self {
        Self { kind: l.kind, data: base64::engine::general_purpose::STANDARD.encode(&l.bytes) }
    }
}

impl TryFrom<Stored> for Logo {
    type Error = String;
    fn try_from(s: Stored) -> Result<Self, String> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(&s.data).map_err(|e| format!("logo data: {e}"))?;
        let logo = Self::parse(bytes).map_err(|e| e.message)?;
        if logo.kind != s.kind {
            return Err("the stored logo's type is not its bytes'".into());
        }
        Ok(logo)
    }
}

impl Logo {
    /// Checks uploaded bytes.
    ///
    /// # Errors
    /// `invalid_input` on the `logo` field: empty, larger than [`MAX_BYTES`], or not a PNG,
    /// JPEG or WebP image.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, ApiFailure> {
        if bytes.is_empty() {
            return Err(ApiFailure::invalid_field("logo", "choose an image file"));
        }
        check_size(bytes.len())?;
        let kind = LogoType::sniff(&bytes).ok_or_else(|| ApiFailure::invalid_field("logo", "the logo must be a PNG, JPEG or WebP image"))?;
        Ok(Self { kind, bytes })
    }

    pub fn kind(&self) -> LogoType {
        self.kind
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What the application's record keeps of it.
    pub fn reference(&self) -> LogoRef {
        let digest = Sha256::digest(&self.bytes);
        let version = crate::schema::hex(&digest[..8]);
        LogoRef { kind: self.kind, version }
    }
}

/// An application's logo as its record names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoRef {
    pub kind: LogoType,
    /// The first 8 bytes of the image's SHA-256, in hex.
    pub version: String,
}

impl LogoRef {
    /// Where the login page loads it from (this origin): the version makes a new logo a new
    /// URL.
    pub fn url(&self, client_id: &str) -> String {
        format!("/api/logo/{client_id}?v={}", self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn the_type_comes_from_the_bytes() {
        assert_eq!(Logo::parse(PNG.to_vec()).unwrap().kind(), LogoType::Png);
        assert_eq!(Logo::parse(vec![0xff, 0xd8, 0xff, 0xe0, 0, 16]).unwrap().kind(), LogoType::Jpeg);
        assert_eq!(Logo::parse(b"RIFF\x10\0\0\0WEBPVP8 ".to_vec()).unwrap().kind(), LogoType::Webp);
        assert_eq!(LogoType::Webp.content_type(), "image/webp");
    }

    #[test]
    fn anything_else_is_refused_on_the_logo_field() {
        for bad in [
            Vec::new(),
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
            b"<html><script>alert(1)</script></html>".to_vec(),
            b"GIF89a".to_vec(),
            b"RIFF\0\0\0\0WAVE".to_vec(),
            [PNG, &vec![0u8; MAX_BYTES]].concat(),
        ] {
            let e = Logo::parse(bad.clone()).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("logo"), "{bad:?}");
        }
        let mut largest = PNG.to_vec();
        largest.resize(MAX_BYTES, 0);
        assert!(Logo::parse(largest).is_ok(), "exactly the limit");
    }

    #[test]
    fn stored_and_read_back_it_is_checked_again() {
        let logo = Logo::parse(PNG.to_vec()).unwrap();
        let json = serde_json::to_string(&logo).unwrap();
        assert!(json.contains("\"kind\":\"png\""), "{json}");
        assert_eq!(serde_json::from_str::<Logo>(&json).unwrap(), logo);
        let html = base64::engine::general_purpose::STANDARD.encode(b"<html>");
        assert!(serde_json::from_str::<Logo>(&format!("{{\"kind\":\"png\",\"data\":\"{html}\"}}")).is_err());
        let jpeg = base64::engine::general_purpose::STANDARD.encode([0xff, 0xd8, 0xff, 0xe0]);
        assert!(serde_json::from_str::<Logo>(&format!("{{\"kind\":\"png\",\"data\":\"{jpeg}\"}}")).is_err(), "another type than its bytes");
    }

    #[test]
    fn a_new_logo_is_a_new_url() {
        let a = Logo::parse(PNG.to_vec()).unwrap().reference();
        let b = Logo::parse([PNG, b"x"].concat()).unwrap().reference();
        assert_eq!(a.version.len(), 16);
        assert_ne!(a.url("c1"), b.url("c1"));
        assert!(a.url("c1").starts_with("/api/logo/c1?v="));
        assert_eq!(a, Logo::parse(PNG.to_vec()).unwrap().reference());
    }
}
