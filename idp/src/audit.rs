//! The audit log's search and export, pure: an entry's outcome, the query of the console's
//! filters (parsed from query parameters), which entries it matches, and the CSV export.

use crate::error::ApiFailure;
use biopass_proto::admin::{AuditEntry, AuditOutcome, AuditQuery};

/// Longest text a filter may hold.
pub const FILTER_MAX_LEN: usize = 200;

/// How the action of `e` ended: an attack (`*.attack`, a replayed code), refused (a wrong
/// answer, a lock-out, an admin change the API refused or that failed), or done.
pub fn outcome(e: &AuditEntry) -> AuditOutcome {
    if e.action.ends_with(".attack") || e.action == "token.code_misused" {
        return AuditOutcome::Attack;
    }
    let detail = e.detail.as_deref().unwrap_or_default();
    if matches!(e.action.as_str(), "login.failure" | "login.locked") || detail.starts_with("refused") || detail == "failed" {
        return AuditOutcome::Refused;
    }
    AuditOutcome::Success
}

/// The query of `GET /admin/api/audit`'s parameters (others are left to the caller: `cursor`,
/// `limit`, `format`). Empty values are no filter.
///
/// # Errors
/// A refusal naming the parameter: an unknown outcome, a time that is not Unix milliseconds,
/// `since` after `until`, a text longer than [`FILTER_MAX_LEN`].
pub fn query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<AuditQuery, ApiFailure> {
    let mut q = AuditQuery::default();
    for (name, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let text = || {
            if value.chars().count() > FILTER_MAX_LEN {
                Err(ApiFailure::invalid_field(name, format!("At most {FILTER_MAX_LEN} characters.")))
            } else {
                Ok(Some(value.to_owned()))
            }
        };
        let time = || value.parse::<u64>().map(Some).map_err(|_| ApiFailure::invalid_field(name, "A time in Unix milliseconds."));
        match name {
            "actor" => q.actor = text()?,
            "action" => q.action = text()?,
            "target" => q.target = text()?,
            "outcome" => {
                q.outcome = Some(match value {
                    "success" => AuditOutcome::Success,
                    "refused" => AuditOutcome::Refused,
                    "attack" => AuditOutcome::Attack,
                    _ => return Err(ApiFailure::invalid_field("outcome", "One of success, refused, attack.")),
                });
            }
            "since" => q.since_ms = time()?,
            "until" => q.until_ms = time()?,
            _ => {}
        }
    }
    if let (Some(since), Some(until)) = (q.since_ms, q.until_ms) {
        if since > until {
            return Err(ApiFailure::invalid_field("since", "The start is after the end."));
        }
    }
    Ok(q)
}

/// True when `q` filters nothing.
pub fn is_everything(q: &AuditQuery) -> bool {
    *q == AuditQuery::default()
}

fn contains(haystack: Option<&str>, needle: &str) -> bool {
    haystack.is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
}

/// Whether `e` matches every filter of `q`.
pub fn matches(q: &AuditQuery, e: &AuditEntry) -> bool {
    q.actor.as_deref().is_none_or(|a| contains(Some(&e.actor), a))
        && q.action.as_deref().is_none_or(|a| contains(Some(&e.action), a))
        && q.target.as_deref().is_none_or(|t| contains(e.target.as_deref(), t) || contains(e.target_name.as_deref(), t))
        && q.outcome.is_none_or(|o| outcome(e) == o)
        && q.since_ms.is_none_or(|s| e.at_ms >= s)
        && q.until_ms.is_none_or(|u| e.at_ms <= u)
}

/// True when `e` is older than `q`'s range: the log is listed newest first, so nothing after
/// it can match.
pub fn past_range(q: &AuditQuery, e: &AuditEntry) -> bool {
    q.since_ms.is_some_and(|s| e.at_ms < s)
}

