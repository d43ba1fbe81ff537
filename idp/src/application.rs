//! The "Amazon Cognito MFA Application" (product page sections 1 and 2): its stored form,
//! the admin rules for creating and changing it, and its client secret.
//!
//! The secret is 256 random bits, sealed under [`Purpose::ClientSecret`] so an admin can
//! reveal and copy it (the product page's "Client secret" field); it is compared in
//! constant time and never logged.

use crate::client_auth::{validate_public_jwk, Registration};
use crate::error::ApiFailure;
use crate::ids::{CallbackUrl, ClientId};
use crate::random::Entropy;
use crate::secretbox::{MasterKey, Purpose, SealError};
use biopass_proto::admin::{
    Application, ApplicationType, ClientAuthMethod, CognitoDeploymentGuide, CreateApplication, FaceAssurance, IdTokenAlg, UpdateApplication,
};
use biopass_proto::login::AuthenticatorKind;
use serde::{Deserialize, Serialize};

/// An application as stored (KV `app:{client_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRecord {
    pub client_id: ClientId,
    pub name: String,
    pub application_type: ApplicationType,
    pub client_authentication: bool,
    pub client_auth_method: ClientAuthMethod,
    #[serde(default)]
    pub public_key_jwk: Option<serde_json::Value>,
    pub allowed_callback_urls: Vec<CallbackUrl>,
    pub group_id: String,
    /// The authenticators accepted at sign-in; records from before this setting accept all.
    #[serde(default = "AuthenticatorKind::all")]
    pub acceptable_authenticators: Vec<AuthenticatorKind>,
    /// The face-match level of sign-ins; records from before this setting get the default
    /// (FMR 1 in 10,000).
    #[serde(default)]
    pub face_assurance: FaceAssurance,
    /// What its ID tokens are signed with; records from before this setting get ES256.
    #[serde(default)]
    pub id_token_signed_response_alg: IdTokenAlg,
    /// Sign-ins start only from a pushed authorization request (RFC 9126 section 6,
    /// `require_pushed_authorization_requests`): only the application's own stack, after
    /// Cognito checked the password, can start one, so nobody can start a sign-in (and
    /// guess codes, or learn who is enrolled) with a user name alone. On by default, and for
    /// records from before this setting.
    #[serde(default = "yes")]
    pub require_pushed_authorization_requests: bool,
    /// The AWS region of the stack as an administrator entered it ([`aws_region`]).
    #[serde(default)]
    pub aws_region: Option<String>,
    /// The logo the login page shows beside the name (its bytes are under
    /// `KvKey::Logo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<crate::logo::LogoRef>,
    /// The client secret, sealed to this client ID.
    pub sealed_secret: String,
    pub secret_rotated_at: u64,
    pub created_at: u64,
    pub updated_at: u64,
}

fn check_name(name: &str) -> Result<String, ApiFailure> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiFailure::invalid_field("name", "the name must have 1 to 100 characters"));
    }
    if name.chars().any(|c| c.is_control() || crate::ids::is_format_char(c)) {
        return Err(ApiFailure::invalid_field("name", "the name cannot contain control characters"));
    }
    Ok(name.to_owned())
}

fn check_jwk(jwk: Option<&serde_json::Value>) -> Result<Option<serde_json::Value>, ApiFailure> {
    match jwk {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => validate_public_jwk(v).map(|()| Some(v.clone())).map_err(|m| ApiFailure::invalid_field("public_key_jwk", m)),
    }
}

/// The "acceptable authenticators" setting: at least one, each once, in a fixed order.
fn check_authenticators(kinds: &[AuthenticatorKind]) -> Result<Vec<AuthenticatorKind>, ApiFailure> {
    let kept: Vec<_> = AuthenticatorKind::ALL.into_iter().filter(|k| kinds.contains(k)).collect();
    if kept.is_empty() {
        return Err(ApiFailure::invalid_field("acceptable_authenticators", "accept at least one authenticator"));
    }
    Ok(kept)
}

fn yes() -> bool {
    true
}

/// Generates a client secret: 32 random bytes, base64url.
pub fn new_secret(rng: &mut impl Entropy) -> String {
    rng.token::<32>()
}

