//! The client: a cheap, cloneable handle on one transport, and the door to every pattern.

use std::sync::Arc;

use crate::cache::tracking::Tracker;
use crate::cache::CacheBuilder;
use crate::error::{Error, Result};
use crate::health::HealthReport;
use crate::incidents::{Reporter, ReporterSlot};
use crate::options::ConnectOptions;
use crate::ratelimit::RateLimiterBuilder;
use crate::rt;
use crate::server_clock::ServerClock;
use crate::transport::Transport;
use crate::value::Cmd;

/// The data-layout version this build reads and writes (see docs/WIRE.md).
pub const LAYOUT_VERSION: &str = "1";

/// Whether `url` names the in-process engine (`embedded://`) rather than a server.
pub fn is_embedded_url(url: &str) -> bool {
    url.starts_with("embedded:")
}

/// A connection to Redis (or to any [`Transport`]) and the patterns built on it.
///
/// Cloning is cheap and shares the one underlying connection: make one client per process
/// and clone it where needed.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn Transport>,
    prefix: String,
    /// The near caches of every cache handle of this client, and the push channel that
    /// keeps them coherent.
    near: Tracker,
    /// The server's clock, which cache entries are judged by.
    clock: ServerClock,
    /// Where decisions made because Redis failed are reported.
    reporter: ReporterSlot,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.inner.transport.name())
            .field("prefix", &self.inner.prefix)
            .finish()
    }
}

impl Client {
    /// Connect to a Redis server with the default options.
    #[cfg(feature = "native")]
    pub async fn connect(url: &str) -> Result<Client> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    /// Connect to a Redis server with the given options.
    ///
    /// The URL `embedded://` makes a client on a fresh in-process engine instead (see
    /// [`Client::embedded`]), so a program that takes a URL runs with no server at all.
    #[cfg(feature = "native")]
    pub async fn connect_with(url: &str, opts: ConnectOptions) -> Result<Client> {
        if is_embedded_url(url) {
            opts.validate()?;
            return Self::embedded_with(crate::EmbeddedOptions {
                prefix: opts.prefix,
                ..Default::default()
            });
        }
        let lazy = opts.lazy_connect;
        let prefix = opts.prefix.clone();
        let transport = crate::transport::native::NativeTransport::connect(url, opts).await?;
        let client = Client::from_transport(Arc::new(transport), &prefix)?;
        if !lazy {
            client.check_layout().await?;
        }
        Ok(client)
    }

