//! The cache pattern: cache-aside (`get_or_set`), write-through (`set`), delete-on-write
//! (`delete`) and tag invalidation, with stampede protection.
//!
//! Stampede protection, cheapest first: jittered TTLs; in-process single flight; a Redis
//! lock so one loader per key runs across processes while the others wait (bounded) and
//! then read; XFetch early recomputation; and `stale_ttl`, which serves the stale value
//! while one caller refreshes and when the loader fails.
//!
//! A hit is one plain GET, or none with a near cache (an in-process copy Redis keeps
//! coherent; see [`near`]). A write (with any number of tags) is one script. The stored
//! layout is documented in docs/WIRE.md.
//!
//! When Redis refuses writes (maxmemory under `noeviction`), `set` fails with the server's
//! OOM error ([`Error::Server`]) and a `get_or_set` miss still calls its loader and returns
//! the value, unstored.

mod bulk;
mod clear;
mod codec;
mod counters;
mod envelope;
pub mod fail_safe;
mod inspect;
mod load_scope;
pub mod near;
mod options;
mod single_flight;
mod stats;
pub(crate) mod tracking;
mod with_codec;

use std::cell::RefCell;
use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use futures_util::future::join;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use codec::Codec;
pub use counters::{incr_amount, incr_ttl, MAX_COUNTER};
pub use envelope::Envelope;
pub use near::NearCache;
pub use options::{CacheOptions, SetOptions};
pub use stats::CacheStats;
pub use with_codec::{CodecCache, ValueCodec};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::host::{self, HostFunction};
use crate::incidents::Fallback;
use crate::keys::{check_id, Keyspace};
use crate::rt;
use crate::script::{arg, Script};
use crate::transport::{BoxFuture, MaybeSend};
use crate::value::{Cmd, Value};
use fail_safe::{FailSafe, Outcome};
use load_scope::{LoadScope, Scoped};
use single_flight::SingleFlight;

static SET: LazyLock<Script> =
    LazyLock::new(|| Script::new("cache_set", include_str!("../../lua/cache_set.lua")));
static LOCK: LazyLock<Script> =
    LazyLock::new(|| Script::new("cache_lock", include_str!("../../lua/cache_lock.lua")));
static UNLOCK: LazyLock<Script> =
    LazyLock::new(|| Script::new("cache_unlock", include_str!("../../lua/cache_unlock.lua")));
static INVALIDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "cache_invalidate",
        include_str!("../../lua/cache_invalidate.lua"),
    )
});

/// Every cache script, for [`crate::script::all`].
pub(crate) fn scripts() -> Vec<&'static Script> {
    let mut all = vec![&*SET, &*LOCK, &*UNLOCK, &*INVALIDATE];
    all.extend([&*bulk::SET_MANY, &*inspect::TOUCH, &*counters::INCR]);
    all
}

