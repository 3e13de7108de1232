//! Schedulers (repeatable jobs): a definition stored in the queue (`schedd`), and one
//! pending job per scheduler whose id names its slot (`repeat:<id>:<slot ms>`), so a slot
//! yields one job however many processes upsert or advance it, and a scheduler survives
//! restarts. The next slot is computed here (cron patterns with time zones), from the
//! server's clock.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::job::Job;
use super::options::JobOptions;
use super::scripts;
use super::Queue;
use crate::duration::check_min;
use crate::error::{Error, Result};
use crate::keys::check_id;
use crate::value::{Cmd, Value};

/// When a scheduler fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Repeat {
    /// Every `every`, on slots aligned to multiples of it since the Unix epoch (so every
    /// process computes the same slots).
    Every(#[serde(with = "super::options::ms")] Duration),
    /// A cron pattern: 5 fields (minute hour day month weekday), or 6 with seconds first,
    /// in the time zone `tz` (IANA name; default UTC).
    Cron {
        /// The pattern.
        pattern: String,
        /// The time zone (`Europe/Paris`); `None` is UTC.
        tz: Option<String>,
    },
}

impl Repeat {
    /// Refuse a zero period, a pattern or time zone that does not parse.
    pub fn validate(&self) -> Result<()> {
        match self {
            Repeat::Every(d) => check_min("every", *d, Duration::from_millis(1)),
            Repeat::Cron { pattern, tz } => {
                schedule(pattern)?;
                zone(tz.as_deref())?;
                Ok(())
            }
        }
    }

    /// The first slot strictly after `after_ms` (ms since the epoch).
    pub fn next_after(&self, after_ms: u64) -> Result<u64> {
        match self {
            Repeat::Every(d) => {
                let every = d.as_millis().max(1) as u64;
                Ok((after_ms / every + 1) * every)
            }
            Repeat::Cron { pattern, tz } => {
                let schedule = schedule(pattern)?;
                let tz = zone(tz.as_deref())?;
                let after = chrono::DateTime::from_timestamp_millis(after_ms as i64)
                    .ok_or_else(|| Error::invalid("time out of range"))?
                    .with_timezone(&tz);
                schedule
                    .after(&after)
                    .next()
                    .map(|t| t.timestamp_millis() as u64)
                    .ok_or_else(|| Error::invalid(format!("cron {pattern:?} never fires again")))
            }
        }
    }
}

fn schedule(pattern: &str) -> Result<cron::Schedule> {
    let fields = pattern.split_whitespace().count();
    // The common 5-field form has no seconds; the parser wants them first.
    let full = if fields == 5 {
        format!("0 {pattern}")
    } else {
        pattern.to_string()
    };
    cron::Schedule::from_str(&full)
        .map_err(|e| Error::invalid(format!("cron pattern {pattern:?}: {e}")))
}

fn zone(tz: Option<&str>) -> Result<chrono_tz::Tz> {
    match tz {
        None => Ok(chrono_tz::UTC),
        Some(name) => name
            .parse()
            .map_err(|_| Error::invalid(format!("unknown time zone {name:?}"))),
    }
}

/// What [`Queue::upsert_scheduler`] is given: when, and the job each slot gets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SchedulerSpec {
    /// When it fires.
    pub repeat: Repeat,
    /// The name of each job.
    pub name: String,
    /// The payload of each job, codec bytes (UTF-8: it is stored in the definition).
    pub data: Vec<u8>,
    /// The options of each job (job_id and delay are the scheduler's own).
    pub opts: JobOptions,
}

impl SchedulerSpec {
    /// Jobs named `name` with payload `data` (codec bytes) and options `opts`, on `repeat`.
    pub fn new(repeat: Repeat, name: impl Into<String>, data: Vec<u8>, opts: JobOptions) -> Self {
        SchedulerSpec {
            repeat,
            name: name.into(),
            data,
            opts,
        }
    }
}

/// A stored scheduler, as [`Queue::schedulers`] lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduler {
    /// Its id.
    pub id: String,
    /// When it fires.
    pub repeat: Repeat,
    /// The name of its jobs.
    pub name: String,
    /// Their payload (codec bytes).
    pub data: Vec<u8>,
    /// Their options.
    pub opts: JobOptions,
    /// The slot (server ms) of its pending job.
    pub next: Option<u64>,
}

/// The stored definition (`schedd` field value).
#[derive(Serialize, Deserialize)]
struct Definition {
    repeat: Repeat,
    name: String,
    data: String,
    opts: JobOptions,
}

impl Queue {
    /// The server's clock, ms since the epoch.
    async fn server_ms(&self) -> Result<u64> {
        let t = self.client().transport().send(Cmd::new("TIME")).await?;
        let parts = t.into_array()?;
        let secs = parts.first().map(|v| v.as_int()).transpose()?.unwrap_or(0);
        let micros = parts.get(1).map(|v| v.as_int()).transpose()?.unwrap_or(0);
        Ok((secs * 1000 + micros / 1000) as u64)
    }

