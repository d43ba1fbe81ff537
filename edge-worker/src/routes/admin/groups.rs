//! `/admin/api/groups/...`: groups and a page of a group's members.

use super::{ensure_group, no_such_endpoint, users::listing_query};
use crate::error::{json, AppError, AppResult};
use crate::http::json_body;
use crate::http::Request;
use crate::store::Ctx;
use biopass_idp::application::group_name;
use biopass_idp::error::ApiFailure;
use biopass_idp::random::Entropy;
use biopass_proto::admin::{CreateGroup, Deleted, Group};
use biopass_proto::error::ApiErrorCode;
use worker::{Method, Response};

/// `rest`: the path after `groups`.
pub(super) async fn handle(mut req: Request, ctx: &mut Ctx, method: Method, rest: &[&str]) -> AppResult<Response> {
    match (method, rest) {
        (Method::Get, []) => json(200, &ctx.records.groups().await?),
        (Method::Post, []) => {
            let input: CreateGroup = json_body(&mut req).await?;
            json(201, &create(ctx, &input.name).await?)
        }
        (Method::Get, [id]) => json(200, &ensure_group(ctx, id).await?),
        (Method::Delete, [id]) => {
            ensure_group(ctx, id).await?;
            if let Some(a) = ctx.records.applications().await?.iter().find(|a| a.group_id == *id) {
                return Err(AppError::api(ApiErrorCode::Conflict, format!("The application \"{}\" uses this group; assign it another group first.", a.name)));
            }
            ctx.records.delete_group(id).await?;
            json(200, &Deleted { deleted: (*id).to_owned() })
        }
        (Method::Get, [id, "members"]) => {
            ensure_group(ctx, id).await?;
            let (q, limit, cursor) = listing_query(&req)?;
            json(200, &ctx.records.user_page(&q, Some(id), limit, cursor).await?)
        }
        _ => Err(no_such_endpoint()),
    }
}

/// Creates the group `name` (checked by `biopass_idp::application::group_name`, and unique
/// whatever the case).
pub(super) async fn create(ctx: &mut Ctx, name: &str) -> AppResult<Group> {
    let name = group_name(name).map_err(|m| AppError::Api(ApiFailure::invalid_field("name", m)))?;
    if ctx.records.groups().await?.iter().any(|g| g.name.eq_ignore_ascii_case(name)) {
        return Err(AppError::Api(ApiFailure { code: ApiErrorCode::Conflict, ..ApiFailure::invalid_field("name", "A group with this name exists.") }));
    }
    let group = Group { id: ctx.rng.token::<12>(), name: name.to_owned(), created_at: ctx.now };
    ctx.records.put_group(&group).await?;
    Ok(group)
}
