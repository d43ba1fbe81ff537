//! The "Previous deployments" box (product page 3-2): which AWS accounts and regions run an
//! application's stack, and from which user pools users tried to log in, with the errors
//! that stop them. Recorded from the Cognito context of pushed requests and from the
//! stack's error reports.
//!
//! KV allows about one write per second per key, so a record is rewritten only when
//! something changes or its `last_seen` is more than [`LAST_SEEN_GRANULARITY`] old.

use crate::authorize::CognitoContext;
use crate::error::OAuthError;
use biopass_proto::admin::{AppClientSeen, Deployment, PoolRefusal, UserPoolSeen};

/// Seconds of precision kept for `last_seen`.
pub const LAST_SEEN_GRANULARITY: u64 = 3600;

/// The ways around Biopass the stack's Create trigger can report for an app client: the
/// flows that sign a user in with the password alone, and the hosted UI.
pub const BYPASS_FLOWS: [&str; 5] = ["ADMIN_USER_PASSWORD_AUTH", "HOSTED_UI", "USER_AUTH", "USER_PASSWORD_AUTH", "USER_SRP_AUTH"];

/// What the Create trigger read of the app client a login came through (PAR parameters
/// `cognito_app_client_id` and `cognito_sign_in_without_biopass`, space-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClientReport {
    pub app_client_id: String,
    pub sign_in_without_biopass: Vec<String>,
}

/// Parses the app client report of a pushed request; `get` returns a parameter's single
/// value. `None` when the stack sent none (an older stack, or the read failed).
///
/// # Errors
/// `invalid_request` for a malformed client id or an unknown flow.
pub fn app_client_report<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Option<AppClientReport>, OAuthError> {
    let Some(id) = get("cognito_app_client_id") else {
        return Ok(None);
    };
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(OAuthError::invalid_request("cognito_app_client_id is malformed"));
    }
    let mut flows = Vec::new();
    for flow in get("cognito_sign_in_without_biopass").unwrap_or_default().split(' ').filter(|f| !f.is_empty()) {
        if !BYPASS_FLOWS.contains(&flow) {
            return Err(OAuthError::invalid_request("cognito_sign_in_without_biopass names an unknown flow"));
        }
        if !flows.iter().any(|f| f == flow) {
            flows.push(flow.to_owned());
        }
    }
    flows.sort();
    Ok(Some(AppClientReport { app_client_id: id.to_owned(), sign_in_without_biopass: flows }))
}

/// Checks the shape of a Cognito context (AWS account ids are 12 digits; regions and pool
/// ids are short and plain).
pub fn valid_context(c: &CognitoContext) -> bool {
    let plain = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    c.aws_account_id.len() == 12 && c.aws_account_id.bytes().all(|b| b.is_ascii_digit()) && plain(&c.region, 32) && plain(&c.user_pool_id, 64)
}

/// The record after observing `c` at `now` (with `error` if the stack reported one, or
/// `None` for a login that went through, and what the stack read of the app client), or
/// `None` when nothing worth a write changed.
pub fn observe(
    existing: Option<Deployment>,
    c: &CognitoContext,
    error: Option<PoolRefusal>,
    app_client: Option<&AppClientReport>,
    now: u64,
) -> Option<Deployment> {
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
            d.user_pools.push(UserPoolSeen { user_pool_id: c.user_pool_id.clone(), first_seen: now, last_seen: now, error: None, app_clients: Vec::new() });
            let last = d.user_pools.len() - 1;
            &mut d.user_pools[last]
        }
    };
    let new_error = error;
    // A pushed request means the pool passed the stack's checks; only a report sets an error.
    if pool.error != new_error {
        pool.error = new_error;
        changed = true;
    }
    if now >= pool.last_seen + LAST_SEEN_GRANULARITY {
        pool.last_seen = now;
        changed = true;
    }
    if let Some(report) = app_client {
        match pool.app_clients.iter_mut().find(|a| a.app_client_id == report.app_client_id) {
            Some(seen) if seen.sign_in_without_biopass == report.sign_in_without_biopass => {
                if now >= seen.checked_at + LAST_SEEN_GRANULARITY {
                    seen.checked_at = now;
                    changed = true;
                }
            }
            Some(seen) => {
                seen.sign_in_without_biopass.clone_from(&report.sign_in_without_biopass);
                seen.checked_at = now;
                changed = true;
            }
            None => {
                pool.app_clients.push(AppClientSeen {
                    app_client_id: report.app_client_id.clone(),
                    sign_in_without_biopass: report.sign_in_without_biopass.clone(),
                    checked_at: now,
                });
                changed = true;
            }
        }
    }
    if changed {
        d.last_seen = now;
        Some(d)
    } else {
        None
    }
}

