//! The near cache: an in-process copy of a namespace's entries (an L1 in front of Redis),
//! kept coherent by Redis itself.
//!
//! A hit served from process memory skips the round trip, which no client can make
//! cheaper. The hard part is never serving a value Redis no longer holds. Redis tracks
//! the keys for us (server-assisted client-side caching, `CLIENT TRACKING ... BCAST`):
//! every change to a key under the namespace's prefix — a write or delete from any
//! process in any language, an expiry, an eviction, a FLUSHALL — is pushed to the
//! client's tracking connection, which calls [`NearCache::invalidate`] or
//! [`NearCache::clear`]. While that connection is down nothing is served or stored here:
//! [`NearCache::set_live`] flips the whole store off and on.
//!
//! The race every near cache must close: a read leaves on the data connection, another
//! process changes the key, and the change's invalidation arrives on the tracking
//! connection before the read's (old) reply. A read therefore takes a ticket before it
//! is sent; an invalidation of that key while the ticket is out marks it, and a marked
//! ticket's reply is returned to its caller but not stored. A read that began before the
//! tracking connection came up (an older generation) is not stored either.
//!
//! Writes through the same client (any handle of the namespace) must be visible to its next
//! read at once, without waiting for their invalidation to come back: a write holds a
//! guard on its key from before it is sent until its reply, and no read that
//! overlaps it stores its reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;

use crate::cache::envelope::Envelope;
use crate::rt;

/// How many entries eviction samples to find the least recently used one (as Redis does
/// for `allkeys-lru`): near-LRU quality at a constant cost per insert.
const EVICTION_SAMPLE: usize = 5;

/// One namespace's in-process entries; see the module documentation.
pub struct NearCache {
    /// The Redis key prefix of the namespace's entries (`rk:{cache:users}:k:`).
    prefix: String,
    capacity: usize,
    state: Mutex<State>,
}

struct State {
    /// The tracking connection is up and follows this prefix: entries may be served and
    /// stored.
    live: bool,
    /// Bumped whenever the store is emptied: a read that began before must not store.
    generation: u64,
    entries: IndexMap<String, Slot>,
    /// The entries held when tracking went down, for `fail_safe` only (see
    /// [`NearCache::kept`]); emptied when tracking comes back.
    reserve: HashMap<String, Envelope>,
    /// Reads and this client's writes in flight, by entry key.
    pending: HashMap<String, Pending>,
    /// Ticks on every hit and store; orders entries for eviction.
    clock: u64,
}

struct Slot {
    entry: Envelope,
    used: u64,
}

#[derive(Default)]
struct Pending {
    readers: u32,
    writers: u32,
    /// The key changed (or is being written) while these reads were in flight: their
    /// replies may be old.
    changed: bool,
    /// The latest-started of these reads that has answered: an earlier one answering
    /// after it carries an older value and must not replace its answer.
    newest_done: u64,
}

/// What [`NearCache::lookup`] found.
pub(crate) enum Lookup {
    /// The entry, from process memory.
    Hit(Envelope),
    /// Not here: read it from Redis, then hand the reply to the ticket.
    Miss(Ticket),
    /// The store is not live (tracking is down or not yet confirmed): read from Redis and
    /// keep nothing.
    Off,
}

/// A read in flight. Dropping it without [`Ticket::fill`] (an error, a cancelled future)
/// stores nothing.
pub(crate) struct Ticket {
    near: Arc<NearCache>,
    key: String,
    generation: u64,
    /// When the read started, on the store's clock.
    started: u64,
}

/// A write through this client in flight; see the module documentation.
pub(crate) struct WriteGuard {
    near: Arc<NearCache>,
    key: String,
}

impl NearCache {
    /// An empty store, not live until its tracking is confirmed.
    pub(crate) fn new(prefix: String, capacity: usize) -> Arc<NearCache> {
        Arc::new(NearCache {
            prefix,
            capacity,
            state: Mutex::new(State {
                live: false,
                generation: 0,
                entries: IndexMap::new(),
                reserve: HashMap::new(),
                pending: HashMap::new(),
                clock: 0,
            }),
        })
    }

