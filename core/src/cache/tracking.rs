//! The near caches of one client, kept coherent by Redis through a push channel (see
//! [`crate::cache::near`] and [`crate::transport::push`]).
//!
//! One push channel per client, opened when the first near cache is asked for, subscribes
//! to every change under each near cache's key prefix ([`Topic::Tracking`]:
//! `CLIENT TRACKING ON BCAST PREFIX ...`). Broadcast mode rather than the default (per key
//! read) because reads go out on the data connection, not the channel's, and because it
//! needs no per-key memory on the server. The channel hands each `invalidate` push to the
//! handler here as it parses it, so by the time a later reply on the channel resolves,
//! the invalidations before it have been applied: [`Tracker::sync`] relies on that.
//!
//! A store serves entries only while the channel follows its prefix: from its
//! [`PushEvent::Subscribed`] (or the [`PushEvent::Resubscribed`] of a new connection) to
//! the next [`PushEvent::Gap`], which empties every store and turns it off: changes made
//! while the connection was down were never announced.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::cache::NearCache;
use crate::transport::push::{PushChannel, PushEvent, PushHandler, Topic};
use crate::transport::Transport;
use crate::value::Value;

/// Keeps the near caches of one client coherent with Redis.
#[derive(Default)]
pub(crate) struct Tracker {
    /// The stores, shared with the channel's handler.
    stores: Arc<Stores>,
    /// The channel, opened for the first store. Never locked by the handler, so the
    /// channel may be called with it held.
    channel: Mutex<Channel>,
}

#[derive(Default)]
struct Stores(Mutex<Vec<Arc<NearCache>>>);

#[derive(Default)]
struct Channel {
    open: Option<Arc<dyn PushChannel>>,
    closed: bool,
}

impl Stores {
    fn all(&self) -> MutexGuard<'_, Vec<Arc<NearCache>>> {
        // Each mutation is a single push: a panic elsewhere leaves it whole.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn find(&self, prefix: &str) -> Option<Arc<NearCache>> {
        self.all().iter().find(|n| n.prefix() == prefix).cloned()
    }

    /// Apply one event of the channel.
    fn handle(&self, event: PushEvent) {
        match event {
            PushEvent::Message { kind, data } if kind == "invalidate" => match data.first() {
                Some(Value::Array(keys)) => {
                    let stores = self.all();
                    for key in keys {
                        let Value::Bulk(key) = key else { continue };
                        let Ok(key) = std::str::from_utf8(key) else {
                            continue;
                        };
                        if let Some(near) = stores.iter().find(|n| key.starts_with(n.prefix())) {
                            near.invalidate(key);
                        }
                    }
                }
                // A null list: the server flushed everything.
                _ => self.all().iter().for_each(|n| n.clear()),
            },
            PushEvent::Subscribed(Topic::Tracking(prefix)) => {
                if let Some(near) = self.find(&prefix) {
                    near.set_live(true);
                }
            }
            PushEvent::Resubscribed { topics } => {
                // Only the prefixes the new connection follows: a store made meanwhile
                // waits for its own `Subscribed`.
                for near in self.all().iter() {
                    let followed = topics
                        .iter()
                        .any(|t| matches!(t, Topic::Tracking(p) if p == near.prefix()));
                    if followed {
                        near.set_live(true);
                    }
                }
            }
            PushEvent::Gap { .. } => self.all().iter().for_each(|n| n.set_live(false)),
            // A refused prefix stays off: its store serves nothing.
            _ => {}
        }
    }
}

impl Tracker {
    fn channel(&self) -> MutexGuard<'_, Channel> {
        self.channel.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The near cache of the keys under `prefix`: the one already made for that prefix (the
    /// first one's capacity stands), or a new one, live once Redis confirms it tracks the
    /// prefix. `None` where `transport` has no push channel (or is closed).
    pub(crate) fn near_cache(
        &self,
        transport: &dyn Transport,
        prefix: &str,
        capacity: usize,
    ) -> Option<Arc<NearCache>> {
        let mut channel = self.channel();
        if channel.closed {
            return None;
        }
        if let Some(near) = self.stores.find(prefix) {
            return Some(near);
        }
        if channel.open.is_none() {
            let stores = Arc::clone(&self.stores);
            let handler: PushHandler = Arc::new(move |event| stores.handle(event));
            channel.open = transport
                .push_channel(handler)
                .ok()
                .flatten()
                .map(Arc::from);
        }
        let open = channel.open.as_ref()?;
        let near = NearCache::new(prefix.to_string(), capacity);
        self.stores.all().push(Arc::clone(&near));
        open.subscribe(Topic::Tracking(prefix.to_string())).ok()?;
        Some(near)
    }

    /// The near cache made for `prefix`, if one was.
    pub(crate) fn near_cache_of(&self, prefix: &str) -> Option<Arc<NearCache>> {
        self.stores.find(prefix)
    }

    /// Wait until every invalidation for changes Redis made before this call has reached
    /// the stores: a PING on the channel, whose reply comes after them. If the channel
    /// cannot answer, the stores are emptied instead.
    pub(crate) async fn sync(&self) {
        // The channel's lock is not held across the round trip.
        let Some(open) = self.channel().open.clone() else {
            return;
        };
        if open.sync().await.is_err() {
            self.stores.all().iter().for_each(|n| n.clear());
        }
    }

    /// Stop tracking: the stores turn off and the channel closes.
    pub(crate) fn close(&self) {
        let open = {
            let mut channel = self.channel();
            channel.closed = true;
            channel.open.take()
        };
        drop(open);
        self.stores.all().iter().for_each(|n| n.set_live(false));
    }
}