thread_local! {
    /// The entry key of a read. The transport copies the key into its command before `get`
    /// returns (the future it returns cannot borrow the key), so one buffer per thread
    /// serves every read: on a hit, a new String per call was a measurable part of the cost.
    static READ_KEY: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Configures a [`Cache`]; from [`Client::cache`].
#[derive(Debug, Clone)]
pub struct CacheBuilder {
    client: Client,
    namespace: String,
    opts: CacheOptions,
}

impl CacheBuilder {
    pub(crate) fn new(client: Client, namespace: &str) -> Self {
        CacheBuilder {
            client,
            namespace: namespace.to_string(),
            opts: CacheOptions::default(),
        }
    }

    /// Fresh time of entries (default 1 hour).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.opts.ttl = ttl;
        self
    }
    /// Random extra time, up to this, added to each ttl.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.opts.jitter = jitter;
        self
    }
    /// Serve entries this long past their ttl while refreshing or when the loader fails.
    pub fn stale_ttl(mut self, stale: Duration) -> Self {
        self.opts.stale_ttl = stale;
        self
    }
    /// XFetch β (0 turns early refresh off).
    pub fn early_refresh(mut self, beta: f64) -> Self {
        self.opts.early_refresh = beta;
        self
    }
    /// One loader per key across processes (default on).
    pub fn lock(mut self, on: bool) -> Self {
        self.opts.lock = on;
        self
    }
    /// Longest a loader may hold the lock, and longest others wait for it.
    pub fn lock_timeout(mut self, d: Duration) -> Self {
        self.opts.lock_timeout = d;
        self
    }
    /// Keep up to this many entries in process memory, served without a round trip and
    /// kept coherent by Redis (0, the default, keeps none). See [`near`].
    pub fn near_cache(mut self, max_entries: usize) -> Self {
        self.opts.near_cache = max_entries;
        self
    }
    /// Answer without Redis when it fails or is slower than `soft_timeout` (see
    /// [`fail_safe`]).
    pub fn fail_safe(mut self, on: bool) -> Self {
        self.opts.fail_safe = on;
        self
    }
    /// With `fail_safe`: the longest a call waits for Redis before answering without it.
    pub fn soft_timeout(mut self, d: Duration) -> Self {
        self.opts.soft_timeout = d;
        self
    }
    /// With `fail_safe`: how long Redis is skipped after a failure (0: never).
    pub fn circuit_breaker(mut self, d: Duration) -> Self {
        self.opts.circuit_breaker = d;
        self
    }
    /// Value encoding for the typed methods.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.opts.codec = codec;
        self
    }
    /// Replace every option at once.
    pub fn options(mut self, opts: CacheOptions) -> Self {
        self.opts = opts;
        self
    }
    /// Check the options and make the cache.
    pub fn build(self) -> Result<Cache> {
        self.opts.validate()?;
        let keys = Keyspace::new(self.client.prefix(), "cache", &self.namespace)?;
        let entry_prefix = keys.key("k", "");
        let near = match self.opts.near_cache {
            0 => None,
            n => self
                .client
                .near_caches()
                .near_cache(self.client.transport(), &entry_prefix, n),
        };
        let fail_safe = self.opts.fail_safe.then(|| {
            FailSafe::new(
                &self.namespace,
                self.opts.soft_timeout,
                self.opts.circuit_breaker,
            )
        });
        Ok(Cache {
            inner: Arc::new(Inner {
                client: self.client,
                keys,
                opts: self.opts,
                flights: Arc::new(SingleFlight::default()),
                near,
                entry_prefix,
                fail_safe,
                stats: stats::Counters::default(),
            }),
        })
    }
}

/// One cache namespace. Cheap to clone; clones share the in-process single flight.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    keys: Keyspace,
    opts: CacheOptions,
    flights: Arc<SingleFlight>,
    /// The in-process copy, when asked for and the transport can keep it coherent.
    near: Option<Arc<NearCache>>,
    /// What every entry key starts with: names this namespace's near cache.
    entry_prefix: String,
    /// The breaker and counters of `fail_safe`, when on.
    fail_safe: Option<FailSafe>,
    /// What this handle (and its clones) did: [`Cache::stats`].
    stats: stats::Counters,
}

/// Where a read's entry comes from.
enum Read<'a> {
    /// The near cache's copy, and the server's time it was judged at.
    Near(Envelope, u64),
    Redis(BoxFuture<'a, Result<Option<Vec<u8>>>>, Option<near::Ticket>),
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("keys", &self.inner.keys)
            .field("opts", &self.inner.opts)
            .finish()
    }
}

/// Whether `e` is Redis refusing a write for want of memory (maxmemory under noeviction).
fn refuses_writes(e: &Error) -> bool {
    matches!(e, Error::Server(msg) if msg.starts_with("OOM"))
}

/// What the miss-path script answered.
enum LockReply {
    /// Someone stored a fresh entry meanwhile.
    Hit(Envelope),
    /// Another process is loading; here is the current (stale) entry, if any.
    Busy(Option<Envelope>),
    /// This caller may load; the tags' epochs as they were before loading.
    Locked(Vec<Vec<u8>>),
}

impl Cache {
    /// The options in force.
    pub fn options(&self) -> &CacheOptions {
        &self.inner.opts
    }

    /// The in-process copy of this namespace, if it has one: `near_cache` was set and the
    /// transport can keep it coherent (a server, not the embedded engine or REST).
    pub fn near(&self) -> Option<&NearCache> {
        self.inner.near.as_deref()
    }

    /// The near cache this namespace's writes must keep current: this handle's, or one that
    /// another handle of the namespace on the same client made (this one may have none).
    fn near_for_writes(&self) -> Option<Arc<NearCache>> {
        let near = self.inner.client.near_caches();
        self.inner
            .near
            .clone()
            .or_else(|| near.near_cache_of(&self.inner.entry_prefix))
    }

