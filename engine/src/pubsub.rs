//! Pub/sub: PUBLISH (answers how many subscribers received the message) and in-process
//! subscriptions by channel or glob pattern. A subscriber that falls too far behind is
//! dropped, as Redis disconnects a subscriber that exceeds its output buffer limit.

use std::collections::HashMap;

use tokio::sync::mpsc;

use super::command::{Ctx, Spec};
use super::glob::glob_match;
use super::reply::Reply;
use redkit_protocol::Value;

pub(crate) static COMMANDS: &[Spec] = &[Spec::new("publish", 3, 0, publish)];

/// How many undelivered messages one subscription may hold before it is dropped.
pub(crate) const BACKLOG: usize = 65_536;

/// One message received by a [`super::Subscription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The channel it was published to.
    pub channel: Vec<u8>,
    /// The payload.
    pub payload: Vec<u8>,
    /// The pattern that matched, for pattern subscriptions.
    pub pattern: Option<Vec<u8>>,
}

struct Subscriber {
    channels: Vec<Vec<u8>>,
    patterns: Vec<Vec<u8>>,
    tx: mpsc::Sender<Message>,
}

/// Every live subscription of one engine.
#[derive(Default)]
pub(crate) struct PubSub {
    next: u64,
    subs: HashMap<u64, Subscriber>,
}

impl PubSub {
    /// Register a subscriber; its id and the receiving end.
    pub fn subscribe(
        &mut self,
        channels: Vec<Vec<u8>>,
        patterns: Vec<Vec<u8>>,
    ) -> (u64, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(BACKLOG);
        self.next += 1;
        self.subs.insert(
            self.next,
            Subscriber {
                channels,
                patterns,
                tx,
            },
        );
        (self.next, rx)
    }

    /// Forget a subscriber.
    pub fn unsubscribe(&mut self, id: u64) {
        self.subs.remove(&id);
    }

    /// Deliver to every matching subscription; how many deliveries were made.
    pub fn publish(&mut self, channel: &[u8], payload: &[u8]) -> usize {
        let mut delivered = 0;
        let mut gone = Vec::new();
        for (id, sub) in &self.subs {
            let direct = sub
                .channels
                .iter()
                .filter(|c| c.as_slice() == channel)
                .map(|_| None);
            let by_pattern = sub
                .patterns
                .iter()
                .filter(|p| glob_match(p, channel))
                .map(|p| Some(p.clone()));
            for pattern in direct.chain(by_pattern) {
                let msg = Message {
                    channel: channel.to_vec(),
                    payload: payload.to_vec(),
                    pattern,
                };
                if sub.tx.try_send(msg).is_ok() {
                    delivered += 1;
                } else {
                    gone.push(*id);
                    break;
                }
            }
        }
        for id in gone {
            self.subs.remove(&id);
        }
        delivered
    }
}

fn publish(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(ctx.pubsub.publish(&args[1], &args[2]) as i64))
}
