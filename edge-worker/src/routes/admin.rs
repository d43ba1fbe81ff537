//! The admin API (`/admin/api/...`): applications, groups, users, deployments, the audit
//! log and signing keys. Callers are console sessions (cookie + CSRF header) or the API
//! token (`Authorization: Bearer`); see `routes::console`. Every state-changing call is
//! recorded in the audit log.

use crate::error::{json, AppError, AppResult};
use crate::http::json_body;
use crate::routes::console::require_admin;
use crate::store::Ctx;
use biopass_idp::application::ApplicationRecord;
use biopass_idp::directory;
use biopass_idp::error::ApiFailure;
use biopass_idp::random::Entropy;
use biopass_proto::admin::{
    ClientSecret, CognitoDeploymentGuide, CreateApplication, CreateGroup, DirectoryStatus, Group, Reindex, Reindexed, RotatedSecret, UpdateApplication,
    UpdateUser,
};
use biopass_proto::error::ApiErrorCode;
use worker::{Method, Request, Response};

fn not_found(what: &str) -> AppError {
    AppError::Api(ApiFailure::not_found(format!("No {what} with this id.")))
}

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

async fn handle(mut req: Request, ctx: &mut Ctx, method: Method, rest: &[&str]) -> AppResult<Response> {
    match (method, rest) {
        (Method::Get, ["applications"]) => {
            let apps: Vec<_> = ctx.applications().await?.iter().map(|a| a.view(&ctx.issuer)).collect();
            json(200, &apps)
        }
        (Method::Post, ["applications"]) => {
            let input: CreateApplication = json_body(&mut req).await?;
            create_application(ctx, &input).await
        }
        (Method::Get, ["applications", id]) => json(200, &app(ctx, id).await?.view(&ctx.issuer)),
        (Method::Patch, ["applications", id]) => {
            let input: UpdateApplication = json_body(&mut req).await?;
            let current = app(ctx, id).await?;
            if let Some(group) = &input.group_id {
                ensure_group(ctx, group).await?;
            }
            let next = current.update(&input, ctx.now)?;
            ctx.put_application(&next).await?;
            json(200, &next.view(&ctx.issuer))
        }
        (Method::Delete, ["applications", id]) => {
            app(ctx, id).await?;
            ctx.delete_application(id).await?;
            json(200, &serde_json::json!({ "deleted": id }))
        }
        (Method::Get, ["applications", id, "secret"]) => {
            let a = app(ctx, id).await?;
            let client_secret = a.secret(&ctx.master).map_err(|_| AppError::internal("client secret does not open"))?;
            json(200, &ClientSecret { client_secret })
        }
        (Method::Post, ["applications", id, "secret", "rotate"]) => {
            let mut a = app(ctx, id).await?;
            let secret = a.rotate_secret(&ctx.master, &mut ctx.rng, ctx.now);
            ctx.put_application(&a).await?;
            // The region of the deployment, when the stack runs in exactly one.
            let mut regions: Vec<String> = ctx.deployments(id).await?.into_iter().map(|d| d.region).collect();
            regions.sort();
            regions.dedup();
            let region = if regions.len() == 1 { regions.pop() } else { None };
            let update_stack_command = a.update_stack_command(&ctx.issuer, &secret, region.as_deref());
            json(200, &RotatedSecret { client_secret: secret, update_stack_command })
        }
        (Method::Get, ["applications", id, "cognito", "template"]) => {
            let a = app(ctx, id).await?;
            let yaml = biopass_idp::cognito::template(a.client_id.as_str(), &ctx.issuer);
            let headers = crate::error::base_headers("application/yaml; charset=utf-8");
            headers.set("Content-Disposition", &format!("attachment; filename=\"{}\"", a.template_file()))?;
            Ok(Response::builder().with_status(200).with_headers(headers).fixed(yaml.into_bytes()))
        }
        (Method::Get, ["applications", id, "cognito"]) => {
            let a = app(ctx, id).await?;
            let base = ctx.env.var("TEMPLATE_BASE_URL").ok().map(|v| v.to_string()).filter(|v| v.starts_with("https://"));
            json(200, &CognitoDeploymentGuide {
                stack_name: a.stack_name(),
                template_path: format!("/admin/api/applications/{}/cognito/template", a.client_id),
                template_file: a.template_file(),
                create_stack_command: a.create_stack_command(&ctx.issuer),
                quick_create_url: base.map(|b| a.quick_create_url(&ctx.issuer, &b)),
                steps: vec![
                    "Download the template (or use the quick-create link if your administrator published templates).".into(),
                    "In the AWS account and region of your user pool, create the stack with the template, the client secret from \"Integration information\", the pool's region and the pool's ID. One stack serves one user pool: only that pool can invoke its functions, and Biopass keeps each pool's users apart; for another pool, create another stack under another name.".into(),
                    "In Amazon Cognito, open the user pool: Extensions (Lambda triggers), and attach the three functions from the stack's outputs as Define, Create and Verify auth challenge.".into(),
                    "In the pool's app client, allow only ALLOW_CUSTOM_AUTH and ALLOW_REFRESH_TOKEN_AUTH (custom authentication with SRP needs nothing else; ALLOW_USER_SRP_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_USER_AUTH and the hosted UI let users in with the password alone, and \"Previous deployments\" flags an app client that allows them), and raise the authentication flow session duration to 15 minutes so first-time enrolment fits.".into(),
                    "Add your application's callback URL to \"Allowed callback URLs\" here, and sign in with CUSTOM_AUTH (SRP) from your application.".into(),
                ],
            })
        }
        (Method::Get, ["applications", id, "deployments"]) => {
            app(ctx, id).await?;
            json(200, &ctx.deployments(id).await?)
        }
        (Method::Get, ["groups"]) => json(200, &ctx.groups().await?),
        (Method::Post, ["groups"]) => {
            let input: CreateGroup = json_body(&mut req).await?;
            let group = new_group(ctx, &input.name).await?;
            json(201, &group)
        }
        (Method::Get, ["groups", id]) => json(200, &ensure_group(ctx, id).await?),
        (Method::Delete, ["groups", id]) => {
            ensure_group(ctx, id).await?;
            if let Some(a) = ctx.applications().await?.iter().find(|a| a.group_id == *id) {
                return Err(AppError::api(ApiErrorCode::Conflict, format!("The application \"{}\" uses this group; assign it another group first.", a.name)));
            }
            ctx.delete_group(id).await?;
            json(200, &serde_json::json!({ "deleted": id }))
        }
        (Method::Get, ["users"]) => {
            let (q, limit, cursor) = listing_query(&req)?;
            json(200, &ctx.user_page(&q, None, limit, cursor).await?)
        }
        (Method::Get, ["directory"]) => json(200, &DirectoryStatus { indexed: ctx.directory_indexed().await? }),
        (Method::Post, ["directory", "reindex"]) => {
            let input: Reindex = json_body(&mut req).await?;
            let (indexed, next_cursor) = ctx.reindex(input.cursor).await?;
            json(200, &Reindexed { indexed, next_cursor })
        }
        (Method::Patch, ["users", id]) => {
            let input: UpdateUser = json_body(&mut req).await?;
            let mut u = ctx.user(id).await?.ok_or_else(|| not_found("user"))?;
            if let Some(groups) = &input.groups {
                for g in groups {
                    ensure_group(ctx, g).await?;
                }
                u.groups = groups.clone();
            }
            if let Some(d) = input.disabled {
                u.disabled = d;
                // Strongly consistent at once: every later login step, code redemption and
                // userinfo call of this user is refused (see `Ctx::is_disabled`).
                ctx.mark_disabled(&u.id, d).await?;
            }
            if let Some(a) = input.admin {
                u.admin = a;
            }
            ctx.put_user(&u).await?;
            json(200, &u.view())
        }
        (Method::Get, ["groups", id, "members"]) => {
            ensure_group(ctx, id).await?;
            let (q, limit, cursor) = listing_query(&req)?;
            json(200, &ctx.user_page(&q, Some(id), limit, cursor).await?)
        }
        (Method::Get, ["audit"]) => {
            let q = crate::http::query_params(&req)?;
            let cursor = q.get("cursor").and_then(|v| v.first().cloned());
            let limit = match q.get("limit").and_then(|v| v.first()) {
                Some(l) => l.parse::<u64>().ok().filter(|n| (1..=crate::audit::MAX_PAGE).contains(n)).ok_or_else(crate::audit::bad_limit)?,
                None => 50,
            };
            json(200, &ctx.audit_page(cursor, limit).await?)
        }
        (Method::Get, ["users", id]) => {
            let u = ctx.user(id).await?.ok_or_else(|| not_found("user"))?;
            json(200, &u.view())
        }
        (Method::Delete, ["users", id, "authenticators", kind]) => {
            let mut u = ctx.user(id).await?.ok_or_else(|| not_found("user"))?;
            match *kind {
                "totp" => u.totp = None,
                "face" => u.face = None,
                _ => return Err(AppError::Api(ApiFailure::invalid_field("kind", "the authenticator kind is totp or face"))),
            }
            ctx.put_user(&u).await?;
            json(200, &u.view())
        }
        (Method::Post, ["keys", "rotate"]) => {
            let kid = ctx.rotate_keyset().await?;
            json(200, &serde_json::json!({ "kid": kid }))
        }
        _ => Err(AppError::api(ApiErrorCode::NotFound, "No such admin API endpoint.")),
    }
}

