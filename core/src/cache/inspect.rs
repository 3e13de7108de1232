//! Looking at one entry without its value: `exists`, `ttl`, and `touch`, which gives a
//! fresh entry a new fresh time. `exists` and `ttl` read as `get` does (one GET, or none
//! from the near cache) and judge freshness by the server's clock, so they agree with it:
//! an entry `get` would not return does not exist and has no ttl.

use std::sync::LazyLock;
use std::time::Duration;

use super::{options, Cache};
use crate::error::Result;
use crate::keys::check_id;
use crate::script::{arg, Script};

pub(super) static TOUCH: LazyLock<Script> =
    LazyLock::new(|| Script::new("cache_touch", include_str!("../../lua/cache_touch.lua")));

impl Cache {
    /// Whether `key` holds a fresh entry (one `get` would return). One GET.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.fresh_for(key).await?.is_some())
    }

    /// How long `key`'s entry stays fresh (whole ms, at least 1), or `None` when it holds
    /// no fresh entry. One GET.
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        Ok(self.fresh_for(key).await?.map(Duration::from_millis))
    }

    /// Keep `key`'s entry fresh for `ttl` from now (and `stale_ttl` after that), its value
    /// unchanged. Returns whether there was a fresh entry to touch. One script.
    ///
    /// The indexes of the entry's tags are extended with it, so [`Cache::invalidate_tags`]
    /// still reaches a tagged entry touched past the life it was written with. (Its tags
    /// are found in the tag record its write left beside it; an entry written by a build
    /// that kept none, before layout revision `c2`, keeps its indexes as they were: see
    /// docs/WIRE.md.)
    pub async fn touch(&self, key: &str, ttl: Duration) -> Result<bool> {
        options::check_ttl("ttl", ttl)?;
        let entry_key = self.entry_key(key)?;
        let hard = ttl + self.inner.opts.stale_ttl;
        // Held until the reply: no read overlapping the write may refill the near cache.
        let _writing = self.near_for_writes().map(|n| n.begin_write(&entry_key));
        let args = [arg(ttl.as_millis() as u64), arg(hard.as_millis() as u64)];
        let keys = [
            entry_key.into_bytes(),
            self.tag_record_key(key).into_bytes(),
        ];
        let reply = TOUCH.run(self.inner.client.transport(), &keys, &args).await;
        Ok(self.inner.stats.count(reply)?.as_int()? == 1)
    }

    /// The ms `key`'s entry stays fresh, if it is.
    async fn fresh_for(&self, key: &str) -> Result<Option<u64>> {
        check_id("cache key", key)?;
        let (entry, now) = self.inner.stats.count(self.read(key, None).await)?;
        Ok(entry
            .filter(|e| e.is_fresh(now))
            .map(|e| e.fresh_until_ms - now))
    }
}
