//! Loading an ONNX model into an optimised tract plan, and running it on one `f32` tensor.

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::error::{Error, ModelKind, Result};

/// An optimised, runnable model with a fixed input shape.
#[derive(Clone)]
pub(crate) struct Net {
    kind: ModelKind,
    plan: Arc<TypedRunnableModel>,
    input_shape: Vec<usize>,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Net({}, input {:?})", self.kind, self.input_shape)
    }
}

impl Net {
    /// Parses `onnx` bytes, fixes the input to `input_shape` (f32), declutters, optimises
    /// and plans the model.
    pub(crate) fn load(kind: ModelKind, onnx: &[u8], input_shape: &[usize]) -> Result<Self> {
        let load_err = |e: TractError| Error::ModelLoad { model: kind, reason: format!("{e:#}") };
        let plan = crate::fused::onnx()
            .model_for_read(&mut std::io::Cursor::new(onnx))
            .and_then(|m| m.with_input_fact(0, f32::fact(input_shape).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(load_err)?;
        Ok(Self { kind, plan, input_shape: input_shape.to_vec() })
    }

    /// Runs the model on `input` (row-major, `input_shape`), returning each output as a flat
    /// `f32` vector with its shape.
    pub(crate) fn run(&self, input: Vec<f32>) -> Result<Vec<(Vec<usize>, Vec<f32>)>> {
        let infer_err = |e: TractError| Error::Inference { model: self.kind, reason: format!("{e:#}") };
        let tensor = tract_ndarray::Array::from_shape_vec(self.input_shape.as_slice(), input)
            .map_err(|e| Error::Inference { model: self.kind, reason: e.to_string() })?;
        let outputs = self.plan.run(tvec!(Tensor::from(tensor).into())).map_err(infer_err)?;
        outputs
            .iter()
            .map(|t| {
                let view = t.to_plain_array_view::<f32>().map_err(infer_err)?;
                Ok((view.shape().to_vec(), view.iter().copied().collect()))
            })
            .collect()
    }

    /// Like [`Net::run`] but checks there is an output `index` with exactly `len` values.
    pub(crate) fn run_expect(&self, input: Vec<f32>, lens: &[usize]) -> Result<Vec<Vec<f32>>> {
        let outputs = self.run(input)?;
        if outputs.len() < lens.len() {
            return Err(Error::Inference { model: self.kind, reason: format!("expected {} outputs, got {}", lens.len(), outputs.len()) });
        }
        outputs
            .into_iter()
            .zip(lens)
            .map(|((shape, values), &len)| {
                if values.len() == len {
                    Ok(values)
                } else {
                    Err(Error::Inference { model: self.kind, reason: format!("expected {len} values, got shape {shape:?}") })
                }
            })
            .collect()
    }
}
