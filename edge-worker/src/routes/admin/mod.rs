//! The admin API (`/admin/api/...`): who may call it, the audit record of every
//! state-changing call, and the routing to one module per resource: [`applications`]
//! (settings, secret, Cognito integration, deployments), [`groups`], [`users`] (and the
//! directory's index), the audit log and the signing keys here. Callers are console sessions
//! (cookie + CSRF header) or the API token (`Authorization: Bearer`); see `routes::console`.
//! The rules (names, guides, patches) are `biopass_idp`'s.

use crate::error::{json, AppError, AppResult};
use crate::routes::console::require_admin;
use crate::store::Ctx;
use biopass_idp::error::ApiFailure;
use biopass_proto::admin::Group;
use biopass_proto::error::ApiErrorCode;
use worker::{Method, Request, Response};

mod applications;
mod groups;
mod users;

/// Routes `/admin/api/{rest}`.
pub async fn route(req: Request, ctx: &mut Ctx, rest: &[&str]) -> AppResult<Response> {
    let admin = require_admin(&req, ctx).await?;
    let ip = crate::audit::client_ip(&req);
    let method = req.method();
    let mutating = !matches!(method, Method::Get | Method::Head);
    let action = audit_action(&method, rest);
    let result = handle(req, ctx, method, rest).await;
    if mutating {
        let (detail, target) = match &result {
            Ok(_) => (None, rest.get(1).map(|s| (*s).to_owned())),
            Err(AppError::Api(f)) => (Some(format!("refused: {}", f.message)), rest.get(1).map(|s| (*s).to_owned())),
            Err(_) => (Some("failed".to_owned()), rest.get(1).map(|s| (*s).to_owned())),
        };
        ctx.audit(&admin.actor(), &action, target.as_deref(), detail, ip).await;
    }
    result
}

/// The audit name of an admin call, e.g. `POST applications/secret/rotate` ->
/// `applications.secret.rotate`.
fn audit_action(method: &Method, rest: &[&str]) -> String {
    let path: Vec<&str> = rest.iter().enumerate().filter(|(i, _)| i % 2 == 0).map(|(_, s)| *s).collect();
    let verb = match method {
        Method::Post => "create",
        Method::Patch => "update",
        Method::Delete => "delete",
        _ => "call",
    };
    let last = if rest.last() == Some(&"rotate") { "rotate" } else { verb };
    format!("{}.{last}", path.join("."))
}

/// One call, by resource.
async fn handle(req: Request, ctx: &mut Ctx, method: Method, rest: &[&str]) -> AppResult<Response> {
    let tail = rest.get(1..).unwrap_or_default();
    match rest.first().copied() {
        Some("applications") => applications::handle(req, ctx, method, tail).await,
        Some("groups") => groups::handle(req, ctx, method, tail).await,
        Some("users" | "directory") => users::handle(req, ctx, method, rest).await,
        Some("audit") if method == Method::Get && rest.len() == 1 => audit(&req, ctx).await,
        Some("keys") if method == Method::Post && rest == ["keys", "rotate"] => {
            let kid = ctx.rotate_keyset().await?;
            json(200, &serde_json::json!({ "kid": kid }))
        }
        _ => Err(no_such_endpoint()),
    }
}

fn no_such_endpoint() -> AppError {
    AppError::api(ApiErrorCode::NotFound, "No such admin API endpoint.")
}

fn not_found(what: &str) -> AppError {
    AppError::Api(ApiFailure::not_found(format!("No {what} with this id.")))
}

/// `GET /admin/api/audit?cursor&limit`: a page of the log, newest first.
async fn audit(req: &Request, ctx: &Ctx) -> AppResult<Response> {
    let q = crate::http::query_params(req)?;
    let cursor = q.get("cursor").and_then(|v| v.first().cloned());
    let limit = match q.get("limit").and_then(|v| v.first()) {
        Some(l) => l.parse::<u64>().ok().filter(|n| (1..=biopass_service::records::AUDIT_MAX_PAGE).contains(n)).ok_or_else(crate::audit::bad_limit)?,
        None => 50,
    };
    json(200, &ctx.records.audit_page(cursor, limit).await?)
}

/// The group `id`, or a 400 naming the `group_id` field.
async fn ensure_group(ctx: &Ctx, id: &str) -> AppResult<Group> {
    ctx.records.group(id).await?.ok_or_else(|| AppError::Api(ApiFailure::invalid_field("group_id", "No group with this id.")))
}