    /// Create or replace the scheduler `id`; its first slot is the first after now. An
    /// unchanged definition keeps its pending job (calling this at every start is safe).
    /// Returns the pending job's id.
    pub async fn upsert_scheduler(&self, id: &str, spec: SchedulerSpec) -> Result<String> {
        check_id("scheduler id", id)?;
        check_id("job name", &spec.name)?;
        spec.repeat.validate()?;
        if spec.opts.job_id.is_some() || spec.opts.delay.is_some() {
            return Err(Error::invalid(
                "a scheduler's jobs take their id and delay from the scheduler",
            ));
        }
        let opts = spec.opts.over(self.defaults());
        opts.validate()?;
        let data = String::from_utf8(spec.data)
            .map_err(|_| Error::invalid("scheduler data must be UTF-8 (the JSON codec)"))?;
        let def = serde_json::to_string(&Definition {
            repeat: spec.repeat.clone(),
            name: spec.name.clone(),
            data: data.clone(),
            opts: opts.clone(),
        })?;
        let slot = spec.repeat.next_after(self.server_ms().await?)?;
        let opts_json = opts.to_json();
        let jid = self
            .run(&scripts::SCHED_UPSERT, |cmd| {
                cmd.arg(id)
                    .arg(&def)
                    .arg(slot)
                    .arg(&spec.name)
                    .arg(&data)
                    .arg(&opts_json)
            })
            .await?;
        Ok(jid.into_string()?.unwrap_or_default())
    }

    /// Remove the scheduler and its pending job; false when there was none.
    pub async fn remove_scheduler(&self, id: &str) -> Result<bool> {
        check_id("scheduler id", id)?;
        let r = self.run(&scripts::SCHED_REMOVE, |cmd| cmd.arg(id)).await?;
        Ok(r.as_int()? == 1)
    }

    /// Every scheduler of the queue.
    pub async fn schedulers(&self) -> Result<Vec<Scheduler>> {
        let b = self.base();
        let r = self
            .client()
            .transport()
            .pipeline(vec![
                Cmd::new("HGETALL").arg(format!("{b}schedd")),
                Cmd::new("ZRANGE")
                    .arg(format!("{b}sched"))
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES"),
            ])
            .await?;
        let mut it = r.into_iter();
        let defs = it
            .next()
            .unwrap_or(Value::Nil)
            .into_result()?
            .into_array()?;
        let slots = it
            .next()
            .unwrap_or(Value::Nil)
            .into_result()?
            .into_array()?;
        let mut next = std::collections::HashMap::new();
        let mut s = slots.into_iter();
        while let (Some(id), Some(score)) = (s.next(), s.next()) {
            next.insert(
                id.into_string()?.unwrap_or_default(),
                score.as_f64()? as u64,
            );
        }
        let mut out = Vec::new();
        let mut d = defs.into_iter();
        while let (Some(id), Some(def)) = (d.next(), d.next()) {
            let id = id.into_string()?.unwrap_or_default();
            let def: Definition = serde_json::from_slice(&def.into_bytes()?.unwrap_or_default())?;
            out.push(Scheduler {
                next: next.get(&id).copied(),
                id,
                repeat: def.repeat,
                name: def.name,
                data: def.data.into_bytes(),
                opts: def.opts,
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// After a worker took a scheduler's job: add the job of the scheduler's next slot
    /// (the first after both the taken slot and now). Several workers doing this for the
    /// same slot add one job; a replaced or removed scheduler is left alone.
    pub async fn advance_scheduler(&self, job: &Job) -> Result<()> {
        let Some((sid, slot)) = &job.scheduler else {
            return Ok(());
        };
        let raw = self
            .client()
            .transport()
            .send(
                Cmd::new("HGET")
                    .arg(format!("{}schedd", self.base()))
                    .arg(sid),
            )
            .await?;
        let Some(raw) = raw.into_bytes()? else {
            return Ok(());
        };
        let def: Definition = serde_json::from_slice(&raw)?;
        let after = (*slot).max(job.processed_on.unwrap_or(0));
        let next = def.repeat.next_after(after)?;
        let opts_json = def.opts.to_json();
        self.run(&scripts::SCHED_NEXT, |cmd| {
            cmd.arg(sid)
                .arg(*slot)
                .arg(next)
                .arg(&def.name)
                .arg(&def.data)
                .arg(&opts_json)
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_slots() {
        let every = Repeat::Every(Duration::from_secs(60));
        assert_eq!(
            every.next_after(1_700_000_000_000).unwrap(),
            1_700_000_040_000
        );
        assert_eq!(
            every.next_after(1_700_000_040_000).unwrap(),
            1_700_000_100_000
        );
        let paris = Repeat::Cron {
            pattern: "30 9 * * *".into(),
            tz: Some("Europe/Paris".into()),
        };
        // 2023-11-14T22:13:20Z → 09:30 Paris (UTC+1) on the 15th = 08:30Z.
        assert_eq!(
            paris.next_after(1_700_000_000_000).unwrap(),
            1_700_037_000_000
        );
        assert!(Repeat::Cron {
            pattern: "nope".into(),
            tz: None
        }
        .validate()
        .is_err());
        assert!(Repeat::Cron {
            pattern: "* * * * *".into(),
            tz: Some("Mars/Olympus".into())
        }
        .validate()
        .is_err());
    }
}
