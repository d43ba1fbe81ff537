//! Integration tests of the face pipeline on the real models and photos.
//!
//! Native: run by `scripts/test-model.sh`, which fetches the models (`scripts/models.sh`)
//! and writes the onnxruntime reference fixtures first. Paths come from `BIOPASS_MODELS`,
//! `BIOPASS_PHOTOS` and `BIOPASS_MODEL_REF`; missing files fail with a message saying
//! which script to run. wasm32: `wasm` runs the pipeline in headless Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(not(target_arch = "wasm32"))]
mod detection;
mod helpers;
#[cfg(not(target_arch = "wasm32"))]
mod liveness;
#[cfg(not(target_arch = "wasm32"))]
mod parity;
#[cfg(not(target_arch = "wasm32"))]
mod pose;
#[cfg(not(target_arch = "wasm32"))]
mod verification;
#[cfg(target_arch = "wasm32")]
mod wasm;
