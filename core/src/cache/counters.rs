//! Counters: `incr(key, by, ttl)`. A counter is an ordinary entry whose payload is the
//! decimal text of a whole number — a JSON number — so `get` reads it back as a number in
//! every runtime (with the bytes codec, as its digits). One script adds to it atomically;
//! the first `incr` (or the first after it expired) makes it with the ttl given, later ones
//! keep that expiry. Values stay within ±(2^53 − 1), the whole numbers JavaScript holds
//! exactly.

use std::sync::LazyLock;
use std::time::Duration;

use super::{options, Cache, Codec, SetOptions};
use crate::error::{Error, Result};
use crate::input::Input;
use crate::rt;
use crate::script::{arg, Script};

pub(super) static INCR: LazyLock<Script> =
    LazyLock::new(|| Script::new("cache_incr", include_str!("../../lua/cache_incr.lua")));

/// The largest counter value (and amount): 2^53 − 1.
pub const MAX_COUNTER: i64 = (1 << 53) - 1;

/// An `incr` amount as a binding's runtime gave it (a JS number, a Python int): a whole
/// number, 1 when absent. Beyond ±(2^53 − 1) it is refused by [`Cache::incr`].
pub fn incr_amount(by: Input) -> Result<i64> {
    match by {
        Input::Null => Ok(1),
        Input::Int(n) => Ok(n),
        // Saturating: a number beyond i64 is still beyond the counter's bound.
        Input::Number(n) if n.is_finite() && n.fract() == 0.0 => Ok(n as i64),
        Input::Number(n) => Err(Error::invalid(format!(
            "incr amount must be a whole number, got {n}"
        ))),
        _ => Err(Error::invalid("incr amount must be a whole number")),
    }
}

/// The options of one `incr` as the bindings pass them (`{ ttl }`): a write's options
/// without tags (a counter is not indexed).
pub fn incr_ttl(opts: SetOptions) -> Result<Option<Duration>> {
    if !opts.tags.is_empty() {
        return Err(Error::invalid("incr takes no tags"));
    }
    Ok(opts.ttl)
}

impl Cache {
    /// Add `by` to the counter under `key` and return its new value. A missing (or stale)
    /// counter starts from 0 and lives `ttl` (the namespace ttl when `None`); an existing
    /// one keeps its expiry. An entry that holds something other than a whole number, or a
    /// sum beyond ±(2^53 − 1), is an [`Error::InvalidArgument`]. One script.
    pub async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64> {
        let entry_key = self.entry_key(key)?;
        if !(-MAX_COUNTER..=MAX_COUNTER).contains(&by) {
            return Err(Error::invalid(format!(
                "incr amount must be a whole number within ±(2^53 - 1), got {by}"
            )));
        }
        if self.inner.opts.codec == Codec::Msgpack {
            return Err(Error::invalid(
                "counters are stored as decimal text, which the msgpack codec cannot read \
                 back: use a json (or bytes) namespace for counters",
            ));
        }
        let ttl = ttl.unwrap_or(self.inner.opts.ttl);
        options::check_ttl("ttl", ttl)?;
        let fresh = ttl + rt::random_up_to(self.inner.opts.jitter);
        let hard = fresh + self.inner.opts.stale_ttl;
        let args = [
            arg(by),
            arg(fresh.as_millis() as u64),
            arg(hard.as_millis() as u64),
        ];
        // Held until the reply: no read overlapping the write may refill the near cache.
        let _writing = self.near_for_writes().map(|n| n.begin_write(&entry_key));
        let keys = [
            entry_key.into_bytes(),
            self.tag_record_key(key).into_bytes(),
        ];
        let reply = INCR.run(self.inner.client.transport(), &keys, &args).await;
        self.inner.stats.count(reply)?.as_int()
    }
}
