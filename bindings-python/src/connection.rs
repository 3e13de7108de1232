//! `Connection`: the native half of `redkit.Client` and `redkit.asyncio.Client`. Holds the
//! core client for the current process and rebuilds it (lazily, without a round trip)
//! in a forked child, where the parent's connection is unusable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::bridge::{self, LoopBridge};
use crate::cache::CacheCore;
use crate::options::{read, Text};
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
        let opts = self.opts.clone().lazy_connect(true);
        let client = runtime()
            .block_on(redkit::Client::connect_with(&self.url, opts))
            .map_err(crate::errors::to_py)?;
        crate::incidents::log_to_python(&client);
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

fn connected(url: String, opts: redkit::ConnectOptions, client: redkit::Client) -> Connection {
    crate::incidents::log_to_python(&client);
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
    /// Connect now (blocking), unless `lazy_connect`. `opts`: the keyword options of
    /// `Client.connect`, read by the core.
    #[staticmethod]
    #[pyo3(signature = (url, opts=None))]
    fn connect(
        py: Python<'_>,
        url: String,
        opts: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Connection> {
        let opts: redkit::ConnectOptions = read("connect options", opts)?;
        let client = block_on(py, redkit::Client::connect_with(&url, opts.clone()))?;
        Ok(connected(url, opts, client))
    }

    /// Connect, as an awaitable on the caller's event loop.
    #[staticmethod]
    #[pyo3(signature = (bridge, url, opts=None))]
    fn connect_async<'py>(
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        url: String,
        opts: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts: redkit::ConnectOptions = read("connect options", opts)?;
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

    /// A cache namespace; `opts`: the keyword options of `client.cache`, read by the core.
    #[pyo3(signature = (namespace, opts=None))]
    fn cache(&self, namespace: Text, opts: Option<&Bound<'_, PyDict>>) -> PyResult<CacheCore> {
        let opts = read("cache options", opts)?;
        CacheCore::new(Arc::clone(&self.shared), &namespace.0, opts)
    }

    /// A rate limiter; `opts`: the keyword options of `client.rate_limiter`, read by the
    /// core.
    #[pyo3(signature = (name, opts=None))]
    fn rate_limiter(
        &self,
        name: Text,
        opts: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<RateLimiterCore> {
        let opts = read("rate limiter options", opts)?;
        RateLimiterCore::new(Arc::clone(&self.shared), &name.0, opts)
    }
    /// A queue whose jobs start from the job options `defaults` (read by the core's
    /// schema, as every other options dict).
    #[pyo3(signature = (name, defaults=None, codec="json"))]
    fn queue(
        &self,
        name: &str,
        defaults: Option<&Bound<'_, PyDict>>,
        codec: &str,
    ) -> PyResult<QueueCore> {
        QueueCore::new(Arc::clone(&self.shared), name, defaults, codec)
    }

    /// A worker of `queue` (started by `run`): `processor(arg, cancel)` runs on the pool,
    /// or, given the loop's `bridge`, as a coroutine on that loop.
    #[pyo3(signature = (queue, processor, opts=None, bridge=None))]
    fn worker(
        &self,
        py: Python<'_>,
        queue: &str,
        processor: Py<PyAny>,
        opts: Option<&Bound<'_, PyDict>>,
        bridge: Option<&Bound<'_, LoopBridge>>,
    ) -> PyResult<WorkerCore> {
        WorkerCore::new(py, &self.shared, queue, processor, opts, bridge)
    }
}
