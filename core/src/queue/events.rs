//! Reading a queue's events stream (`<base>events`, docs/WIRE.md) from any process.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::time::Duration;

use super::Queue;
use crate::error::Result;
use crate::value::{Cmd, Value};

/// One event of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEvent {
    /// The stream entry id (`<ms>-<n>`): resume after it with [`Queue::events_from`]. The
    /// `active` events of one take, and the `completed` events of one finish call, share
    /// their entry (docs/WIRE.md): they come in one batch.
    pub id: String,
    /// `waiting`, `delayed`, `active`, `progress`, `completed`, `failed`, `retrying`,
    /// `stalled`, `removed`, `cancelled`, `deduplicated`, `paused`, `resumed`, `drained`,
    /// `cleaned`, `lost`.
    pub event: String,
    /// The job concerned, if any.
    pub job_id: Option<String>,
    /// The other fields (`rv`, `fr`, `delay`, `data`, ...).
    pub fields: BTreeMap<String, String>,
}

/// A cursor over a queue's events; [`QueueEvents::next`] waits on the server (XREAD
/// BLOCK on a connection of its own), so an idle reader sends one command per second.
#[derive(Debug)]
pub struct QueueEvents {
    queue: Queue,
    key: String,
    last: String,
    buffered: VecDeque<QueueEvent>,
}

impl Queue {
    /// The queue's events from now on.
    pub fn events(&self) -> QueueEvents {
        self.cursor("$")
    }

    /// The queue's events after the entry `id` (`"0"`: every event the bounded stream
    /// still holds; `"$"`: from now on). Any other id than `$` or a stream entry id
    /// (`<ms>` or `<ms>-<n>`) is an `InvalidArgument` here: Redis would refuse it only at
    /// the first read, with a server error.
    pub fn events_from(&self, id: &str) -> Result<QueueEvents> {
        check_event_id(id)?;
        Ok(self.cursor(id))
    }

    fn cursor(&self, id: &str) -> QueueEvents {
        QueueEvents {
            queue: self.clone(),
            key: format!("{}events", self.base()),
            last: id.to_string(),
            buffered: VecDeque::new(),
        }
    }
}

/// A cursor position as `events_from` takes it: `$`, or a stream entry id (`<ms>` or
/// `<ms>-<n>`, `0` for the start).
fn check_event_id(id: &str) -> Result<()> {
    let number = |s: &str| !s.is_empty() && s.len() <= 20 && s.parse::<u64>().is_ok();
    let ok = id == "$"
        || match id.split_once('-') {
            Some((ms, n)) => number(ms) && number(n),
            None => number(id),
        };
    if ok {
        Ok(())
    } else {
        Err(crate::error::Error::invalid(format!(
            "an events cursor is \"$\", \"0\" or a stream entry id (<ms>-<n>), got {id:?}"
        )))
    }
}

fn text(v: Value) -> Result<String> {
    Ok(v.into_string()?.unwrap_or_default())
}

impl QueueEvents {
    /// Pin a `$` cursor to the stream's last entry now, so events added from here on are
    /// read even if the first read starts later.
    pub async fn prime(&mut self) -> Result<()> {
        if self.last != "$" {
            return Ok(());
        }
        let r = self
            .queue
            .client()
            .transport()
            .send(
                Cmd::new("XREVRANGE")
                    .arg(&self.key)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1),
            )
            .await?
            .into_array()?;
        self.last = match r.into_iter().next() {
            Some(entry) => text(entry.into_array()?.into_iter().next().unwrap_or(Value::Nil))?,
            None => "0-0".to_string(),
        };
        Ok(())
    }

    /// The next event, waiting for it as long as it takes.
    pub async fn next(&mut self) -> Result<QueueEvent> {
        loop {
            if let Some(e) = self.buffered.pop_front() {
                return Ok(e);
            }
            let batch = self.next_batch(Duration::from_secs(1)).await?;
            self.buffered.extend(batch);
        }
    }

    /// The events that arrive within `block` (at most 100 stream entries; none if none
    /// came). A take's one `active` entry gives one `active` event per job it leased, a
    /// finish's one `completed` entry one `completed` event per job it completed.
    pub async fn next_batch(&mut self, block: Duration) -> Result<Vec<QueueEvent>> {
        self.prime().await?;
        if !self.buffered.is_empty() {
            return Ok(self.buffered.drain(..).collect());
        }
        let reply = self
            .queue
            .client()
            .transport()
            .send_blocking(
                Cmd::new("XREAD")
                    .arg("COUNT")
                    .arg(100)
                    .arg("BLOCK")
                    .arg(block.as_millis().max(1) as u64)
                    .arg("STREAMS")
                    .arg(&self.key)
                    .arg(&self.last),
            )
            .await?;
        // RESP2 answers [[name, entries]], RESP3 a map name → entries.
        let streams: Vec<Value> = match reply {
            Value::Map(m) => m.into_iter().map(|(_, entries)| entries).collect(),
            other => other
                .into_array()?
                .into_iter()
                .map(|s| Ok(s.into_array()?.into_iter().nth(1).unwrap_or(Value::Nil)))
                .collect::<Result<_>>()?,
        };
        let mut out = Vec::new();
        for entries in streams {
            for entry in entries.into_array()? {
                let mut e = entry.into_array()?.into_iter();
                let id = text(e.next().unwrap_or(Value::Nil))?;
                let mut event = QueueEvent {
                    id: id.clone(),
                    event: String::new(),
                    job_id: None,
                    fields: BTreeMap::new(),
                };
                let mut kv = e.next().unwrap_or(Value::Nil).into_array()?.into_iter();
                while let (Some(k), Some(v)) = (kv.next(), kv.next()) {
                    let (k, v) = (text(k)?, text(v)?);
                    match k.as_str() {
                        "ev" => event.event = v,
                        // A finish's `completed` entry holds several jobs: each `id` after
                        // the first starts the next job's event (docs/WIRE.md).
                        "id" if event.job_id.is_some() => {
                            let next = QueueEvent {
                                id: id.clone(),
                                event: event.event.clone(),
                                job_id: Some(v),
                                fields: BTreeMap::new(),
                            };
                            push_event(&mut out, std::mem::replace(&mut event, next));
                        }
                        "id" => event.job_id = Some(v),
                        _ => {
                            event.fields.insert(k, v);
                        }
                    }
                }
                self.last = id;
                push_event(&mut out, event);
            }
        }
        Ok(out)
    }
}

/// Add `event` to `out`; a take's `active` entry (`ids`: the jobs it leased, a JSON array)
/// becomes one `active` event per job, as a reader expects one per job.
fn push_event(out: &mut Vec<QueueEvent>, mut event: QueueEvent) {
    if event.event == "active" && event.job_id.is_none() {
        if let Some(ids) = event
            .fields
            .get("ids")
            .and_then(|raw| serde_json::from_str::<Vec<String>>(raw).ok())
        {
            event.fields.remove("ids");
            out.extend(ids.into_iter().map(|id| QueueEvent {
                job_id: Some(id),
                ..event.clone()
            }));
            return;
        }
    }
    out.push(event);
}
