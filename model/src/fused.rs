//! Load-time graph rewrite: PReLU as one fused pass.
//!
//! tract expands ONNX `PRelu` into three whole-tensor passes (`x * slope`, `x < 0`, select).
//! In the liveness and embedding networks, which apply PReLU after almost every
//! convolution, those passes took about two thirds of the inference time. Here `PRelu`
//! with a constant per-channel slope (the case in all our models) becomes one in-place
//! pass over the tensor; any other `PRelu` keeps tract's expansion.

use std::sync::Arc;

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;

/// The ONNX front-end with the fused `PRelu`.
pub(crate) fn onnx() -> tract_onnx::Onnx {
    let mut onnx = tract_onnx::onnx();
    onnx.op_register.insert("PRelu", parse_prelu);
    onnx
}

fn parse_prelu(_ctx: &ParsingContext, _node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(Prelu), vec![]))
}

/// The inference-stage op: typing rules, then wiring of the fused or generic form.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct Prelu;

impl Expansion for Prelu {
    fn name(&self) -> StaticName {
        "Prelu".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(&'s self, s: &mut Solver<'r>, inputs: &'p [TensorProxy], outputs: &'p [TensorProxy]) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(&self, name: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        let (x, slope) = (inputs[0], inputs[1]);
        if let Some(op) = FusedPrelu::for_inputs(model.outlet_fact(x)?, model.outlet_fact(slope)?) {
            return model.wire_node(name, op, &[x]);
        }
        // Generic form, as tract-onnx wires it: x < 0 ? x * slope : x.
        let rank = model.outlet_fact(x)?.rank();
        let mut b = slope;
        while model.outlet_fact(b)?.rank() < rank {
            b = model.wire_node(format!("{name}.add-axis-{}", model.outlet_fact(b)?.rank()), AxisOp::Add(0), &[b])?[0];
        }
        let zero = tensor0(0.0).cast_to_dt(model.outlet_fact(x)?.datum_type)?.into_owned().broadcast_into_rank(rank)?;
        let xb = model.wire_node(format!("{name}.mul"), tract_onnx::tract_hir::ops::math::mul(), &[x, b])?[0];
        let zero = model.add_const(format!("{name}.zero"), zero)?;
        let test = model.wire_node(
            format!("{name}.test"),
            tract_onnx::tract_core::ops::binary::TypedBinOp(tract_onnx::tract_core::ops::logic::comp_gt(), None),
            &[zero, x],
        )?;
        model.wire_node(format!("{name}.iff"), tract_onnx::tract_core::ops::logic::Iff, &[test[0], xb, x])
    }
}

/// `y = x < 0 ? slope[c] * x : x` over an `N x C x ...` f32 tensor, `c` its axis-1 index,
/// computed in place in one pass.
#[derive(Debug, Clone)]
struct FusedPrelu {
    slope: Arc<Vec<f32>>,
}

impl PartialEq for FusedPrelu {
    fn eq(&self, other: &Self) -> bool {
        self.slope.len() == other.slope.len() && self.slope.iter().zip(other.slope.iter()).all(|(a, b)| a.to_bits() == b.to_bits())
    }
}
impl Eq for FusedPrelu {}

impl FusedPrelu {
    /// The fused op when `x` is f32 of rank >= 2 with a known channel count `C` and
    /// `slope` is a constant of `C` (or 1) values broadcasting along axis 1 only.
    fn for_inputs(x: &TypedFact, slope: &TypedFact) -> Option<Self> {
        if x.datum_type != f32::datum_type() || x.rank() < 2 {
            return None;
        }
        let channels = x.shape[1].to_usize().ok()?;
        let value = slope.konst.as_ref()?;
        let dims = value.shape();
        // Right-aligned against x: every slope axis except the one facing axis 1 is 1.
        let offset = x.rank().checked_sub(dims.len())?;
        let per_channel = dims.iter().enumerate().all(|(i, d)| *d == 1 || (i + offset == 1 && *d == channels));
        if !per_channel || !(value.len() == channels || value.len() == 1) {
            return None;
        }
        let values = value.cast_to::<f32>().ok()?;
        let slice = values.try_as_plain_ram().ok()?.as_slice::<f32>().ok()?.to_vec();
        Some(Self { slope: Arc::new(slice) })
    }
}

impl Op for FusedPrelu {
    fn name(&self) -> StaticName {
        "FusedPrelu".into()
    }

    op_as_typed_op!();
}

impl EvalOp for FusedPrelu {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let mut x = x.into_tensor();
        let shape = x.shape().to_vec();
        let channels = shape.get(1).copied().unwrap_or(1).max(1);
        let inner: usize = shape.iter().skip(2).product();
        if inner > 0 {
            let mut view = x.try_as_plain_ram_mut()?;
            for (block, chunk) in view.as_slice_mut::<f32>()?.chunks_mut(inner).enumerate() {
                let a = if self.slope.len() == 1 { self.slope[0] } else { self.slope[block % channels] };
                for v in chunk.iter_mut() {
                    // select, not branch: vectorises
                    *v = if *v < 0.0 { *v * a } else { *v };
                }
            }
        }
        Ok(tvec!(x.into_tvalue()))
    }
}

impl TypedOp for FusedPrelu {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].without_value()))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_prelu_scales_negative_values_per_channel() {
        let op = FusedPrelu { slope: Arc::new(vec![0.5, 2.0]) };
        let x = tract_ndarray::Array::from_shape_vec((1, 2, 2), vec![-2.0f32, 3.0, -1.0, 0.0]).unwrap();
        let out = op.eval(&EvalContext::out_of_plan(), tvec!(Tensor::from(x).into_tvalue())).unwrap();
        let view = out[0].to_plain_array_view::<f32>().unwrap();
        assert_eq!(view.iter().copied().collect::<Vec<_>>(), vec![-1.0, 3.0, -2.0, 0.0]);
    }

    #[test]
    fn only_constant_per_channel_slopes_are_fused() {
        let x = f32::fact([1, 3, 4, 4]);
        let per_channel = TypedFact::try_from(tensor3(&[[[0.1f32]], [[0.2]], [[0.3]]]).into_arc_tensor()).unwrap();
        assert!(FusedPrelu::for_inputs(&x, &per_channel).is_some());
        let scalar = TypedFact::try_from(tensor1(&[0.25f32]).into_arc_tensor()).unwrap();
        assert!(FusedPrelu::for_inputs(&x, &scalar).is_some());
        let per_column = TypedFact::try_from(tensor1(&[0.1f32, 0.2, 0.3, 0.4]).into_arc_tensor()).unwrap();
        assert!(FusedPrelu::for_inputs(&x, &per_column).is_none());
        assert!(FusedPrelu::for_inputs(&x, &f32::fact([3, 1, 1])).is_none());
    }
}
