//! Where everything is stored: every KV key and every Vault (Durable Object) key the
//! product reads or writes is built here, and nowhere else, so this file is also the map of
//! what lives where. Codes, nonces, challenges, session cookies and assertion ids appear in
//! keys only as SHA-256 hashes.
//!
//! # KV: records (eventually consistent; see `edge-worker/src/store.rs`)
//! | key | value |
//! |---|---|
//! | `app:{client_id}` | an application ([`crate::application::ApplicationRecord`]) |
//! | `group:{id}` | a group; its KV metadata is the group too (a listing reads no values) |
//! | `user:{id}` | a user ([`crate::user::UserRecord`]) |
//! | `username:{name}` | the id of Biopass's own user `name` |
//! | `pool-user:{account}:{pool}:{name}` | the id of Cognito pool user `name` |
//! | `uname:{name}:{id}` | user-name index; metadata: the user as the admin API shows it |
//! | `member:{group}:{name}:{id}` | group membership index; metadata as above |
//! | `admin:{id}` | the console's admins |
//! | `directory:indexed` | set once every user record is in the indexes |
//! | `deployment:{client_id}:{account}:{region}` | a "Previous deployments" row |
//! | `keyset` | the signing keyset (a copy of the Vault's, read on every token) |
//! | `audit:{u64::MAX - at_ms, 20 digits}:{random}` | nothing; metadata: the audit entry (newest first) |
//!
//! # Vault: one-time and counted things (strongly consistent; `edge-worker/src/vault.rs`)
//! Each key has a Vault object of its own (named by the key), except the values of one sign-in
//! ([`SignInToken`]: `par`, `tx`, `face-nonce`, `code`, `code-used`), whose keys are
//! `sign-in:{id}:{key}` and which share the object `sign-in:{id}`, and the values of one user
//! (status, revoked tokens, used recovery codes, the counters of failed answers with each
//! authenticator), whose keys are
//! `user-disabled:{user}:{key}` and which share the user's status object ([`vault_object`]).
//!
//! | key | value |
//! |---|---|
//! | `sign-in:{id}:par:{reference}` | a pushed authorization request, taken once |
//! | `sign-in:{id}:tx:{value}` | a login transaction, taken once when it ends |
//! | `sign-in:{id}:code:{sha256(code)}` | an authorization code's grant, taken once |
//! | `sign-in:{id}:code-used:{sha256(code)}` | a redeemed code: its access token's `jti`, until that token expires |
//! | `sign-in:{id}:revoked:{jti}` | an access token revoked (its code was replayed), until it expires; its `jti` is a value of its sign-in, so userinfo's check reads the sign-in's object, not a new one (`revoked:{jti}` for tokens of the old form) |
//! | `jti:{client_id}:{sha256(jti)}` | a client assertion's id, inserted once |
//! | `sign-in:{id}:face-nonce:{sha256(nonce)}` | a face challenge, taken once |
//! | `session:{sha256(cookie)}` | a console session |
//! | `totp-step:{user}` | the last TOTP step used, as the first layout kept it: now read only once per user, as a floor of the step kept beside the TOTP counter |
//! | `passkey-challenge:{sha256(challenge)}` | a passkey ceremony's challenge, taken once (90 s) |
//! | `passkey-count:{user}:{sha256(credential)}` | a passkey's highest signature counter (only moves forward), and whether it ever counted |
//! | `user-disabled:{user}:fail-totp` | failed TOTP answers of one user and the last TOTP step used (only moves forward), so one operation checks the lock-out and spends the step; a slot of the user's status object, which every step of a sign-in the first factor vouched for reads already |
//! | `user-disabled:{user}:fail-{kind}` | failed answers of one user with the face, a passkey or a recovery code (`face`, `passkey`, `recovery_code`): slots of the same object |
//! | `fail:{kind}:{user}` | the same counters as the layout before kept them, each in an object of its own: read once per user and authenticator, when the counter in the status object is first used, for its attempts (and TOTP's for its step, a floor), then cleared |
//! | `fail:browser:{binding}` | failed answers from one browser (sign-ins nobody vouched for) |
//! | `fail:address:{sha256(ip)}` | failed answers from one network address (same) |
//! | `fail:account:{sha256(name key)}` | failed answers for one account name (same) |
//! | `user-disabled:{user}` | present while a user is disabled (read on every step) |
//! | `user-pool:{user}` | the pool that claimed a user registered before pools |
//! | `username:…`, `pool-user:…` | the claim of a user name (as in KV: exactly one id wins) |
//! | `keyset` | the signing keyset |

