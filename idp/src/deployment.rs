//! The "Previous deployments" box (product page 3-2): which AWS accounts and regions run an
//! application's stack, and from which user pools users tried to log in, with the errors
//! that stop them. Recorded from the Cognito context of pushed requests and from the
//! stack's error reports.
//!
//! KV allows about one write per second per key, so a record is rewritten only when
//! something changes or its `last_seen` is more than [`LAST_SEEN_GRANULARITY`] old.

use crate::authorize::CognitoContext;
use biopass_proto::admin::{Deployment, UserPoolSeen};

/// Seconds of precision kept for `last_seen`.
pub const LAST_SEEN_GRANULARITY: u64 = 3600;

/// Errors the stack reports.
pub const KNOWN_ERRORS: [&str; 2] = ["case_sensitive_user_pool", "phone_number_user_name"];

/// Checks the shape of a Cognito context (AWS account ids are 12 digits; regions and pool
/// ids are short and plain).
pub fn valid_context(c: &CognitoContext) -> bool {
    let plain = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    c.aws_account_id.len() == 12
        && c.aws_account_id.bytes().all(|b| b.is_ascii_digit())
        && plain(&c.region, 32)
        && plain(&c.user_pool_id, 64)
}

/// The KV key of a deployment record.
pub fn key(client_id: &str, c: &CognitoContext) -> String {
    format!("deployment:{client_id}:{}:{}", c.aws_account_id, c.region)
}

/// The record after observing `c` at `now` (with `error` if the stack reported one, or
/// `None` for a login that went through), or `None` when nothing worth a write changed.
pub fn observe(existing: Option<Deployment>, c: &CognitoContext, error: Option<&str>, now: u64) -> Option<Deployment> {
    let mut d = existing.unwrap_or_else(|| Deployment {
        aws_account_id: c.aws_account_id.clone(),
        region: c.region.clone(),
        first_seen: now,
        last_seen: 0,
        user_pools: Vec::new(),
    });
    let mut changed = now >= d.last_seen + LAST_SEEN_GRANULARITY;
    let pool = match d.user_pools.iter().position(|p| p.user_pool_id == c.user_pool_id) {
        Some(i) => &mut d.user_pools[i],
        None => {
            changed = true;
            d.user_pools.push(UserPoolSeen { user_pool_id: c.user_pool_id.clone(), first_seen: now, last_seen: now, error: None });
            let last = d.user_pools.len() - 1;
            &mut d.user_pools[last]
        }
    };
    let new_error = error.map(str::to_owned);
    // A pushed request means the pool passed the stack's checks; only a report sets an error.
    if pool.error != new_error {
        pool.error = new_error;
        changed = true;
    }
    if now >= pool.last_seen + LAST_SEEN_GRANULARITY {
        pool.last_seen = now;
        changed = true;
    }
    if changed {
        d.last_seen = now;
        Some(d)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pool: &str) -> CognitoContext {
        CognitoContext { user_pool_id: pool.into(), region: "eu-west-1".into(), aws_account_id: "123456789012".into() }
    }

    #[test]
    fn records_pools_errors_and_throttles_writes() {
        let d = observe(None, &ctx("eu-west-1_A"), None, 1000).unwrap();
        assert_eq!((d.first_seen, d.last_seen, d.user_pools.len()), (1000, 1000, 1));
        assert!(observe(Some(d.clone()), &ctx("eu-west-1_A"), None, 1010).is_none(), "no write for a repeat within the hour");
        let d2 = observe(Some(d.clone()), &ctx("eu-west-1_B"), None, 1020).unwrap();
        assert_eq!(d2.user_pools.len(), 2);
        let d3 = observe(Some(d2), &ctx("eu-west-1_B"), Some("case_sensitive_user_pool"), 1030).unwrap();
        assert_eq!(d3.user_pools[1].error.as_deref(), Some("case_sensitive_user_pool"));
        let d4 = observe(Some(d3), &ctx("eu-west-1_B"), None, 1040).unwrap();
        assert_eq!(d4.user_pools[1].error, None, "a login that went through clears the error");
        let later = observe(Some(d4), &ctx("eu-west-1_A"), None, 1000 + LAST_SEEN_GRANULARITY).unwrap();
        assert_eq!(later.user_pools[0].last_seen, 1000 + LAST_SEEN_GRANULARITY);
    }

    #[test]
    fn context_shapes() {
        assert!(valid_context(&ctx("eu-west-1_abc")));
        assert!(!valid_context(&CognitoContext { aws_account_id: "12345".into(), ..ctx("p") }));
        assert!(!valid_context(&ctx("pool with spaces")));
        assert!(!valid_context(&ctx("")));
    }
}