    /// The Redis key an entry is stored under.
    pub fn entry_key(&self, key: &str) -> Result<String> {
        check_id("cache key", key)?;
        Ok(self.inner.keys.key("k", key))
    }

    fn lock_key(&self, key: &str) -> String {
        self.inner.keys.key("l", key)
    }

    /// Where the entry of `key` records its tag keys, for `touch` to extend their indexes
    /// (docs/WIRE.md). Beside the entry, never read on a hit.
    fn tag_record_key(&self, key: &str) -> String {
        self.inner.keys.key("g", key)
    }

    fn tag_keys(&self, tags: &[String]) -> Result<Vec<Vec<u8>>> {
        tags.iter()
            .map(|t| {
                check_id("tag", t)?;
                Ok(self.inner.keys.key("t", t).into_bytes())
            })
            .collect()
    }

    /// A fresh value's bytes, or `None` (missing, or stale). One GET.
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        check_id("cache key", key)?;
        let stats = &self.inner.stats;
        let outcome = stats.count(self.read_guarded(key).await)?;
        let value = fail_safe::get_answer(self, outcome);
        match value {
            Some(_) => stats.hit(),
            None => stats.miss(),
        }
        Ok(value)
    }

    /// What this handle and its clones did since they were made: [`CacheStats`]. Its
    /// `errors` include the answers `fail_safe` made without Redis.
    pub fn stats(&self) -> CacheStats {
        self.inner.stats.snapshot(self.errors())
    }

    /// A fresh value, decoded with the namespace codec, or `None`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.get_bytes(key).await? {
            Some(raw) => self.inner.opts.codec.decode(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Write-through: store `value` under `key` with the namespace ttl (or `opts.ttl`)
    /// and index it under `opts.tags`. One script, one round trip.
    pub async fn set_bytes(&self, key: &str, value: &[u8], opts: &SetOptions) -> Result<()> {
        let entry_key = self.entry_key(key)?;
        self.write(&entry_key, key, value, opts, 0, None)
            .await
            .map(|_| ())
    }

    /// Write-through with the namespace codec.
    pub async fn set<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        opts: &SetOptions,
    ) -> Result<()> {
        let raw = self.inner.opts.codec.encode(value)?;
        self.set_bytes(key, &raw, opts).await
    }

    /// Delete-on-write: remove entries; returns how many existed.
    pub async fn delete(&self, keys: &[&str]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let names = keys
            .iter()
            .map(|k| self.entry_key(k))
            .collect::<Result<Vec<_>>>()?;
        // Held until the reply: no read overlapping the delete may refill the near cache.
        let near = self.near_for_writes();
        let _writing: Vec<_> = names
            .iter()
            .filter_map(|k| near.as_ref().map(|n| n.begin_write(k)))
            .collect();
        let n = self
            .inner
            .client
            .transport()
            .send(Cmd::new("DEL").args(names))
            .await?
            .as_int()?;
        Ok(n as u64)
    }

    /// Every entry carrying any of `tags` reads as a miss once this returns, and a load
    /// that began before it will not store its result. Returns how many entries were
    /// deleted.
    pub async fn invalidate_tags(&self, tags: &[&str]) -> Result<u64> {
        if tags.is_empty() {
            return Ok(0);
        }
        let owned: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        let keys = self.tag_keys(&owned)?;
        // An emptied index keeps its epoch while a loader that started before may still write.
        let guard = (self.inner.opts.lock_timeout * 2).as_millis() as u64;
        let transport = self.inner.client.transport();
        let n = INVALIDATE
            .run(transport, &keys, &[arg(guard)])
            .await?
            .as_int()?;
        // Which entries went is known only to Redis: wait for its word on each of them.
        if self.near_for_writes().is_some() {
            self.inner.client.near_caches().sync().await;
        }
        Ok(n as u64)
    }

    /// Cache-aside on bytes: the fresh value, or the loader's result, stored and returned.
    /// See the module docs for the stampede protection around the loader.
    ///
    /// Called from inside the loader of the same key (directly, or through other loaders:
    /// A → B → A), a miss is an [`Error::InvalidArgument`]: it would wait for itself. A
    /// call is known to come from a loader when it is awaited inside the loader's future;
    /// one moved to another task loses that, and then waits at most `lock_timeout`.
    pub async fn get_or_set_bytes<F, Fut>(
        &self,
        key: &str,
        opts: &SetOptions,
        loader: F,
    ) -> Result<Vec<u8>>
    where
        F: FnOnce() -> Fut + MaybeSend + 'static,
        Fut: Future<Output = Result<Vec<u8>>> + MaybeSend + 'static,
    {
        self.get_or_load(None, key, opts, move |_, _| loader())
            .await
    }

    /// [`Cache::get_or_set_bytes`] for a host whose loaders run outside the core's polls
    /// (a JS promise): `loader` gets the id of its load, which the binding keeps in a
    /// host-side context while the loader runs, and `within` is that id when this call is
    /// made from a loader, so that a loader asking for its own key is refused.
    pub async fn get_or_set_bytes_in<F, Fut>(
        &self,
        within: Option<u64>,
        key: &str,
        opts: &SetOptions,
        loader: F,
    ) -> Result<Vec<u8>>
    where
        F: FnOnce(u64) -> Fut + MaybeSend + 'static,
        Fut: Future<Output = Result<Vec<u8>>> + MaybeSend + 'static,
    {
        self.get_or_load(within, key, opts, move |_, id| loader(id))
            .await
    }

    /// Cache-aside on bytes whose loader is a host function (see [`crate::host`]): on a
    /// miss it is called once, with the key (UTF-8) for argument, and what it raises is
    /// returned as [`Error::Loader`] holding the [`HostError`](crate::host::HostError).
    /// A hit never touches `loader`.
    pub async fn get_or_set_host<H: HostFunction>(
        &self,
        key: &str,
        opts: &SetOptions,
        loader: H,
    ) -> Result<Vec<u8>> {
        self.get_or_set_host_in(None, key, opts, loader).await
    }

    /// [`Cache::get_or_set_host`] made from inside a host loader: `within` is the
    /// [`HostCall::id`](crate::host::HostCall::id) of the loader call it is made from (the
    /// binding keeps it in a host-side context), so that a loader asking for its own key,
    /// directly or through other loaders, is an [`Error::InvalidArgument`], not a wait
    /// for itself.
    pub async fn get_or_set_host_in<H: HostFunction>(
        &self,
        within: Option<u64>,
        key: &str,
        opts: &SetOptions,
        loader: H,
    ) -> Result<Vec<u8>> {
        self.get_or_load(within, key, opts, move |key, id| {
            let call = host::HostCall {
                arg: key.as_bytes().to_vec(),
                cancel: host::Cancel::new(),
                id,
            };
            let pending = host::call_with(&loader, call);
            async move { pending.await.map_err(Error::from) }
        })
        .await
    }

    /// Cache-aside on bytes; `loader` gets the key and the id of its load. `within` names
    /// the load this call is made from, if a host said so (see [`load_scope`]).
    async fn get_or_load<F, Fut>(
        &self,
        within: Option<u64>,
        key: &str,
        opts: &SetOptions,
        loader: F,
    ) -> Result<Vec<u8>>
    where
        F: FnOnce(&str, u64) -> Fut + MaybeSend + 'static,
        Fut: Future<Output = Result<Vec<u8>>> + MaybeSend + 'static,
    {
        check_id("cache key", key)?;
        self.tag_keys(&opts.tags)?;
        let stats = &self.inner.stats;
        let (mut current, now, down) = match stats.count(self.read_guarded(key).await)? {
            Outcome::Read(entry, now) => (entry, now, None),
            Outcome::Failed(Some(copy), e) => {
                self.fell_back(Fallback::Stale, &e);
                stats.stale_serve();
                return Ok(copy.payload);
            }
            // Redis failed and this process has no copy: load, unstored (in the flight).
            Outcome::Failed(None, e) => (None, 0, Some(e)),
        };
        let early = self.inner.opts.early_refresh;
        let fresh = |e: &mut Envelope| {
            e.is_fresh(now) && !e.should_refresh_early(now, early, rt::random_unit())
        };
        if let Some(e) = current.take_if(fresh) {
            stats.hit();
            return Ok(e.payload);
        }
        let entry_key = self.inner.keys.key("k", key);
        // Stale or due for early refresh: if this process is already refreshing it, serve
        // what we have instead of waiting.
        if let Some(e) = current.take_if(|_| self.inner.flights.in_air(&entry_key)) {
            stats.stale_serve();
            return Ok(e.payload);
        }
        stats.miss();
        // Looked up on the miss path only: a hit costs nothing here.
        let within = LoadScope::of(within);
        if within.contains(&entry_key) {
            return Err(Error::invalid(format!(
                "get_or_set({key:?}) was called from its own loader (directly or through \
                 other loaders): it would wait for itself"
            )));
        }
        let scope = within.enter(&entry_key);
        let id = host::next_call_id();
        let loader = move |key: &str| Scoped::start(scope, id, || loader(key, id));
        let this = self.clone();
        let (k, ek, o) = (key.to_string(), entry_key.clone(), opts.clone());
        let landed = stats.count(
            self.inner
                .flights
                .run(
                    &entry_key,
                    self.inner.opts.lock_timeout,
                    move || -> BoxFuture<'static, single_flight::Landed> {
                        Box::pin(async move {
                            this.load(&k, &ek, &o, current, down, loader)
                                .await
                                .map(Arc::new)
                        })
                    },
                )
                .await,
        )?;
        Ok(Arc::try_unwrap(landed).unwrap_or_else(|shared| (*shared).clone()))
    }

    /// Cache-aside with the namespace codec and the namespace ttl.
    pub async fn get_or_set<T, F, Fut, E>(&self, key: &str, loader: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned + MaybeSend + 'static,
        F: FnOnce() -> Fut + MaybeSend + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + MaybeSend + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        self.get_or_set_with(key, &SetOptions::default(), loader)
            .await
    }

    /// Cache-aside with the namespace codec and per-call options (ttl, tags).
    pub async fn get_or_set_with<T, F, Fut, E>(
        &self,
        key: &str,
        opts: &SetOptions,
        loader: F,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned + MaybeSend + 'static,
        F: FnOnce() -> Fut + MaybeSend + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + MaybeSend + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let codec = self.inner.opts.codec;
        let raw = self
            .get_or_set_bytes(key, opts, move || async move {
                let value = loader().await.map_err(Error::loader)?;
                codec.encode(&value)
            })
            .await?;
        codec.decode(&raw)
    }

    /// GET the entry of `key` (checked by the caller) and decode it, with the server's time
    /// it is to be judged by: entries say in server time until when they are fresh (one
    /// clock reading per hit). A value that is not a redkit entry reads as a miss (and is
    /// overwritten by the next write). With a near cache, its copy if it has one still alive
    /// then (none before the server's time is known). With `soft` (fail_safe's soft
    /// timeout), a [`Error::Timeout`] once it has passed.
    async fn read(&self, key: &str, soft: Option<Duration>) -> Result<(Option<Envelope>, u64)> {
        let local_ms = rt::now_ms();
        let clock = self.inner.client.server_clock();
        let known = clock.now(local_ms);
        let transport = self.inner.client.transport();
        let read = READ_KEY.with_borrow_mut(|entry_key| {
            self.inner.keys.write_key(entry_key, "k", key);
            let grace = self.inner.opts.stale_ttl.as_millis() as u64;
            let ticket = match (self.inner.near.as_ref(), known) {
                (Some(near), Some(now_ms)) => match near.lookup(entry_key, now_ms, grace) {
                    near::Lookup::Hit(entry) => return Read::Near(entry, now_ms),
                    near::Lookup::Miss(ticket) => Some(ticket),
                    near::Lookup::Off => None,
                },
                _ => None,
            };
            let get = match soft {
                Some(within) => transport.get_within(entry_key, within),
                None => transport.get(entry_key),
            };
            Read::Redis(get, ticket)
        });
        let (pending, ticket) = match read {
            Read::Near(entry, now_ms) => {
                if entry.is_fresh(now_ms) {
                    self.inner.stats.near_hits(1);
                }
                return Ok((Some(entry), now_ms));
            }
            Read::Redis(pending, ticket) => (pending, ticket),
        };
        let (raw, now_ms) = match known {
            Some(now_ms) if !clock.claim_measurement(local_ms) => (pending.await, now_ms),
            // TIME travels beside the GET: no wait for a round trip of its own.
            _ => {
                let measured = async {
                    let (raw, ()) = join(pending, clock.measure(transport)).await;
                    raw
                };
                // The TIME beside the GET is bounded by the soft timeout too.
                let raw = match soft {
                    Some(within) => rt::timeout(within, "cache read", measured).await,
                    None => measured.await,
                };
                (raw, clock.at(local_ms))
            }
        };
        let entry = raw?.and_then(|r| Envelope::decode(r).ok());
        if let Some(ticket) = ticket {
            ticket.fill(entry.as_ref());
        }
        Ok((entry, now_ms))
    }

    /// The miss path, run once per process per key (single flight). `down` is the failure
    /// of the read before, when `fail_safe` answers for it: the loader's value is then
    /// returned unstored, Redis not asked again.
    async fn load<F, Fut>(
        &self,
        key: &str,
        entry_key: &str,
        opts: &SetOptions,
        current: Option<Envelope>,
        down: Option<Error>,
        loader: F,
    ) -> Result<Vec<u8>>
    where
        F: FnOnce(&str) -> Fut,
        Fut: Future<Output = Result<Vec<u8>>>,
    {
        let stats = &self.inner.stats;
        // Every call of the loader below, whichever path makes it, is one counted call.
        let loader = |key: &str| {
            stats.loader_call();
            loader(key)
        };
        if let Some(e) = down {
            self.fell_back(Fallback::Loader, &e);
            return loader(key).await;
        }
        let token = rt::token();
        let refreshing = current.is_some();
        // What fail_safe serves if the lock script fails (a copy on the miss path only).
        let kept = current
            .as_ref()
            .filter(|_| self.inner.fail_safe.is_some())
            .cloned();
        let epochs = match self
            .acquire(key, entry_key, opts, &token, refreshing, current)
            .await
        {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(epochs)) => epochs,
            // Redis takes no writes (maxmemory under noeviction) but the loader can still
            // answer: its value is returned, not stored.
            Err(e) if refuses_writes(&e) => return loader(key).await,
            Err(e) if self.fails_safe(&e) => {
                return match kept {
                    Some(copy) => {
                        self.fell_back(Fallback::Stale, &e);
                        stats.stale_serve();
                        Ok(copy.payload)
                    }
                    None => {
                        self.fell_back(Fallback::Loader, &e);
                        loader(key).await
                    }
                };
            }
            Err(e) => return Err(e),
        };
        let holds_lock = epochs.0;
        let started = rt::now_ms();
        match loader(key).await {
            Ok(value) => {
                let delta = rt::now_ms().saturating_sub(started);
                let lock_token = if holds_lock {
                    Some(token.as_str())
                } else {
                    None
                };
                let write = self.write(
                    entry_key,
                    key,
                    &value,
                    opts,
                    delta,
                    Some((&epochs.1, lock_token)),
                );
                match self.guarded("cache write", write).await {
                    Ok(_) => Ok(value),
                    Err(e) if self.fails_safe(&e) && !refuses_writes(&e) => {
                        self.fell_back(Fallback::Loader, &e);
                        Ok(value)
                    }
                    // Memory ran out while loading: the value is returned, not stored, and
                    // the lock (a DEL, which Redis still takes) is not left to expire.
                    Err(e) if refuses_writes(&e) => {
                        if holds_lock {
                            self.unlock(key, &token).await;
                        }
                        Ok(value)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => {
                if holds_lock {
                    self.unlock(key, &token).await;
                }
                // A stale value beats an error.
                match self.read_guarded(key).await {
                    Ok(Outcome::Read(Some(stale), _) | Outcome::Failed(Some(stale), _)) => {
                        stats.stale_serve();
                        Ok(stale.payload)
                    }
                    _ => Err(e),
                }
            }
        }
    }

    /// Release the lock of `key` if `token` still holds it. Best effort: the lock expires
    /// on its own if this fails.
    async fn unlock(&self, key: &str, token: &str) {
        let lock = [self.lock_key(key).into_bytes()];
        let args = [arg(token)];
        let unlock = UNLOCK.run(self.inner.client.transport(), &lock, &args);
        let _ = self.guarded("cache unlock", unlock).await;
    }

    /// Become the loader, or get a value without loading. `Ok(Ok(value))` is a value to
    /// return; `Ok(Err((holds_lock, epochs)))` means: load now.
    #[allow(clippy::type_complexity)]
    async fn acquire(
        &self,
        key: &str,
        entry_key: &str,
        opts: &SetOptions,
        token: &str,
        refreshing: bool,
        current: Option<Envelope>,
    ) -> Result<std::result::Result<Vec<u8>, (bool, Vec<Vec<u8>>)>> {
        let lock_ms = self.inner.opts.lock_timeout.as_millis() as u64;
        let give_up_at = rt::now_ms() + lock_ms;
        let mut pause = Duration::from_millis(5);
        let mut use_lock = self.inner.opts.lock;
        loop {
            let script = self.lock_script(key, entry_key, opts, token, refreshing, use_lock);
            match self.guarded("cache lock", script).await? {
                LockReply::Hit(e) => return Ok(Ok(e.payload)),
                LockReply::Locked(epochs) => return Ok(Err((use_lock, epochs))),
                LockReply::Busy(stale) => {
                    // Serve stale while the lock holder refreshes.
                    if let Some(e) = stale.or_else(|| current.clone()) {
                        self.inner.stats.stale_serve();
                        return Ok(Ok(e.payload));
                    }
                    if rt::now_ms() >= give_up_at {
                        // The holder is slow or gone: load without the lock rather than fail.
                        use_lock = false;
                        continue;
                    }
                    rt::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
            }
        }
    }

    async fn lock_script(
        &self,
        key: &str,
        entry_key: &str,
        opts: &SetOptions,
        token: &str,
        refreshing: bool,
        use_lock: bool,
    ) -> Result<LockReply> {
        let mut keys = vec![
            entry_key.as_bytes().to_vec(),
            self.lock_key(key).into_bytes(),
        ];
        keys.extend(self.tag_keys(&opts.tags)?);
        let lock_ms = self.inner.opts.lock_timeout.as_millis() as u64;
        let args = [
            arg(token),
            arg(lock_ms),
            arg(if refreshing { "1" } else { "0" }),
            arg(if use_lock { "1" } else { "0" }),
        ];
        let mut reply = LOCK
            .run(self.inner.client.transport(), &keys, &args)
            .await?
            .into_array()?
            .into_iter();
        let status = reply
            .next()
            .map(|v| v.into_string())
            .transpose()?
            .flatten()
            .unwrap_or_default();
        let entry = |v: Option<Value>| -> Result<Option<Envelope>> {
            Ok(match v {
                Some(Value::Bulk(b)) => Envelope::decode(b).ok(),
                _ => None,
            })
        };
        match status.as_str() {
            "hit" => match entry(reply.next())? {
                Some(e) => Ok(LockReply::Hit(e)),
                None => Err(Error::Decode(
                    "cache_lock returned an unreadable entry".into(),
                )),
            },
            "busy" => Ok(LockReply::Busy(entry(reply.next())?)),
            "locked" => Ok(LockReply::Locked(
                reply
                    .map(|v| v.into_bytes().map(|b| b.unwrap_or_else(|| b"0".to_vec())))
                    .collect::<Result<_>>()?,
            )),
            other => Err(Error::Decode(format!("cache_lock returned {other:?}"))),
        }
    }

    /// Store an entry. `guard` carries the epochs seen before loading and the lock token,
    /// for the miss path. Returns whether it was stored.
    async fn write(
        &self,
        entry_key: &str,
        key: &str,
        value: &[u8],
        opts: &SetOptions,
        delta_ms: u64,
        guard: Option<(&Vec<Vec<u8>>, Option<&str>)>,
    ) -> Result<bool> {
        let ttl = opts.ttl.unwrap_or(self.inner.opts.ttl);
        options::check_ttl("ttl", ttl)?;
        let fresh = ttl + rt::random_up_to(self.inner.opts.jitter);
        let hard = fresh + self.inner.opts.stale_ttl;
        let mut keys = vec![
            entry_key.as_bytes().to_vec(),
            self.lock_key(key).into_bytes(),
            self.tag_record_key(key).into_bytes(),
        ];
        keys.extend(self.tag_keys(&opts.tags)?);
        let (epochs, token) = match guard {
            Some((epochs, token)) => (epochs.clone(), token.unwrap_or("")),
            None => (Vec::new(), ""),
        };
        let mut args = vec![
            arg(fresh.as_millis() as u64),
            arg(hard.as_millis() as u64),
            arg(delta_ms),
            value.to_vec(),
            arg(token),
        ];
        args.extend(epochs);
        // Held until the reply: no read overlapping the write may refill the near cache.
        let _writing = self.near_for_writes().map(|n| n.begin_write(entry_key));
        let stored = SET
            .run(self.inner.client.transport(), &keys, &args)
            .await?
            .as_int()?;
        Ok(stored == 1)
    }
}
