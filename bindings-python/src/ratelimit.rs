//! `RateLimiterCore`: the native half of `redkit.RateLimiter`. Options are read by the core
//! (see `options.rs`); results become a `RateLimitResult` object; every decision is the
//! core's.

use std::sync::Arc;

use pyo3::prelude::*;

use crate::bridge::{self, LoopBridge};
use crate::connection::{PerProcess, Shared};
use crate::errors::to_py;
use crate::options::{duration, Text};
use crate::runtime::block_on;
use redkit::{RateLimiter, RateLimiterOptions};

/// One decision, with the numbers for `RateLimit-*` and `Retry-After` headers.
#[pyclass(frozen, module = "redkit._redkit", name = "RateLimitResult")]
pub struct PyRateLimitResult {
    /// Whether the request may go on.
    #[pyo3(get)]
    allowed: bool,
    /// The capacity (`limit + burst`) of the rule closest to its limit.
    #[pyo3(get)]
    limit: u64,
    /// What that rule still allows.
    #[pyo3(get)]
    remaining: u64,
    /// Milliseconds until that rule is full again.
    #[pyo3(get)]
    reset_after_ms: u64,
    /// Milliseconds until a request of the same cost may be allowed; 0 when allowed.
    #[pyo3(get)]
    retry_after_ms: u64,
    /// `limit`, `local_block` or `error`.
    #[pyo3(get)]
    reason: &'static str,
    /// The failure `on_error` covered (only when `reason` is `error`).
    failure: Option<redkit::Error>,
}

impl From<redkit::RateLimitResult> for PyRateLimitResult {
    fn from(r: redkit::RateLimitResult) -> Self {
        PyRateLimitResult {
            allowed: r.allowed,
            limit: r.limit,
            remaining: r.remaining,
            reset_after_ms: r.reset_after_ms,
            retry_after_ms: r.retry_after_ms,
            reason: r.reason.as_str(),
            failure: r.error,
        }
    }
}

