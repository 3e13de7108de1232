//! `allow_list` and `deny_list`: identifiers always allowed or always denied, decided in
//! this process with no round trip (an internal health checker, a banned client).

use std::collections::HashSet;

use super::result::{RateLimitResult, Reason};
use crate::error::{Error, Result};
use crate::keys::check_id;

/// The two lists of one limiter.
#[derive(Debug, Default)]
pub(crate) struct Lists {
    allow: HashSet<String>,
    deny: HashSet<String>,
}

impl Lists {
    /// The lists of the options (already checked by [`check`]).
    pub fn new(allow: &[String], deny: &[String]) -> Lists {
        Lists {
            allow: allow.iter().cloned().collect(),
            deny: deny.iter().cloned().collect(),
        }
    }

    /// The answer for a listed `identifier`, or `None` when Redis decides. `capacity` is
    /// the limit the answer reports.
    #[inline]
    pub fn decide(&self, identifier: &str, capacity: u64) -> Option<RateLimitResult> {
        // Most limiters have no list: no hashing then.
        if self.allow.is_empty() && self.deny.is_empty() {
            return None;
        }
        let (allowed, reason) = if self.deny.contains(identifier) {
            (false, Reason::DenyList)
        } else if self.allow.contains(identifier) {
            (true, Reason::AllowList)
        } else {
            return None;
        };
        Some(RateLimitResult {
            allowed,
            limit: capacity,
            remaining: if allowed { capacity } else { 0 },
            reset_after_ms: 0,
            retry_after_ms: 0,
            reason,
            error: None,
        })
    }
}

/// Refuse an empty identifier in a list, and one in both lists.
pub(crate) fn check(allow: &[String], deny: &[String]) -> Result<()> {
    for id in allow {
        check_id("allow_list item", id)?;
    }
    for id in deny {
        check_id("deny_list item", id)?;
    }
    if let Some(both) = allow.iter().find(|id| deny.contains(id)) {
        return Err(Error::invalid(format!(
            "{both:?} is in both allow_list and deny_list"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_identifiers_are_decided_here() {
        let lists = Lists::new(&["ok".into()], &["bad".into()]);
        let allowed = lists.decide("ok", 10).unwrap();
        assert!(allowed.allowed);
        assert_eq!((allowed.remaining, allowed.reason), (10, Reason::AllowList));
        let denied = lists.decide("bad", 10).unwrap();
        assert!(!denied.allowed);
        assert_eq!((denied.remaining, denied.reason), (0, Reason::DenyList));
        assert!(lists.decide("other", 10).is_none());
        assert!(Lists::default().decide("ok", 10).is_none());
    }

    #[test]
    fn bad_lists_are_refused() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check(&s(&["a"]), &s(&["b"])).is_ok());
        assert!(check(&s(&[""]), &[]).is_err());
        assert!(check(&[], &s(&[""])).is_err());
        assert!(check(&s(&["a"]), &s(&["a"])).is_err());
    }
}
