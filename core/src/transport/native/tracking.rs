//! The tracking connection behind near caches (see [`crate::cache::near`]).
//!
//! One RESP3 connection per client, made when the first near cache is asked for, asks Redis
//! to broadcast every change under each near cache's key prefix
//! (`CLIENT TRACKING ON BCAST PREFIX ...`). Broadcast mode rather than the default
//! (per key read) because reads go out on the data connection, not this one, and because
//! it needs no per-key memory on the server. Redis pushes `invalidate` messages, which
//! redis-rs hands to a closure here as it parses them, so by the time any later reply on
//! this connection resolves, the invalidations before it have been applied:
//! [`Tracker::sync`] relies on that.
//!
//! A store serves entries only while this connection follows its prefix. When the
//! connection drops (redis-rs reports it at once) or stops answering the health PING,
//! every store is emptied and turned off until a new connection follows it again: changes
//! made meanwhile were never announced.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, PushKind};
use tokio::sync::Notify;

use crate::cache::NearCache;
use crate::error::{Error, Result};

/// How often the connection is checked with a PING, and how long the PING may take: a
/// connection that died without a word (a half-open socket) is noticed within twice this.
const HEALTH_INTERVAL: Duration = Duration::from_secs(1);

/// The first pause before reconnecting; it doubles up to the client's `retry_backoff_max`.
const FIRST_PAUSE: Duration = Duration::from_millis(50);

/// Keeps the near caches of one client coherent with Redis.
pub struct Tracker {
    shared: Arc<Shared>,
    /// Where the connection task runs; the runtime current when the client was made.
    runtime: Option<tokio::runtime::Handle>,
}

struct Shared {
    client: redis::Client,
    connect_timeout: Duration,
    backoff_max: Duration,
    state: Mutex<State>,
    /// A store was added, the connection broke, or the tracker closed.
    changed: Notify,
}

#[derive(Default)]
struct State {
    stores: Vec<Arc<NearCache>>,
    /// The live connection, for [`Tracker::sync`].
    conn: Option<MultiplexedConnection>,
    started: bool,
    closed: bool,
}

impl Tracker {
    /// A tracker for the server `info` describes (the client's parsed URL); nothing
    /// connects until a near cache is asked for.
    pub fn new(
        info: redis::ConnectionInfo,
        connect_timeout: Duration,
        backoff_max: Duration,
    ) -> Result<Self> {
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(settings))
            .map_err(|e| Error::invalid(format!("bad url: {e}")))?;
        Ok(Tracker {
            shared: Arc::new(Shared {
                client,
                connect_timeout,
                backoff_max,
                state: Mutex::new(State::default()),
                changed: Notify::new(),
            }),
            runtime: tokio::runtime::Handle::try_current().ok(),
        })
    }

    /// The near cache of the keys under `prefix`: the one already made for that prefix (the
    /// first one's capacity stands), or a new one, live once Redis confirms it tracks the
    /// prefix. `None` without a tokio runtime to run the tracking connection on.
    pub fn near_cache(&self, prefix: &str, capacity: usize) -> Option<Arc<NearCache>> {
        let runtime = self.runtime.as_ref()?;
        let mut state = self.shared.state();
        if state.closed {
            return None;
        }
        if let Some(near) = state.store(prefix) {
            return Some(near);
        }
        let near = NearCache::new(prefix.to_string(), capacity);
        state.stores.push(Arc::clone(&near));
        if !std::mem::replace(&mut state.started, true) {
            runtime.spawn(follow_forever(Arc::downgrade(&self.shared)));
        }
        drop(state);
        self.shared.changed.notify_one();
        Some(near)
    }

    /// The near cache made for `prefix`, if one was.
    pub fn near_cache_of(&self, prefix: &str) -> Option<Arc<NearCache>> {
        self.shared.state().store(prefix)
    }

    /// Wait until every invalidation for changes Redis made before this call has reached
    /// the stores: a PING on the tracking connection, whose reply comes after them. If the
    /// connection cannot answer, the stores are emptied instead.
    pub async fn sync(&self) {
        let Some(mut conn) = self.shared.state().conn.clone() else {
            return;
        };
        let ping = redis::cmd("PING");
        let answered = tokio::time::timeout(
            self.shared.connect_timeout,
            ping.query_async::<redis::Value>(&mut conn),
        )
        .await;
        if !matches!(answered, Ok(Ok(_))) {
            self.shared.stores().iter().for_each(|n| n.clear());
        }
    }

    /// Stop tracking: the stores turn off and the connection closes.
    pub fn close(&self) {
        let stores = {
            let mut state = self.shared.state();
            state.closed = true;
            state.conn = None;
            state.stores.clone()
        };
        stores.iter().for_each(|n| n.set_live(false));
        self.shared.changed.notify_one();
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.close();
    }
}