impl ApplicationRecord {
    /// Validates a create request; returns the record and the new plaintext secret.
    ///
    /// # Errors
    /// An [`ApiFailure`] naming the bad field.
    pub fn create(input: &CreateApplication, group_id: String, master: &MasterKey, rng: &mut impl Entropy, now: u64) -> Result<(Self, String), ApiFailure> {
        let name = check_name(&input.name)?;
        let allowed_callback_urls = CallbackUrl::parse_list(&input.allowed_callback_urls)?;
        let public_key_jwk = check_jwk(input.public_key_jwk.as_ref())?;
        let acceptable_authenticators = match &input.acceptable_authenticators {
            Some(kinds) => check_authenticators(kinds)?,
            None => AuthenticatorKind::all(),
        };
        let client_id = ClientId::generate(rng);
        let secret = new_secret(rng);
        let sealed_secret = master.secret_box(Purpose::ClientSecret).seal(rng, client_id.as_str(), secret.as_bytes());
        let record = Self {
            client_id,
            name,
            application_type: input.application_type,
            client_authentication: input.client_authentication.unwrap_or(true),
            client_auth_method: input.client_auth_method.unwrap_or(ClientAuthMethod::ClientSecret),
            public_key_jwk,
            allowed_callback_urls,
            group_id,
            acceptable_authenticators,
            face_assurance: input.face_assurance.unwrap_or_default(),
            id_token_signed_response_alg: input.id_token_signed_response_alg.unwrap_or_default(),
            require_pushed_authorization_requests: input.require_pushed_authorization_requests.unwrap_or(true),
            aws_region: None,
            logo: None,
            sealed_secret,
            secret_rotated_at: now,
            created_at: now,
            updated_at: now,
        };
        record.check_consistency()?;
        Ok((record, secret))
    }

    /// Applies a partial update. The group must have been checked to exist by the caller.
    ///
    /// # Errors
    /// An [`ApiFailure`] naming the bad field; the record is unchanged then.
    pub fn update(&self, input: &UpdateApplication, now: u64) -> Result<Self, ApiFailure> {
        let mut next = self.clone();
        if let Some(name) = &input.name {
            next.name = check_name(name)?;
        }
        if let Some(on) = input.client_authentication {
            next.client_authentication = on;
        }
        if let Some(method) = input.client_auth_method {
            next.client_auth_method = method;
        }
        if let Some(jwk) = &input.public_key_jwk {
            next.public_key_jwk = check_jwk(Some(jwk))?;
        }
        if let Some(urls) = &input.allowed_callback_urls {
            next.allowed_callback_urls = CallbackUrl::parse_list(urls)?;
        }
        if let Some(group) = &input.group_id {
            next.group_id = group.clone();
        }
        if let Some(kinds) = &input.acceptable_authenticators {
            next.acceptable_authenticators = check_authenticators(kinds)?;
        }
        if let Some(level) = input.face_assurance {
            next.face_assurance = level;
        }
        if let Some(alg) = input.id_token_signed_response_alg {
            next.id_token_signed_response_alg = alg;
        }
        if let Some(on) = input.require_pushed_authorization_requests {
            next.require_pushed_authorization_requests = on;
        }
        if let Some(region) = &input.aws_region {
            next.aws_region = match region.trim() {
                "" => None,
                r => Some(aws_region(r).map_err(|m| ApiFailure::invalid_field("aws_region", m))?.to_owned()),
            };
        }
        next.check_consistency()?;
        next.updated_at = now;
        Ok(next)
    }

    fn check_consistency(&self) -> Result<(), ApiFailure> {
        if self.client_authentication && self.client_auth_method == ClientAuthMethod::PrivateKeyJwt && self.public_key_jwk.is_none() {
            return Err(ApiFailure::invalid_field("public_key_jwk", "the \"Public key\" method needs the client's public key (a JWK)"));
        }
        Ok(())
    }

    /// Replaces the secret; the old one stops working as soon as this record is stored.
    pub fn rotate_secret(&mut self, master: &MasterKey, rng: &mut impl Entropy, now: u64) -> String {
        let secret = new_secret(rng);
        self.sealed_secret = master.secret_box(Purpose::ClientSecret).seal(rng, self.client_id.as_str(), secret.as_bytes());
        self.secret_rotated_at = now;
        self.updated_at = now;
        secret
    }

