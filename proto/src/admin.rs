//! Admin API wire types: applications (type "Amazon Cognito MFA Application"), groups and
//! users. Timestamps are Unix seconds.

use crate::login::AuthenticatorKind;
use serde::{Deserialize, Serialize};

/// The kinds of application an admin can create. Only one exists today; the type picker of
/// the console lists these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    /// "Amazon Cognito MFA Application": linked to a Cognito user pool by our stack.
    AmazonCognitoMfa,
}

/// How the application proves its identity at the token and PAR endpoints when "Client
/// authentication" is ticked (product page 1-1). When it is not ticked the application is
/// public (`none`, PKCE required).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// "Client ID and Secret": `client_secret_basic` or `client_secret_post`.
    ClientSecret,
    /// "Public Key": `private_key_jwt` signed with the key whose public JWK is registered.
    PrivateKeyJwt,
    /// "JSON Web Token": `client_secret_jwt`, an HS256 assertion keyed with the secret.
    ClientSecretJwt,
}

/// The JWS algorithm an application's ID tokens are signed with (its
/// `id_token_signed_response_alg`, OpenID Connect Dynamic Client Registration 2). ES256 by
/// default; RS256 for relying parties that verify nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdTokenAlg {
    #[default]
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "RS256")]
    Rs256,
}

impl IdTokenAlg {
    pub const ALL: [Self; 2] = [Self::Es256, Self::Rs256];

    /// The JWS name (`ES256`), as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm as the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Es256 => "ES256 (ECDSA P-256, the default)",
            Self::Rs256 => "RS256 (RSA 2048)",
        }
    }
}

/// How sure a face match must be, per application: the false-match rate (FMR) the face
/// threshold is calibrated for, the chance that another person's face is accepted.
/// NIST SP 800-63B (5.2.3) asks biometric comparison for an FMR of 1 in 1,000 or better.
/// The thresholds and their expected false non-match rates are `biopass_idp::face::calibration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FaceAssurance {
    /// FMR 1 in 1,000: the NIST SP 800-63B bound; fewest retries.
    #[serde(rename = "fmr_1_in_1000")]
    Fmr1In1000,
    /// FMR 1 in 10,000.
    #[default]
    #[serde(rename = "fmr_1_in_10000")]
    Fmr1In10000,
    /// FMR 1 in 100,000: strictest; more people are asked to try again.
    #[serde(rename = "fmr_1_in_100000")]
    Fmr1In100000,
}

impl FaceAssurance {
    /// Every level, from the most lenient.
    pub const ALL: [Self; 3] = [Self::Fmr1In1000, Self::Fmr1In10000, Self::Fmr1In100000];

    /// The level as the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Fmr1In1000 => "FMR 1:1,000",
            Self::Fmr1In10000 => "FMR 1:10,000",
            Self::Fmr1In100000 => "FMR 1:100,000",
        }
    }

    /// The wire name (`fmr_1_in_10000`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fmr1In1000 => "fmr_1_in_1000",
            Self::Fmr1In10000 => "fmr_1_in_10000",
            Self::Fmr1In100000 => "fmr_1_in_100000",
        }
    }

    /// The false-match rate the level is set for.
    pub fn false_match_rate(self) -> f64 {
        match self {
            Self::Fmr1In1000 => 1e-3,
            Self::Fmr1In10000 => 1e-4,
            Self::Fmr1In100000 => 1e-5,
        }
    }
}

