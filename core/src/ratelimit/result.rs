//! The answer to one decision, identical in every runtime.

use crate::error::Error;

/// Why a result says what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Redis decided, by the limit.
    Limit,
    /// Denied in this process: the identifier was denied before and its retry time has
    /// not come (`local_block`). No round trip was made.
    LocalBlock,
    /// Redis failed or did not answer within the timeout; `on_error` decided.
    Error,
    /// Redis failed or did not answer within the timeout; the in-process `insurance`
    /// limit decided, with its own numbers.
    Insurance,
    /// The identifier is in the limiter's `allow_list`: allowed, no round trip.
    AllowList,
    /// The identifier is in the limiter's `deny_list`: denied, no round trip.
    DenyList,
}

impl Reason {
    /// `limit`, `local_block`, `error`, `allow_list` or `deny_list`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Limit => "limit",
            Reason::LocalBlock => "local_block",
            Reason::Error => "error",
            Reason::Insurance => "insurance",
            Reason::AllowList => "allow_list",
            Reason::DenyList => "deny_list",
        }
    }

    /// The reason named by [`Reason::as_str`].
    pub fn parse(s: &str) -> crate::error::Result<Reason> {
        match s {
            "limit" => Ok(Reason::Limit),
            "local_block" => Ok(Reason::LocalBlock),
            "error" => Ok(Reason::Error),
            "insurance" => Ok(Reason::Insurance),
            "allow_list" => Ok(Reason::AllowList),
            "deny_list" => Ok(Reason::DenyList),
            other => Err(Error::invalid(format!(
                "reason must be limit, local_block, error, insurance, allow_list or deny_list, \
                 got {other:?}"
            ))),
        }
    }
}

/// One decision: whether the request may go on, and the numbers for `RateLimit-*` and
/// `Retry-After` headers. Durations are whole milliseconds, rounded up.
#[derive(Debug, Clone)]
pub struct RateLimitResult {
    /// Whether the request may go on.
    pub allowed: bool,
    /// The capacity (`limit + burst`) of the rule closest to its limit.
    pub limit: u64,
    /// What that rule still allows after this decision (for `peek`: right now). 0 when
    /// unknown (`reason` is `error`).
    pub remaining: u64,
    /// Milliseconds until that rule is back to its full capacity if nothing else comes.
    pub reset_after_ms: u64,
    /// Milliseconds until a request of the same cost may be allowed; 0 when allowed.
    pub retry_after_ms: u64,
    /// Who decided.
    pub reason: Reason,
    /// The failure `on_error` or `insurance` covered, when `reason` is `error` or
    /// `insurance`.
    pub error: Option<Error>,
}

impl RateLimitResult {
    /// The result when Redis could not decide and `on_error` did.
    pub(crate) fn from_error(allowed: bool, limit: u64, error: Error) -> Self {
        RateLimitResult {
            allowed,
            limit,
            remaining: 0,
            reset_after_ms: 0,
            retry_after_ms: 0,
            reason: Reason::Error,
            error: Some(error),
        }
    }
}

impl PartialEq for RateLimitResult {
    /// Compares the decision and its numbers; the covered error is compared by text.
    fn eq(&self, other: &Self) -> bool {
        self.allowed == other.allowed
            && self.limit == other.limit
            && self.remaining == other.remaining
            && self.reset_after_ms == other.reset_after_ms
            && self.retry_after_ms == other.retry_after_ms
            && self.reason == other.reason
            && self.error.as_ref().map(ToString::to_string)
                == other.error.as_ref().map(ToString::to_string)
    }
}