    /// The plaintext secret.
    ///
    /// # Errors
    /// [`SealError`] when it does not open (wrong master key or tampered record).
    pub fn secret(&self, master: &MasterKey) -> Result<String, SealError> {
        let bytes = master.secret_box(Purpose::ClientSecret).open(self.client_id.as_str(), &self.sealed_secret)?;
        String::from_utf8(bytes).map_err(|_| SealError)
    }

    /// What client authentication needs, given the opened secret.
    pub fn registration<'a>(&'a self, secret: &'a str) -> Registration<'a> {
        Registration {
            client_id: &self.client_id,
            client_authentication: self.client_authentication,
            method: self.client_auth_method,
            secret,
            public_jwk: self.public_key_jwk.as_ref(),
        }
    }

    pub fn is_public(&self) -> bool {
        !self.client_authentication
    }

    pub fn view(&self, issuer: &str) -> Application {
        Application {
            client_id: self.client_id.to_string(),
            name: self.name.clone(),
            application_type: self.application_type,
            issuer: issuer.to_owned(),
            client_authentication: self.client_authentication,
            client_auth_method: self.client_auth_method,
            public_key_jwk: self.public_key_jwk.clone(),
            allowed_callback_urls: self.allowed_callback_urls.iter().map(|u| u.as_str().to_owned()).collect(),
            group_id: self.group_id.clone(),
            acceptable_authenticators: self.acceptable_authenticators.clone(),
            face_assurance: self.face_assurance,
            id_token_signed_response_alg: self.id_token_signed_response_alg,
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            aws_region: self.aws_region.clone(),
            logo_url: self.logo.as_ref().map(|l| l.url(self.client_id.as_str())),
            deployment_region: None,
            created_at: self.created_at,
            updated_at: self.updated_at,
            secret_rotated_at: self.secret_rotated_at,
        }
    }

    /// The CloudFormation stack name our deployment guide gives this application's stack.
    pub fn stack_name(&self) -> String {
        format!("biopass-{}", self.client_id.as_str().replace('_', "-").to_lowercase())
    }

    /// The template file name of the deployment guide.
    pub fn template_file(&self) -> String {
        format!("{}.yaml", self.stack_name())
    }

    /// The `aws cloudformation create-stack` command of the deployment guide. The secret
    /// is left for the admin to paste (it is revealed separately, never printed here).
    pub fn create_stack_command(&self, issuer: &str) -> String {
        format!(
            "aws cloudformation create-stack --stack-name {stack} --template-body file://{file} \
             --parameters ParameterKey=ClientId,ParameterValue={id} \
             ParameterKey=Issuer,ParameterValue={issuer} \
             ParameterKey=ClientSecret,ParameterValue=<client secret> \
             ParameterKey=UserPoolId,ParameterValue=<your user pool ID> \
             --capabilities CAPABILITY_IAM --region <region of your user pool>",
            stack = self.stack_name(),
            file = self.template_file(),
            id = self.client_id,
        )
    }

    /// A CloudFormation quick-create link for a template published at
    /// `{template_base_url}/{template_file}`.
    pub fn quick_create_url(&self, issuer: &str, template_base_url: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "https://console.aws.amazon.com/cloudformation/home#/stacks/quickcreate?templateURL={}&stackName={}&param_ClientId={}&param_Issuer={}",
            enc(&format!("{}/{}", template_base_url.trim_end_matches('/'), self.template_file())),
            enc(&self.stack_name()),
            enc(self.client_id.as_str()),
            enc(issuer),
        )
    }

    /// The prefilled `aws cloudformation update-stack` command of the product page, for a
    /// new secret. `region` is the region of the deployment where one is known.
    pub fn update_stack_command(&self, issuer: &str, secret: &str, region: Option<&str>) -> String {
        let region = region.unwrap_or("<region of the deployment>");
        format!(
            "aws cloudformation update-stack --stack-name {stack} --use-previous-template \
             --parameters ParameterKey=ClientId,ParameterValue={id} \
             ParameterKey=Issuer,ParameterValue={issuer} \
             ParameterKey=ClientSecret,ParameterValue={secret} \
             ParameterKey=UserPoolId,UsePreviousValue=true \
             --capabilities CAPABILITY_IAM --region {region}",
            stack = self.stack_name(),
            id = self.client_id,
        )
    }
}