/// What an admin update changed, for its audit entry: each field of the request's JSON
/// object, with its new value when that is short and plain (a text of at most 80 characters,
/// a number, true or false), the count of a list, else the name alone. A field whose name
/// speaks of a secret, key, token or password is named without its value. `None` when the
/// body is not a JSON object or names nothing.
pub fn changes(body: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let fields = body.as_object()?;
    if fields.is_empty() {
        return None;
    }
    let secret = |k: &str| ["secret", "key", "jwk", "token", "password"].iter().any(|w| k.to_lowercase().contains(w));
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| match v {
            _ if secret(k) => k.clone(),
            Value::String(t) if t.chars().count() <= 80 => format!("{k} = {}", Value::String(t.clone())),
            Value::Bool(_) | Value::Number(_) | Value::Null => format!("{k} = {v}"),
            Value::Array(items) => format!("{k} ({} item{})", items.len(), if items.len() == 1 { "" } else { "s" }),
            _ => k.clone(),
        })
        .collect();
    Some(format!("changed: {}", parts.join(", ")))
}

/// `ms` (Unix milliseconds) as ISO 8601 UTC, `2026-12-06T05:04:03.210Z`.
pub fn iso8601(ms: u64) -> String {
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1_000 % 60, rest % 1_000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a text that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
/// prefixed with `'`, so an attacker's user name cannot become a formula in an admin's
/// spreadsheet.
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_owned() };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// The CSV header of [`csv_row`].
pub const CSV_HEADER: &str = "time,actor,action,outcome,target,target_name,detail,ip\r\n";

