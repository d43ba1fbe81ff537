use biopass_idp::authorize::AuthorizationRequest;
use biopass_idp::ids::UserName;
use biopass_idp::random::TestEntropy;
use biopass_idp::transaction::LoginTransaction;
use biopass_idp::user::UserRecord;
use biopass_proto::error::ApiErrorCode;
use biopass_proto::login::AuthenticatorKind;
use biopass_service::http::Failure;
use biopass_service::memory::{Clock, MemoryVault};

/// A Vault, a clock at a fixed start and a deterministic entropy source.
pub struct App {
    pub vault: MemoryVault,
    pub clock: Clock,
    pub rng: TestEntropy,
}

impl App {
    pub fn new() -> Self {
        Self { vault: MemoryVault::default(), clock: Clock::at(1_800_000_000), rng: TestEntropy::new(7) }
    }

    pub fn now(&self) -> u64 {
        self.clock.now()
    }
}

pub fn name(s: &str) -> UserName {
    UserName::parse(s).unwrap()
}

/// A login transaction for `user`, vouched for (started by the application's stack after
/// the password) or not (anyone can start one with a name).
pub fn transaction(user: &str, vouched: bool, browser: &str, now: u64) -> LoginTransaction {
    let request = AuthorizationRequest {
        client_id: "c1".into(),
        redirect_uri: "https://rp.example.com/cb".into(),
        state: None,
        nonce: Some("n".into()),
        code_challenge: None,
        scope: vec!["openid".into()],
        login_hint: Some(name(user)),
        cognito: None,
    };
    LoginTransaction::new(request, "Payroll".into(), "g1".into(), AuthenticatorKind::all(), browser, vouched, now)
}

pub fn user(n: &str) -> UserRecord {
    UserRecord::register(name(n), None, "g1", &mut TestEntropy::new(3), 1)
}

/// Runs a future to completion (the in-memory store never waits).
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// The code of a login or admin API failure.
pub fn api_code(f: &Failure) -> ApiErrorCode {
    match f {
        Failure::Api(a) => a.code,
        other => panic!("not an API failure: {other:?}"),
    }
}

/// The message of a login or admin API failure.
pub fn message(f: &Failure) -> String {
    match f {
        Failure::Api(a) => a.message.clone(),
        other => panic!("not an API failure: {other:?}"),
    }
}