/// An AWS region name as the AWS CLI takes it (`eu-west-1`, `us-gov-west-1`,
/// `ap-southeast-4`): two letters, one or more lower-case words, a number; at most 25
/// characters.
///
/// # Errors
/// What to tell the administrator.
pub fn aws_region(region: &str) -> Result<&str, &'static str> {
    const MESSAGE: &str = "Enter an AWS region such as eu-west-1.";
    let parts: Vec<&str> = region.split('-').collect();
    let ok = region.len() <= 25
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts.last().is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(region)
    } else {
        Err(MESSAGE)
    }
}

/// The steps of the Cognito integration tab's "Deployment" box.
pub const DEPLOYMENT_STEPS: [&str; 5] = [
    "Download the template (or use the quick-create link if your administrator published templates).",
    "In the AWS account and region of your user pool, create the stack with the template, the client secret from \"Integration information\" (the stack keeps it in AWS Secrets Manager) and the pool's ID. One stack serves one user pool: only that pool can invoke its functions, and Biopass keeps each pool's users apart; for another pool, create another stack under another name.",
    "In Amazon Cognito, open the user pool: Extensions (Lambda triggers), and attach the three functions from the stack's outputs as Define, Create and Verify auth challenge.",
    "In the pool's app client, allow only ALLOW_CUSTOM_AUTH and ALLOW_REFRESH_TOKEN_AUTH (custom authentication with SRP needs nothing else; ALLOW_USER_SRP_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_USER_AUTH and the hosted UI let users in with the password alone, and \"Previous deployments\" flags an app client that allows them), and raise the authentication flow session duration to 15 minutes so first-time enrolment fits.",
    "Add your application's callback URL to \"Allowed callback URLs\" here, and sign in with CUSTOM_AUTH (SRP) from your application.",
];

