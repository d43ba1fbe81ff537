//! The face analysis, as the provider sees it: the evidence's frames go to the face service
//! over the `FACE` service binding (`biopass_idp::face_service`), which measures them with
//! the face models; `biopass_idp::face` decides. The provider links no model code.

use biopass_idp::error::ApiFailure;
use biopass_idp::face::MeasuredFrame;
use biopass_idp::face_service::{decode, encode, MeasureAnswer, MeasureRequest, CONTENT_TYPE, MEASURE_PATH};
use biopass_proto::login::EvidenceFrame;
use biopass_service::http::Failure;
use biopass_service::login::FaceAnalysis;
use std::borrow::Cow;
use worker::{Env, Headers, Method, RequestInit};

/// The face service behind the `FACE` binding.
pub struct FaceService<'a>(pub &'a Env);

fn internal(why: impl std::fmt::Display) -> Failure {
    Failure::Internal(format!("face service: {why}"))
}

impl FaceAnalysis for FaceService<'_> {
    async fn measure(&self, frames: &[EvidenceFrame]) -> Result<Vec<MeasuredFrame>, Failure> {
        let body = encode(&MeasureRequest { frames: Cow::Borrowed(frames) }).map_err(internal)?;
        let headers = Headers::new();
        headers.set("content-type", CONTENT_TYPE).map_err(internal)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(worker::js_sys::Uint8Array::from(body.as_slice()).into()));
        let service = self.0.service("FACE").map_err(internal)?;
        let mut resp = service.fetch(format!("https://face{MEASURE_PATH}"), Some(init)).await.map_err(internal)?;
        if resp.status_code() != 200 {
            return Err(internal(format!("answered {}", resp.status_code())));
        }
        match decode(&resp.bytes().await.map_err(internal)?).map_err(internal)? {
            MeasureAnswer::Measured(measured) if measured.len() == frames.len() => Ok(measured),
            MeasureAnswer::Measured(measured) => Err(internal(format!("{} measures for {} frames", measured.len(), frames.len()))),
            MeasureAnswer::Unreadable(message) => Err(Failure::Api(ApiFailure::invalid_field("frames", message))),
        }
    }
}
