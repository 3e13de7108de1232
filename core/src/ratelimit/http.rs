//! The HTTP meaning of a decision, for every framework glue (Express, Flask, Starlette,
//! the edge): one rule here, so the glue of each runtime answers the same and restates
//! nothing.
//!
//! - Allowed by the limit (or admitted by a local list): the request goes on; the
//!   response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
//!   (seconds, rounded up).
//! - Decided by the in-process `insurance` while Redis failed: as if by the limit, with
//!   its numbers.
//! - Denied by the limit, by `local_block` or by `insurance`: 429, those headers, `Retry-After` (seconds,
//!   rounded up, at least 1: a client told 0 retries at once and is denied again), and the
//!   JSON body `{"error":"rate_limited","reason":…,"limit":…,"remaining":…,"retry_after_ms":…}`.
//! - Redis failed and `on_error` allowed (failed open): the request goes on with no
//!   `RateLimit-*` headers, whose numbers would mean nothing.
//! - Redis failed and `on_error` denied (failed closed): 503 (the client did nothing
//!   wrong), `Retry-After: 1`, and `{"error":"rate_limiter_unavailable","reason":"error"}`.
//!
//! - Denied by the `deny_list`: 403 (waiting will not help: no `Retry-After`) and
//!   `{"error":"forbidden","reason":"deny_list"}`. Allowed by the `allow_list`: the request
//!   goes on with no `RateLimit-*` headers (it is not limited).
//!
//! With the limiter's policy ([`policy`], `RateLimit-Policy` of the IETF draft
//! ratelimit-headers, say `100;w=60`), every answer that carries `RateLimit-*` headers
//! carries it too.
//!
//! A request whose key function gives no identifier (None / null) is not limited at all:
//! the glue skips the decision.

use super::options::Rule;
use super::result::{RateLimitResult, Reason};

/// What the glue answers for one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// 200 when the request goes on to its handler; 429 or 503 when it is refused.
    pub status: u16,
    /// Headers for the response: the handler's when the request goes on, the refusal's
    /// otherwise.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body of a refusal (`Content-Type: application/json`); `None` when the
    /// request goes on.
    pub body: Option<String>,
}

impl HttpAnswer {
    /// Whether the request goes on to its handler.
    pub fn proceeds(&self) -> bool {
        self.body.is_none()
    }
}

