//! `Connection`: the native half of `redkit.Client` and `redkit.asyncio.Client`. Holds the
//! core client for the current process and rebuilds it (lazily, without a round trip)
//! in a forked child, where the parent's connection is unusable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;

use crate::bridge::{self, LoopBridge};
use crate::cache::CacheCore;
use crate::queue::{QueueCore, WorkerCore};
use crate::ratelimit::RateLimiterCore;
use crate::runtime::{block_on, runtime};

/// The URL and options a client was made with, and its live core client.
pub struct Shared {
    url: String,
    opts: redkit::ConnectOptions,
    state: Mutex<Option<(u32, redkit::Client)>>,
    closed: AtomicBool,
}

impl Shared {
    /// The core client of this process: the one made at connect time, or, in a forked
    /// child, a new one that connects on first use.
    pub fn client(&self) -> PyResult<redkit::Client> {
        if self.closed.load(Ordering::Acquire) {
            return Err(crate::errors::to_py(redkit::Error::Closed));
        }
        let pid = std::process::id();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((owner, client)) = state.as_ref() {
            if *owner == pid {
                return Ok(client.clone());
            }
        }
        // Inherited from the parent: its connection tasks ran on threads this process
        // does not have. Leak it rather than run its destructors here.
        std::mem::forget(state.take());
        let opts = redkit::ConnectOptions {
            lazy_connect: true,
            ..self.opts.clone()
        };
        let client = runtime()
            .block_on(redkit::Client::connect_with(&self.url, opts))
            .map_err(crate::errors::to_py)?;
        *state = Some((pid, client.clone()));
        Ok(client)
    }
}

/// A value made from the current process's client (a cache, a limiter): after a fork it is
/// made again from the child's client.
pub struct PerProcess<T>(Mutex<Option<(u32, T)>>);

impl<T> Default for PerProcess<T> {
    fn default() -> Self {
        PerProcess(Mutex::new(None))
    }
}

impl<T: Clone> PerProcess<T> {
    /// This process's value, made by `make` on first use in this process.
    pub fn get_or_try_make(&self, make: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
        let pid = std::process::id();
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((owner, value)) = state.as_ref() {
            if *owner == pid {
                return Ok(value.clone());
            }
        }
        // A parent's value holds the parent's client: leak it (see Shared::client).
        std::mem::forget(state.take());
        let value = make()?;
        *state = Some((pid, value.clone()));
        Ok(value)
    }
}

/// A connection to Redis shared by every cache made from it.
#[pyclass(frozen, module = "redkit._redkit")]
pub struct Connection {
    shared: Arc<Shared>,
}

/// Connection options as the Python layer passes them (durations already in ms).
#[allow(clippy::too_many_arguments)]
fn options(
    prefix: Option<String>,
    retries: Option<u32>,
    retry_backoff_max_ms: Option<u64>,
    timeout_ms: Option<u64>,
    connect_timeout_ms: Option<u64>,
    lazy_connect: Option<bool>,
    offline_queue: Option<bool>,
    offline_queue_max: Option<usize>,
) -> redkit::ConnectOptions {
    let d = redkit::ConnectOptions::default();
    redkit::ConnectOptions {
        prefix: prefix.unwrap_or(d.prefix),
        retries: retries.unwrap_or(d.retries),
        retry_backoff_max: retry_backoff_max_ms
            .map(Duration::from_millis)
            .unwrap_or(d.retry_backoff_max),
        timeout: timeout_ms.map(Duration::from_millis).unwrap_or(d.timeout),
        connect_timeout: connect_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(d.connect_timeout),
        lazy_connect: lazy_connect.unwrap_or(d.lazy_connect),
        offline_queue: offline_queue.unwrap_or(d.offline_queue),
        offline_queue_max: offline_queue_max.unwrap_or(d.offline_queue_max),
    }
}

fn connected(url: String, opts: redkit::ConnectOptions, client: redkit::Client) -> Connection {
    Connection {
        shared: Arc::new(Shared {
            url,
            opts,
            state: Mutex::new(Some((std::process::id(), client))),
            closed: AtomicBool::new(false),
        }),
    }
}

type Health = (String, String, String, Vec<String>);

fn health(r: redkit::HealthReport) -> Health {
    (
        r.server_version,
        r.persistence,
        r.eviction_policy,
        r.warnings,
    )
}