/// `e` as a CSV record (CRLF-terminated, as RFC 4180 says).
pub fn csv_row(e: &AuditEntry) -> String {
    let outcome = match outcome(e) {
        AuditOutcome::Success => "success",
        AuditOutcome::Refused => "refused",
        AuditOutcome::Attack => "attack",
    };
    let fields = [
        iso8601(e.at_ms),
        e.actor.clone(),
        e.action.clone(),
        outcome.to_owned(),
        e.target.clone().unwrap_or_default(),
        e.target_name.clone().unwrap_or_default(),
        e.detail.clone().unwrap_or_default(),
        e.ip.clone().unwrap_or_default(),
    ];
    let mut row = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    row.push_str("\r\n");
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: u64, actor: &str, action: &str, target: Option<&str>, detail: Option<&str>) -> AuditEntry {
        AuditEntry {
            at_ms,
            actor: actor.into(),
            action: action.into(),
            target: target.map(Into::into),
            target_name: None,
            detail: detail.map(Into::into),
            ip: None,
        }
    }

    #[test]
    fn outcomes_follow_the_action_and_its_detail() {
        assert_eq!(outcome(&entry(1, "user:a", "login.success", None, None)), AuditOutcome::Success);
        assert_eq!(outcome(&entry(1, "user:a", "login.failure", None, Some("totp: wrong"))), AuditOutcome::Refused);
        assert_eq!(outcome(&entry(1, "user:a", "login.locked", None, None)), AuditOutcome::Refused);
        assert_eq!(outcome(&entry(1, "user:a", "face.attack", None, None)), AuditOutcome::Attack);
        assert_eq!(outcome(&entry(1, "client:x", "token.code_misused", None, None)), AuditOutcome::Attack);
        assert_eq!(outcome(&entry(1, "admin:root", "application.update", Some("c1"), Some("refused: bad URL"))), AuditOutcome::Refused);
        assert_eq!(outcome(&entry(1, "admin:root", "application.update", Some("c1"), Some("failed"))), AuditOutcome::Refused);
        assert_eq!(outcome(&entry(1, "admin:root", "application.update", Some("c1"), Some("changed: name"))), AuditOutcome::Success);
    }

    #[test]
    fn a_query_parses_its_filters_and_refuses_what_it_cannot_read() {
        let q = query([("actor", " Root "), ("outcome", "attack"), ("since", "10"), ("until", "20"), ("cursor", "x"), ("action", "")]).unwrap();
        assert_eq!(
            q,
            AuditQuery { actor: Some("Root".into()), action: None, target: None, outcome: Some(AuditOutcome::Attack), since_ms: Some(10), until_ms: Some(20) }
        );
        assert!(is_everything(&query([("limit", "5")]).unwrap()));
        for (params, field) in [
            (vec![("outcome", "maybe")], "outcome"),
            (vec![("since", "yesterday")], "since"),
            (vec![("until", "-1")], "until"),
            (vec![("since", "30"), ("until", "20")], "since"),
        ] {
            assert_eq!(query(params).unwrap_err().field.as_deref(), Some(field));
        }
        let long = "x".repeat(FILTER_MAX_LEN + 1);
        assert_eq!(query([("target", long.as_str())]).unwrap_err().field.as_deref(), Some("target"));
    }

    #[test]
    fn every_filter_must_hold() {
        let mut e = entry(15, "admin:Root", "application.update", Some("client-1"), None);
        e.target_name = Some("Payroll".into());
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            q
        };
        assert!(matches(&AuditQuery::default(), &e));
        assert!(matches(&q(|q| q.actor = Some("root".into())), &e), "any case, anywhere");
        assert!(matches(&q(|q| q.action = Some("APPLICATION".into())), &e));
        assert!(matches(&q(|q| q.target = Some("payroll".into())), &e), "the name matches too");
        assert!(matches(&q(|q| q.target = Some("client-1".into())), &e));
        assert!(!matches(&q(|q| q.target = Some("hr".into())), &e));
        assert!(!matches(&q(|q| q.actor = Some("user:".into())), &e));
        assert!(matches(&q(|q| q.outcome = Some(AuditOutcome::Success)), &e));
        assert!(!matches(&q(|q| q.outcome = Some(AuditOutcome::Attack)), &e));
        assert!(matches(&q(|q| (q.since_ms, q.until_ms) = (Some(15), Some(15))), &e), "inclusive");
        assert!(!matches(&q(|q| q.since_ms = Some(16)), &e));
        assert!(!matches(&q(|q| q.until_ms = Some(14)), &e));
        assert!(past_range(&q(|q| q.since_ms = Some(16)), &e));
        assert!(!past_range(&q(|q| q.until_ms = Some(14)), &e), "newer than the range: later entries may match");
        let mut no_target = e.clone();
        no_target.target = None;
        no_target.target_name = None;
        assert!(!matches(&q(|q| q.target = Some("client".into())), &no_target));
    }

    #[test]
    fn an_update_says_what_it_changed_without_secrets() {
        let body = serde_json::json!({
            "name": "Payroll 2",
            "face_assurance": "fmr1_in100000",
            "enabled": false,
            "allowed_callback_urls": ["https://a.example/cb", "https://b.example/cb"],
            "public_key": {"kty": "EC"},
            "client_secret": "s3cret",
            "note": "x".repeat(81),
        });
        let said = changes(&body).unwrap();
        assert_eq!(
            said,
            "changed: allowed_callback_urls (2 items), client_secret, enabled = false, face_assurance = \"fmr1_in100000\", name = \"Payroll 2\", note, public_key"
        );
        assert!(!said.contains("s3cret"));
        assert_eq!(changes(&serde_json::json!({})), None);
        assert_eq!(changes(&serde_json::json!([1])), None);
    }

    #[test]
    fn times_are_iso_8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_796_533_443_210), "2026-12-06T05:04:03.210Z");
    }

    #[test]
    fn csv_quotes_what_it_must_and_defuses_formulas() {
        let mut e = entry(0, "=HYPERLINK(\"x\")", "login.failure", Some("a,b"), Some("line\nbreak"));
        e.ip = Some("-1".into());
        assert_eq!(csv_row(&e), "1970-01-01T00:00:00.000Z,\"'=HYPERLINK(\"\"x\"\")\",login.failure,refused,\"a,b\",,\"line\nbreak\",'-1\r\n");
        assert_eq!(CSV_HEADER.trim_end().split(',').count(), csv_row(&entry(0, "a", "b", None, None)).trim_end().split(',').count());
    }
}
