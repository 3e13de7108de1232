//! `CacheOps`: the native half of the everyday cache operations of `redkit.Cache` and
//! `redkit.asyncio.Cache` (`get_many`, `set_many`, `delete_many`, `exists`, `ttl`,
//! `touch`, `incr`, `clear`, `stats`), on bytes, over the core cache of a [`CacheCore`].
//! Each method blocks without a `bridge` and returns an awaitable of the bridge's loop
//! with one; every semantic is in the core.

use pyo3::prelude::*;

use crate::bridge::LoopBridge;
use crate::cache::{Bytes, CacheCore};
use crate::options::Text;
use crate::queue::go;

/// The operations of one cache namespace (made from its `CacheCore`).
#[pyclass(frozen, module = "redkit._redkit")]
pub struct CacheOps {
    core: Py<CacheCore>,
}

fn refs(keys: &[Text]) -> Vec<&str> {
    keys.iter().map(|k| k.0.as_str()).collect()
}

#[pymethods]
impl CacheOps {
    #[new]
    fn new(core: Py<CacheCore>) -> Self {
        CacheOps { core }
    }

    /// Each key's fresh value (bytes) or None, in order: one MGET.
    #[pyo3(signature = (keys, bridge=None))]
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        keys: Vec<Text>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.core.get().cache()?;
        go(py, bridge, async move {
            let values = cache.get_many_bytes(&refs(&keys)).await?;
            Ok(values.into_iter().map(|v| v.map(Bytes)).collect::<Vec<_>>())
        })
    }

    /// Store `(key, encoded value)` pairs under the same ttl and tags: one script.
    #[pyo3(signature = (entries, ttl=None, tags=Vec::new(), bridge=None))]
    fn set_many<'py>(
        &self,
        py: Python<'py>,
        entries: Vec<(Text, Vec<u8>)>,
        ttl: Option<&Bound<'py, PyAny>>,
        tags: Vec<Text>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.core.get().cache()?;
        let opts = crate::cache::set_options(ttl, tags)?;
        go(py, bridge, async move {
            let pairs: Vec<(&str, &[u8])> = entries
                .iter()
                .map(|(k, v)| (k.0.as_str(), v.as_slice()))
                .collect();
            cache.set_many_bytes(&pairs, &opts).await
        })
    }

    /// Delete entries in one DEL; how many existed.
    #[pyo3(signature = (keys, bridge=None))]
    fn delete_many<'py>(
        &self,
        py: Python<'py>,
        keys: Vec<Text>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.core.get().cache()?;
        go(
            py,
            bridge,
            async move { cache.delete_many(&refs(&keys)).await },
        )
    }

    /// Whether the key holds a fresh entry.
    #[pyo3(signature = (key, bridge=None))]
    fn exists<'py>(
        &self,
        py: Python<'py>,
        key: Text,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.core.get().cache()?;
        go(py, bridge, async move { cache.exists(&key.0).await })
    }

    /// The ms the entry stays fresh, or None.
    #[pyo3(signature = (key, bridge=None))]
    fn ttl<'py>(
        &self,
        py: Python<'py>,
        key: Text,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.core.get().cache()?;
        go(py, bridge, async move {
            Ok(cache.ttl(&key.0).await?.map(|d| d.as_millis() as u64))
        })
    }

    /// Keep a fresh entry fresh for `ttl` from now; whether there was one.
    #[pyo3(signature = (key, ttl, bridge=None))]
    fn touch<'py>(
        &self,
        py: Python<'py>,
        key: Text,
        ttl: &Bound<'py, PyAny>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.core.get().cache()?;
        let ttl = crate::options::ttl(ttl)?;
        go(py, bridge, async move { cache.touch(&key.0, ttl).await })
    }

    /// Add `by` to a counter (made with `ttl` when there is none); its new value.
    #[pyo3(signature = (key, by, ttl=None, bridge=None))]
    fn incr<'py>(
        &self,
        py: Python<'py>,
        key: Text,
        by: i64,
        ttl: Option<&Bound<'py, PyAny>>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.core.get().cache()?;
        let ttl = ttl.map(crate::options::ttl).transpose()?;
        go(py, bridge, async move { cache.incr(&key.0, by, ttl).await })
    }

    /// Delete every entry of the namespace (SCAN + UNLINK); how many went.
    #[pyo3(signature = (bridge=None))]
    fn clear<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cache = self.core.get().cache()?;
        go(py, bridge, async move { cache.clear().await })
    }

    /// `(hits, misses, stale_serves, near_hits, loader_calls, errors)` since the cache of
    /// this process was made.
    fn stats(&self) -> PyResult<(u64, u64, u64, u64, u64, u64)> {
        let s = self.core.get().cache()?.stats();
        Ok((
            s.hits,
            s.misses,
            s.stale_serves,
            s.near_hits,
            s.loader_calls,
            s.errors,
        ))
    }
}
