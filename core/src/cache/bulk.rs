//! `get_many`, `set_many` and `delete_many`: one round trip each, whatever the number of
//! keys. A read is one `MGET` (keys the near cache holds are served from it and left out),
//! a write one script (`cache_set_many.lua`), a delete one `DEL`. Every key of a namespace
//! shares its hash tag, so each of these runs unchanged on Redis Cluster. Under
//! `fail_safe`, a read that Redis fails answers the copies this process kept, else misses,
//! as `get` does.

use std::sync::LazyLock;

use futures_util::future::join;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::envelope::Envelope;
use super::{near, options, Cache, SetOptions};
use crate::error::{Error, Result};
use crate::incidents::Fallback;
use crate::keys::check_id;
use crate::rt;
use crate::script::{arg, Script};
use crate::value::Cmd;

pub(super) static SET_MANY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "cache_set_many",
        include_str!("../../lua/cache_set_many.lua"),
    )
});

impl Cache {
    /// The fresh value of each key (`None` for a miss), in the order asked. One `MGET`;
    /// none when the near cache holds every key. An empty list is answered at once.
    pub async fn get_many_bytes(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        for key in keys {
            check_id("cache key", key)?;
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let stats = &self.inner.stats;
        let (entries, now) = match self.guarded("cache read", self.read_many(keys)).await {
            Ok(read) => read,
            // As `get` answers under fail_safe when Redis fails: the copy this process
            // kept of each key, else a miss.
            Err(e) if self.fails_safe(&e) => {
                let values: Vec<Option<Vec<u8>>> = keys
                    .iter()
                    .map(|k| self.kept_copy(k).map(|c| c.payload))
                    .collect();
                let kept = values.iter().filter(|v| v.is_some()).count() as u64;
                let fallback = if kept > 0 {
                    Fallback::Stale
                } else {
                    Fallback::Miss
                };
                self.fell_back(fallback, &e);
                stats.hits(kept);
                stats.misses(keys.len() as u64 - kept);
                return Ok(values);
            }
            Err(e) => return stats.count(Err(e)),
        };
        let values: Vec<Option<Vec<u8>>> = entries
            .into_iter()
            .map(|e| e.filter(|e| e.is_fresh(now)).map(|e| e.payload))
            .collect();
        let hits = values.iter().filter(|v| v.is_some()).count() as u64;
        stats.hits(hits);
        stats.misses(values.len() as u64 - hits);
        Ok(values)
    }

    /// [`Cache::get_many_bytes`], each value decoded with the namespace codec.
    pub async fn get_many<T: DeserializeOwned>(&self, keys: &[&str]) -> Result<Vec<Option<T>>> {
        let codec = self.inner.opts.codec;
        self.get_many_bytes(keys)
            .await?
            .into_iter()
            .map(|raw| raw.map(|r| codec.decode(&r)).transpose())
            .collect()
    }

    /// Write-through of several entries, each with the namespace ttl (or `opts.ttl`, each
    /// with its own jitter) and indexed under `opts.tags`. One script, one round trip; an
    /// empty list is checked and answered at once. A key given twice keeps its last value.
    pub async fn set_many_bytes(&self, entries: &[(&str, &[u8])], opts: &SetOptions) -> Result<()> {
        let ttl = opts.ttl.unwrap_or(self.inner.opts.ttl);
        options::check_ttl("ttl", ttl)?;
        let tag_keys = self.tag_keys(&opts.tags)?;
        let mut keys = entries
            .iter()
            .map(|(k, _)| self.entry_key(k).map(String::into_bytes))
            .collect::<Result<Vec<_>>>()?;
        if entries.is_empty() {
            return Ok(());
        }
        let records: Vec<Vec<u8>> = entries
            .iter()
            .map(|(k, _)| self.tag_record_key(k).into_bytes())
            .collect();
        let mut args = Vec::with_capacity(1 + entries.len() * 3);
        args.push(arg(entries.len()));
        for (_, value) in entries {
            let fresh = ttl + rt::random_up_to(self.inner.opts.jitter);
            let hard = fresh + self.inner.opts.stale_ttl;
            args.push(arg(fresh.as_millis() as u64));
            args.push(arg(hard.as_millis() as u64));
            args.push(value.to_vec());
        }
        // Held until the reply: no read overlapping the write may refill the near cache.
        let near = self.near_for_writes();
        let _writing: Vec<_> = keys
            .iter()
            .filter_map(|k| {
                let k = std::str::from_utf8(k).ok()?;
                near.as_ref().map(|n| n.begin_write(k))
            })
            .collect();
        keys.extend(records);
        keys.extend(tag_keys);
        let transport = self.inner.client.transport();
        self.inner
            .stats
            .count(SET_MANY.run(transport, &keys, &args).await)
            .map(|_| ())
    }

    /// [`Cache::set_many_bytes`], each value encoded with the namespace codec.
    pub async fn set_many<T: Serialize>(
        &self,
        entries: &[(&str, T)],
        opts: &SetOptions,
    ) -> Result<()> {
        let codec = self.inner.opts.codec;
        let raw = entries
            .iter()
            .map(|(k, v)| Ok((*k, codec.encode(v)?)))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<(&str, &[u8])> = raw.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        self.set_many_bytes(&refs, opts).await
    }

    /// Delete entries in one `DEL`; returns how many existed. The same as
    /// [`Cache::delete`], under the name every runtime gives the list form.
    pub async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        self.delete(keys).await
    }

