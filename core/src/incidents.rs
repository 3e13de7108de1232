//! Decisions made because Redis failed: a fail-safe cache serving a stale copy or an
//! unstored loader value, a rate limiter whose `on_error` or `insurance` decided.
//!
//! Each cache namespace and rate limiter counts them ([`Incidents::errors`], readable in
//! every runtime) and reports them to its client's [`Reporter`] at most once per
//! [`REPORT_INTERVAL`]: the first decision of an outage is reported at once, the ones after
//! it are summed into the next report. A dead Redis under load would otherwise write one
//! log line per request. Each binding installs its runtime's reporter: Python logs a
//! warning on the `redkit` logger, JavaScript emits an event on the client; a Rust
//! program sets its own with [`crate::Client::set_reporter`] (none by default).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Error;
use crate::rt;
use crate::transport::{MaybeSend, MaybeSync};

/// At most one report per cache namespace or rate limiter in this time.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(10);

/// What answered instead of Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fallback {
    /// A cache served the copy it had (the near cache's, or the entry read before the
    /// failure), stale or not.
    Stale,
    /// A cache returned its loader's value without storing it.
    Loader,
    /// A cache `get` answered a miss.
    Miss,
    /// A rate limiter allowed (`on_error="allow"`).
    Allow,
    /// A rate limiter denied (`on_error="deny"`).
    Deny,
    /// A rate limiter's in-process `insurance` limit decided.
    Insurance,
}

impl Fallback {
    /// `stale`, `loader`, `miss`, `allow`, `deny` or `insurance`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::Stale => "stale",
            Fallback::Loader => "loader",
            Fallback::Miss => "miss",
            Fallback::Allow => "allow",
            Fallback::Deny => "deny",
            Fallback::Insurance => "insurance",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Fallback::Stale => "served the copy it had",
            Fallback::Loader => "returned the loader's value unstored",
            Fallback::Miss => "answered a miss",
            Fallback::Allow => "allowed the request (on_error=allow)",
            Fallback::Deny => "denied the request (on_error=deny)",
            Fallback::Insurance => "let the in-process insurance limit decide",
        }
    }
}

/// One report: the decision that triggered it, and how many were made since the last.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Incident {
    /// `cache` or `rate_limiter`.
    pub pattern: &'static str,
    /// The cache namespace or limiter name.
    pub name: String,
    /// What answered.
    pub fallback: Fallback,
    /// Why Redis did not.
    pub error: Error,
    /// Decisions made on error since the previous report, this one included.
    pub count: u64,
}

impl fmt::Display for Incident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "redkit {} {:?}: Redis failed ({}); {}",
            self.pattern,
            self.name,
            self.error,
            self.fallback.describe()
        )?;
        if self.count > 1 {
            write!(
                f,
                " ({} decisions made on error since the last report)",
                self.count
            )?;
        }
        Ok(())
    }
}

impl Incident {
    /// The report as JSON, for the JavaScript hooks: `{pattern, name, fallback, count,
    /// message, error: {name, code, message}}` (`name` the error class every runtime uses).
    pub fn to_json(&self) -> String {
        let kind = self.error.kind();
        serde_json::json!({
            "pattern": self.pattern,
            "name": self.name,
            "fallback": self.fallback.as_str(),
            "count": self.count,
            "message": self.to_string(),
            "error": {
                "name": kind.class_name(),
                "code": kind.code(),
                "message": self.error.to_string(),
            },
        })
        .to_string()
    }
}

/// Receives [`Incident`]s; see [`crate::Client::set_reporter`]. Called on whatever thread
/// made the decision, so it should return quickly.
pub trait Reporter: Fn(&Incident) + MaybeSend + MaybeSync {}

impl<F: Fn(&Incident) + MaybeSend + MaybeSync> Reporter for F {}

/// The reporter of one client (none until one is set).
#[derive(Default)]
pub(crate) struct ReporterSlot(Mutex<Option<Arc<dyn Reporter>>>);

impl ReporterSlot {
    pub fn set(&self, reporter: Option<Arc<dyn Reporter>>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = reporter;
    }

    fn get(&self) -> Option<Arc<dyn Reporter>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The count and the report clock of one cache namespace or rate limiter.
#[derive(Debug, Default)]
pub(crate) struct Incidents {
    errors: AtomicU64,
    /// Wall-clock ms of the last report (0: none yet).
    reported_at_ms: AtomicU64,
    /// Decisions since the last report.
    unreported: AtomicU64,
}

impl Incidents {
    /// Decisions made on error since this cache or limiter was made.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Count one decision, and report it unless a report went out less than
    /// [`REPORT_INTERVAL`] ago.
    pub fn record(
        &self,
        slot: &ReporterSlot,
        pattern: &'static str,
        name: &str,
        fallback: Fallback,
        error: &Error,
    ) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.unreported.fetch_add(1, Ordering::Relaxed);
        let now = rt::now_ms().max(1);
        let last = self.reported_at_ms.load(Ordering::Relaxed);
        let due = last == 0 || now >= last.saturating_add(REPORT_INTERVAL.as_millis() as u64);
        // One reporter per interval: whoever moves the report clock reports.
        if !due
            || self
                .reported_at_ms
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let count = self.unreported.swap(0, Ordering::AcqRel);
        if let Some(report) = slot.get() {
            report(&Incident {
                pattern,
                name: name.to_string(),
                fallback,
                error: error.clone(),
                count,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_decision_and_reports_once_per_interval() {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let slot = ReporterSlot::default();
        let sink = Arc::clone(&seen);
        slot.set(Some(Arc::new(move |i: &Incident| {
            sink.lock().unwrap().push(i.to_string())
        })));
        let incidents = Incidents::default();
        let err = Error::Timeout("GET took longer than 50ms".into());
        for _ in 0..5 {
            incidents.record(&slot, "cache", "users", Fallback::Stale, &err);
        }
        assert_eq!(incidents.errors(), 5);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(seen[0].contains("cache \"users\"") && seen[0].contains("took longer"));
        assert_eq!(incidents.unreported.load(Ordering::Relaxed), 4);
        let json: serde_json::Value = serde_json::from_str(
            &Incident {
                pattern: "cache",
                name: "users".into(),
                fallback: Fallback::Stale,
                error: err,
                count: 2,
            }
            .to_json(),
        )
        .unwrap();
        assert_eq!(json["fallback"], "stale");
        assert_eq!(json["error"]["name"], "TimeoutError");
        assert_eq!(json["count"], 2);
    }
}
