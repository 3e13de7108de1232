//! `fail_safe`: a cache that answers when Redis cannot.
//!
//! With `fail_safe` on, every call the cache makes to Redis on a read path (the GET, the
//! miss path's lock script, the write after the loader, the unlock) waits at most
//! `soft_timeout` and goes through a circuit breaker (see `crate::breaker`). When one
//! fails — Redis unreachable, slower than `soft_timeout`, or answering an error such as
//! LOADING or OOM — the cache answers without Redis:
//!
//! - `get_or_set`: the copy it has, stale or not: the entry it read before the failure,
//!   or the near cache's (whose entries are kept aside, for this only, while its
//!   invalidation channel is down); else the loader's value, returned and not stored.
//!   A failing loader still raises.
//! - `get`: that copy, else a miss (`None`), as FusionCache and BentoCache do for a
//!   distributed cache that fails: a cache that cannot answer has nothing, which is what
//!   a miss says, and the caller's miss path (its own loader) runs.
//!
//! The soft timeout costs a healthy read nothing: the hit path's GET carries it as its
//! request deadline, which the transport's deadline tick enforces (to its precision,
//! `DEADLINE_TICK`); transports without one, and the other calls, race a timer.
//!
//! Writes the caller asked for (`set`, `delete`, `invalidate_tags`) still raise: a lost
//! invalidation must not pass silently. Each answer made this way is counted and reported
//! (see [`crate::incidents`]).

use std::future::Future;
use std::time::Duration;

use super::{Cache, Envelope};
use crate::breaker::{is_outage, Breaker};
use crate::error::{Error, Result};
use crate::incidents::{Fallback, Incidents};
use crate::rt;

/// The fail-safe state of one cache handle.
#[derive(Debug)]
pub(super) struct FailSafe {
    soft_timeout: Duration,
    breaker: Breaker,
    incidents: Incidents,
    namespace: String,
}

impl FailSafe {
    pub fn new(namespace: &str, soft_timeout: Duration, circuit_breaker: Duration) -> FailSafe {
        FailSafe {
            soft_timeout,
            breaker: Breaker::new(circuit_breaker),
            incidents: Incidents::default(),
            namespace: namespace.to_string(),
        }
    }

    /// Decisions made without Redis so far.
    pub fn errors(&self) -> u64 {
        self.incidents.errors()
    }
}

/// What a guarded read found.
pub(super) enum Outcome {
    /// Redis answered: the entry, if any, and the server time to judge it by.
    Read(Option<Envelope>, u64),
    /// Redis failed: the copy this process kept, if any, and why.
    Failed(Option<Envelope>, Error),
}

impl Cache {
    /// Run one call to Redis: as is without `fail_safe`; with it, skipped while the
    /// breaker is open and cut at `soft_timeout`, its outcome told to the breaker.
    pub(super) async fn guarded<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        self.guarded_within(|soft| async move {
            match soft {
                Some(d) => rt::timeout(d, what, call).await,
                None => call.await,
            }
        })
        .await
    }

    /// [`Cache::guarded`] for a call that bounds itself: `call` is given the soft timeout
    /// (`None` without `fail_safe`) and must fail with [`Error::Timeout`] once it has
    /// passed. The hit path's read does, with the transport's own request deadline: a timer
    /// raced against every read was most of what `fail_safe` cost a hit.
    pub(super) async fn guarded_within<T, F>(
        &self,
        call: impl FnOnce(Option<Duration>) -> F,
    ) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let Some(fs) = &self.inner.fail_safe else {
            return call(None).await;
        };
        if fs.breaker.skips() {
            return Err(fs.breaker.skipped());
        }
        match call(Some(fs.soft_timeout)).await {
            Ok(v) => {
                fs.breaker.succeeded();
                Ok(v)
            }
            Err(e) => {
                if is_outage(&e) {
                    fs.breaker.failed();
                }
                Err(e)
            }
        }
    }

    /// Whether `e` is a failure `fail_safe` answers for.
    pub(super) fn fails_safe(&self, e: &Error) -> bool {
        self.inner.fail_safe.is_some() && is_outage(e)
    }

    /// [`Cache::read`], guarded; under `fail_safe` a failure is an [`Outcome::Failed`] with
    /// the copy this process kept.
    pub(super) async fn read_guarded(&self, key: &str) -> Result<Outcome> {
        let read = self.guarded_within(|soft| async move {
            let r = self.read(key, soft).await;
            r.map_err(|e| match soft {
                Some(d) => rt::name_timeout(e, "cache read", d),
                None => e,
            })
        });
        match read.await {
            Ok((entry, now)) => Ok(Outcome::Read(entry, now)),
            Err(e) if self.fails_safe(&e) => Ok(Outcome::Failed(self.kept_copy(key), e)),
            Err(e) => Err(e),
        }
    }

    /// The near cache's copy of `key`, live or kept aside while its invalidations are
    /// down, if Redis would still hold it (fresh, or stale within `stale_ttl`).
    pub(super) fn kept_copy(&self, key: &str) -> Option<Envelope> {
        let near = self.inner.near.as_ref()?;
        let local = rt::now_ms();
        let now = self.inner.client.server_clock().now(local).unwrap_or(local);
        let grace = self.inner.opts.stale_ttl.as_millis() as u64;
        near.kept(&self.inner.keys.key("k", key), now, grace)
    }

    /// Count (and report) one answer made without Redis.
    pub(super) fn fell_back(&self, fallback: Fallback, error: &Error) {
        if let Some(fs) = &self.inner.fail_safe {
            let client = &self.inner.client;
            fs.incidents
                .record(client.reporter(), "cache", &fs.namespace, fallback, error);
        }
    }

    /// How many answers this handle made without Redis (`fail_safe`) since it was made.
    pub fn errors(&self) -> u64 {
        self.inner.fail_safe.as_ref().map_or(0, FailSafe::errors)
    }
}

/// Read's outcome as `get` answers it.
pub(super) fn get_answer(cache: &Cache, outcome: Outcome) -> Option<Vec<u8>> {
    match outcome {
        Outcome::Read(entry, now) => entry.filter(|e| e.is_fresh(now)).map(|e| e.payload),
        Outcome::Failed(copy, e) => {
            let fallback = if copy.is_some() {
                Fallback::Stale
            } else {
                Fallback::Miss
            };
            cache.fell_back(fallback, &e);
            copy.map(|c| c.payload)
        }
    }
}