/// Whole seconds, rounded up: a client that waits this long is never early.
fn seconds(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

/// The `RateLimit-Policy` header of a limiter's rules (IETF draft ratelimit-headers): one
/// `limit;w=<window in seconds>` per rule, `;burst=<burst>` added when it has one, joined
/// by `, ` (`10;w=1, 1000;w=3600`). A window that is not a whole number of seconds is
/// rounded up (the draft's `w` is whole seconds).
pub fn policy(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(|r| {
            let w = seconds(r.window.as_millis() as u64).max(1);
            match r.burst {
                0 => format!("{};w={w}", r.limit),
                b => format!("{};w={w};burst={b}", r.limit),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl RateLimitResult {
    /// What an HTTP middleware answers for this decision (see the module docs of
    /// [`crate::ratelimit::http`]).
    pub fn http(&self) -> HttpAnswer {
        self.http_with_policy("")
    }

    /// [`RateLimitResult::http`], with the limiter's `RateLimit-Policy` ([`policy`]; empty:
    /// none) beside the other `RateLimit-*` headers.
    pub fn http_with_policy(&self, policy: &str) -> HttpAnswer {
        match self.reason {
            Reason::AllowList => {
                return HttpAnswer {
                    status: 200,
                    headers: Vec::new(),
                    body: None,
                }
            }
            Reason::DenyList => {
                return HttpAnswer {
                    status: 403,
                    headers: Vec::new(),
                    body: Some(r#"{"error":"forbidden","reason":"deny_list"}"#.into()),
                }
            }
            _ => {}
        }
        if self.reason == Reason::Error {
            if self.allowed {
                return HttpAnswer {
                    status: 200,
                    headers: Vec::new(),
                    body: None,
                };
            }
            return HttpAnswer {
                status: 503,
                headers: vec![("Retry-After", "1".to_string())],
                body: Some(r#"{"error":"rate_limiter_unavailable","reason":"error"}"#.into()),
            };
        }
        let mut headers = vec![
            ("RateLimit-Limit", self.limit.to_string()),
            ("RateLimit-Remaining", self.remaining.to_string()),
            ("RateLimit-Reset", seconds(self.reset_after_ms).to_string()),
        ];
        if !policy.is_empty() {
            headers.push(("RateLimit-Policy", policy.to_string()));
        }
        if self.allowed {
            return HttpAnswer {
                status: 200,
                headers,
                body: None,
            };
        }
        headers.push((
            "Retry-After",
            seconds(self.retry_after_ms).max(1).to_string(),
        ));
        HttpAnswer {
            status: 429,
            headers,
            body: Some(format!(
                r#"{{"error":"rate_limited","reason":"{}","limit":{},"remaining":{},"retry_after_ms":{}}}"#,
                self.reason.as_str(),
                self.limit,
                self.remaining,
                self.retry_after_ms
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn result(allowed: bool, reason: Reason) -> RateLimitResult {
        RateLimitResult {
            allowed,
            limit: 10,
            remaining: if allowed { 4 } else { 0 },
            reset_after_ms: 1_001,
            retry_after_ms: if allowed { 0 } else { 250 },
            reason,
            error: (reason == Reason::Error).then(|| Error::Timeout("slow".into())),
        }
    }

    fn header<'a>(a: &'a HttpAnswer, name: &str) -> Option<&'a str> {
        a.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn allowed_goes_on_with_the_numbers() {
        let a = result(true, Reason::Limit).http();
        assert!(a.proceeds());
        assert_eq!(a.status, 200);
        assert_eq!(header(&a, "RateLimit-Limit"), Some("10"));
        assert_eq!(header(&a, "RateLimit-Remaining"), Some("4"));
        assert_eq!(header(&a, "RateLimit-Reset"), Some("2"));
        assert_eq!(header(&a, "Retry-After"), None);
    }

    #[test]
    fn denied_is_429_with_retry_after_of_at_least_one_second() {
        for reason in [Reason::Limit, Reason::LocalBlock, Reason::Insurance] {
            let a = result(false, reason).http();
            assert_eq!(a.status, 429);
            assert_eq!(header(&a, "Retry-After"), Some("1"));
            assert_eq!(header(&a, "RateLimit-Remaining"), Some("0"));
            let body: serde_json::Value = serde_json::from_str(a.body.as_deref().unwrap()).unwrap();
            assert_eq!(body["error"], "rate_limited");
            assert_eq!(body["reason"], reason.as_str());
            assert_eq!(body["retry_after_ms"], 250);
            assert_eq!(body["limit"], 10);
        }
    }

    #[test]
    fn the_policy_names_every_rule_in_whole_seconds() {
        use std::time::Duration;
        let rules = [
            Rule::new(100, Duration::from_secs(60)),
            Rule::new(5, Duration::from_millis(1_500)).burst(2),
            Rule::new(1, Duration::from_millis(1)),
        ];
        let p = policy(&rules);
        assert_eq!(p, "100;w=60, 5;w=2;burst=2, 1;w=1");
        for allowed in [true, false] {
            let a = result(allowed, Reason::Limit).http_with_policy(&p);
            assert_eq!(header(&a, "RateLimit-Policy"), Some(p.as_str()));
        }
        let a = result(true, Reason::Limit).http();
        assert_eq!(header(&a, "RateLimit-Policy"), None);
        let closed = result(false, Reason::Error).http_with_policy(&p);
        assert_eq!(header(&closed, "RateLimit-Policy"), None);
    }

    #[test]
    fn listed_identifiers_go_on_bare_or_are_forbidden() {
        let allowed = result(true, Reason::AllowList).http_with_policy("1;w=1");
        assert!(allowed.proceeds() && allowed.headers.is_empty());
        let denied = result(false, Reason::DenyList).http_with_policy("1;w=1");
        assert_eq!(denied.status, 403);
        assert!(denied.headers.is_empty(), "waiting will not help");
        let body: serde_json::Value =
            serde_json::from_str(denied.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["reason"], "deny_list");
    }

    #[test]
    fn failed_open_goes_on_bare_and_failed_closed_is_503() {
        let open = result(true, Reason::Error).http();
        assert!(open.proceeds());
        assert!(open.headers.is_empty());
        let closed = result(false, Reason::Error).http();
        assert_eq!(closed.status, 503);
        assert_eq!(closed.headers, vec![("Retry-After", "1".to_string())]);
        let body: serde_json::Value =
            serde_json::from_str(closed.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["error"], "rate_limiter_unavailable");
    }
}