/// An application as the admin API shows it. The client secret is never part of it; it is
/// revealed by its own call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub client_id: String,
    pub name: String,
    pub application_type: ApplicationType,
    /// The issuer URL the Cognito stack and relying parties use.
    pub issuer: String,
    /// The "Client authentication" checkbox.
    pub client_authentication: bool,
    pub client_auth_method: ClientAuthMethod,
    /// The registered public key for `private_key_jwt`, as a JWK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_jwk: Option<serde_json::Value>,
    /// The "Allowed callback URLs" box: redirect URIs compared by exact string match.
    pub allowed_callback_urls: Vec<String>,
    /// The group users of this application are added to at first login.
    pub group_id: String,
    /// The authenticators this application accepts at sign-in (at least one).
    pub acceptable_authenticators: Vec<AuthenticatorKind>,
    /// The face-match level of sign-ins to this application.
    #[serde(default)]
    pub face_assurance: FaceAssurance,
    /// What the application's ID tokens are signed with.
    #[serde(default)]
    pub id_token_signed_response_alg: IdTokenAlg,
    /// Sign-ins start only from pushed authorization requests (RFC 9126 section 6).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// The AWS region of the application's stack as an administrator entered it in the
    /// "Integration information" box (for the update-stack command of a secret rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_region: Option<String>,
    /// Where the application's logo is served (this origin), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// The region of the application's stack as Biopass saw it: its deployments' region, when
    /// they all run in one. Only `GET /admin/api/applications/{client_id}` fills it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_region: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
    /// When the client secret was last created or rotated.
    pub secret_rotated_at: u64,
}

/// `POST /admin/api/applications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateApplication {
    pub name: String,
    pub application_type: ApplicationType,
    /// The group to assign; when absent a new, empty group named after the application is
    /// created and assigned.
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default)]
    pub allowed_callback_urls: Vec<String>,
    /// Defaults to true: Cognito stacks authenticate with the client secret.
    #[serde(default)]
    pub client_authentication: Option<bool>,
    #[serde(default)]
    pub client_auth_method: Option<ClientAuthMethod>,
    #[serde(default)]
    pub public_key_jwk: Option<serde_json::Value>,
    /// Defaults to every kind.
    #[serde(default)]
    pub acceptable_authenticators: Option<Vec<AuthenticatorKind>>,
    /// Defaults to [`FaceAssurance::Fmr1In10000`].
    #[serde(default)]
    pub face_assurance: Option<FaceAssurance>,
    /// Defaults to [`IdTokenAlg::Es256`].
    #[serde(default)]
    pub id_token_signed_response_alg: Option<IdTokenAlg>,
    /// Defaults to true (RFC 9126 section 6): only the application's stack starts sign-ins.
    #[serde(default)]
    pub require_pushed_authorization_requests: Option<bool>,
}

/// `PATCH /admin/api/applications/{client_id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateApplication {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_authentication: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_auth_method: Option<ClientAuthMethod>,
    /// `Some(Value::Null)` removes the registered key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_jwk: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_callback_urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptable_authenticators: Option<Vec<AuthenticatorKind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_assurance: Option<FaceAssurance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<IdTokenAlg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// The AWS region of the stack (`eu-west-1`); `Some("")` forgets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_region: Option<String>,
}

/// `GET /admin/api/applications/{client_id}/secret`: the "Client secret" field's reveal.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecret {
    pub client_secret: String,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(<hidden>)")
    }
}

/// `POST /admin/api/applications/{client_id}/secret/rotate`: the new secret and the
/// prefilled command that updates the customer's Cognito stack (product page 1-1).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedSecret {
    pub client_secret: String,
    pub update_stack_command: String,
}

impl std::fmt::Debug for RotatedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RotatedSecret(<hidden>)")
    }
}

/// A group of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub created_at: u64,
}

/// `POST /admin/api/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroup {
    pub name: String,
}

/// Which authenticators a user has enrolled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticators {
    pub totp: bool,
    pub face: bool,
    /// The user's passkeys (WebAuthn credentials).
    #[serde(default)]
    pub passkeys: Vec<PasskeyView>,
    /// How many of the user's recovery codes are left unused (0: none made, or all used).
    #[serde(default)]
    pub recovery_codes: u32,
}

impl Authenticators {
    /// True when none is enrolled (recovery codes are a fallback, not an authenticator).
    pub fn is_empty(&self) -> bool {
        !self.totp && !self.face && self.passkeys.is_empty()
    }
}

/// A passkey as the admin API shows it: the credential id (base64url) and when it was
/// enrolled; the public key is not shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub credential_id: String,
    pub enrolled_at: u64,
}