/// A listing's `q` (the start of a user name, lower-cased), `limit` and `cursor`.
fn listing_query(req: &Request) -> AppResult<(String, usize, Option<String>)> {
    let params = crate::http::query_params(req)?;
    let first = |k: &str| params.get(k).and_then(|v| v.first().cloned());
    let limit = directory::page_size(first("limit").as_deref()).map_err(|m| AppError::Api(ApiFailure::invalid_field("limit", m)))?;
    Ok((first("q").unwrap_or_default().trim().to_lowercase(), limit, first("cursor").filter(|c| !c.is_empty())))
}

async fn app(ctx: &Ctx, id: &str) -> AppResult<ApplicationRecord> {
    ctx.application(id).await?.ok_or_else(|| not_found("application"))
}

async fn ensure_group(ctx: &Ctx, id: &str) -> AppResult<Group> {
    ctx.group(id).await?.ok_or_else(|| AppError::Api(ApiFailure::invalid_field("group_id", "No group with this id.")))
}

async fn new_group(ctx: &mut Ctx, name: &str) -> AppResult<Group> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::Api(ApiFailure::invalid_field("name", "The group name must have 1 to 100 characters.")));
    }
    if name.chars().any(|c| c.is_control() || biopass_idp::ids::is_format_char(c)) {
        return Err(AppError::Api(ApiFailure::invalid_field("name", "The group name cannot contain control or invisible characters.")));
    }
    if ctx.groups().await?.iter().any(|g| g.name.eq_ignore_ascii_case(name)) {
        return Err(AppError::Api(ApiFailure { code: ApiErrorCode::Conflict, ..ApiFailure::invalid_field("name", "A group with this name exists.") }));
    }
    let group = Group { id: ctx.rng.token::<12>(), name: name.to_owned(), created_at: ctx.now };
    ctx.put_group(&group).await?;
    Ok(group)
}

async fn create_application(ctx: &mut Ctx, input: &CreateApplication) -> AppResult<Response> {
    let group_id = match &input.group_id {
        Some(id) => ensure_group(ctx, id).await?.id,
        None => {
            // Every application has a group; name a new one after it, unique.
            let base = format!("{} users", input.name.trim());
            let existing = ctx.groups().await?;
            let mut name = base.clone();
            let mut n = 2;
            while existing.iter().any(|g| g.name.eq_ignore_ascii_case(&name)) {
                name = format!("{base} ({n})");
                n += 1;
            }
            // Validate the application before creating its group.
            ApplicationRecord::create(input, String::new(), &ctx.master, &mut ctx.rng, ctx.now)?;
            new_group(ctx, &name).await?.id
        }
    };
    let (record, _secret) = ApplicationRecord::create(input, group_id, &ctx.master, &mut ctx.rng, ctx.now)?;
    ctx.put_application(&record).await?;
    json(201, &record.view(&ctx.issuer))
}