    /// Start configuring a connection: `Client::builder(url).prefix("app").build().await`.
    #[cfg(feature = "native")]
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder {
            url: url.to_string(),
            opts: ConnectOptions::default(),
        }
    }

    /// A client on a fresh in-process engine: every pattern, the same scripts, no server.
    /// Clones share the engine; see [`crate::Engine`] to reach it directly.
    #[cfg(feature = "embedded")]
    pub fn embedded() -> Result<Client> {
        Self::embedded_with(crate::EmbeddedOptions::default())
    }

    /// [`Client::embedded`] with options (prefix, script timeout, expiry sweep interval).
    #[cfg(feature = "embedded")]
    pub fn embedded_with(opts: crate::EmbeddedOptions) -> Result<Client> {
        let engine = crate::Engine::with_options(&opts)?;
        Client::from_transport(Arc::new(engine), &opts.prefix)
    }

    /// A client over any transport (the wasm transports, the embedded engine, a test
    /// double). `prefix` namespaces every key.
    pub fn from_transport(transport: Arc<dyn Transport>, prefix: &str) -> Result<Client> {
        let probe = ConnectOptions {
            prefix: prefix.to_string(),
            ..ConnectOptions::default()
        };
        probe.validate()?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                prefix: prefix.to_string(),
                near: Tracker::default(),
                clock: ServerClock::default(),
                reporter: ReporterSlot::default(),
            }),
        })
    }

    /// The transport this client sends through.
    pub fn transport(&self) -> &dyn Transport {
        &*self.inner.transport
    }

    /// The offset of the server's clock from this host's (see [`crate::server_clock`]).
    pub(crate) fn server_clock(&self) -> &ServerClock {
        &self.inner.clock
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// Round-trip a PING.
    pub async fn ping(&self) -> Result<()> {
        self.transport().send(Cmd::new("PING")).await.map(|_| ())
    }

    /// Close the connection; every later call fails with [`Error::Closed`].
    pub async fn close(&self) -> Result<()> {
        self.inner.near.close();
        self.transport().close().await
    }

    /// Receive the decisions this client's caches and rate limiters make because Redis
    /// failed, at most one per cache or limiter per
    /// [`REPORT_INTERVAL`](crate::incidents::REPORT_INTERVAL) (see [`crate::incidents`]);
    /// `None` stops the reports. Clones share the reporter.
    pub fn set_reporter(&self, reporter: Option<Arc<dyn Reporter>>) {
        self.inner.reporter.set(reporter);
    }

    /// Where this client's incidents go.
    pub(crate) fn reporter(&self) -> &ReporterSlot {
        &self.inner.reporter
    }

    /// The near caches of this client.
    pub(crate) fn near_caches(&self) -> &Tracker {
        &self.inner.near
    }

    /// What the server is and how it is configured, with warnings for settings that
    /// lose data: no AOF, an `allkeys-*` eviction policy (a `volatile-*` one is safe
    /// with queues: queue keys never carry an expiry, cache entries always do). Queued
    /// jobs are named as at risk only when the prefix has queues.
    pub async fn check(&self) -> Result<HealthReport> {
        crate::health::check(self.transport(), self.prefix()).await
    }

    /// A cache namespace; configure it on the builder, then `build()`.
    pub fn cache(&self, namespace: &str) -> CacheBuilder {
        CacheBuilder::new(self.clone(), namespace)
    }

    /// A named rate limiter; configure it on the builder, then `build()`.
    pub fn rate_limiter(&self, name: &str) -> RateLimiterBuilder {
        RateLimiterBuilder::new(self.clone(), name)
    }

    /// A worker running `processor` over the jobs of queue `queue`; configure it on the
    /// builder, then `build()` (which starts it unless `autorun(false)`).
    #[cfg(feature = "embedded")]
    pub fn worker(
        &self,
        queue: &str,
        processor: std::sync::Arc<dyn crate::worker::Processor>,
    ) -> crate::worker::WorkerBuilder {
        crate::worker::WorkerBuilder::new(self.clone(), queue, processor)
    }

    /// Record the layout version on first use, and refuse a server that holds data in a
    /// layout this build does not speak. Measures the server's clock in the same round trip.
    pub async fn check_layout(&self) -> Result<()> {
        let key = format!("{}:layout", self.prefix());
        let sent = rt::now_ms();
        let replies = self
            .transport()
            .pipeline(vec![
                Cmd::new("SETNX").arg(&key).arg(LAYOUT_VERSION),
                Cmd::new("GET").arg(&key),
                Cmd::new("TIME"),
            ])
            .await?;
        self.inner.clock.record(replies.get(2), sent, rt::now_ms());
        let stored = replies
            .into_iter()
            .nth(1)
            .unwrap_or(crate::Value::Nil)
            .into_string()?;
        match stored.as_deref() {
            Some(LAYOUT_VERSION) | None => Ok(()),
            Some(other) => Err(Error::invalid(format!(
                "the server holds redkit data in layout version {other}; this build speaks {LAYOUT_VERSION}"
            ))),
        }
    }
}

/// Builder for [`Client`] connections; every option of [`ConnectOptions`].
#[cfg(feature = "native")]
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    url: String,
    opts: ConnectOptions,
}

#[cfg(feature = "native")]
impl ClientBuilder {
    /// Key namespace (default `rk`).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.opts.prefix = prefix.to_string();
        self
    }
    /// Retries per request after a connection failure (default 3).
    pub fn retries(mut self, n: u32) -> Self {
        self.opts.retries = n;
        self
    }
    /// Cap of the backoff between retries (default 2 s).
    pub fn retry_backoff_max(mut self, d: std::time::Duration) -> Self {
        self.opts.retry_backoff_max = d;
        self
    }
    /// Deadline per command, retries included (default 5 s).
    pub fn timeout(mut self, d: std::time::Duration) -> Self {
        self.opts.timeout = d;
        self
    }
    /// Deadline for connecting (default 5 s).
    pub fn connect_timeout(mut self, d: std::time::Duration) -> Self {
        self.opts.connect_timeout = d;
        self
    }
    /// Connect on first use instead of now.
    pub fn lazy_connect(mut self, lazy: bool) -> Self {
        self.opts.lazy_connect = lazy;
        self
    }
    /// Let requests wait for a reconnect (default true).
    pub fn offline_queue(mut self, on: bool) -> Self {
        self.opts.offline_queue = on;
        self
    }
    /// Most requests waiting for a reconnect at once.
    pub fn offline_queue_max(mut self, n: usize) -> Self {
        self.opts.offline_queue_max = n;
        self
    }
    /// Replace every option at once.
    pub fn options(mut self, opts: ConnectOptions) -> Self {
        self.opts = opts;
        self
    }
    /// Connect.
    pub async fn build(self) -> Result<Client> {
        Client::connect_with(&self.url, self.opts).await
    }
}
