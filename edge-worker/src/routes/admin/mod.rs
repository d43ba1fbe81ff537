//! The admin API (`/admin/api/...`): who may call it, the audit record of every
//! state-changing call, and the routing to one module per resource: [`applications`]
//! (settings, secret, Cognito integration, deployments), [`groups`], [`users`] (and the
//! directory's index), the audit log and the signing keys here. Callers are console sessions
//! (cookie + CSRF header) or the API token (`Authorization: Bearer`); see `routes::console`.
//! The rules (names, guides, patches) are `biopass_idp`'s.

use crate::error::{json, AppError, AppResult};
use crate::http::Request;
use crate::routes::console::require_admin;
use crate::store::Ctx;
use biopass_idp::error::ApiFailure;
use biopass_proto::admin::Group;
use biopass_proto::error::ApiErrorCode;
use worker::{Method, Response};

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
    // What the entry says: the name of what is deleted (read before it goes), and the
    // fields an update sets (from a copy of its body).
    let deleted_name = if method == Method::Delete { target_name(ctx, rest).await } else { None };
    let changes = match method {
        Method::Patch => match req.try_clone() {
            Ok(mut copy) => crate::http::json_body::<serde_json::Value>(&mut copy).await.ok().and_then(|b| biopass_idp::audit::changes(&b)),
            Err(_) => None,
        },
        _ => None,
    };
    let result = handle(req, ctx, method.clone(), rest, &admin.actor(), ip.clone()).await;
    if mutating {
        let detail = match &result {
            Ok(_) => changes,
            Err(AppError::Api(f)) => Some(format!("refused: {}", f.message)),
            Err(_) => Some("failed".to_owned()),
        };
        let name = match deleted_name {
            Some(n) => Some(n),
            None => target_name(ctx, rest).await,
        };
        ctx.audit_named(&admin.actor(), &action, rest.get(1).copied(), name.as_deref(), detail, ip).await;
    }
    result
}

/// The name of the application, user or group an admin call names (`rest[1]`), if any.
async fn target_name(ctx: &Ctx, rest: &[&str]) -> Option<String> {
    let id = rest.get(1)?;
    match rest.first().copied()? {
        "applications" => ctx.records.application(id).await.ok().flatten().map(|a| a.name),
        "users" => ctx.records.user(id).await.ok().flatten().map(|u| u.username.to_string()),
        "groups" => ctx.records.group(id).await.ok().flatten().map(|g| g.name),
        _ => None,
    }
}

/// The audit name of an admin call, e.g. `POST applications/secret/rotate` ->
/// `applications.secret.rotate`.
fn audit_action(method: &Method, rest: &[&str]) -> String {
    let path: Vec<&str> = rest.iter().enumerate().filter(|(i, _)| i % 2 == 0).map(|(_, s)| *s).collect();
    let verb = match method {
        Method::Post => "create",
        Method::Patch | Method::Put => "update",
        Method::Delete => "delete",
        _ => "call",
    };
    let last = match rest.last() {
        Some(&"rotate") => "rotate",
        Some(&"cleanup") if rest.len() == 2 => return "users.cleanup".to_owned(),
        _ => verb,
    };
    format!("{}.{last}", path.join("."))
}