#[pymethods]
impl Connection {
    /// Connect now (blocking), unless `lazy_connect`.
    #[staticmethod]
    #[pyo3(signature = (url, prefix=None, retries=None, retry_backoff_max_ms=None, timeout_ms=None,
        connect_timeout_ms=None, lazy_connect=None, offline_queue=None, offline_queue_max=None))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        url: String,
        prefix: Option<String>,
        retries: Option<u32>,
        retry_backoff_max_ms: Option<u64>,
        timeout_ms: Option<u64>,
        connect_timeout_ms: Option<u64>,
        lazy_connect: Option<bool>,
        offline_queue: Option<bool>,
        offline_queue_max: Option<usize>,
    ) -> PyResult<Connection> {
        let opts = options(
            prefix,
            retries,
            retry_backoff_max_ms,
            timeout_ms,
            connect_timeout_ms,
            lazy_connect,
            offline_queue,
            offline_queue_max,
        );
        let client = block_on(py, redkit::Client::connect_with(&url, opts.clone()))?;
        Ok(connected(url, opts, client))
    }

    /// Connect, as an awaitable on the caller's event loop.
    #[staticmethod]
    #[pyo3(signature = (bridge, url, prefix=None, retries=None, retry_backoff_max_ms=None, timeout_ms=None,
        connect_timeout_ms=None, lazy_connect=None, offline_queue=None, offline_queue_max=None))]
    #[allow(clippy::too_many_arguments)]
    fn connect_async<'py>(
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        url: String,
        prefix: Option<String>,
        retries: Option<u32>,
        retry_backoff_max_ms: Option<u64>,
        timeout_ms: Option<u64>,
        connect_timeout_ms: Option<u64>,
        lazy_connect: Option<bool>,
        offline_queue: Option<bool>,
        offline_queue_max: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = options(
            prefix,
            retries,
            retry_backoff_max_ms,
            timeout_ms,
            connect_timeout_ms,
            lazy_connect,
            offline_queue,
            offline_queue_max,
        );
        bridge::spawn(py, bridge.get(), async move {
            let client = redkit::Client::connect_with(&url, opts.clone()).await?;
            Ok(connected(url, opts, client))
        })
    }

    /// PING.
    fn ping(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.shared.client()?;
        block_on(py, async move { client.ping().await })
    }

    /// PING, awaitable.
    fn ping_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client()?;
        bridge::spawn(py, bridge.get(), async move { client.ping().await })
    }

    /// Close; later calls raise `Closed`. Closing twice is fine.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        match self.shared.client() {
            Ok(client) => {
                self.shared.closed.store(true, Ordering::Release);
                block_on(py, async move { client.close().await })
            }
            Err(_) if self.shared.closed.load(Ordering::Acquire) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// The key prefix.
    #[getter]
    fn prefix(&self) -> String {
        self.shared.opts.prefix.clone()
    }

    /// Server version, persistence, eviction policy and warnings.
    fn check(&self, py: Python<'_>) -> PyResult<Health> {
        let client = self.shared.client()?;
        block_on(py, async move { client.check().await.map(health) })
    }

    /// `check()`, awaitable.
    fn check_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client()?;
        bridge::spawn(
            py,
            bridge.get(),
            async move { client.check().await.map(health) },
        )
    }

    /// A cache namespace (durations in ms; the Python layer converts).
    #[pyo3(signature = (namespace, ttl_ms=None, jitter_ms=None, stale_ttl_ms=None, early_refresh=None,
        lock=None, lock_timeout_ms=None, codec="json", near_cache=None))]
    #[allow(clippy::too_many_arguments)]
    fn cache(
        &self,
        namespace: &str,
        ttl_ms: Option<u64>,
        jitter_ms: Option<u64>,
        stale_ttl_ms: Option<u64>,
        early_refresh: Option<f64>,
        lock: Option<bool>,
        lock_timeout_ms: Option<u64>,
        codec: &str,
        near_cache: Option<usize>,
    ) -> PyResult<CacheCore> {
        let d = redkit::CacheOptions::default();
        let ms = Duration::from_millis;
        let opts = redkit::CacheOptions {
            ttl: ttl_ms.map(ms).unwrap_or(d.ttl),
            jitter: jitter_ms.map(ms).unwrap_or(d.jitter),
            stale_ttl: stale_ttl_ms.map(ms).unwrap_or(d.stale_ttl),
            early_refresh: early_refresh.unwrap_or(d.early_refresh),
            lock: lock.unwrap_or(d.lock),
            lock_timeout: lock_timeout_ms.map(ms).unwrap_or(d.lock_timeout),
            codec: redkit::Codec::parse(codec).map_err(crate::errors::to_py)?,
            near_cache: near_cache.unwrap_or(d.near_cache),
        };
        CacheCore::new(Arc::clone(&self.shared), namespace, opts)
    }

    /// A rate limiter (durations in ms, extra rules as `(limit, window_ms, burst)`; the
    /// Python layer converts).
    #[pyo3(signature = (name, limit=None, window_ms=None, algorithm=None, burst=None, limits=Vec::new(),
        count_denied=None, on_error=None, timeout_ms=None, local_block=None, clock=None))]
    #[allow(clippy::too_many_arguments)]
    fn rate_limiter(
        &self,
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
        RateLimiterCore::new(
            Arc::clone(&self.shared),
            name,
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
    }
    /// A queue whose jobs start from the options in `defaults_json` (JSON text the Python
    /// layer made; read by the core's schema).
    #[pyo3(signature = (name, defaults_json="{}", codec="json"))]
    fn queue(&self, name: &str, defaults_json: &str, codec: &str) -> PyResult<QueueCore> {
        QueueCore::new(Arc::clone(&self.shared), name, defaults_json, codec)
    }

    /// A worker of `queue` (started by `run`): `processor(arg, cancel)` runs on the pool,
    /// or, given the loop's `bridge`, as a coroutine on that loop.
    #[pyo3(signature = (queue, processor, opts_json="{}", bridge=None))]
    fn worker(
        &self,
        py: Python<'_>,
        queue: &str,
        processor: Py<PyAny>,
        opts_json: &str,
        bridge: Option<&Bound<'_, LoopBridge>>,
    ) -> PyResult<WorkerCore> {
        WorkerCore::new(py, &self.shared, queue, processor, opts_json, bridge)
    }
}