/// `(status, headers, body)`: what `RateLimitResult.http()` gives Python.
type HttpTriple = (u16, Vec<(&'static str, String)>, Option<String>);

#[pymethods]
impl PyRateLimitResult {
    /// The exception `on_error` covered, as the redkit exception it would have raised.
    #[getter]
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.failure
            .clone()
            .map(|e| to_py(e).into_value(py).into_any())
    }

    /// What an HTTP middleware answers for this decision, the same in every runtime:
    /// `(status, headers, body)`; a `None` body means the request goes on (see the core's
    /// `ratelimit::http`). `policy`: the limiter's `RateLimit-Policy` header, sent beside
    /// the other `RateLimit-*` headers.
    #[pyo3(signature = (policy=None))]
    fn http(&self, policy: Option<&str>) -> PyResult<HttpTriple> {
        let decision = redkit::RateLimitResult {
            allowed: self.allowed,
            limit: self.limit,
            remaining: self.remaining,
            reset_after_ms: self.reset_after_ms,
            retry_after_ms: self.retry_after_ms,
            reason: redkit::Reason::parse(self.reason).map_err(to_py)?,
            error: None,
        };
        let answer = decision.http_with_policy(policy.unwrap_or(""));
        Ok((answer.status, answer.headers, answer.body))
    }

    fn __repr__(&self) -> String {
        format!(
            "RateLimitResult(allowed={}, limit={}, remaining={}, reset_after_ms={}, \
             retry_after_ms={}, reason='{}')",
            if self.allowed { "True" } else { "False" },
            self.limit,
            self.remaining,
            self.reset_after_ms,
            self.retry_after_ms,
            self.reason
        )
    }
}

/// One named limiter of one connection.
#[pyclass(frozen, module = "redkit._redkit")]
pub struct RateLimiterCore {
    conn: Arc<Shared>,
    name: String,
    opts: RateLimiterOptions,
    /// The core limiter of the current process (rebuilt after a fork, like the client).
    state: PerProcess<RateLimiter>,
}

impl RateLimiterCore {
    pub(crate) fn new(
        conn: Arc<Shared>,
        name: &str,
        opts: RateLimiterOptions,
    ) -> PyResult<RateLimiterCore> {
        let core = RateLimiterCore {
            conn,
            name: name.to_string(),
            opts,
            state: PerProcess::default(),
        };
        core.limiter()?; // bad options fail here, not at first use
        Ok(core)
    }

    fn limiter(&self) -> PyResult<RateLimiter> {
        self.state.get_or_try_make(|| {
            self.conn
                .client()?
                .rate_limiter(&self.name)
                .options(self.opts.clone())
                .build()
                .map_err(to_py)
        })
    }
}

/// A caller-supplied clock: ms since the epoch, never negative.
fn now(now_ms: Option<i64>) -> PyResult<Option<u64>> {
    now_ms
        .map(|ms| {
            u64::try_from(ms).map_err(|_| {
                to_py(redkit::Error::invalid(format!(
                    "now_ms must not be negative, got {ms}"
                )))
            })
        })
        .transpose()
}

async fn decide(
    l: RateLimiter,
    identifier: Text,
    cost: Option<i64>,
    now_ms: Option<u64>,
) -> redkit::Result<PyRateLimitResult> {
    let r = match (cost, now_ms) {
        (Some(c), Some(t)) => l.limit_at(&identifier.0, c, t).await,
        (Some(c), None) => l.limit(&identifier.0, c).await,
        (None, Some(t)) => l.peek_at(&identifier.0, t).await,
        (None, None) => l.peek(&identifier.0).await,
    };
    r.map(PyRateLimitResult::from)
}

/// `penalty` (`reward` false) or `reward` of `n` units.
async fn adjust(
    l: RateLimiter,
    identifier: Text,
    n: i64,
    reward: bool,
    now_ms: Option<u64>,
) -> redkit::Result<PyRateLimitResult> {
    let id = &identifier.0;
    let r = match (reward, now_ms) {
        (false, Some(t)) => l.penalty_at(id, n, t).await,
        (false, None) => l.penalty(id, n).await,
        (true, Some(t)) => l.reward_at(id, n, t).await,
        (true, None) => l.reward(id, n).await,
    };
    r.map(PyRateLimitResult::from)
}

/// A wait's timeout (seconds, a timedelta or a string with a unit), or none.
fn wait_timeout(timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Option<std::time::Duration>> {
    timeout.map(|t| duration("timeout", t)).transpose()
}

#[pymethods]
impl RateLimiterCore {
    /// Take `n` units from `identifier` (or give them back, `reward`); what a peek then sees.
    #[pyo3(signature = (identifier, n, reward, now_ms=None))]
    fn adjust(
        &self,
        py: Python<'_>,
        identifier: Text,
        n: i64,
        reward: bool,
        now_ms: Option<i64>,
    ) -> PyResult<PyRateLimitResult> {
        let (l, t) = (self.limiter()?, now(now_ms)?);
        block_on(py, adjust(l, identifier, n, reward, t))
    }

    /// `adjust`, awaitable.
    #[pyo3(signature = (bridge, identifier, n, reward, now_ms=None))]
    fn adjust_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        identifier: Text,
        n: i64,
        reward: bool,
        now_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (l, t) = (self.limiter()?, now(now_ms)?);
        bridge::spawn(py, bridge.get(), adjust(l, identifier, n, reward, t))
    }

    /// Decide for `cost` until allowed or `timeout` (see the core's `RateLimiter::wait`).
    #[pyo3(signature = (identifier, cost, timeout=None))]
    fn wait(
        &self,
        py: Python<'_>,
        identifier: Text,
        cost: i64,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRateLimitResult> {
        let (l, t) = (self.limiter()?, wait_timeout(timeout)?);
        block_on(py, async move {
            l.wait(&identifier.0, cost, t)
                .await
                .map(PyRateLimitResult::from)
        })
    }

    /// `wait`, awaitable.
    #[pyo3(signature = (bridge, identifier, cost, timeout=None))]
    fn wait_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        identifier: Text,
        cost: i64,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (l, t) = (self.limiter()?, wait_timeout(timeout)?);
        bridge::spawn(py, bridge.get(), async move {
            l.wait(&identifier.0, cost, t)
                .await
                .map(PyRateLimitResult::from)
        })
    }

    /// The `RateLimit-Policy` header of the limiter's rules (`100;w=60`).
    #[getter]
    fn policy(&self) -> PyResult<String> {
        Ok(self.limiter()?.policy().to_string())
    }

    /// One decision for a request of `cost`.
    #[pyo3(signature = (identifier, cost, now_ms=None))]
    fn limit(
        &self,
        py: Python<'_>,
        identifier: Text,
        cost: i64,
        now_ms: Option<i64>,
    ) -> PyResult<PyRateLimitResult> {
        let (l, t) = (self.limiter()?, now(now_ms)?);
        block_on(py, decide(l, identifier, Some(cost), t))
    }

    /// `limit`, awaitable.
    #[pyo3(signature = (bridge, identifier, cost, now_ms=None))]
    fn limit_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        identifier: Text,
        cost: i64,
        now_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (l, t) = (self.limiter()?, now(now_ms)?);
        bridge::spawn(py, bridge.get(), decide(l, identifier, Some(cost), t))
    }

    /// What a request of cost 1 would get, consuming nothing.
    #[pyo3(signature = (identifier, now_ms=None))]
    fn peek(
        &self,
        py: Python<'_>,
        identifier: Text,
        now_ms: Option<i64>,
    ) -> PyResult<PyRateLimitResult> {
        let (l, t) = (self.limiter()?, now(now_ms)?);
        block_on(py, decide(l, identifier, None, t))
    }

    /// `peek`, awaitable.
    #[pyo3(signature = (bridge, identifier, now_ms=None))]
    fn peek_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        identifier: Text,
        now_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (l, t) = (self.limiter()?, now(now_ms)?);
        bridge::spawn(py, bridge.get(), decide(l, identifier, None, t))
    }

    /// Forget `identifier`.
    fn reset(&self, py: Python<'_>, identifier: Text) -> PyResult<()> {
        let l = self.limiter()?;
        block_on(py, async move { l.reset(&identifier.0).await })
    }

    /// `reset`, awaitable.
    fn reset_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        identifier: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        let l = self.limiter()?;
        bridge::spawn(
            py,
            bridge.get(),
            async move { l.reset(&identifier.0).await },
        )
    }

    /// The Redis keys holding `identifier`'s state (one per rule).
    fn keys_for(&self, identifier: Text) -> PyResult<Vec<String>> {
        self.limiter()?.keys_for(&identifier.0).map_err(to_py)
    }

    /// Decisions `on_error` or `insurance` made because Redis failed (this process).
    fn errors(&self) -> PyResult<u64> {
        Ok(self.limiter()?.errors())
    }
}
