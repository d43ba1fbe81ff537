//! The evidence frames the browser sends, decoded: a JPEG of an exact size to RGBA.
//!
//! The bytes are the attacker's: the decoder is told the largest size first, so a header
//! that claims more pixels is refused before anything is allocated for them, and every
//! failure is an [`Error::BadImage`] saying what was wrong, never a panic.

use crate::error::{Error, Result};

/// Decodes `jpeg` (baseline or progressive, any colour space the decoder converts to RGB)
/// and checks it is exactly `width` x `height` pixels; answers RGBA bytes.
///
/// # Errors
/// [`Error::BadImage`] for bytes that are not such a JPEG.
pub fn decode_rgba(jpeg: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let bad = |reason: &str| Error::BadImage { width, height, reason: reason.to_owned() };
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB)
        .set_max_width(width as usize)
        .set_max_height(height as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(jpeg), options);
    let rgb = decoder.decode().map_err(|e| bad(&e.to_string()))?;
    let info = decoder.info().ok_or_else(|| bad("no image header"))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if w != width || h != height {
        return Err(bad(&format!("it is {w}x{h}")));
    }
    if rgb.len() != (w as usize) * (h as usize) * 3 {
        return Err(bad("it does not decode to RGB"));
    }
    Ok(rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    /// A 320x240 JPEG from a real encoder (a textured picture, so every part of the
    /// format has data in it).
    fn sample() -> &'static [u8] {
        static JPEG: OnceLock<Vec<u8>> = OnceLock::new();
        JPEG.get_or_init(|| {
            let picture = image::RgbImage::from_fn(320, 240, |x, y| {
                let wave = ((x * 7 + y * 13) % 61) as u8;
                image::Rgb([(x % 256) as u8 ^ wave, (y % 256) as u8, ((x * y) % 251) as u8])
            });
            let mut out = Vec::new();
            image::DynamicImage::ImageRgb8(picture).write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Jpeg).unwrap();
            out
        })
    }

    #[test]
    fn a_frame_of_the_size_asked_decodes() {
        let px = decode_rgba(sample(), 320, 240).unwrap();
        assert_eq!(px.len(), 320 * 240 * 4);
        assert!(px.chunks_exact(4).all(|p| p[3] == 255));
        assert!(px.chunks_exact(4).map(|p| u32::from(p[0])).sum::<u32>() > 320 * 240 * 20, "not a black image");
    }

    #[test]
    fn other_sizes_and_other_formats_are_refused() {
        assert!(matches!(decode_rgba(sample(), 640, 480), Err(Error::BadImage { .. })));
        assert!(matches!(decode_rgba(sample(), 160, 120), Err(Error::BadImage { .. })));
        assert!(decode_rgba(b"", 320, 240).is_err());
        assert!(decode_rgba(b"\x89PNG\r\n\x1a\n", 320, 240).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// A real frame with bytes changed, cut short or inserted, or bytes of any kind:
        /// decoded to the exact size or refused, never a panic.
        #[test]
        fn changed_or_random_bytes_never_panic(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..12),
            cut in proptest::option::of(any::<usize>()),
            random in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let mut bytes = sample().to_vec();
            for (at, value, how) in edits {
                let i = at % bytes.len().max(1);
                match how {
                    0 if !bytes.is_empty() => bytes[i] = value,
                    1 if !bytes.is_empty() => { bytes.remove(i); }
                    _ => bytes.insert(i, value),
                }
            }
            if let Some(c) = cut {
                bytes.truncate(c % (bytes.len() + 1));
            }
            if let Ok(px) = decode_rgba(&bytes, 320, 240) {
                prop_assert_eq!(px.len(), 320 * 240 * 4);
            }
            let mut with_header = vec![0xFF, 0xD8, 0xFF, 0xE0];
            with_header.extend_from_slice(&random);
            for b in [&random[..], &with_header[..]] {
                if let Ok(px) = decode_rgba(b, 320, 240) {
                    prop_assert_eq!(px.len(), 320 * 240 * 4);
                }
            }
        }
    }
}