/// A user as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The stable subject identifier (`sub` of ID tokens).
    pub id: String,
    /// The (lower-cased) user name, e.g. the Cognito user name.
    pub username: String,
    pub groups: Vec<String>,
    pub authenticators: Authenticators,
    pub disabled: bool,
    /// May sign in to the admin console.
    #[serde(default)]
    pub admin: bool,
    pub created_at: u64,
    /// The Amazon Cognito user pool the user signs in from; none for Biopass's own users.
    #[serde(default)]
    pub user_pool_id: Option<String>,
}

/// A list response with an opaque cursor for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /admin/api/directory`: whether the user index holds every user (a deployment
/// upgraded from before the index holds records it has not indexed yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryStatus {
    pub indexed: bool,
}

/// `POST /admin/api/directory/reindex`: where the last call stopped (none to start).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reindex {
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The answer to [`Reindex`]: users indexed by this call, and where to go on (none: done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reindexed {
    pub indexed: usize,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `POST /admin/api/users/cleanup`: deletes, one page of the directory per call, the users
/// who never enrolled an authenticator (registered by a sign-in that stopped before
/// enrolment) and registered before `registered_before` (Unix seconds). Administrators are
/// kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanUpUsers {
    pub registered_before: u64,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The answer to [`CleanUpUsers`]: who this call deleted, how many users it looked at, and
/// where to go on (none: done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanedUp {
    pub deleted: Vec<User>,
    pub scanned: usize,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Why the application's Cognito stack refused a login from a user pool (the product page's
/// limitations, and a pool the stack was not deployed for). The stack's Create trigger
/// reports these codes (`POST /cognito/events`, `cognito/triggers/create.js` `REFUSALS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolRefusal {
    /// The pool's user names are case-sensitive (fixed when the pool was created).
    CaseSensitiveUserPool,
    /// The user name is a phone number.
    PhoneNumberUserName,
    /// The pool is not the one the stack was deployed for.
    UserPoolNotInStack,
}

impl PoolRefusal {
    pub const ALL: [Self; 3] = [Self::CaseSensitiveUserPool, Self::PhoneNumberUserName, Self::UserPoolNotInStack];

    /// The code on the wire and in the triggers.
    pub fn code(self) -> &'static str {
        match self {
            Self::CaseSensitiveUserPool => "case_sensitive_user_pool",
            Self::PhoneNumberUserName => "phone_number_user_name",
            Self::UserPoolNotInStack => "user_pool_not_in_stack",
        }
    }

    /// What the console's "Previous deployments" box says.
    pub fn label(self) -> &'static str {
        match self {
            Self::CaseSensitiveUserPool => "Refused: case-sensitive user names",
            Self::PhoneNumberUserName => "Refused: a phone number as user name",
            Self::UserPoolNotInStack => "Refused: not the user pool this stack serves",
        }
    }
}

/// A user pool from which at least one user tried to log in through a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPoolSeen {
    pub user_pool_id: String,
    pub first_seen: u64,
    pub last_seen: u64,
    /// Why logins from this pool are refused, if they are.
    #[serde(default)]
    pub error: Option<PoolRefusal>,
    /// The pool's app clients that users signed in through, as the stack last read them.
    #[serde(default)]
    pub app_clients: Vec<AppClientSeen>,
}

/// An app client of a user pool, as the stack's Create trigger read it
/// (`DescribeUserPoolClient`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppClientSeen {
    pub app_client_id: String,
    /// The ways this app client lets users sign in without Biopass (the password alone):
    /// `USER_SRP_AUTH`, `USER_PASSWORD_AUTH`, `ADMIN_USER_PASSWORD_AUTH`, `USER_AUTH`,
    /// `HOSTED_UI`. Empty when it allows only custom authentication (and refresh tokens).
    pub sign_in_without_biopass: Vec<String>,
    /// When the stack last reported it.
    pub checked_at: u64,
}

/// A row of the "Previous deployments" box: one AWS account and region running the
/// application's stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub aws_account_id: String,
    pub region: String,
    pub first_seen: u64,
    pub last_seen: u64,
    pub user_pools: Vec<UserPoolSeen>,
}

/// `GET /admin/api/session`: the signed-in admin, and the token every state-changing call
/// must repeat in the `X-CSRF-Token` header.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSession {
    pub username: String,
    pub csrf_token: String,
    pub expires_at: u64,
}