/// One call, by resource.
async fn handle(req: Request, ctx: &mut Ctx, method: Method, rest: &[&str], actor: &str, ip: Option<String>) -> AppResult<Response> {
    let tail = rest.get(1..).unwrap_or_default();
    match rest.first().copied() {
        Some("applications") => applications::handle(req, ctx, method, tail).await,
        Some("groups") => groups::handle(req, ctx, method, tail).await,
        Some("users" | "directory") => users::handle(req, ctx, method, rest, actor, ip).await,
        Some("audit") if method == Method::Get && rest.len() == 1 => audit(&req, ctx).await,
        Some("audit") if method == Method::Get && rest == ["audit", "export"] => audit_export(&req, ctx, actor, ip).await,
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

/// Entries one filtered page looks at, at most (a filter that matches little answers an
/// empty page with a cursor rather than read the whole log in one request).
const AUDIT_SCAN_PER_PAGE: u64 = 2_000;
/// Entries an export holds, and looks at, at most.
const EXPORT_MAX: usize = 10_000;
const EXPORT_SCAN_MAX: u64 = 50_000;

/// `GET /admin/api/audit?actor&action&target&outcome&since&until&cursor&limit`: a page of
/// the log, newest first, filtered (`biopass_idp::audit::query`).
async fn audit(req: &Request, ctx: &Ctx) -> AppResult<Response> {
    let q = crate::http::query_params(req)?;
    let query = audit_query(&q)?;
    let cursor = q.get("cursor").and_then(|v| v.first().cloned());
    let limit = match q.get("limit").and_then(|v| v.first()) {
        Some(l) => l.parse::<u64>().ok().filter(|n| (1..=biopass_service::records::AUDIT_MAX_PAGE).contains(n)).ok_or_else(crate::audit::bad_limit)?,
        None => 50,
    };
    let scan = if biopass_idp::audit::is_everything(&query) { limit } else { AUDIT_SCAN_PER_PAGE };
    json(200, &ctx.records.audit_search(&query, cursor, limit, scan).await?)
}

fn audit_query(q: &biopass_idp::authorize::Params) -> AppResult<biopass_proto::admin::AuditQuery> {
    let pairs = q.iter().filter_map(|(k, v)| v.first().map(|v| (k.as_str(), v.as_str())));
    biopass_idp::audit::query(pairs).map_err(AppError::Api)
}

/// `GET /admin/api/audit/export?format=csv|json&...`: every entry the filters match (at
/// most [`EXPORT_MAX`], newest first), as a download. The export itself is audited.
async fn audit_export(req: &Request, ctx: &mut Ctx, actor: &str, ip: Option<String>) -> AppResult<Response> {
    let q = crate::http::query_params(req)?;
    let query = audit_query(&q)?;
    let csv = match q.get("format").and_then(|v| v.first()).map(String::as_str) {
        Some("csv") | None => true,
        Some("json") => false,
        Some(_) => return Err(AppError::Api(ApiFailure::invalid_field("format", "csv or json"))),
    };
    let mut items = Vec::new();
    let (mut cursor, mut scanned) = (None, 0);
    loop {
        let page = ctx.records.audit_search(&query, cursor, biopass_service::records::AUDIT_MAX_PAGE, EXPORT_SCAN_MAX - scanned).await?;
        scanned += page.scanned;
        items.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() || items.len() >= EXPORT_MAX || scanned >= EXPORT_SCAN_MAX {
            break;
        }
    }
    let complete = cursor.is_none() && items.len() <= EXPORT_MAX;
    items.truncate(EXPORT_MAX);
    let detail = format!("{} entries as {}{}", items.len(), if csv { "CSV" } else { "JSON" }, if complete { "" } else { " (the first only)" });
    ctx.audit(actor, "audit.export", None, Some(detail), ip).await;
    let (content_type, name, text) = if csv {
        let mut text = String::from(biopass_idp::audit::CSV_HEADER);
        for e in &items {
            text.push_str(&biopass_idp::audit::csv_row(e));
        }
        ("text/csv; charset=utf-8", "biopass-audit.csv", text)
    } else {
        let text = serde_json::to_string(&items).map_err(|e| AppError::internal(format!("serialise: {e}")))?;
        ("application/json", "biopass-audit.json", text)
    };
    let headers = crate::error::base_headers(content_type);
    headers.set("Content-Disposition", &format!("attachment; filename=\"{name}\""))?;
    headers.set("X-Biopass-Export-Complete", if complete { "true" } else { "false" })?;
    Ok(worker::Response::builder().with_status(200).with_headers(headers).fixed(text.into_bytes()))
}

/// The group `id`, or a 400 naming the `group_id` field.
async fn ensure_group(ctx: &Ctx, id: &str) -> AppResult<Group> {
    ctx.records.group(id).await?.ok_or_else(|| AppError::Api(ApiFailure::invalid_field("group_id", "No group with this id.")))
}