/// The region an application's stack runs in, when it runs in exactly one (what the
/// rotated secret's `update-stack` command can fill in).
pub fn single_region(deployments: &[Deployment]) -> Option<String> {
    let mut regions: Vec<&str> = deployments.iter().map(|d| d.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    match regions.as_slice() {
        [one] => Some((*one).to_owned()),
        _ => None,
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
        let d = observe(None, &ctx("eu-west-1_A"), None, None, 1000).unwrap();
        assert_eq!((d.first_seen, d.last_seen, d.user_pools.len()), (1000, 1000, 1));
        assert!(observe(Some(d.clone()), &ctx("eu-west-1_A"), None, None, 1010).is_none(), "no write for a repeat within the hour");
        let d2 = observe(Some(d.clone()), &ctx("eu-west-1_B"), None, None, 1020).unwrap();
        assert_eq!(d2.user_pools.len(), 2);
        let d3 = observe(Some(d2), &ctx("eu-west-1_B"), Some(PoolRefusal::CaseSensitiveUserPool), None, 1030).unwrap();
        assert_eq!(d3.user_pools[1].error, Some(PoolRefusal::CaseSensitiveUserPool));
        let d4 = observe(Some(d3), &ctx("eu-west-1_B"), None, None, 1040).unwrap();
        assert_eq!(d4.user_pools[1].error, None, "a login that went through clears the error");
        let later = observe(Some(d4), &ctx("eu-west-1_A"), None, None, 1000 + LAST_SEEN_GRANULARITY).unwrap();
        assert_eq!(later.user_pools[0].last_seen, 1000 + LAST_SEEN_GRANULARITY);
    }

    fn report(id: &str, flows: &[&str]) -> AppClientReport {
        AppClientReport { app_client_id: id.into(), sign_in_without_biopass: flows.iter().map(|f| (*f).to_owned()).collect() }
    }

    #[test]
    fn app_clients_that_let_users_past_biopass_are_recorded_until_fixed() {
        let open = report("client1", &["USER_SRP_AUTH"]);
        let d = observe(None, &ctx("eu-west-1_A"), None, Some(&open), 1000).unwrap();
        assert_eq!(d.user_pools[0].app_clients[0].sign_in_without_biopass, ["USER_SRP_AUTH"]);
        assert!(observe(Some(d.clone()), &ctx("eu-west-1_A"), None, Some(&open), 1010).is_none(), "the same report writes nothing");
        let fixed = observe(Some(d), &ctx("eu-west-1_A"), None, Some(&report("client1", &[])), 1020).unwrap();
        assert!(fixed.user_pools[0].app_clients[0].sign_in_without_biopass.is_empty(), "a corrected app client clears the warning");
        assert_eq!(fixed.user_pools[0].app_clients[0].checked_at, 1020);
        let two = observe(Some(fixed), &ctx("eu-west-1_A"), None, Some(&report("client2", &["HOSTED_UI"])), 1030).unwrap();
        assert_eq!(two.user_pools[0].app_clients.len(), 2);
        let untouched = observe(Some(two.clone()), &ctx("eu-west-1_A"), None, None, 1040);
        assert!(untouched.is_none(), "a login without a report keeps what was read before");
    }

    #[test]
    fn app_client_reports_parse_strictly() {
        let params = |pairs: &'static [(&'static str, &'static str)]| move |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        assert_eq!(app_client_report(params(&[])).unwrap(), None, "older stacks send none");
        let r = app_client_report(params(&[
            ("cognito_app_client_id", "1example23456789"),
            ("cognito_sign_in_without_biopass", "USER_SRP_AUTH HOSTED_UI USER_SRP_AUTH"),
        ]));
        assert_eq!(r.unwrap().unwrap(), report("1example23456789", &["HOSTED_UI", "USER_SRP_AUTH"]));
        let clean = app_client_report(params(&[("cognito_app_client_id", "abc")])).unwrap().unwrap();
        assert!(clean.sign_in_without_biopass.is_empty());
        assert!(app_client_report(params(&[("cognito_app_client_id", "abc"), ("cognito_sign_in_without_biopass", "EVERYTHING")])).is_err());
        assert!(app_client_report(params(&[("cognito_app_client_id", "a b")])).is_err());
    }

    #[test]
    fn context_shapes() {
        assert!(valid_context(&ctx("eu-west-1_abc")));
        assert!(!valid_context(&CognitoContext { aws_account_id: "12345".into(), ..ctx("p") }));
        assert!(!valid_context(&ctx("pool with spaces")));
        assert!(!valid_context(&ctx("")));
    }

    #[test]
    fn a_region_is_named_only_when_there_is_one() {
        let at =
            |region: &str| Deployment { aws_account_id: "123456789012".into(), region: region.into(), first_seen: 1, last_seen: 1, user_pools: Vec::new() };
        assert_eq!(single_region(&[]), None);
        assert_eq!(single_region(&[at("eu-west-1"), at("eu-west-1")]), Some("eu-west-1".into()));
        assert_eq!(single_region(&[at("eu-west-1"), at("us-east-1")]), None);
    }
}