impl std::fmt::Debug for AdminSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSession").field("username", &self.username).field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// `POST /admin/api/session/bootstrap`: the one-time link's token and the first admin's
/// user name.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub token: String,
    pub username: String,
}

impl std::fmt::Debug for Bootstrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bootstrap").field("username", &self.username).finish_non_exhaustive()
    }
}

/// `POST /admin/api/session/bootstrap/check`: is the one-time link still good? The console
/// asks before it shows the first admin's form, so a spent link says so at once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapLink {
    pub token: String,
}

impl std::fmt::Debug for BootstrapLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapLink").finish_non_exhaustive()
    }
}

/// The answer of `POST /admin/api/session/bootstrap/check` for a link that still works (a
/// spent one is `expired`, 410; a wrong one `unauthenticated`, 401).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapLinkStatus {
    pub usable: bool,
}

/// `POST /admin/api/session/start`: an admin's user name; the answer sends the browser to
/// the universal login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartSignIn {
    pub username: String,
}

/// Where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    pub redirect_to: String,
}

/// One entry of the audit log: every admin action and every login outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unix milliseconds.
    pub at_ms: u64,
    /// Who: `admin:<name>`, `api-token`, `user:<name>`.
    pub actor: String,
    /// What, e.g. `application.create`, `login.success`, `login.failure`.
    pub action: String,
    /// On what, e.g. a client id or user name.
    #[serde(default)]
    pub target: Option<String>,
    /// The name of what `target` identifies, when it is an id (an application's, a user's or
    /// a group's name at the time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// Detail for people (never a secret).
    #[serde(default)]
    pub detail: Option<String>,
    /// From where: the client IP address, when known.
    #[serde(default)]
    pub ip: Option<String>,
}

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It was done.
    Success,
    /// It was refused or failed (a wrong answer, a lock-out, a refused admin change).
    Refused,
    /// It was refused as an attack (a spoofed face, a replayed code or passkey).
    Attack,
}

/// `GET /admin/api/audit` and `/admin/api/audit/export`: which entries to list (query
/// parameters `actor`, `action`, `target`, `outcome`, `since`, `until`; all optional, all must
/// hold). The texts match anywhere, ignoring case (`target` also matches `target_name`);
/// `since` and `until` are Unix milliseconds, inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<AuditOutcome>,
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
}

/// A page of the audit log. With filters, a page is the matches among the entries looked
/// at (`scanned`); `next_cursor` goes on from there, and a page may hold none yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub scanned: u64,
}

/// `PATCH /admin/api/users/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
}

/// `GET /admin/api/applications/{client_id}/cognito`: the "Deployment" box of the Cognito
/// integration tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CognitoDeploymentGuide {
    /// The stack name our guide uses (the console finds stacks by client id).
    pub stack_name: String,
    /// Where the template downloads from (admin API, authenticated).
    pub template_path: String,
    /// The file name to save the template as.
    pub template_file: String,
    /// `aws cloudformation create-stack ...` with every parameter but the secret filled in.
    pub create_stack_command: String,
    /// A CloudFormation quick-create link, when `TEMPLATE_BASE_URL` is configured.
    #[serde(default)]
    pub quick_create_url: Option<String>,
    /// The steps, in order.
    pub steps: Vec<String>,
}

/// The answer to a DELETE of an application or a group: the id that is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_refusals_are_their_codes_on_the_wire() {
        for r in PoolRefusal::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::Value::String(r.code().into()));
            assert_eq!(serde_json::from_value::<PoolRefusal>(r.code().into()).unwrap(), r);
            assert!(r.label().starts_with("Refused: "));
        }
        assert!(serde_json::from_str::<PoolRefusal>("\"made_up\"").is_err());
        // A pool seen before refusals were typed reads the same.
        let seen: UserPoolSeen = serde_json::from_str(r#"{"user_pool_id":"p","first_seen":1,"last_seen":2,"error":"case_sensitive_user_pool"}"#).unwrap();
        assert_eq!(seen.error, Some(PoolRefusal::CaseSensitiveUserPool));
    }
}
