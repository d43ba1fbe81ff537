//! Face embedding: `fr_feature.onnx` on the 112x112 aligned crop, planar RGB,
//! `(x - 127) / 128`, giving 512 values that we scale to unit length. Two faces match when
//! the cosine of their embeddings (`biopass_idp::face::cosine`) reaches the threshold of the
//! application's assurance level: `biopass_idp::face::calibration`, set on real faces by
//! `scripts/calibrate`.

use crate::error::{Error, ModelKind, Result};
use crate::frame::Aligned112;
use crate::imageops;
use crate::runtime::Net;

/// Length of an embedding.
pub const DIM: usize = 512;
/// Side of the aligned input.
pub const SIDE: usize = 112;

/// A unit-length face embedding.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// Normalises 512 raw values to unit length.
    ///
    /// # Errors
    /// [`Error::BadEmbedding`] for another length, non-finite values or a zero vector.
    pub fn from_raw(values: &[f32]) -> Result<Self> {
        if values.len() != DIM || values.iter().any(|v| !v.is_finite()) {
            return Err(Error::BadEmbedding);
        }
        let norm = values.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>().sqrt();
        if norm < 1e-12 {
            return Err(Error::BadEmbedding);
        }
        Ok(Self(values.iter().map(|v| (*v as f64 / norm) as f32).collect()))
    }

    /// The 512 components.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Little-endian `f32` bytes (2048), for storing a template.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Reads what [`Embedding::to_le_bytes`] wrote (and normalises it again).
    ///
    /// # Errors
    /// [`Error::BadEmbedding`] when the bytes are not 512 finite floats with a non-zero norm.
    pub fn from_le_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != DIM * 4 {
            return Err(Error::BadEmbedding);
        }
        let values: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Self::from_raw(&values)
    }
}

/// The embedding network, loaded and optimised once.
#[derive(Clone, Debug)]
pub struct FeatureModel {
    net: Net,
}

impl FeatureModel {
    /// Loads `fr_feature.onnx` from its bytes.
    ///
    /// # Errors
    /// [`crate::Error::ModelLoad`] when the bytes are not that model.
    pub fn load(onnx: &[u8]) -> Result<Self> {
        Ok(Self { net: Net::load(ModelKind::Feature, onnx, &[1, 3, SIDE, SIDE])? })
    }

    /// The network input for `aligned`: planar RGB, `(x - 127) / 128`.
    pub fn preprocess(aligned: &Aligned112) -> Vec<f32> {
        let hwc: Vec<f32> = aligned.as_rgb().iter().map(|v| *v as f32).collect();
        imageops::to_planar(&hwc, [0, 1, 2], |v| (v - 127.0) / 128.0)
    }

    /// Runs the network on a preprocessed input, returning the 512 raw values.
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when tract fails or the output has an unexpected shape.
    pub fn run(&self, input: Vec<f32>) -> Result<Vec<f32>> {
        Ok(self.net.run_expect(input, &[DIM])?.pop().unwrap_or_default())
    }

    /// The unit embedding of an aligned face.
    ///
    /// # Errors
    /// [`crate::Error::Inference`] when the network fails or returns a zero vector.
    pub fn embed(&self, aligned: &Aligned112) -> Result<Embedding> {
        let raw = self.run(Self::preprocess(aligned))?;
        Embedding::from_raw(&raw)
            .map_err(|_| Error::Inference { model: ModelKind::Feature, reason: "the network returned a zero or non-finite embedding".into() })
    }

    /// [`FeatureModel::embed`] on an aligned crop received as 112x112 RGB or RGBA bytes.
    ///
    /// # Errors
    /// [`Error::BadCropSize`] for any other length; [`Error::Inference`] when the network
    /// fails.
    pub fn embed_bytes(&self, aligned: &[u8]) -> Result<Embedding> {
        self.embed(&Aligned112::from_bytes(aligned)?)
    }
}

// Native only: the match score is the worker's own (`biopass_idp::face::cosine`).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use biopass_idp::face::cosine;

    fn similarity(a: &Embedding, b: &Embedding) -> f32 {
        cosine(a.as_slice(), b.as_slice())
    }

    #[test]
    fn embeddings_are_unit_and_round_trip_through_bytes() {
        let raw: Vec<f32> = (0..DIM).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let e = Embedding::from_raw(&raw).unwrap();
        let norm: f32 = e.as_slice().iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!((similarity(&e, &e) - 1.0).abs() < 1e-5);
        let back = Embedding::from_le_bytes(&e.to_le_bytes()).unwrap();
        assert!((similarity(&e, &back) - 1.0).abs() < 1e-6);
        let neg = Embedding::from_raw(&raw.iter().map(|v| -v).collect::<Vec<_>>()).unwrap();
        assert!((similarity(&e, &neg) + 1.0).abs() < 1e-5);
    }

    #[test]
    fn bad_embeddings_are_rejected() {
        assert!(Embedding::from_raw(&[1.0; 3]).is_err());
        assert!(Embedding::from_raw(&[0.0; DIM]).is_err());
        let mut nan = vec![1.0; DIM];
        nan[7] = f32::NAN;
        assert!(Embedding::from_raw(&nan).is_err());
        assert!(Embedding::from_le_bytes(&[0; 10]).is_err());
    }

    #[test]
    fn orthogonal_embeddings_have_zero_similarity() {
        let mut a = vec![0.0; DIM];
        let mut b = vec![0.0; DIM];
        a[0] = 2.0;
        b[1] = 5.0;
        let (a, b) = (Embedding::from_raw(&a).unwrap(), Embedding::from_raw(&b).unwrap());
        assert_eq!(similarity(&a, &b), 0.0);
    }

    #[test]
    fn preprocess_normalises_planar_rgb() {
        let mut rgb = vec![127u8; SIDE * SIDE * 3];
        rgb[0] = 255;
        rgb[2] = 0;
        let a = Aligned112::from_bytes(&rgb).unwrap();
        let x = FeatureModel::preprocess(&a);
        let n = SIDE * SIDE;
        assert_eq!((x[0], x[n], x[2 * n]), (1.0, 0.0, -127.0 / 128.0));
    }
}
