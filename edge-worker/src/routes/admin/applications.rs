//! `/admin/api/applications/...`: the applications, their secret, their Cognito
//! integration tab (guide, template) and their Previous deployments.

use super::{ensure_group, groups, no_such_endpoint, not_found};
use crate::error::{json, AppError, AppResult};
use crate::http::json_body;
use crate::http::Request;
use crate::store::Ctx;
use biopass_idp::application::{default_group_name, ApplicationRecord};
use biopass_idp::deployment::single_region;
use biopass_idp::logo::{check_size, Logo};
use biopass_proto::admin::{ClientSecret, CreateApplication, Deleted, RotatedSecret, UpdateApplication};
use worker::{Method, Response};

/// `rest`: the path after `applications`.
pub(super) async fn handle(mut req: Request, ctx: &mut Ctx, method: Method, rest: &[&str]) -> AppResult<Response> {
    match (method, rest) {
        (Method::Get, []) => {
            let apps: Vec<_> = ctx.records.applications().await?.iter().map(|a| a.view(&ctx.issuer)).collect();
            json(200, &apps)
        }
        (Method::Post, []) => {
            let input: CreateApplication = json_body(&mut req).await?;
            create(ctx, &input).await
        }
        (Method::Get, [id]) => {
            let mut view = app(ctx, id).await?.view(&ctx.issuer);
            view.deployment_region = single_region(&ctx.records.deployments(id).await?);
            json(200, &view)
        }
        (Method::Patch, [id]) => {
            let input: UpdateApplication = json_body(&mut req).await?;
            let current = app(ctx, id).await?;
            if let Some(group) = &input.group_id {
                ensure_group(ctx, group).await?;
            }
            let next = current.update(&input, ctx.now)?;
            ready_to_sign(ctx, &next).await?;
            ctx.records.put_application(&next).await?;
            json(200, &next.view(&ctx.issuer))
        }
        (Method::Delete, [id]) => {
            app(ctx, id).await?;
            ctx.records.delete_application(id).await?;
            json(200, &Deleted { deleted: (*id).to_owned() })
        }
        (Method::Put, [id, "logo"]) => {
            let mut a = app(ctx, id).await?;
            if let Some(declared) = req.headers().get("Content-Length")?.and_then(|l| l.parse::<usize>().ok()) {
                check_size(declared)?;
            }
            let logo = Logo::parse(req.bytes().await?)?;
            ctx.records.put_logo(id, &logo).await?;
            a.logo = Some(logo.reference());
            a.updated_at = ctx.now;
            ctx.records.put_application(&a).await?;
            json(200, &a.view(&ctx.issuer))
        }
        (Method::Delete, [id, "logo"]) => {
            let mut a = app(ctx, id).await?;
            a.logo = None;
            a.updated_at = ctx.now;
            ctx.records.put_application(&a).await?;
            ctx.records.delete_logo(id).await?;
            json(200, &a.view(&ctx.issuer))
        }
        (Method::Get, [id, "secret"]) => {
            let a = app(ctx, id).await?;
            let client_secret = a.secret(&ctx.master).map_err(|_| AppError::internal("client secret does not open"))?;
            json(200, &ClientSecret { client_secret })
        }
        (Method::Post, [id, "secret", "rotate"]) => {
            let mut a = app(ctx, id).await?;
            let secret = a.rotate_secret(&ctx.svc.master, &mut ctx.svc.rng, ctx.svc.now);
            ctx.records.put_application(&a).await?;
            // The region Biopass saw the stack in, else the one an administrator entered.
            let region = single_region(&ctx.records.deployments(id).await?).or_else(|| a.aws_region.clone());
            let update_stack_command = a.update_stack_command(&ctx.issuer, &secret, region.as_deref());
            json(200, &RotatedSecret { client_secret: secret, update_stack_command })
        }
        (Method::Get, [id, "cognito", "template"]) => {
            let a = app(ctx, id).await?;
            let yaml = biopass_idp::cognito::template(a.client_id.as_str(), &ctx.issuer);
            let headers = crate::error::base_headers("application/yaml; charset=utf-8");
            headers.set("Content-Disposition", &format!("attachment; filename=\"{}\"", a.template_file()))?;
            Ok(Response::builder().with_status(200).with_headers(headers).fixed(yaml.into_bytes()))
        }
        (Method::Get, [id, "cognito"]) => {
            let a = app(ctx, id).await?;
            let base = ctx.env.var("TEMPLATE_BASE_URL").ok().map(|v| v.to_string());
            json(200, &a.deployment_guide(&ctx.issuer, base.as_deref()))
        }
        (Method::Get, [id, "deployments"]) => {
            app(ctx, id).await?;
            json(200, &ctx.records.deployments(id).await?)
        }
        _ => Err(no_such_endpoint()),
    }
}

async fn app(ctx: &Ctx, id: &str) -> AppResult<ApplicationRecord> {
    ctx.records.application(id).await?.ok_or_else(|| not_found("application"))
}

/// Creates an application, and its group when none is named (after the application,
/// unique; the application is validated before the group is made).
async fn create(ctx: &mut Ctx, input: &CreateApplication) -> AppResult<Response> {
    let group_id = match &input.group_id {
        Some(id) => ensure_group(ctx, id).await?.id,
        None => {
            let existing = ctx.records.groups().await?;
            let name = default_group_name(&input.name, existing.iter().map(|g| g.name.as_str()));
            ApplicationRecord::create(input, String::new(), &ctx.svc.master, &mut ctx.svc.rng, ctx.svc.now)?;
            groups::create(ctx, &name).await?.id
        }
    };
    let (record, _secret) = ApplicationRecord::create(input, group_id, &ctx.svc.master, &mut ctx.svc.rng, ctx.svc.now)?;
    ready_to_sign(ctx, &record).await?;
    ctx.records.put_application(&record).await?;
    json(201, &record.view(&ctx.issuer))
}

/// Makes the key the application's ID tokens need now (an RSA key for RS256 takes seconds
/// to make), so its first sign-in does not wait for it within a Cognito trigger's budget.
async fn ready_to_sign(ctx: &mut Ctx, app: &ApplicationRecord) -> AppResult<()> {
    ctx.keyset_for(app.id_token_signed_response_alg.into()).await.map(|_| ())
}
