//! Values through a codec of the application's: [`ValueCodec`], and [`Cache::with_codec`],
//! the namespace's typed methods with that codec instead of the named [`Codec`].

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Cache, Codec, SetOptions};
use crate::error::{Error, Result};
use crate::transport::{MaybeSend, MaybeSync};

/// How values of type `T` become the bytes a cache stores, and back (docs/values.md). The
/// named [`Codec`]s implement it for every serde type; implement it for an encoding of your
/// own and use it through [`Cache::with_codec`]. The core stores what `encode` returns as it
/// is (as the `bytes` codec does), so another runtime reads it with its `bytes` codec or a
/// codec object of its own.
pub trait ValueCodec<T>: MaybeSend + MaybeSync + 'static {
    /// The bytes of `value`; a value the codec cannot hold is an [`Error::Encode`].
    fn encode(&self, value: &T) -> Result<Vec<u8>>;
    /// The value of stored bytes; bytes that hold none are an [`Error::Decode`].
    fn decode(&self, raw: &[u8]) -> Result<T>;
}

impl<T: Serialize + DeserializeOwned> ValueCodec<T> for Codec {
    fn encode(&self, value: &T) -> Result<Vec<u8>> {
        Codec::encode(*self, value)
    }

    fn decode(&self, raw: &[u8]) -> Result<T> {
        Codec::decode(*self, raw)
    }
}

/// A cache namespace whose typed methods encode values with `C`; from
/// [`Cache::with_codec`]. Cheap to clone; shares the namespace's single flight.
pub struct CodecCache<C> {
    cache: Cache,
    codec: Arc<C>,
}

impl<C> Clone for CodecCache<C> {
    fn clone(&self) -> Self {
        CodecCache {
            cache: self.cache.clone(),
            codec: Arc::clone(&self.codec),
        }
    }
}

impl<C> std::fmt::Debug for CodecCache<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodecCache")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// This namespace with values encoded by `codec` (a [`ValueCodec`] of yours) instead
    /// of the named codec of its options. Entries are the same: bytes under the same keys.
    pub fn with_codec<C>(&self, codec: C) -> CodecCache<C> {
        CodecCache {
            cache: self.clone(),
            codec: Arc::new(codec),
        }
    }
}

impl<C> CodecCache<C> {
    /// The namespace, for the methods that take no values (`delete`, `invalidate_tags`,
    /// the `*_bytes` calls).
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// A fresh value, decoded by the codec, or `None` on a miss. With `T = Option<U>`, a
    /// stored null is `Some(None)`: told apart from a miss.
    pub async fn get<T>(&self, key: &str) -> Result<Option<T>>
    where
        C: ValueCodec<T>,
    {
        match self.cache.get_bytes(key).await? {
            Some(raw) => self.codec.decode(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Write-through: `value` encoded by the codec (nothing is written when it fails).
    pub async fn set<T>(&self, key: &str, value: &T, opts: &SetOptions) -> Result<()>
    where
        C: ValueCodec<T>,
    {
        let raw = self.codec.encode(value)?;
        self.cache.set_bytes(key, &raw, opts).await
    }

    /// Cache-aside ([`Cache::get_or_set_bytes`]) with values encoded by the codec: a
    /// loader's value the codec cannot encode is returned as the codec's error, unstored.
    pub async fn get_or_set<T, F, Fut, E>(
        &self,
        key: &str,
        opts: &SetOptions,
        loader: F,
    ) -> Result<T>
    where
        C: ValueCodec<T>,
        T: MaybeSend + 'static,
        F: FnOnce() -> Fut + MaybeSend + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + MaybeSend + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let codec = Arc::clone(&self.codec);
        let raw = self
            .cache
            .get_or_set_bytes(key, opts, move || async move {
                let value = loader().await.map_err(Error::loader)?;
                codec.encode(&value)
            })
            .await?;
        self.codec.decode(&raw)
    }
}
