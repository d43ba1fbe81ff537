//! Input frames and the square crops that travel between browser and server.

use crate::error::{Error, Result};

/// A borrowed RGBA image, row-major, 4 bytes per pixel: what a canvas `getImageData` gives.
///
/// Coordinates used throughout the crate are continuous: pixel `(i, j)` covers
/// `[i, i + 1) x [j, j + 1)`, so its centre is `(i + 0.5, j + 0.5)`.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    width: u32,
    height: u32,
    rgba: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Wraps an RGBA buffer.
    ///
    /// # Errors
    /// [`Error::BadFrameSize`] when either side is zero or `rgba.len() != width * height * 4`.
    pub fn new(width: u32, height: u32, rgba: &'a [u8]) -> Result<Self> {
        let expected = (width as usize).checked_mul(height as usize).and_then(|n| n.checked_mul(4)).unwrap_or(usize::MAX);
        if width == 0 || height == 0 || rgba.len() != expected {
            return Err(Error::BadFrameSize { width, height, expected, actual: rgba.len() });
        }
        Ok(Self { width, height, rgba })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The RGBA bytes.
    pub fn rgba(&self) -> &'a [u8] {
        self.rgba
    }
}

/// A square RGB crop of `SIDE x SIDE` pixels, 3 bytes per pixel, row-major.
///
/// This is the plain buffer the browser sends to the server: [`Aligned112`] for the
/// embedding and [`Crop128`] for liveness. Build one from received bytes with
/// [`SquareCrop::from_bytes`], which accepts RGB or RGBA and checks the size.
#[derive(Clone, PartialEq, Eq)]
pub struct SquareCrop<const SIDE: usize> {
    rgb: Vec<u8>,
}

/// A face aligned to the five reference points in a 112x112 RGB crop (input of the embedding).
pub type Aligned112 = SquareCrop<112>;

/// A face with context (box scaled 2.7x) resized to 128x128 RGB (input of liveness).
pub type Crop128 = SquareCrop<128>;

impl<const SIDE: usize> SquareCrop<SIDE> {
    /// Side of the crop in pixels.
    pub const SIDE: usize = SIDE;

    /// Takes `SIDE * SIDE * 3` RGB bytes or `SIDE * SIDE * 4` RGBA bytes (alpha dropped).
    ///
    /// # Errors
    /// [`Error::BadCropSize`] for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let n = SIDE * SIDE;
        if bytes.len() == n * 3 {
            Ok(Self { rgb: bytes.to_vec() })
        } else if bytes.len() == n * 4 {
            let rgb = bytes.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            Ok(Self { rgb })
        } else {
            Err(Error::BadCropSize { side: SIDE, actual: bytes.len() })
        }
    }

    /// The RGB bytes (`SIDE * SIDE * 3`), ready to send.
    pub fn as_rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// RGBA bytes with opaque alpha, ready for a canvas `ImageData`.
    pub fn to_rgba(&self) -> Vec<u8> {
        self.rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
    }

    /// Built by the pipeline from exactly `SIDE * SIDE * 3` bytes.
    pub(crate) fn from_rgb_unchecked(rgb: Vec<u8>) -> Self {
        debug_assert_eq!(rgb.len(), SIDE * SIDE * 3);
        Self { rgb }
    }
}

impl<const SIDE: usize> std::fmt::Debug for SquareCrop<SIDE> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SquareCrop<{SIDE}>({} bytes)", self.rgb.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_checks_its_size() {
        let px = vec![0u8; 4 * 3 * 2];
        assert!(Frame::new(3, 2, &px).is_ok());
        assert!(matches!(Frame::new(2, 2, &px), Err(Error::BadFrameSize { expected: 16, actual: 24, .. })));
        assert!(Frame::new(0, 0, &[]).is_err());
        assert!(Frame::new(u32::MAX, u32::MAX, &px).is_err());
    }

    #[test]
    fn crop_accepts_rgb_and_rgba_only() {
        let rgb: Vec<u8> = (0..2 * 2 * 3).map(|i| i as u8).collect();
        let c = SquareCrop::<2>::from_bytes(&rgb).unwrap();
        assert_eq!(c.as_rgb(), &rgb[..]);
        let rgba = c.to_rgba();
        assert_eq!(rgba.len(), 16);
        assert_eq!(&rgba[..8], &[0, 1, 2, 255, 3, 4, 5, 255]);
        assert_eq!(SquareCrop::<2>::from_bytes(&rgba).unwrap(), c);
        assert!(matches!(SquareCrop::<2>::from_bytes(&[0; 13]), Err(Error::BadCropSize { side: 2, actual: 13 })));
    }
}
