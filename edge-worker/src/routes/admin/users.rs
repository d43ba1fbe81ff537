//! `/admin/api/users/...` and `/admin/api/directory/...`: a page of users (by the start of
//! their name), one user, changing, disabling or deleting them, resetting an authenticator,
//! cleaning up users who never enrolled, and the directory's index.

use super::{ensure_group, no_such_endpoint, not_found};
use crate::error::{json, AppError, AppResult};
use crate::http::json_body;
use crate::http::Request;
use crate::store::Ctx;
use biopass_idp::directory;
use biopass_idp::error::ApiFailure;
use biopass_proto::admin::{CleanUpUsers, CleanedUp, Deleted, DirectoryStatus, Reindex, Reindexed, UpdateUser};
use worker::{Method, Response};

/// `rest`: the whole path (`users/...` or `directory/...`).
pub(super) async fn handle(mut req: Request, ctx: &mut Ctx, method: Method, rest: &[&str], actor: &str, ip: Option<String>) -> AppResult<Response> {
    match (method, rest) {
        (Method::Get, ["users"]) => {
            let (q, limit, cursor) = listing_query(&req)?;
            json(200, &ctx.records.user_page(&q, None, limit, cursor).await?)
        }
        (Method::Get, ["users", id]) => json(200, &ctx.records.user(id).await?.ok_or_else(|| not_found("user"))?.view()),
        (Method::Patch, ["users", id]) => {
            let input: UpdateUser = json_body(&mut req).await?;
            for g in input.groups.iter().flatten() {
                ensure_group(ctx, g).await?;
            }
            json(200, &biopass_service::users::update_user(ctx, id, &input).await?.view())
        }
        (Method::Delete, ["users", id]) => {
            let gone = biopass_service::users::delete_user(ctx, id).await?;
            json(200, &Deleted { deleted: gone.id })
        }
        (Method::Post, ["users", "cleanup"]) => {
            let input: CleanUpUsers = json_body(&mut req).await?;
            let (deleted, scanned, next_cursor) = biopass_service::users::clean_up_never_enrolled(ctx, input.registered_before, input.cursor).await?;
            for user in &deleted {
                ctx.audit_named(actor, "users.delete", Some(&user.id), Some(user.username.as_str()), Some("never enrolled: cleaned up".into()), ip.clone())
                    .await;
            }
            json(200, &CleanedUp { deleted: deleted.iter().map(|u| u.view()).collect(), scanned, next_cursor })
        }
        (Method::Delete, ["users", id, "authenticators", kind]) => json(200, &biopass_service::users::reset_authenticator(ctx, id, kind).await?.view()),
        (Method::Get, ["directory"]) => json(200, &DirectoryStatus { indexed: ctx.records.directory_indexed().await? }),
        (Method::Post, ["directory", "reindex"]) => {
            let input: Reindex = json_body(&mut req).await?;
            let (indexed, next_cursor) = ctx.records.reindex(input.cursor).await?;
            json(200, &Reindexed { indexed, next_cursor })
        }
        _ => Err(no_such_endpoint()),
    }
}

/// A listing's `q` (the start of a user name, lower-cased), `limit` and `cursor`.
pub(super) fn listing_query(req: &Request) -> AppResult<(String, usize, Option<String>)> {
    let params = crate::http::query_params(req)?;
    let first = |k: &str| params.get(k).and_then(|v| v.first().cloned());
    let limit = directory::page_size(first("limit").as_deref()).map_err(|m| AppError::Api(ApiFailure::invalid_field("limit", m)))?;
    Ok((first("q").unwrap_or_default().trim().to_lowercase(), limit, first("cursor").filter(|c| !c.is_empty())))
}
