//! `RateLimiterCore`: the native half of `redkit.RateLimiter`. Converts the Python layer's
//! arguments (durations already in ms) into `RateLimiterOptions` and results into a
//! `RateLimitResult` object; every decision is the core's.

use std::sync::Arc;

use pyo3::prelude::*;

use crate::bridge::{self, LoopBridge};
use crate::connection::{PerProcess, Shared};
use crate::errors::to_py;
use crate::runtime::block_on;
use redkit::ratelimit::duration_from_ms;
use redkit::{Algorithm, ClockMode, OnError, RateLimiter, RateLimiterOptions, Rule};

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
    /// `ratelimit::http`).
    fn http(&self) -> PyResult<HttpTriple> {
        let decision = redkit::RateLimitResult {
            allowed: self.allowed,
            limit: self.limit,
            remaining: self.remaining,
            reset_after_ms: self.reset_after_ms,
            retry_after_ms: self.retry_after_ms,
            reason: redkit::Reason::parse(self.reason).map_err(to_py)?,
            error: None,
        };
        let answer = decision.http();
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

/// Options as the Python layer passes them: types already checked, durations in ms,
/// extra rules as `(limit, window_ms, burst)`. Values are checked by the core.
#[allow(clippy::too_many_arguments)]
fn options(
    limit: Option<i64>,
    window_ms: Option<f64>,
    algorithm: Option<&str>,
    burst: Option<i64>,
    limits: Vec<(i64, f64, i64)>,
    count_denied: Option<bool>,
    on_error: Option<&str>,
    timeout_ms: Option<f64>,
    local_block: Option<bool>,
    clock: Option<&str>,
) -> redkit::Result<RateLimiterOptions> {
    let mut o = RateLimiterOptions::default();
    if let Some(n) = limit {
        o.limit = n;
    }
    if let Some(ms) = window_ms {
        o.window = duration_from_ms("window", ms)?;
    }
    if let Some(a) = algorithm {
        o.algorithm = Algorithm::parse(a)?;
    }
    if let Some(n) = burst {
        o.burst = n;
    }
    for (i, (limit, window_ms, burst)) in limits.into_iter().enumerate() {
        o.extra_limits.push(Rule {
            limit,
            window: duration_from_ms(&format!("limits[{i}] window"), window_ms)?,
            burst,
        });
    }
    if let Some(b) = count_denied {
        o.count_denied = b;
    }
    if let Some(e) = on_error {
        o.on_error = OnError::parse(e)?;
    }
    if let Some(ms) = timeout_ms {
        o.timeout = duration_from_ms("timeout", ms)?;
    }
    if let Some(b) = local_block {
        o.local_block = b;
    }
    if let Some(c) = clock {
        o.clock = ClockMode::parse(c)?;
    }
    Ok(o)
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
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        conn: Arc<Shared>,
        name: &str,
        limit: Option<i64>,
        window_ms: Option<f64>,
        algorithm: Option<&str>,
        burst: Option<i64>,
        limits: Vec<(i64, f64, i64)>,
        count_denied: Option<bool>,
        on_error: Option<&str>,
        timeout_ms: Option<f64>,
        local_block: Option<bool>,
        clock: Option<&str>,
    ) -> PyResult<RateLimiterCore> {
        let opts = options(
            limit,
            window_ms,
            algorithm,
            burst,
            limits,
            count_denied,
            on_error,
            timeout_ms,
            local_block,
            clock,
        )
        .map_err(to_py)?;
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
    identifier: String,
    cost: Option<i64>,
    now_ms: Option<u64>,
) -> redkit::Result<PyRateLimitResult> {
    let r = match (cost, now_ms) {
        (Some(c), Some(t)) => l.limit_at(&identifier, c, t).await,
        (Some(c), None) => l.limit(&identifier, c).await,
        (None, Some(t)) => l.peek_at(&identifier, t).await,
        (None, None) => l.peek(&identifier).await,
    };
    r.map(PyRateLimitResult::from)
}

#[pymethods]
impl RateLimiterCore {
    /// One decision for a request of `cost`.
    #[pyo3(signature = (identifier, cost, now_ms=None))]
    fn limit(
        &self,
        py: Python<'_>,
        identifier: String,
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
        identifier: String,
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
        identifier: String,
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
        identifier: String,
        now_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (l, t) = (self.limiter()?, now(now_ms)?);
        bridge::spawn(py, bridge.get(), decide(l, identifier, None, t))
    }

    /// Forget `identifier`.
    fn reset(&self, py: Python<'_>, identifier: String) -> PyResult<()> {
        let l = self.limiter()?;
        block_on(py, async move { l.reset(&identifier).await })
    }

    /// `reset`, awaitable.
    fn reset_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        identifier: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let l = self.limiter()?;
        bridge::spawn(py, bridge.get(), async move { l.reset(&identifier).await })
    }

    /// The Redis keys holding `identifier`'s state (one per rule).
    fn keys_for(&self, identifier: &str) -> PyResult<Vec<String>> {
        self.limiter()?.keys_for(identifier).map_err(to_py)
    }
}
