//! QR codes as SVG documents, for TOTP enrolment.

/// The QR code of `data` as a standalone SVG, or `None` if it is too long to encode.
pub fn svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_an_svg() {
        let s = super::svg("otpauth://totp/Biopass:alice?secret=ABC").unwrap();
        assert!(s.starts_with("<?xml") || s.starts_with("<svg"));
        assert!(s.contains("<path") || s.contains("<rect"));
        assert!(super::svg(&"x".repeat(5000)).is_none());
    }
}