    /// The key prefix this store covers.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// How many entries it holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many entries it holds now.
    pub fn len(&self) -> usize {
        self.state().entries.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether entries are being served and stored.
    pub fn is_live(&self) -> bool {
        self.state().live
    }

    /// The entry under `key` (a full Redis key), or a ticket to read it with. An entry
    /// stale for `grace_ms` or longer at `now_ms` is dropped: Redis has expired it (the
    /// entry's key lives `stale_ttl` past its fresh time), though its expiry may not have
    /// been announced yet (Redis deletes expired keys lazily).
    pub(crate) fn lookup(self: &Arc<Self>, key: &str, now_ms: u64, grace_ms: u64) -> Lookup {
        let mut state = self.state();
        if !state.live {
            return Lookup::Off;
        }
        state.clock += 1;
        let now = state.clock;
        match state.entries.get_mut(key) {
            Some(slot) if now_ms < slot.entry.fresh_until_ms.saturating_add(grace_ms) => {
                slot.used = now;
                return Lookup::Hit(slot.entry.clone());
            }
            Some(_) => {
                state.entries.swap_remove(key);
            }
            None => {}
        }
        state.pending.entry(key.to_string()).or_default().readers += 1;
        Lookup::Miss(Ticket {
            near: Arc::clone(self),
            key: key.to_string(),
            generation: state.generation,
            started: now,
        })
    }

    /// Forget `key`: another process (or this one) changed it. Reads of it in flight will
    /// not store their replies.
    pub fn invalidate(&self, key: &str) {
        let mut state = self.state();
        state.entries.swap_remove(key);
        state.reserve.remove(key);
        if let Some(p) = state.pending.get_mut(key) {
            p.changed = true;
        }
    }

    /// Announce a write of `key` through this client, before it is sent; the guard goes with
    /// its reply. Until then nothing read of `key` is stored.
    pub(crate) fn begin_write(self: &Arc<Self>, key: &str) -> WriteGuard {
        let mut state = self.state();
        state.entries.swap_remove(key);
        state.reserve.remove(key);
        let p = state.pending.entry(key.to_string()).or_default();
        p.writers += 1;
        p.changed = true;
        WriteGuard {
            near: Arc::clone(self),
            key: key.to_string(),
        }
    }

    /// Forget everything (FLUSHALL, FLUSHDB, or a change this store cannot pin to keys).
    pub fn clear(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.reserve.clear();
        state.generation += 1;
    }

    /// Turn serving and storing on (tracking confirmed) or off (tracking lost). Either way
    /// the store starts empty: while tracking was down, invalidations were missed.
    /// Entries held when tracking goes down are kept aside, served by [`NearCache::kept`]
    /// only: a fail-safe cache answering while Redis is unreachable prefers a copy that may
    /// have missed an invalidation to none.
    pub(crate) fn set_live(&self, live: bool) {
        let mut state = self.state();
        if state.live && !live {
            let held = std::mem::take(&mut state.entries);
            state.reserve = held.into_iter().map(|(k, slot)| (k, slot.entry)).collect();
        } else {
            state.entries.clear();
            state.reserve.clear();
        }
        state.live = live;
        state.generation += 1;
    }

    /// The copy of `key` this store has, served or kept aside, if Redis would still hold
    /// it at `now_ms` (see [`NearCache::lookup`]): what `fail_safe` answers with when Redis
    /// fails.
    pub(crate) fn kept(&self, key: &str, now_ms: u64, grace_ms: u64) -> Option<Envelope> {
        let state = self.state();
        let entry = match state.entries.get(key) {
            Some(slot) => &slot.entry,
            None => state.reserve.get(key)?,
        };
        (now_ms < entry.fresh_until_ms.saturating_add(grace_ms)).then(|| entry.clone())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every mutation leaves the maps consistent, so a panic elsewhere is no reason to
        // stop serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    /// A read or write of `key` is over: forget the key's marks once none is left.
    fn release(&mut self, key: &str, done: impl FnOnce(&mut Pending)) {
        if let Some(p) = self.pending.get_mut(key) {
            done(p);
            if p.readers == 0 && p.writers == 0 {
                self.pending.remove(key);
            }
        }
    }

    fn insert(&mut self, key: String, entry: Envelope, capacity: usize) {
        if capacity == 0 {
            return;
        }
        self.clock += 1;
        let used = self.clock;
        if !self.entries.contains_key(&key) && self.entries.len() >= capacity {
            self.evict_one();
        }
        self.entries.insert(key, Slot { entry, used });
    }

    /// Drop the least recently used of a few entries picked at random.
    fn evict_one(&mut self) {
        let len = self.entries.len();
        let victim = (0..EVICTION_SAMPLE.min(len))
            .map(|_| (rt::random_u64() % len as u64) as usize)
            .min_by_key(|&i| self.entries[i].used);
        if let Some(i) = victim {
            self.entries.swap_remove_index(i);
        }
    }
}

impl Ticket {
    /// Hand over what Redis answered: a redkit entry is stored unless the key changed
    /// while the read was in flight, the store was emptied since it began, or a read that
    /// began later has already answered.
    pub(crate) fn fill(self, entry: Option<&Envelope>) {
        let capacity = self.near.capacity;
        let mut state = self.near.state();
        let Some(p) = state.pending.get_mut(&self.key) else {
            return;
        };
        let superseded = p.newest_done > self.started;
        p.newest_done = p.newest_done.max(self.started);
        let keep = !p.changed && !superseded && state.live && state.generation == self.generation;
        if let (Some(entry), true) = (entry, keep) {
            state.insert(self.key.clone(), entry.clone(), capacity);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.near.state().release(&self.key, |p| p.readers -= 1);
    }
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        self.near.state().release(&self.key, |p| p.writers -= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(payload: &str) -> Envelope {
        Envelope {
            fresh_until_ms: u64::MAX,
            delta_ms: 0,
            payload: payload.as_bytes().to_vec(),
        }
    }

    fn live(capacity: usize) -> Arc<NearCache> {
        let near = NearCache::new("p:".into(), capacity);
        near.set_live(true);
        near
    }

    fn miss(near: &Arc<NearCache>, key: &str) -> Ticket {
        match near.lookup(key, 0, 0) {
            Lookup::Miss(t) => t,
            _ => panic!("expected a miss for {key}"),
        }
    }

    fn hit(near: &Arc<NearCache>, key: &str) -> Option<Vec<u8>> {
        match near.lookup(key, 0, 0) {
            Lookup::Hit(e) => Some(e.payload),
            _ => None,
        }
    }

    #[test]
    fn a_filled_read_is_served_until_invalidated() {
        let near = live(10);
        miss(&near, "p:a").fill(Some(&entry("1")));
        assert_eq!(hit(&near, "p:a"), Some(b"1".to_vec()));
        near.invalidate("p:a");
        assert_eq!(hit(&near, "p:a"), None);
    }

    #[test]
    fn an_entry_redis_has_expired_is_not_served() {
        let near = live(10);
        let e = Envelope {
            fresh_until_ms: 1_000,
            ..entry("1")
        };
        miss(&near, "p:a").fill(Some(&e));
        assert!(matches!(near.lookup("p:a", 1_499, 500), Lookup::Hit(_)));
        assert!(matches!(near.lookup("p:a", 1_500, 500), Lookup::Miss(_)));
        assert!(near.is_empty());
    }

    #[test]
    fn a_change_during_the_read_keeps_its_reply_out() {
        let near = live(10);
        let t = miss(&near, "p:a");
        near.invalidate("p:a");
        t.fill(Some(&entry("old")));
        assert_eq!(hit(&near, "p:a"), None);
        // The mark goes with the last reader: the next read stores again.
        miss(&near, "p:a").fill(Some(&entry("new")));
        assert_eq!(hit(&near, "p:a"), Some(b"new".to_vec()));
    }

    #[test]
    fn no_read_overlapping_a_write_of_this_process_is_stored() {
        let near = live(10);
        miss(&near, "p:a").fill(Some(&entry("old")));
        let before = miss(&near, "p:b");
        let write_a = near.begin_write("p:a");
        let write_b = near.begin_write("p:b");
        assert_eq!(hit(&near, "p:a"), None, "a write drops the entry at once");
        let during = miss(&near, "p:a");
        before.fill(Some(&entry("old")));
        during.fill(Some(&entry("old")));
        drop((write_a, write_b));
        assert!(near.is_empty());
        miss(&near, "p:a").fill(Some(&entry("new")));
        assert_eq!(hit(&near, "p:a"), Some(b"new".to_vec()));
        assert!(near.state().pending.is_empty());
    }

    #[test]
    fn an_earlier_read_answering_last_does_not_replace_a_later_one() {
        let near = live(10);
        let (first, second) = (miss(&near, "p:a"), miss(&near, "p:a"));
        second.fill(Some(&entry("new")));
        first.fill(Some(&entry("old")));
        assert_eq!(hit(&near, "p:a"), Some(b"new".to_vec()));
    }

    #[test]
    fn a_read_from_before_tracking_restarted_is_not_stored() {
        let near = live(10);
        let t = miss(&near, "p:a");
        near.set_live(false);
        near.set_live(true);
        t.fill(Some(&entry("1")));
        assert!(near.is_empty());
        let t = miss(&near, "p:a");
        near.clear();
        t.fill(Some(&entry("1")));
        assert!(near.is_empty());
    }

    #[test]
    fn nothing_is_served_or_stored_while_tracking_is_down() {
        let near = live(10);
        miss(&near, "p:a").fill(Some(&entry("1")));
        near.set_live(false);
        assert!(matches!(near.lookup("p:a", 0, 0), Lookup::Off));
        assert!(near.is_empty());
    }

    #[test]
    fn entries_held_when_tracking_went_down_are_kept_for_fail_safe_only() {
        let near = live(10);
        miss(&near, "p:a").fill(Some(&entry("1")));
        miss(&near, "p:b").fill(Some(&entry("2")));
        near.set_live(false);
        assert_eq!(
            near.kept("p:a", 0, 0).map(|e| e.payload),
            Some(b"1".to_vec())
        );
        let _write = near.begin_write("p:b");
        assert!(
            near.kept("p:b", 0, 0).is_none(),
            "a write of this process drops it"
        );
        let stale = Envelope {
            fresh_until_ms: 10,
            ..entry("x")
        };
        near.set_live(true);
        assert!(
            near.kept("p:a", 0, 0).is_none(),
            "tracking is back: Redis answers"
        );
        miss(&near, "p:c").fill(Some(&stale));
        assert!(near.kept("p:c", 14, 5).is_some() && near.kept("p:c", 15, 5).is_none());
    }

    #[test]
    fn a_dropped_ticket_leaves_nothing_pending() {
        let near = live(10);
        drop(miss(&near, "p:a"));
        assert!(near.state().pending.is_empty());
        let (a, b) = (miss(&near, "p:b"), miss(&near, "p:b"));
        near.invalidate("p:b");
        a.fill(Some(&entry("1")));
        b.fill(Some(&entry("1")));
        assert!(near.state().pending.is_empty());
        assert!(near.is_empty());
    }

    #[test]
    fn it_holds_at_most_its_capacity_and_keeps_what_is_used() {
        let near = live(50);
        for i in 0..50 {
            miss(&near, &format!("p:{i}")).fill(Some(&entry("v")));
        }
        for _ in 0..10 {
            assert!(hit(&near, "p:0").is_some());
        }
        for i in 50..500 {
            miss(&near, &format!("p:{i}")).fill(Some(&entry("v")));
            assert!(
                hit(&near, "p:0").is_some(),
                "the hot key was evicted at {i}"
            );
        }
        assert_eq!(near.len(), 50);
    }
}