use crate::authorize::CognitoContext;
use crate::ids::UserName;
use biopass_proto::login::AuthenticatorKind;
use sha2::{Digest, Sha256};
use std::fmt;

/// Lower-case hex SHA-256 of `s`: how secrets and one-time values appear in keys.
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// `bytes` in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A record's key in KV.
#[derive(Debug, Clone, Copy)]
pub enum KvKey<'a> {
    Application(&'a str),
    Group(&'a str),
    User(&'a str),
    /// A user name in its realm (Biopass's own, or a Cognito pool's) → the user's id.
    UserName(Option<&'a CognitoContext>, &'a UserName),
    /// The user-name index key of user `id`.
    UserIndex(&'a UserName, &'a str),
    /// The membership index key of user `id` in a group.
    Member {
        group: &'a str,
        name: &'a UserName,
        id: &'a str,
    },
    Admin(&'a str),
    DirectoryIndexed,
    Deployment {
        client_id: &'a str,
        context: &'a CognitoContext,
    },
    Keyset,
    /// An application's logo (its bytes, base64).
    Logo(&'a str),
    /// An audit entry at `at_ms` (milliseconds), with a random tie-breaker.
    Audit {
        at_ms: u64,
        tie: &'a str,
    },
}

impl fmt::Display for KvKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Application(id) => write!(f, "app:{id}"),
            Self::Group(id) => write!(f, "group:{id}"),
            Self::User(id) => write!(f, "user:{id}"),
            Self::UserName(pool, name) => name_key(f, *pool, name),
            Self::UserIndex(name, id) => write!(f, "uname:{name}:{id}"),
            Self::Member { group, name, id } => write!(f, "member:{group}:{name}:{id}"),
            Self::Admin(id) => write!(f, "admin:{id}"),
            Self::DirectoryIndexed => f.write_str("directory:indexed"),
            Self::Deployment { client_id, context } => write!(f, "deployment:{client_id}:{}:{}", context.aws_account_id, context.region),
            Self::Keyset => f.write_str("keyset"),
            Self::Logo(client_id) => write!(f, "logo:{client_id}"),
            Self::Audit { at_ms, tie } => write!(f, "audit:{:020}:{tie}", u64::MAX - at_ms),
        }
    }
}

/// The start of a family of KV keys, for a listing.
#[derive(Debug, Clone, Copy)]
pub enum KvPrefix<'a> {
    Applications,
    Groups,
    Users,
    /// User-name index keys of names starting with this (lower-cased, as names are stored).
    UsersNamed(&'a str),
    Members(&'a str),
    Admins,
    Deployments(&'a str),
    Audit,
}

impl fmt::Display for KvPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Applications => f.write_str("app:"),
            Self::Groups => f.write_str("group:"),
            Self::Users => f.write_str("user:"),
            Self::UsersNamed(start) => write!(f, "uname:{}", start.to_lowercase()),
            Self::Members(group) => write!(f, "member:{group}:"),
            Self::Admins => f.write_str("admin:"),
            Self::Deployments(client_id) => write!(f, "deployment:{client_id}:"),
            Self::Audit => f.write_str("audit:"),
        }
    }
}