impl ApplicationRecord {
    /// The "Deployment" box: stack name, template, commands and steps; the quick-create link
    /// where templates are published at `template_base_url` (an `https://` URL).
    pub fn deployment_guide(&self, issuer: &str, template_base_url: Option<&str>) -> CognitoDeploymentGuide {
        CognitoDeploymentGuide {
            stack_name: self.stack_name(),
            template_path: format!("/admin/api/applications/{}/cognito/template", self.client_id),
            template_file: self.template_file(),
            create_stack_command: self.create_stack_command(issuer),
            quick_create_url: template_base_url.filter(|b| b.starts_with("https://")).map(|b| self.quick_create_url(issuer, b)),
            steps: DEPLOYMENT_STEPS.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// The group a new application gets when the admin names none: "{name} users", with " (2)",
/// " (3)", ... until no group in `existing` has the name (case-insensitively).
pub fn default_group_name<'a>(application_name: &str, existing: impl Iterator<Item = &'a str> + Clone) -> String {
    let base = format!("{} users", application_name.trim());
    let taken = |n: &str| existing.clone().any(|g| g.eq_ignore_ascii_case(n));
    let mut name = base.clone();
    let mut n = 2;
    while taken(&name) {
        name = format!("{base} ({n})");
        n += 1;
    }
    name
}

/// A group name as typed, trimmed, or why not: 1 to 100 characters, none of them control or
/// invisible.
///
/// # Errors
/// The reason, for people.
pub fn group_name(name: &str) -> Result<&str, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("The group name must have 1 to 100 characters.");
    }
    if name.chars().any(|c| c.is_control() || crate::ids::is_format_char(c)) {
        return Err("The group name cannot contain control or invisible characters.");
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestEntropy;

    fn input() -> CreateApplication {
        CreateApplication {
            name: " Payroll ".into(),
            application_type: ApplicationType::AmazonCognitoMfa,
            group_id: None,
            allowed_callback_urls: vec!["https://payroll.example/cb".into()],
            client_authentication: None,
            client_auth_method: None,
            public_key_jwk: None,
            acceptable_authenticators: None,
            face_assurance: None,
            id_token_signed_response_alg: None,
            require_pushed_authorization_requests: None,
        }
    }

    #[test]
    fn the_stack_region_is_an_aws_region_and_can_be_forgotten() {
        for ok in ["eu-west-1", "us-gov-west-1", "ap-southeast-4", "il-central-1", "us-east-2"] {
            assert_eq!(aws_region(ok), Ok(ok));
        }
        for bad in ["", "eu", "eu-west", "EU-WEST-1", "eu-west-1a", "eu--1", "eu-west-123", "e-west-1", "eu-west-1 ", "eu-west-1; rm -rf /", &"eu-".repeat(9)] {
            assert!(aws_region(bad).is_err(), "{bad:?}");
        }
        let (app, _) = ApplicationRecord::create(&input(), "g".into(), &MasterKey::from_bytes([7; 32]), &mut TestEntropy::new(4), 1).unwrap();
        let set = app.update(&UpdateApplication { aws_region: Some(" eu-central-1 ".into()), ..Default::default() }, 2).unwrap();
        assert_eq!(set.aws_region.as_deref(), Some("eu-central-1"));
        assert_eq!(set.view("https://i").aws_region.as_deref(), Some("eu-central-1"));
        let refused = set.update(&UpdateApplication { aws_region: Some("Frankfurt".into()), ..Default::default() }, 3).unwrap_err();
        assert_eq!(refused.field.as_deref(), Some("aws_region"));
        assert_eq!(set.update(&UpdateApplication { aws_region: Some(String::new()), ..Default::default() }, 3).unwrap().aws_region, None);
    }

    #[test]
    fn pushed_requests_are_required_by_default_and_for_old_records() {
        let (app, _) = ApplicationRecord::create(&input(), "g".into(), &MasterKey::from_bytes([7; 32]), &mut TestEntropy::new(4), 1).unwrap();
        assert!(app.require_pushed_authorization_requests);
        assert!(app.view("https://i").require_pushed_authorization_requests);
        let open = app.update(&UpdateApplication { require_pushed_authorization_requests: Some(false), ..Default::default() }, 2).unwrap();
        assert!(!open.require_pushed_authorization_requests);
        let mut old = serde_json::to_value(&open).unwrap();
        old.as_object_mut().unwrap().remove("require_pushed_authorization_requests");
        let old: ApplicationRecord = serde_json::from_value(old).unwrap();
        assert!(old.require_pushed_authorization_requests, "records from before the setting require PAR");
    }

    #[test]
    fn create_rotate_and_reveal() {
        let master = MasterKey::from_bytes([1; 32]);
        let mut rng = TestEntropy::new(1);
        let (mut app, secret) = ApplicationRecord::create(&input(), "g1".into(), &master, &mut rng, 10).unwrap();
        assert_eq!(app.name, "Payroll");
        assert!(app.client_authentication);
        assert_eq!(secret.len(), 43);
        assert_eq!(app.secret(&master).unwrap(), secret);
        assert!(!serde_json::to_string(&app).unwrap().contains(&secret));
        let new = app.rotate_secret(&master, &mut rng, 20);
        assert_ne!(new, secret);
        assert_eq!(app.secret(&master).unwrap(), new);
        assert_eq!(app.secret_rotated_at, 20);
        let cmd = app.update_stack_command("https://id.example", &new, Some("eu-west-1"));
        assert!(cmd.starts_with("aws cloudformation update-stack --stack-name biopass-"));
        assert!(cmd.contains(&format!("ParameterKey=ClientSecret,ParameterValue={new}")));
        assert!(cmd.ends_with("--region eu-west-1") && !cmd.contains("ParameterKey=Region"));
        assert!(cmd.contains("ParameterKey=UserPoolId,UsePreviousValue=true"), "the pool the stack serves stays");
        assert!(cmd.contains("--use-previous-template") && cmd.contains("CAPABILITY_IAM"));
        let create = app.create_stack_command("https://id.example");
        assert!(create.contains(&format!("--template-body file://{}", app.template_file())));
        assert!(!create.contains(&new), "the create command never carries the secret");
        assert!(create.contains("ParameterKey=UserPoolId,ParameterValue=<your user pool ID>"));
        let link = app.quick_create_url("https://id.example", "https://bucket.s3.amazonaws.com/t/");
        assert!(link.contains("templateURL=https%3A%2F%2Fbucket.s3.amazonaws.com%2Ft%2Fbiopass-"));
        assert!(link.contains("param_Issuer=https%3A%2F%2Fid.example"));
    }

    #[test]
    fn validation() {
        let master = MasterKey::from_bytes([1; 32]);
        let mut rng = TestEntropy::new(1);
        let bad_url = CreateApplication { allowed_callback_urls: vec!["http://x.example/cb".into()], ..input() };
        assert_eq!(ApplicationRecord::create(&bad_url, "g".into(), &master, &mut rng, 0).unwrap_err().field.as_deref(), Some("allowed_callback_urls"));
        let no_name = CreateApplication { name: "  ".into(), ..input() };
        assert!(ApplicationRecord::create(&no_name, "g".into(), &master, &mut rng, 0).is_err());
        let pk_without_key = CreateApplication { client_auth_method: Some(ClientAuthMethod::PrivateKeyJwt), ..input() };
        assert_eq!(ApplicationRecord::create(&pk_without_key, "g".into(), &master, &mut rng, 0).unwrap_err().field.as_deref(), Some("public_key_jwk"));
        let (app, _) = ApplicationRecord::create(&input(), "g".into(), &master, &mut rng, 0).unwrap();
        let upd = UpdateApplication { allowed_callback_urls: Some(vec!["https://a.example/1".into(), "https://a.example/1".into()]), ..Default::default() };
        assert!(app.update(&upd, 1).is_err());
        let upd = UpdateApplication { client_authentication: Some(false), name: Some("New".into()), ..Default::default() };
        let next = app.update(&upd, 5).unwrap();
        assert!(next.is_public() && next.name == "New" && next.updated_at == 5);
    }

    #[test]
    fn acceptable_authenticators() {
        use AuthenticatorKind::{Face, Totp};
        let master = MasterKey::from_bytes([1; 32]);
        let mut rng = TestEntropy::new(1);
        let (app, _) = ApplicationRecord::create(&input(), "g".into(), &master, &mut rng, 0).unwrap();
        assert_eq!(app.acceptable_authenticators, vec![Face, Totp], "every kind by default");
        let none = UpdateApplication { acceptable_authenticators: Some(vec![]), ..Default::default() };
        assert_eq!(app.update(&none, 1).unwrap_err().field.as_deref(), Some("acceptable_authenticators"));
        let twice = UpdateApplication { acceptable_authenticators: Some(vec![Totp, Face, Totp]), ..Default::default() };
        assert_eq!(app.update(&twice, 1).unwrap().acceptable_authenticators, vec![Face, Totp]);
        let face_only = CreateApplication { acceptable_authenticators: Some(vec![Face]), ..input() };
        let (app, _) = ApplicationRecord::create(&face_only, "g".into(), &master, &mut rng, 0).unwrap();
        assert_eq!(app.view("https://i").acceptable_authenticators, vec![Face]);
        // Records stored before the setting existed accept every kind.
        let mut old = serde_json::to_value(&app).unwrap();
        old.as_object_mut().unwrap().remove("acceptable_authenticators");
        let old: ApplicationRecord = serde_json::from_value(old).unwrap();
        assert_eq!(old.acceptable_authenticators, vec![Face, Totp]);
    }

    #[test]
    fn id_token_alg_defaults_to_es256_and_is_kept_by_unrelated_changes() {
        let mut rng = TestEntropy::new(11);
        let master = MasterKey::from_bytes([1; 32]);
        let (app, _) = ApplicationRecord::create(&input(), "g".into(), &master, &mut rng, 1).unwrap();
        assert_eq!(app.id_token_signed_response_alg, IdTokenAlg::Es256);
        let rsa = app.update(&UpdateApplication { id_token_signed_response_alg: Some(IdTokenAlg::Rs256), ..Default::default() }, 2).unwrap();
        assert_eq!(rsa.view("https://i").id_token_signed_response_alg, IdTokenAlg::Rs256);
        let renamed = rsa.update(&UpdateApplication { name: Some("Payroll 2".into()), ..Default::default() }, 3).unwrap();
        assert_eq!(renamed.id_token_signed_response_alg, IdTokenAlg::Rs256);
        let mut old = serde_json::to_value(&rsa).unwrap();
        old.as_object_mut().unwrap().remove("id_token_signed_response_alg");
        let old: ApplicationRecord = serde_json::from_value(old).unwrap();
        assert_eq!(old.id_token_signed_response_alg, IdTokenAlg::Es256, "records from before the setting");
        let wire: CreateApplication =
            serde_json::from_value(serde_json::json!({"name": "X", "application_type": "amazon_cognito_mfa", "id_token_signed_response_alg": "RS256"}))
                .unwrap();
        assert_eq!(wire.id_token_signed_response_alg, Some(IdTokenAlg::Rs256));
        assert!(serde_json::from_value::<CreateApplication>(
            serde_json::json!({"name": "X", "application_type": "amazon_cognito_mfa", "id_token_signed_response_alg": "none"})
        )
        .is_err());
    }

    #[test]
    fn face_assurance() {
        use FaceAssurance::{Fmr1In1000, Fmr1In10000, Fmr1In100000};
        let master = MasterKey::from_bytes([1; 32]);
        let mut rng = TestEntropy::new(1);
        let (app, _) = ApplicationRecord::create(&input(), "g".into(), &master, &mut rng, 0).unwrap();
        assert_eq!(app.face_assurance, Fmr1In10000, "FMR 1 in 10,000 by default");
        let strict = UpdateApplication { face_assurance: Some(Fmr1In100000), ..Default::default() };
        let next = app.update(&strict, 1).unwrap();
        assert_eq!(next.view("https://i").face_assurance, Fmr1In100000);
        let unrelated = UpdateApplication { name: Some("Other".into()), ..Default::default() };
        assert_eq!(next.update(&unrelated, 2).unwrap().face_assurance, Fmr1In100000, "a PATCH without it keeps it");
        let lenient = CreateApplication { face_assurance: Some(Fmr1In1000), ..input() };
        let (app, _) = ApplicationRecord::create(&lenient, "g".into(), &master, &mut rng, 0).unwrap();
        assert_eq!(app.face_assurance, Fmr1In1000);
        // Records stored before the setting existed get the default.
        let mut old = serde_json::to_value(&app).unwrap();
        old.as_object_mut().unwrap().remove("face_assurance");
        let old: ApplicationRecord = serde_json::from_value(old).unwrap();
        assert_eq!(old.face_assurance, Fmr1In10000);
        assert_eq!(serde_json::to_value(Fmr1In1000).unwrap(), "fmr_1_in_1000");
    }

    #[test]
    fn a_default_group_name_is_unique_whatever_the_case() {
        assert_eq!(default_group_name(" Payroll ", [].into_iter()), "Payroll users");
        let existing = ["payroll USERS", "Payroll users (2)"];
        assert_eq!(default_group_name("Payroll", existing.into_iter()), "Payroll users (3)");
    }

    #[test]
    fn group_names_are_plain_and_bounded() {
        assert_eq!(group_name("  Finance "), Ok("Finance"));
        assert!(group_name("   ").is_err());
        assert!(group_name(&"x".repeat(101)).is_err());
        assert_eq!(group_name(&"é".repeat(100)).map(|n| n.chars().count()), Ok(100));
        assert!(group_name("a\u{200b}b").is_err(), "invisible");
        assert!(group_name("a\nb").is_err(), "control");
    }

    #[test]
    fn the_deployment_guide_links_only_to_https_templates() {
        let (app, _) = ApplicationRecord::create(&input(), "g".into(), &MasterKey::from_bytes([7; 32]), &mut TestEntropy::new(4), 1).unwrap();
        let g = app.deployment_guide("https://id.example.com", Some("https://templates.example.com/biopass"));
        assert_eq!(g.steps.len(), DEPLOYMENT_STEPS.len());
        assert!(g.template_path.ends_with("/cognito/template"));
        assert!(g.quick_create_url.is_some_and(|u| u.contains("templates.example.com")));
        assert!(app.deployment_guide("https://id.example.com", Some("http://plain.example.com")).quick_create_url.is_none());
        assert!(app.deployment_guide("https://id.example.com", None).quick_create_url.is_none());
    }
}