impl State {
    /// The store made for `prefix`, if one was.
    fn store(&self, prefix: &str) -> Option<Arc<NearCache>> {
        self.stores.iter().find(|n| n.prefix() == prefix).cloned()
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // Each mutation is a single assignment or push: a panic elsewhere leaves it whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stores(&self) -> Vec<Arc<NearCache>> {
        self.state().stores.clone()
    }

    fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// Apply one push from a tracking connection; `broken` is that connection's flag.
    fn pushed(&self, push: PushInfo, broken: &AtomicBool) {
        match push.kind {
            PushKind::Invalidate => match push.data.first() {
                Some(redis::Value::Array(keys)) => {
                    let stores = self.stores();
                    for key in keys {
                        if let redis::Value::BulkString(key) = key {
                            let Ok(key) = std::str::from_utf8(key) else {
                                continue;
                            };
                            if let Some(near) = stores.iter().find(|n| key.starts_with(n.prefix()))
                            {
                                near.invalidate(key);
                            }
                        }
                    }
                }
                // A null list: the server flushed everything.
                _ => self.stores().iter().for_each(|n| n.clear()),
            },
            // Once a connection is retired (see `follow`), its late news is ignored: the
            // stores belong to its successor by then.
            PushKind::Disconnection if !broken.swap(true, Ordering::SeqCst) => {
                self.stores().iter().for_each(|n| n.set_live(false));
                self.changed.notify_one();
            }
            _ => {}
        }
    }

    async fn connect(self: &Arc<Self>, broken: Arc<AtomicBool>) -> Result<MultiplexedConnection> {
        let weak = Arc::downgrade(self);
        let on_push = move |push: PushInfo| -> std::result::Result<(), ()> {
            // A push for a tracker that is gone has nowhere to go.
            if let Some(shared) = weak.upgrade() {
                shared.pushed(push, &broken);
            }
            Ok(())
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.connect_timeout))
            .set_push_sender(on_push);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| Error::Connection(format!("tracking connection: {e}")))
    }

    /// Follow every store's prefix on one connection until it breaks or the tracker closes.
    async fn follow(self: &Arc<Self>) {
        let broken = Arc::new(AtomicBool::new(false));
        let Ok(mut conn) = self.connect(Arc::clone(&broken)).await else {
            return;
        };
        self.state().conn = Some(conn.clone());
        let mut followed: Vec<Arc<NearCache>> = Vec::new();
        while !broken.load(Ordering::SeqCst) && !self.is_closed() {
            let new: Vec<_> = self
                .stores()
                .into_iter()
                .filter(|n| !followed.iter().any(|f| Arc::ptr_eq(f, n)))
                .collect();
            if !new.is_empty() {
                let mut cmd = redis::cmd("CLIENT");
                cmd.arg("TRACKING").arg("ON").arg("BCAST");
                for near in &new {
                    cmd.arg("PREFIX").arg(near.prefix());
                }
                if cmd.query_async::<()>(&mut conn).await.is_err() {
                    break;
                }
                new.iter().for_each(|n| n.set_live(true));
                followed.extend(new);
                continue;
            }
            tokio::select! {
                _ = self.changed.notified() => {}
                _ = tokio::time::sleep(HEALTH_INTERVAL) => {
                    let ping = redis::cmd("PING");
                    let pong = ping.query_async::<redis::Value>(&mut conn);
                    if !matches!(tokio::time::timeout(HEALTH_INTERVAL, pong).await, Ok(Ok(_))) {
                        break;
                    }
                }
            }
        }
        broken.store(true, Ordering::SeqCst);
        self.state().conn = None;
        followed.iter().for_each(|n| n.set_live(false));
    }
}

/// The tracking connection's task: follow, and when the connection is lost, reconnect with
/// backoff, until the tracker is closed or dropped.
async fn follow_forever(shared: Weak<Shared>) {
    let mut pause = FIRST_PAUSE;
    loop {
        let Some(s) = shared.upgrade() else { return };
        if s.is_closed() {
            return;
        }
        let began = tokio::time::Instant::now();
        s.follow().await;
        let backoff_max = s.backoff_max;
        drop(s);
        // A connection that lasted resets the backoff; one that failed at once doubles it.
        pause = if began.elapsed() > HEALTH_INTERVAL {
            FIRST_PAUSE
        } else {
            (pause * 2).min(backoff_max.max(FIRST_PAUSE))
        };
        tokio::time::sleep(pause).await;
    }
}