/// Whose failed answers a Vault counter holds (see [`crate::lockout`]).
#[derive(Debug, Clone, Copy)]
pub enum Failures<'a> {
    /// One user's authenticator (sign-ins the Cognito stack vouched for).
    Authenticator(AuthenticatorKind, &'a str),
    /// One browser (its binding), in sign-ins nobody vouched for.
    Browser(&'a str),
    /// One network address, in sign-ins nobody vouched for.
    Address(&'a str),
    /// One account name in its realm, known or not, in sign-ins nobody vouched for.
    Account(Option<&'a CognitoContext>, &'a UserName),
}

/// Base64url characters of the sign-in part of a [`SignInToken`].
pub const SIGN_IN_ID_LEN: usize = 16;

/// A one-time value that belongs to one sign-in: `{sign-in}.{secret}`, where the sign-in part
/// (12 random bytes, [`SIGN_IN_ID_LEN`] characters) is shared by the sign-in's request URI,
/// transaction, face challenge and code, and the secret (32 random bytes) is the value's own.
/// The Vault keeps the values of one sign-in in one object ([`vault_object`]), so a sign-in
/// creates one Durable Object, not one per value. The sign-in part says only which sign-in a
/// value belongs to; the secret is what makes it unguessable.
pub struct SignInToken;

impl SignInToken {
    /// A new sign-in's id.
    pub fn new_sign_in(rng: &mut impl crate::random::Entropy) -> String {
        rng.token::<12>()
    }

    /// The sign-in part of the sign-ins of the user named `name` in its realm (`pool`):
    /// [`SIGN_IN_ID_LEN`] characters of a keyed hash of the name (a key of its own, derived
    /// from the master key), so the values of every sign-in of one person share one Vault
    /// object, which a returning person's sign-in finds already made. It is the same whether
    /// or not the account exists, and says nothing of the name without the key; a client that
    /// can push may compare it with the one of a name it guesses, but the values that carry
    /// it go only to the person's browser and the application (request URI, transaction,
    /// code, access token `jti`), which know who signs in.
    pub fn of_user(master: &crate::secretbox::MasterKey, pool: Option<&CognitoContext>, name: &UserName) -> String {
        use base64::Engine;
        let key = master.derive(b"biopass/sign-in-of-user/v1");
        let tag = crate::secretbox::hmac_sha256(&key, KvKey::UserName(pool, name).to_string().as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..12])
    }

    /// A new value of the sign-in `sign_in` (`None`: of a new sign-in).
    pub fn mint(rng: &mut impl crate::random::Entropy, sign_in: Option<&str>) -> String {
        let sign_in = sign_in.map_or_else(|| Self::new_sign_in(rng), str::to_owned);
        format!("{sign_in}.{}", rng.token::<32>())
    }

    /// The sign-in a value belongs to, when it is one of ours in form.
    pub fn sign_in(value: &str) -> Option<&str> {
        let (sign_in, secret) = value.split_once('.')?;
        let b64url = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (sign_in.len() == SIGN_IN_ID_LEN && secret.len() == 43 && b64url(sign_in) && b64url(secret)).then_some(sign_in)
    }
}

/// A key in the Vault.
#[derive(Debug, Clone, Copy)]
pub enum VaultKey<'a> {
    PushedRequest(&'a str),
    Transaction(&'a str),
    /// An authorization code (stored by its hash).
    Code(&'a str),
    /// A code that was redeemed (stored by its hash): what its replay revokes.
    RedeemedCode(&'a str),
    /// An access token's `jti`, revoked.
    RevokedToken(&'a str),
    /// A client assertion's `jti` for a client (stored by its hash).
    Assertion {
        client_id: &'a str,
        jti: &'a str,
    },
    /// A face challenge's nonce (stored by its hash).
    FaceNonce(&'a str),
    /// A console session's cookie value (stored by its hash).
    Session(&'a str),
    /// The last TOTP step used, as the first layout kept it.
    TotpStep(&'a str),
    /// A user's counter of failed answers with an authenticator as the layout before kept
    /// it, in an object of its own: read once per user and authenticator when the counter in
    /// the user's status object is first used (for TOTP, also for its last step).
    CounterBefore(AuthenticatorKind, &'a str),
    /// A passkey ceremony's challenge (stored by its hash).
    PasskeyChallenge(&'a str),
    /// The highest signature counter seen for a user's passkey (user id, credential tag):
    /// a Vault counter, so a cloned authenticator's lower count is refused even under
    /// concurrency.
    PasskeyCounter(&'a str, &'a str),
    Failures(Failures<'a>),
    /// Whether a user is disabled (or was deleted): the value of the user's status object.
    UserDisabled(&'a str),
    /// An access token of a user (user id, `jti`) revoked: a slot of the user's status
    /// object, so userinfo learns both in one call.
    UserRevoked(&'a str, &'a str),
    /// A recovery code of a user (user id, its keyed hash) was used: a slot of the user's
    /// status object, inserted once, so a code works once even while the record's removal
    /// of it propagates.
    RecoveryUsed(&'a str, &'a str),
    /// The pool that claimed a user registered before users were bound to pools.
    PoolClaim(&'a str),
    /// The claim of a user name in its realm (the same key as in KV).
    UserName(Option<&'a CognitoContext>, &'a UserName),
    Keyset,
    /// The RSA key agreed for a key generation (by its ES256 `kid`) stored before RSA keys
    /// existed: two isolates upgrading it at once agree on one.
    KeysetRsa(&'a str),
}

impl fmt::Display for VaultKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PushedRequest(reference) => in_sign_in(f, reference, format_args!("par:{reference}")),
            Self::Transaction(id) => in_sign_in(f, id, format_args!("tx:{id}")),
            Self::Code(code) => in_sign_in(f, code, format_args!("code:{}", sha256_hex(code))),
            Self::RedeemedCode(code) => in_sign_in(f, code, format_args!("code-used:{}", sha256_hex(code))),
            Self::RevokedToken(jti) => in_sign_in(f, jti, format_args!("revoked:{jti}")),
            Self::Assertion { client_id, jti } => write!(f, "jti:{client_id}:{}", sha256_hex(jti)),
            Self::FaceNonce(nonce) => in_sign_in(f, nonce, format_args!("face-nonce:{}", sha256_hex(nonce))),
            Self::Session(cookie) => write!(f, "session:{}", sha256_hex(cookie)),
            Self::TotpStep(user) => write!(f, "totp-step:{user}"),
            Self::PasskeyChallenge(challenge) => write!(f, "passkey-challenge:{}", sha256_hex(challenge)),
            Self::PasskeyCounter(user, tag) => write!(f, "passkey-count:{user}:{tag}"),
            Self::Failures(Failures::Authenticator(kind, user)) => write!(f, "{USER_PREFIX}{user}:fail-{}", kind.id()),
            Self::CounterBefore(kind, user) => write!(f, "fail:{}:{user}", kind.id()),
            Self::Failures(Failures::Browser(binding)) => write!(f, "fail:browser:{binding}"),
            Self::Failures(Failures::Address(ip)) => write!(f, "fail:address:{}", sha256_hex(ip)),
            Self::Failures(Failures::Account(pool, name)) => write!(f, "fail:account:{}", sha256_hex(&KvKey::UserName(*pool, name).to_string())),
            Self::UserDisabled(user) => write!(f, "{USER_PREFIX}{user}"),
            Self::UserRevoked(user, jti) => write!(f, "{USER_PREFIX}{user}:revoked:{jti}"),
            Self::RecoveryUsed(user, hash) => write!(f, "{USER_PREFIX}{user}:recovery-used:{hash}"),
            Self::PoolClaim(user) => write!(f, "user-pool:{user}"),
            Self::UserName(pool, name) => name_key(f, *pool, name),
            Self::Keyset => f.write_str("keyset"),
            Self::KeysetRsa(kid) => write!(f, "keyset-rsa:{kid}"),
        }
    }
}

/// The prefix of the keys of a sign-in's values: `sign-in:{id}:{key}`.
const SIGN_IN_PREFIX: &str = "sign-in:";

/// The prefix of a user's status object (`user-disabled:{id}`: it first held only that),
/// whose own value says whether the user is disabled and whose slots hold the user's revoked
/// access tokens.
const USER_PREFIX: &str = "user-disabled:";

/// Where a Vault key (as built by [`VaultKey`]) lives: the name of its object, and its slot in
/// that object (`None`: the object's own value). A sign-in's values
/// (`sign-in:{id}:{key}`) share the object `sign-in:{id}`; a user's revoked tokens, used
/// recovery codes and counters of failed answers (`user-disabled:{id}:{key}`) share the user's status
/// object `user-disabled:{id}` (user ids
/// hold no `:`); every other key has an object of its own, named by the key, as before
/// sign-ins shared one.
pub fn vault_object(key: &str) -> (&str, Option<&str>) {
    let home_len = SIGN_IN_PREFIX.len() + SIGN_IN_ID_LEN;
    if let Some((id, rest)) = key.strip_prefix(USER_PREFIX).and_then(|k| k.split_once(':')) {
        if !id.is_empty() && !rest.is_empty() {
            return (&key[..USER_PREFIX.len() + id.len()], Some(rest));
        }
    }
    match (key.get(..home_len), key.get(home_len..)) {
        (Some(home), Some(rest)) if key.starts_with(SIGN_IN_PREFIX) && rest.starts_with(':') && rest.len() > 1 => (home, Some(&rest[1..])),
        // No key is built like this; were one, it would still only reach a slot, never the
        // whole of a sign-in's object (whose slot-less Clear deletes everything in it).
        _ if key.starts_with(SIGN_IN_PREFIX) => (key, Some(key)),
        _ => (key, None),
    }
}

/// Writes `key` (`par:…`, `tx:…`) under the sign-in of `value` when it is a [`SignInToken`].
fn in_sign_in(f: &mut fmt::Formatter<'_>, value: &str, key: fmt::Arguments<'_>) -> fmt::Result {
    match SignInToken::sign_in(value) {
        Some(sign_in) => write!(f, "{SIGN_IN_PREFIX}{sign_in}:{key}"),
        None => f.write_fmt(key),
    }
}

/// `username:{name}` for Biopass's own users, `pool-user:{account}:{pool}:{name}` for a
/// Cognito pool's: the prefixes differ, so no user name of one realm can reach another's.
fn name_key(f: &mut fmt::Formatter<'_>, pool: Option<&CognitoContext>, name: &UserName) -> fmt::Result {
    match pool {
        None => write!(f, "username:{name}"),
        Some(p) => write!(f, "pool-user:{}:{}:{name}", p.aws_account_id, p.user_pool_id),
    }
}

/// The user id an index key (`uname:`, `member:`, `admin:`) ends with (ids hold no `:`),
/// or `None` for a key that is not one of these.
pub fn id_of(key: &str) -> Option<&str> {
    let (head, id) = key.rsplit_once(':')?;
    (head.starts_with("uname:") || head.starts_with("member:") || key.starts_with("admin:")).then_some(id).filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> CognitoContext {
        CognitoContext { aws_account_id: "123456789012".into(), region: "eu-west-1".into(), user_pool_id: "eu-west-1_Abc".into() }
    }

    fn name(s: &str) -> UserName {
        UserName::parse(s).unwrap()
    }

    #[test]
    fn a_persons_sign_ins_share_one_id_that_says_nothing_without_the_key() {
        use crate::secretbox::MasterKey;
        let key = MasterKey::from_bytes([1; 32]);
        let ada = SignInToken::of_user(&key, None, &name("ada@example.com"));
        assert_eq!(ada.len(), SIGN_IN_ID_LEN);
        assert_eq!(ada, SignInToken::of_user(&key, None, &name("ada@example.com")), "the same person, the same id");
        let mut rng = crate::random::TestEntropy::new(7);
        let value = SignInToken::mint(&mut rng, Some(&ada));
        assert_eq!(SignInToken::sign_in(&value), Some(ada.as_str()), "a value of the person's sign-in object");
        for other in [
            SignInToken::of_user(&key, None, &name("bob@example.com")),
            SignInToken::of_user(&key, Some(&pool()), &name("ada@example.com")),
            SignInToken::of_user(&MasterKey::from_bytes([2; 32]), None, &name("ada@example.com")),
        ] {
            assert_ne!(other, ada, "another name, realm or key");
        }
        assert!(!ada.contains("ada"));
    }

    #[test]
    fn the_values_of_one_sign_in_share_its_vault_object() {
        let mut rng = crate::random::TestEntropy::new(7);
        let sign_in = SignInToken::new_sign_in(&mut rng);
        let mut value = || SignInToken::mint(&mut rng, Some(&sign_in));
        let (par, tx, nonce, code) = (value(), value(), value(), value());
        assert_eq!(SignInToken::sign_in(&code), Some(sign_in.as_str()));
        let home = format!("sign-in:{sign_in}");
        let keys =
            [VaultKey::PushedRequest(&par), VaultKey::Transaction(&tx), VaultKey::FaceNonce(&nonce), VaultKey::Code(&code), VaultKey::RedeemedCode(&code)];
        let slots = ["par:", "tx:", "face-nonce:", "code:", "code-used:"];
        for (key, slot) in keys.iter().zip(slots) {
            let text = key.to_string();
            let (object, in_object) = vault_object(&text);
            assert_eq!(object, home, "{key:?}");
            assert!(in_object.is_some_and(|s| s.starts_with(slot)), "{text}");
        }
        // The code appears hashed, never itself.
        assert!(!VaultKey::Code(&code).to_string().contains(code.split_once('.').unwrap().1));
        // Another sign-in's values live elsewhere.
        let other = SignInToken::mint(&mut rng, None);
        assert_ne!(vault_object(&VaultKey::Code(&other).to_string()).0, home);
    }

    #[test]
    fn other_keys_and_foreign_values_keep_an_object_of_their_own() {
        // Values not in the sign-in form (an old one, a forged one) keep the keys they had.
        for v in ["", "abc", "x.y", "AAAAAAAAAAAAAAAA.short", "AAAAAAAAAAAAAAA!.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &"A".repeat(43)] {
            assert_eq!(VaultKey::Transaction(v).to_string(), format!("tx:{v}"));
            assert_eq!(VaultKey::Code(v).to_string(), format!("code:{}", sha256_hex(v)));
            let key = VaultKey::Code(v).to_string();
            assert_eq!(vault_object(&key), (key.as_str(), None));
        }
        let sign_in_like = format!("{}.{}", "A".repeat(16), "B".repeat(43));
        assert_eq!(vault_object(&VaultKey::Transaction(&sign_in_like).to_string()), ("sign-in:AAAAAAAAAAAAAAAA", Some(&*format!("tx:{sign_in_like}"))));
        assert_eq!(vault_object(&VaultKey::RevokedToken(&sign_in_like).to_string()), ("sign-in:AAAAAAAAAAAAAAAA", Some(&*format!("revoked:{sign_in_like}"))));
        // Access tokens issued before their jti named the sign-in keep their own objects.
        assert_eq!(VaultKey::RevokedToken("AAAAAAAAAAAAAAAAAAAAAA").to_string(), "revoked:AAAAAAAAAAAAAAAAAAAAAA");
        for key in [VaultKey::TotpStep("u1"), VaultKey::Keyset, VaultKey::Session(&sign_in_like), VaultKey::PasskeyChallenge(&sign_in_like)] {
            let text = key.to_string();
            assert_eq!(vault_object(&text), (text.as_str(), None));
        }
        // A key in the sign-in form but malformed is never a whole object's own value.
        assert_eq!(vault_object("sign-in:short"), ("sign-in:short", Some("sign-in:short")));
        assert_eq!(vault_object("sign-in:AAAAAAAAAAAAAAAA:"), ("sign-in:AAAAAAAAAAAAAAAA:", Some("sign-in:AAAAAAAAAAAAAAAA:")));
        assert_eq!(vault_object("sign-in:AAAAAAAAAAAAAAAA"), ("sign-in:AAAAAAAAAAAAAAAA", Some("sign-in:AAAAAAAAAAAAAAAA")));
    }

    #[test]
    fn record_keys_are_the_stored_ones() {
        let p = pool();
        let ada = name("ada@example.com");
        assert_eq!(KvKey::Application("c1").to_string(), "app:c1");
        assert_eq!(KvKey::Group("g1").to_string(), "group:g1");
        assert_eq!(KvKey::User("u1").to_string(), "user:u1");
        assert_eq!(KvKey::UserName(None, &ada).to_string(), "username:ada@example.com");
        assert_eq!(KvKey::UserName(Some(&p), &ada).to_string(), "pool-user:123456789012:eu-west-1_Abc:ada@example.com");
        assert_eq!(KvKey::UserIndex(&ada, "u1").to_string(), "uname:ada@example.com:u1");
        assert_eq!(KvKey::Member { group: "g1", name: &ada, id: "u1" }.to_string(), "member:g1:ada@example.com:u1");
        assert_eq!(KvKey::Admin("u1").to_string(), "admin:u1");
        assert_eq!(KvKey::Deployment { client_id: "c1", context: &p }.to_string(), "deployment:c1:123456789012:eu-west-1");
        assert_eq!(KvKey::Audit { at_ms: u64::MAX - 5, tie: "x" }.to_string(), "audit:00000000000000000005:x");
        // Each key is under its family's prefix.
        assert!(KvKey::Member { group: "g1", name: &ada, id: "u1" }.to_string().starts_with(&KvPrefix::Members("g1").to_string()));
        assert!(KvKey::UserIndex(&ada, "u1").to_string().starts_with(&KvPrefix::UsersNamed("ADA").to_string()));
        assert!(KvKey::Deployment { client_id: "c1", context: &p }.to_string().starts_with(&KvPrefix::Deployments("c1").to_string()));
        assert!(KvKey::Audit { at_ms: 1, tie: "x" }.to_string().starts_with(&KvPrefix::Audit.to_string()));
    }

    #[test]
    fn newer_audit_entries_sort_first() {
        let older = KvKey::Audit { at_ms: 1_000, tie: "a" }.to_string();
        let newer = KvKey::Audit { at_ms: 2_000, tie: "a" }.to_string();
        assert!(newer < older);
    }

    #[test]
    fn one_time_values_appear_only_hashed() {
        let secret = "the-code-itself";
        for key in [
            VaultKey::Code(secret),
            VaultKey::RedeemedCode(secret),
            VaultKey::Assertion { client_id: "c1", jti: secret },
            VaultKey::FaceNonce(secret),
            VaultKey::Session(secret),
            VaultKey::Failures(Failures::Address(secret)),
        ] {
            let k = key.to_string();
            assert!(!k.contains(secret), "{k}");
            assert!(k.ends_with(&sha256_hex(secret)), "{k}");
        }
    }

    #[test]
    fn realms_and_counters_never_share_a_key() {
        let p = pool();
        let ada = name("ada@example.com");
        let keys = [
            VaultKey::Failures(Failures::Authenticator(AuthenticatorKind::Totp, "u1")).to_string(),
            VaultKey::Failures(Failures::Authenticator(AuthenticatorKind::Face, "u1")).to_string(),
            VaultKey::Failures(Failures::Browser("u1")).to_string(),
            VaultKey::Failures(Failures::Account(None, &ada)).to_string(),
            VaultKey::Failures(Failures::Account(Some(&p), &ada)).to_string(),
            VaultKey::UserName(None, &ada).to_string(),
            VaultKey::UserName(Some(&p), &ada).to_string(),
            VaultKey::TotpStep("u1").to_string(),
            VaultKey::UserDisabled("u1").to_string(),
            VaultKey::PoolClaim("u1").to_string(),
        ];
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());
        assert_eq!(keys[0], "user-disabled:u1:fail-totp");
        assert_eq!(vault_object(&keys[0]), ("user-disabled:u1", Some("fail-totp")), "the user's status object");
        assert_eq!(VaultKey::CounterBefore(AuthenticatorKind::Totp, "u1").to_string(), "fail:totp:u1");
        assert_eq!(keys[1], "user-disabled:u1:fail-face");
        assert_eq!(vault_object(&keys[1]), ("user-disabled:u1", Some("fail-face")), "the user's status object");
        assert_eq!(VaultKey::CounterBefore(AuthenticatorKind::Face, "u1").to_string(), "fail:face:u1");
        assert_eq!(VaultKey::Failures(Failures::Authenticator(AuthenticatorKind::RecoveryCode, "u1")).to_string(), "user-disabled:u1:fail-recovery_code");
        assert_eq!(keys[7], "totp-step:u1");
        assert_eq!(VaultKey::UserName(None, &ada).to_string(), KvKey::UserName(None, &ada).to_string());
    }

    #[test]
    fn a_users_revoked_tokens_share_the_users_status_object() {
        let status = VaultKey::UserDisabled("u1").to_string();
        assert_eq!(vault_object(&status), ("user-disabled:u1", None));
        let revoked = VaultKey::UserRevoked("u1", "j1").to_string();
        assert_eq!(vault_object(&revoked), ("user-disabled:u1", Some("revoked:j1")));
        assert_ne!(vault_object(&VaultKey::UserRevoked("u2", "j1").to_string()).0, "user-disabled:u1");
        assert_eq!(vault_object(&VaultKey::RecoveryUsed("u1", "ab12").to_string()), ("user-disabled:u1", Some("recovery-used:ab12")));
        // Malformed forms reach only an object of their own.
        assert_eq!(vault_object("user-disabled::x"), ("user-disabled::x", None));
        assert_eq!(vault_object("user-disabled:u1:"), ("user-disabled:u1:", None));
    }

    #[test]
    fn the_id_ends_an_index_key() {
        assert_eq!(id_of("uname:ada@example.com:u1"), Some("u1"));
        assert_eq!(id_of("member:g1:a:b:c"), Some("c"));
        assert_eq!(id_of("admin:u2"), Some("u2"));
        assert_eq!(id_of("admin:"), None);
        assert_eq!(id_of("user:u1"), None);
        assert_eq!(id_of("uname:x:"), None);
    }

    #[test]
    fn sha256_hex_is_the_known_digest() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
