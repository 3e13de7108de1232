//! `CacheCore`: the native half of `redkit.Cache`, on bytes. The Python layer encodes
//! values (JSON by default) and calls these; every cache semantic is in core.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bridge::{self, LoopBridge};
use crate::connection::{PerProcess, Shared};
use crate::errors::to_py;
use crate::host::PyHost;
use crate::options::Text;
use crate::runtime::block_on;

/// Bytes handed back to Python as `bytes` (a `Vec<u8>` would become a list).
pub struct Bytes(pub Vec<u8>);

impl<'py> IntoPyObject<'py> for Bytes {
    type Target = PyBytes;
    type Output = Bound<'py, PyBytes>;
    type Error = std::convert::Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(PyBytes::new(py, &self.0))
    }
}

/// One cache namespace of one connection.
#[pyclass(frozen, module = "redkit._redkit")]
pub struct CacheCore {
    conn: Arc<Shared>,
    namespace: String,
    opts: redkit::CacheOptions,
    /// The core cache of the current process (rebuilt after a fork, like the client).
    state: PerProcess<redkit::Cache>,
}

impl CacheCore {
    pub(crate) fn new(
        conn: Arc<Shared>,
        namespace: &str,
        opts: redkit::CacheOptions,
    ) -> PyResult<CacheCore> {
        let core = CacheCore {
            conn,
            namespace: namespace.to_string(),
            opts,
            state: PerProcess::default(),
        };
        core.cache()?; // bad options fail here, not at first use
        Ok(core)
    }

    pub(crate) fn cache(&self) -> PyResult<redkit::Cache> {
        self.state.get_or_try_make(|| {
            self.conn
                .client()?
                .cache(&self.namespace)
                .options(self.opts.clone())
                .build()
                .map_err(to_py)
        })
    }
}

/// One write's ttl (read by the core's duration rules, like every option) and tags.
pub(crate) fn set_options(
    ttl: Option<&Bound<'_, PyAny>>,
    tags: Vec<Text>,
) -> PyResult<redkit::SetOptions> {
    crate::options::write_options(ttl, tags.into_iter().map(|t| t.0).collect())
}

#[pymethods]
impl CacheCore {
    /// The fresh value's bytes, or None.
    fn get(&self, py: Python<'_>, key: Text) -> PyResult<Option<Bytes>> {
        let cache = self.cache()?;
        block_on(py, async move {
            cache.get_bytes(&key.0).await.map(|v| v.map(Bytes))
        })
    }

    /// `get`, awaitable.
    fn get_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        key: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.cache()?;
        bridge::spawn(py, bridge.get(), async move {
            cache.get_bytes(&key.0).await.map(|v| v.map(Bytes))
        })
    }

    /// Write-through.
    #[pyo3(signature = (key, value, ttl=None, tags=Vec::new()))]
    fn set(
        &self,
        py: Python<'_>,
        key: Text,
        value: &[u8],
        ttl: Option<&Bound<'_, PyAny>>,
        tags: Vec<Text>,
    ) -> PyResult<()> {
        let cache = self.cache()?;
        let opts = set_options(ttl, tags)?;
        block_on(
            py,
            async move { cache.set_bytes(&key.0, value, &opts).await },
        )
    }

    /// `set`, awaitable.
    #[pyo3(signature = (bridge, key, value, ttl=None, tags=Vec::new()))]
    fn set_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        key: Text,
        value: Vec<u8>,
        ttl: Option<&Bound<'_, PyAny>>,
        tags: Vec<Text>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.cache()?;
        let opts = set_options(ttl, tags)?;
        bridge::spawn(py, bridge.get(), async move {
            cache.set_bytes(&key.0, &value, &opts).await
        })
    }

    /// Delete entries; how many existed.
    fn delete(&self, py: Python<'_>, keys: Vec<Text>) -> PyResult<u64> {
        let cache = self.cache()?;
        block_on(py, async move {
            let refs: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
            cache.delete(&refs).await
        })
    }

    /// `delete`, awaitable.
    fn delete_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        keys: Vec<Text>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.cache()?;
        bridge::spawn(py, bridge.get(), async move {
            let refs: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
            cache.delete(&refs).await
        })
    }

    /// Invalidate every entry carrying any of `tags`; how many were deleted.
    fn invalidate_tags(&self, py: Python<'_>, tags: Vec<Text>) -> PyResult<u64> {
        let cache = self.cache()?;
        block_on(py, async move {
            let refs: Vec<&str> = tags.iter().map(|t| t.0.as_str()).collect();
            cache.invalidate_tags(&refs).await
        })
    }

    /// `invalidate_tags`, awaitable.
    fn invalidate_tags_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        tags: Vec<Text>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.cache()?;
        bridge::spawn(py, bridge.get(), async move {
            let refs: Vec<&str> = tags.iter().map(|t| t.0.as_str()).collect();
            cache.invalidate_tags(&refs).await
        })
    }

    /// Cache-aside with a blocking loader: `loader(key, cancel)` returns the encoded value
    /// (bytes). It runs on a thread of the binding's pool (see `host.rs`). Called from a
    /// loader running on the pool, the core learns which one (and refuses a cycle).
    #[pyo3(signature = (key, loader, ttl=None, tags=Vec::new()))]
    fn get_or_set(
        &self,
        py: Python<'_>,
        key: Text,
        loader: Py<PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tags: Vec<Text>,
    ) -> PyResult<Bytes> {
        let cache = self.cache()?;
        let opts = set_options(ttl, tags)?;
        let loader = PyHost::blocking(loader);
        let within = crate::host::current_call();
        block_on(py, async move {
            cache
                .get_or_set_host_in(within, &key.0, &opts, loader)
                .await
                .map(Bytes)
        })
    }

    /// Cache-aside with an async loader: `loader(key, cancel)` returns an awaitable of the
    /// encoded value, run on the caller's event loop. `within` is the id of the host call
    /// this is made from (`redkit._host.current_call`), so that the core refuses a cycle.
    #[pyo3(signature = (bridge, key, loader, ttl=None, tags=Vec::new(), within=None))]
    #[allow(clippy::too_many_arguments)] // the Python signature, one argument each
    fn get_or_set_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
        key: Text,
        loader: Py<PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tags: Vec<Text>,
        within: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.cache()?;
        let opts = set_options(ttl, tags)?;
        let loader = PyHost::on_loop(py, loader, bridge)?;
        bridge::spawn(py, bridge.get(), async move {
            cache
                .get_or_set_host_in(within, &key.0, &opts, loader)
                .await
                .map(Bytes)
        })
    }
}
