//! Push channels: a connection of its own on which Redis pushes messages the client did not
//! ask for one by one: key invalidations (`CLIENT TRACKING`, behind the near cache) today,
//! pub/sub messages (`SUBSCRIBE`, `PSUBSCRIBE`) next.
//!
//! A channel remembers its subscriptions ([`Topic`]s) and makes every one of them again on
//! each new connection, before anything else is sent on it. What Redis pushed while the
//! connection was down is lost, and the consumer is told so: a [`PushEvent::Gap`] when
//! the connection is lost, a [`PushEvent::Resubscribed`] once every subscription is back.
//! A consumer that keeps state derived from the messages (the near cache) drops it at the
//! gap; one that delivers messages (pub/sub) reports the gap to its user.
//!
//! Events reach the [`PushHandler`] in the order the connection read them, as it reads
//! them: when a reply on the channel's connection (say, [`PushChannel::sync`]'s PING)
//! resolves, every push read before it has been handled. The handler therefore runs while
//! the connection parses and must be quick; it must not call the channel it belongs to.

use std::sync::Arc;

use crate::error::Result;
use crate::transport::{BoxFuture, MaybeSend, MaybeSync};
use crate::value::Value;

/// One subscription of a push channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Invalidations of every key under a prefix (`CLIENT TRACKING ON BCAST PREFIX p`):
    /// `invalidate` pushes carrying the changed keys, or nil when everything was flushed.
    Tracking(String),
    /// Messages published to one channel (`SUBSCRIBE`): `message` pushes.
    Channel(Vec<u8>),
    /// Messages published to every channel matching a glob pattern (`PSUBSCRIBE`):
    /// `pmessage` pushes.
    Pattern(Vec<u8>),
}

impl Topic {
    /// The command that makes this subscription.
    pub fn subscribe_command(&self) -> Vec<&[u8]> {
        match self {
            Topic::Tracking(prefix) => vec![
                b"CLIENT",
                b"TRACKING",
                b"ON",
                b"BCAST",
                b"PREFIX",
                prefix.as_bytes(),
            ],
            Topic::Channel(name) => vec![b"SUBSCRIBE", name],
            Topic::Pattern(pattern) => vec![b"PSUBSCRIBE", pattern],
        }
    }

    /// The command that ends it, `None` where Redis has none for this one subscription
    /// (tracking is turned off for every prefix at once).
    pub fn unsubscribe_command(&self) -> Option<Vec<&[u8]>> {
        match self {
            Topic::Tracking(_) => None,
            Topic::Channel(name) => Some(vec![b"UNSUBSCRIBE", name]),
            Topic::Pattern(pattern) => Some(vec![b"PUNSUBSCRIBE", pattern]),
        }
    }

    /// Whether Redis answers the subscribe command with a reply (`CLIENT TRACKING`: `+OK`)
    /// rather than with a push that confirms it (`SUBSCRIBE` under RESP3).
    pub fn replies(&self) -> bool {
        matches!(self, Topic::Tracking(_))
    }
}

/// What a push channel reports.
#[derive(Debug, Clone, PartialEq)]
pub enum PushEvent {
    /// A message Redis pushed: its kind (`invalidate`, `message`, `pmessage`, `subscribe`,
    /// ...) and the rest of its fields.
    Message {
        /// The push's first field.
        kind: String,
        /// Its other fields, in order.
        data: Vec<Value>,
    },
    /// A subscription made while connected is in effect from now on.
    Subscribed(Topic),
    /// Redis refused a subscription (its error); the channel no longer keeps it.
    Refused {
        /// The subscription.
        topic: Topic,
        /// Redis's error reply.
        error: String,
    },
    /// The connection is lost: pushes from now until the next [`PushEvent::Resubscribed`]
    /// are lost with it.
    Gap {
        /// Why the connection was lost.
        reason: String,
    },
    /// A new connection has made every subscription again: pushes for `topics` (every
    /// subscription in effect on it) flow from here on.
    Resubscribed {
        /// The subscriptions in effect.
        topics: Vec<Topic>,
    },
}

/// Where a channel's events go, in order, as the connection reads them (see the module
/// documentation: be quick, do not call the channel).
#[cfg(not(target_arch = "wasm32"))]
pub type PushHandler = Arc<dyn Fn(PushEvent) + Send + Sync>;
/// Where a channel's events go, in order, as the connection reads them.
#[cfg(target_arch = "wasm32")]
pub type PushHandler = Arc<dyn Fn(PushEvent)>;

/// A connection of its own that subscribes; see the module documentation. Dropping it
/// closes its connection.
pub trait PushChannel: MaybeSend + MaybeSync {
    /// Subscribe to `topic` now (if connected: a [`PushEvent::Subscribed`] or
    /// [`PushEvent::Refused`] follows) and on every connection from now on (if not: the
    /// next [`PushEvent::Resubscribed`] covers it). Subscribing twice to one topic is one
    /// subscription.
    fn subscribe(&self, topic: Topic) -> Result<()>;

    /// Stop following `topic`, now and on later connections. An
    /// [`crate::Error::InvalidArgument`] for a topic Redis cannot end alone (tracking).
    fn unsubscribe(&self, topic: &Topic) -> Result<()>;

    /// Resolves once every push Redis sent before the call has reached the handler (a
    /// round trip on the channel's connection); an error when the connection could not
    /// answer.
    fn sync(&self) -> BoxFuture<'_, Result<()>>;

    /// Close the connection for good.
    fn close(&self);
}

/// A handler that forwards every event into an unbounded stream, for consumers that read
/// events as a stream (pub/sub) rather than handle them as they are parsed.
#[cfg(feature = "native")]
pub fn stream() -> (PushHandler, tokio::sync::mpsc::UnboundedReceiver<PushEvent>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let handler: PushHandler = Arc::new(move |event| {
        // A consumer that stopped reading no longer needs the events.
        let _ = tx.send(event);
    });
    (handler, rx)
}