    /// The entries of `keys` (checked by the caller) and the server's time to judge them
    /// by, as [`Cache::read`] does for one key: near-cache copies where live, the others
    /// in one `MGET` (with `TIME` beside it when the clock is due a measurement).
    async fn read_many(&self, keys: &[&str]) -> Result<(Vec<Option<Envelope>>, u64)> {
        let local_ms = rt::now_ms();
        let clock = self.inner.client.server_clock();
        let known = clock.now(local_ms);
        let grace = self.inner.opts.stale_ttl.as_millis() as u64;
        let mut found: Vec<Option<Envelope>> = vec![None; keys.len()];
        let mut wanted: Vec<(usize, String, Option<near::Ticket>)> = Vec::new();
        let mut near_hits = 0;
        for (i, key) in keys.iter().enumerate() {
            let entry_key = self.inner.keys.key("k", key);
            let ticket = match (self.inner.near.as_ref(), known) {
                (Some(near), Some(now_ms)) => match near.lookup(&entry_key, now_ms, grace) {
                    near::Lookup::Hit(entry) => {
                        near_hits += u64::from(entry.is_fresh(now_ms));
                        found[i] = Some(entry);
                        continue;
                    }
                    near::Lookup::Miss(ticket) => Some(ticket),
                    near::Lookup::Off => None,
                },
                _ => None,
            };
            wanted.push((i, entry_key, ticket));
        }
        self.inner.stats.near_hits(near_hits);
        let now_ms = match known {
            Some(now_ms) if wanted.is_empty() => return Ok((found, now_ms)),
            known => known,
        };
        let transport = self.inner.client.transport();
        let pending = transport.send(Cmd::new("MGET").args(wanted.iter().map(|w| w.1.as_str())));
        let (reply, now_ms) = match now_ms {
            Some(now_ms) if !clock.claim_measurement(local_ms) => (pending.await, now_ms),
            // TIME travels beside the MGET: no wait for a round trip of its own.
            _ => {
                let (reply, ()) = join(pending, clock.measure(transport)).await;
                (reply, clock.at(local_ms))
            }
        };
        let replies = reply?.into_array()?;
        if replies.len() != wanted.len() {
            return Err(Error::Decode(format!(
                "MGET of {} keys answered {} values",
                wanted.len(),
                replies.len()
            )));
        }
        for ((i, _, ticket), raw) in wanted.into_iter().zip(replies) {
            let entry = raw.into_bytes()?.and_then(|r| Envelope::decode(r).ok());
            if let Some(ticket) = ticket {
                ticket.fill(entry.as_ref());
            }
            found[i] = entry;
        }
        Ok((found, now_ms))
    }
}
