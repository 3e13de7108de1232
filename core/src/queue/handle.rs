//! The queue handle: producer, inspection and maintenance calls, each one script or one pipeline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::job::{Job, JobState};
use super::options::JobOptions;
use super::scripts;
use crate::cache::Codec;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::keys::{check_id, Keyspace};
use crate::script::Script;
use crate::value::{Cmd, Value};

/// Most items one maintenance script call handles; the core repeats calls until done, so
/// no call holds the server for long.
pub(crate) const STEP: u32 = 1000;

/// How recently a worker must have beaten to count as live in [`Queue::workers`] and
/// [`Queue::liveness`] when a binding's caller gives no window.
pub const WORKER_WINDOW: Duration = Duration::from_secs(60);

/// How long [`Queue::wait_until_finished`] waits when a binding's caller names no timeout.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of a queue handle: the default options of its jobs and the payload codec.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct QueueOptions {
    /// Options every job of this handle starts from; an add's own options win.
    pub defaults: JobOptions,
    /// How payloads and return values are encoded (JSON by default, readable from every
    /// runtime).
    pub codec: Codec,
}

impl QueueOptions {
    /// JSON payloads, no default job options.
    pub fn new() -> QueueOptions {
        QueueOptions::default()
    }
    /// The options every job of the handle starts from.
    pub fn defaults(mut self, defaults: JobOptions) -> Self {
        self.defaults = defaults;
        self
    }
    /// The payload codec.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
}

/// One job for [`Queue::add_bulk_raw`]: name, payload (codec bytes), options.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewJob {
    /// The job name.
    pub name: String,
    /// The payload as the queue's codec wrote it.
    pub data: Vec<u8>,
    /// Its options.
    pub opts: JobOptions,
}

impl NewJob {
    /// The job `name` with payload `data` (codec bytes) and options `opts`.
    pub fn new(name: impl Into<String>, data: Vec<u8>, opts: JobOptions) -> NewJob {
        NewJob {
            name: name.into(),
            data,
            opts,
        }
    }
}

/// How many jobs each state holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Ready to run, prioritized ones included (and all of a paused queue's).
    pub waiting: u64,
    /// Of `waiting`, those with a priority.
    pub prioritized: u64,
    /// Being processed.
    pub active: u64,
    /// Waiting for their time.
    pub delayed: u64,
    /// Completed (and not removed).
    pub completed: u64,
    /// Failed for good (and not removed).
    pub failed: u64,
    /// Whether the queue is paused.
    pub paused: bool,
}

impl Counts {
    /// The counts as a mapping of state name → count (`waiting, active, delayed,
    /// completed, failed, prioritized`, and `paused` = the waiting jobs when paused).
    pub fn as_map(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::from([
            ("waiting", self.waiting),
            ("active", self.active),
            ("delayed", self.delayed),
            ("completed", self.completed),
            ("failed", self.failed),
            ("prioritized", self.prioritized),
        ]);
        if self.paused {
            m.insert("paused", self.waiting);
        }
        m
    }
}

/// A live worker, from its heartbeats. Serialized with `last_seen` in ms
/// (`last_seen_ms`), the form the JS packages hand out in their spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerInfo {
    /// The worker's id.
    pub id: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// The name the user gave it.
    pub name: String,
    /// Jobs it may run at once.
    pub concurrency: u32,
    /// Jobs in flight at its last beat.
    pub running: u32,
    /// How long ago it was last seen.
    #[serde(rename = "last_seen_ms", serialize_with = "ms")]
    pub last_seen: Duration,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// A named queue. Cheap to clone; from [`Client::queue`].
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    name: String,
    /// `<prefix>:{queue:<name>}:`, KEYS[1] of every script.
    base: String,
    opts: QueueOptions,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.inner.name)
            .field("base", &self.inner.base)
            .finish()
    }
}

fn int(v: &Value) -> Result<i64> {
    v.as_int()
}

impl Queue {
    pub(crate) fn new(client: Client, name: &str, opts: QueueOptions) -> Result<Queue> {
        let keys = Keyspace::new(client.prefix(), "queue", name)?;
        opts.defaults.validate()?;
        if opts.defaults.job_id.is_some() {
            return Err(Error::invalid(
                "a job id cannot be a queue's default job option (every job would share it)",
            ));
        }
        Ok(Queue {
            inner: Arc::new(Inner {
                client,
                name: name.to_string(),
                base: keys.base().to_string(),
                opts,
            }),
        })
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The client it sends through.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The prefix of every key of the queue (`rk:{queue:emails}:`).
    pub fn base(&self) -> &str {
        &self.inner.base
    }

    /// The payload codec.
    pub fn codec(&self) -> Codec {
        self.inner.opts.codec
    }

    /// The default job options.
    pub fn defaults(&self) -> &JobOptions {
        &self.inner.opts.defaults
    }

    /// Run one queue script: KEYS = {base}, then the arguments `fill` appends.
    pub(crate) async fn run(&self, script: &Script, fill: impl Fn(Cmd) -> Cmd) -> Result<Value> {
        script
            .run_with(self.inner.client.transport(), |cmd| {
                fill(cmd.arg(1).arg(&self.inner.base))
            })
            .await
    }

    fn encode<T: Serialize + ?Sized>(&self, data: &T) -> Result<Vec<u8>> {
        self.codec().encode(data).map_err(|e| match e {
            Error::Encode(msg) => Error::Encode(format!("job data: {msg}")),
            e => e,
        })
    }

    /// Add a job; returns it (or, when its `job_id` or deduplication id already holds a
    /// job, that job). One round trip.
    pub async fn add<T: Serialize + ?Sized>(
        &self,
        name: &str,
        data: &T,
        opts: JobOptions,
    ) -> Result<Job> {
        let data = self.encode(data)?;
        self.add_raw(name, data, opts).await
    }

    /// [`Queue::add`] with the payload already encoded by the queue's codec.
    pub async fn add_raw(&self, name: &str, data: Vec<u8>, opts: JobOptions) -> Result<Job> {
        let mut jobs = self
            .add_bulk_raw(vec![NewJob {
                name: name.to_string(),
                data,
                opts,
            }])
            .await?;
        Ok(jobs.remove(0))
    }

    /// Add many jobs atomically in one round trip; returns them in order.
    pub async fn add_bulk<N: Into<String>, T: Serialize>(
        &self,
        jobs: impl IntoIterator<Item = (N, T, JobOptions)>,
    ) -> Result<Vec<Job>> {
        let jobs = jobs
            .into_iter()
            .map(|(name, data, opts)| {
                Ok(NewJob {
                    name: name.into(),
                    data: self.encode(&data)?,
                    opts,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.add_bulk_raw(jobs).await
    }

    /// [`Queue::add_bulk`] with payloads already encoded by the queue's codec.
    pub async fn add_bulk_raw(&self, jobs: Vec<NewJob>) -> Result<Vec<Job>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut prepared = Vec::with_capacity(jobs.len());
        for job in jobs {
            check_id("job name", &job.name)?;
            let opts = job.opts.over(self.defaults());
            opts.validate()?;
            let opts_json = opts.to_json();
            prepared.push((job.name, job.data, opts, opts_json));
        }
        let reply = self
            .run(&scripts::ADD, |mut cmd| {
                cmd = cmd.arg(prepared.len());
                for (name, data, opts, opts_json) in &prepared {
                    let (dd_id, dd_ttl) = match &opts.deduplication {
                        Some(d) => (
                            d.id.as_str(),
                            d.ttl.map(|t| t.as_millis() as i64).unwrap_or(-1),
                        ),
                        None => ("", -1),
                    };
                    cmd = cmd
                        .arg(opts.job_id.as_deref().unwrap_or(""))
                        .arg(name)
                        .arg(data)
                        .arg(opts_json)
                        .arg(opts.delay.map(|d| d.as_millis() as u64).unwrap_or(0))
                        .arg(opts.priority.unwrap_or(0))
                        .arg(u32::from(opts.lifo.unwrap_or(false)))
                        .arg(dd_id)
                        .arg(dd_ttl);
                }
                cmd
            })
            .await?
            .into_array()?;
        if reply.len() != prepared.len() {
            return Err(Error::Decode("queue_add: reply length".into()));
        }
        reply
            .into_iter()
            .zip(prepared)
            .map(|(entry, (name, data, opts, _))| {
                let mut e = entry.into_array()?.into_iter();
                let id = e
                    .next()
                    .unwrap_or(Value::Nil)
                    .into_string()?
                    .unwrap_or_default();
                match e.next().unwrap_or(Value::Nil) {
                    Value::Int(ts) => Ok(Job {
                        id,
                        name,
                        data,
                        opts,
                        attempts_made: 0,
                        progress: None,
                        return_value: None,
                        failed_reason: None,
                        timestamp: ts as u64,
                        processed_on: None,
                        finished_on: None,
                        stacktrace: Vec::new(),
                        token: 0,
                        stalled_count: 0,
                        cancel_requested: false,
                        scheduler: None,
                        queue: self.clone(),
                        on_progress: None,
                    }),
                    fields => Job::from_fields(self, id, fields),
                }
            })
            .collect()
    }

    /// The job with this id, if any.
    pub async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        check_id("job id", id)?;
        let fields = self
            .client()
            .transport()
            .send(Cmd::new("HGETALL").arg(self.job_key(id)))
            .await?;
        if fields.clone().into_array()?.is_empty() {
            return Ok(None);
        }
        Job::from_fields(self, id.to_string(), fields).map(Some)
    }

    pub(crate) fn job_key(&self, id: &str) -> String {
        format!("{}j:{id}", self.base())
    }

    /// Jobs in `states`, the range `start..=end` (`end` -1: the last) of each state's own
    /// order: waiting in the order they will run, active and delayed by time, completed and
    /// failed newest first.
    pub async fn get_jobs(&self, states: &[JobState], start: i64, end: i64) -> Result<Vec<Job>> {
        if start < 0 {
            return Err(Error::invalid("start must be >= 0"));
        }
        let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        let list = names.join(",");
        let reply = self
            .run(&scripts::JOBS, |cmd| cmd.arg(&list).arg(start).arg(end))
            .await?
            .into_array()?;
        let mut jobs = Vec::with_capacity(reply.len() / 2);
        let mut it = reply.into_iter();
        while let (Some(id), Some(fields)) = (it.next(), it.next()) {
            let id = id.into_string()?.unwrap_or_default();
            jobs.push(Job::from_fields(self, id, fields)?);
        }
        Ok(jobs)
    }

    /// [`Queue::get_jobs`] with states named as every runtime names them (`waiting`,
    /// `active`, `delayed`, `completed`, `failed`): an unknown name is an
    /// [`Error::InvalidArgument`].
    pub async fn get_jobs_named(&self, states: &[&str], start: i64, end: i64) -> Result<Vec<Job>> {
        let states = states
            .iter()
            .map(|s| JobState::parse(s))
            .collect::<Result<Vec<_>>>()?;
        self.get_jobs(&states, start, end).await
    }

    /// How many jobs each state holds; one round trip.
    pub async fn counts(&self) -> Result<Counts> {
        let b = self.base();
        let r = self
            .client()
            .transport()
            .pipeline(vec![
                Cmd::new("LLEN").arg(format!("{b}wait")),
                Cmd::new("ZCARD").arg(format!("{b}prio")),
                Cmd::new("ZCARD").arg(format!("{b}active")),
                Cmd::new("ZCARD").arg(format!("{b}delayed")),
                Cmd::new("ZCARD").arg(format!("{b}completed")),
                Cmd::new("ZCARD").arg(format!("{b}failed")),
                Cmd::new("HGET").arg(format!("{b}meta")).arg("paused"),
            ])
            .await?;
        let n = |i: usize| -> Result<u64> { Ok(int(&r[i].clone().into_result()?)? as u64) };
        let prioritized = n(1)?;
        Ok(Counts {
            waiting: n(0)? + prioritized,
            prioritized,
            active: n(2)?,
            delayed: n(3)?,
            completed: n(4)?,
            failed: n(5)?,
            paused: matches!(&r[6], Value::Bulk(b) if b == b"1"),
        })
    }

    /// The job's state; `None` when there is no such job.
    pub async fn state(&self, id: &str) -> Result<Option<JobState>> {
        check_id("job id", id)?;
        let reply = self.run(&scripts::STATE, |cmd| cmd.arg(id)).await?;
        match reply.into_string()? {
            None => Ok(None),
            Some(s) => JobState::parse(&s).map(Some),
        }
    }

    /// Stop handing out jobs (adds still succeed; workers finish what they hold).
    pub async fn pause(&self) -> Result<()> {
        self.run(&scripts::PAUSE, |cmd| cmd.arg("1"))
            .await
            .map(|_| ())
    }

    /// Hand out jobs again.
    pub async fn resume(&self) -> Result<()> {
        self.run(&scripts::PAUSE, |cmd| cmd.arg("0"))
            .await
            .map(|_| ())
    }

    /// Whether the queue is paused.
    pub async fn is_paused(&self) -> Result<bool> {
        let v = self
            .client()
            .transport()
            .send(
                Cmd::new("HGET")
                    .arg(format!("{}meta", self.base()))
                    .arg("paused"),
            )
            .await?;
        Ok(v.into_bytes()?.as_deref() == Some(b"1"))
    }

    /// Move every job of `state` (failed or completed) back to waiting, attempts reset.
    /// Returns how many moved. Bounded steps of [`STEP`] jobs.
    pub async fn retry_jobs(&self, state: JobState) -> Result<u64> {
        if !matches!(state, JobState::Failed | JobState::Completed) {
            return Err(Error::invalid(format!(
                "only failed or completed jobs can be retried, not {state} ones"
            )));
        }
        let mut total = 0;
        loop {
            let moved = int(&self
                .run(&scripts::RETRY, |cmd| {
                    cmd.arg(state.as_str()).arg(STEP).arg("")
                })
                .await?)? as u64;
            total += moved;
            if moved < u64::from(STEP) {
                return Ok(total);
            }
        }
    }

    /// Run one failed (or completed) job again, attempts reset; false when it is in
    /// neither state.
    pub async fn retry_job(&self, id: &str) -> Result<bool> {
        check_id("job id", id)?;
        let moved = self
            .run(&scripts::RETRY, |cmd| cmd.arg("failed").arg(1).arg(id))
            .await?;
        Ok(int(&moved)? == 1)
    }

    /// Make a delayed job ready now; false when it is not delayed.
    pub async fn promote(&self, id: &str) -> Result<bool> {
        check_id("job id", id)?;
        let r = self.run(&scripts::PROMOTE, |cmd| cmd.arg(id)).await?;
        Ok(int(&r)? == 1)
    }

    /// Remove a job and its logs; false when there is no such job. An active job is
    /// refused ([`Error::InvalidArgument`]): its worker holds it.
    pub async fn remove(&self, id: &str) -> Result<bool> {
        check_id("job id", id)?;
        match int(&self.run(&scripts::REMOVE, |cmd| cmd.arg(id)).await?)? {
            -1 => Err(Error::invalid(format!(
                "job {id} is active: it can be removed once its worker is done"
            ))),
            n => Ok(n == 1),
        }
    }

    /// Cancel a job: an active one is flagged, and its worker's processor gets the
    /// cancellation signal at the worker's next lease renewal, then fails the job as
    /// cancelled; a waiting or delayed one fails at once. False when there is no such
    /// job or it finished already.
    pub async fn cancel(&self, id: &str) -> Result<bool> {
        check_id("job id", id)?;
        let r = self
            .run(&scripts::CANCEL, |cmd| cmd.arg(id).arg("cancelled"))
            .await?;
        Ok(int(&r)? > 0)
    }

    /// Remove up to `limit` jobs of `state` (completed, failed, delayed or waiting) older
    /// than `grace`; returns their ids.
    pub async fn clean(&self, grace: Duration, limit: u32, state: JobState) -> Result<Vec<String>> {
        if state == JobState::Active {
            return Err(Error::invalid(
                "clean cannot remove active jobs: their workers hold them",
            ));
        }
        let mut removed = Vec::new();
        let mut left = limit;
        while left > 0 {
            let step = left.min(STEP);
            let ids = self
                .run(&scripts::CLEAN, |cmd| {
                    cmd.arg(state.as_str())
                        .arg(grace.as_millis() as u64)
                        .arg(step)
                })
                .await?
                .into_array()?;
            let n = ids.len() as u32;
            for id in ids {
                removed.push(id.into_string()?.unwrap_or_default());
            }
            if n < step {
                break;
            }
            left -= n;
        }
        Ok(removed)
    }

    /// Remove every waiting job (and delayed ones when `delayed`), in bounded steps.
    pub async fn drain(&self, delayed: bool) -> Result<()> {
        loop {
            let left = int(&self
                .run(&scripts::DRAIN, |cmd| cmd.arg(u32::from(delayed)).arg(STEP))
                .await?)?;
            if left == 0 {
                return Ok(());
            }
        }
    }

    /// Delete the queue: every job, every key, the schedulers, in bounded steps; the key
    /// count returns to what it was before the queue existed. Refused while jobs are
    /// active unless `force`.
    pub async fn obliterate(&self, force: bool) -> Result<()> {
        loop {
            let left = int(&self
                .run(&scripts::OBLITERATE, |cmd| {
                    cmd.arg(u32::from(force)).arg(STEP)
                })
                .await?)?;
            match left {
                0 => return Ok(()),
                -1 => {
                    return Err(Error::invalid(
                        "the queue has active jobs: obliterate with force deletes them too",
                    ))
                }
                _ => {}
            }
        }
    }

    /// Store a job's progress (any JSON) and send a `progress` event.
    pub async fn update_progress(&self, id: &str, progress: &serde_json::Value) -> Result<()> {
        check_id("job id", id)?;
        let p = serde_json::to_string(progress)?;
        let r = self
            .run(&scripts::PROGRESS, |cmd| cmd.arg(id).arg(&p))
            .await?;
        if int(&r)? == 0 {
            return Err(Error::NotFound(format!("job {id}")));
        }
        Ok(())
    }

    /// Append a line to a job's log; returns the number of lines.
    pub async fn log(&self, id: &str, line: &str) -> Result<u64> {
        check_id("job id", id)?;
        let r = int(&self.run(&scripts::LOG, |cmd| cmd.arg(id).arg(line)).await?)?;
        if r < 0 {
            return Err(Error::NotFound(format!("job {id}")));
        }
        Ok(r as u64)
    }

    /// A job's log lines, `start..=end` (-1: the last).
    pub async fn logs(&self, id: &str, start: i64, end: i64) -> Result<Vec<String>> {
        check_id("job id", id)?;
        let r = self
            .client()
            .transport()
            .send(
                Cmd::new("LRANGE")
                    .arg(format!("{}l:{id}", self.base()))
                    .arg(start)
                    .arg(end),
            )
            .await?;
        r.into_array()?
            .into_iter()
            .map(|v| v.into_string().map(Option::unwrap_or_default))
            .collect()
    }

    /// The workers seen within `ttl` (their heartbeats), most recently seen last
    /// ([`WORKER_WINDOW`] where the caller names none).
    pub async fn workers(&self, ttl: Duration) -> Result<Vec<WorkerInfo>> {
        let reply = self
            .run(&scripts::WORKERS, |cmd| cmd.arg(ttl.as_millis() as u64))
            .await?
            .into_array()?;
        let mut it = reply.into_iter();
        let now = it.next().map(|v| v.as_int()).transpose()?.unwrap_or(0);
        let mut out = Vec::new();
        while let (Some(id), Some(seen), Some(info)) = (it.next(), it.next(), it.next()) {
            let beat: super::lease::WorkerBeat =
                serde_json::from_slice(&info.into_bytes()?.unwrap_or_default()).unwrap_or_default();
            let seen = seen.as_f64()? as i64;
            out.push(WorkerInfo {
                id: id.into_string()?.unwrap_or_default(),
                host: beat.host,
                pid: beat.pid,
                name: beat.name,
                concurrency: beat.concurrency,
                running: beat.running,
                last_seen: Duration::from_millis((now - seen).max(0) as u64),
            });
        }
        Ok(out)
    }

    /// Refused late results (a worker finishing or extending a job after losing its
    /// lease), counted since the queue was made.
    pub async fn late_results(&self) -> Result<u64> {
        let v = self
            .client()
            .transport()
            .send(
                Cmd::new("HGET")
                    .arg(format!("{}meta", self.base()))
                    .arg("late"),
            )
            .await?;
        Ok(v.into_string()?.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// Wait until the job completes (its return value, codec bytes) or fails
    /// ([`Error::JobFailed`] with the reason), at most `timeout`
    /// ([`Error::Timeout`]). Reads the events stream, blocking on the server.
    pub async fn wait_until_finished(
        &self,
        id: &str,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>> {
        check_id("job id", id)?;
        let deadline = crate::rt::now_ms() + timeout.as_millis() as u64;
        let mut events = self.events();
        // The cursor is placed before the first look at the job, so no finish falls
        // between the look and the wait.
        events.prime().await?;
        loop {
            let state = self.state(id).await?;
            match state {
                Some(JobState::Completed) => {
                    let job = self.get_job(id).await?;
                    return Ok(job.and_then(|j| j.return_value));
                }
                Some(JobState::Failed) => {
                    let job = self.get_job(id).await?;
                    return Err(Error::JobFailed(
                        job.and_then(|j| j.failed_reason).unwrap_or_default(),
                    ));
                }
                _ => {}
            }
            let left = deadline.saturating_sub(crate::rt::now_ms());
            // A job that is gone may have finished and been removed (remove_on_complete)
            // since the cursor was placed: its event says how it ended.
            let block = match state {
                None => 1,
                Some(_) if left == 0 => {
                    return Err(Error::Timeout(format!("job {id} did not finish in time")))
                }
                Some(_) => left.min(1000),
            };
            for e in events.next_batch(Duration::from_millis(block)).await? {
                if e.job_id.as_deref() != Some(id) {
                    continue;
                }
                match e.event.as_str() {
                    "completed" => {
                        return Ok(e.fields.get("rv").map(|v| v.clone().into_bytes()));
                    }
                    "failed" => {
                        return Err(Error::JobFailed(
                            e.fields.get("fr").cloned().unwrap_or_default(),
                        ));
                    }
                    _ => {}
                }
            }
            if state.is_none() {
                return Err(Error::NotFound(format!("job {id}")));
            }
        }
    }
}

impl Client {
    /// The queue `name`, with default options. Returned at once; no round trip.
    pub fn queue(&self, name: &str) -> Result<Queue> {
        Queue::new(self.clone(), name, QueueOptions::default())
    }

    /// The queue `name` with default job options and a codec.
    pub fn queue_with(&self, name: &str, opts: QueueOptions) -> Result<Queue> {
        Queue::new(self.clone(), name, opts)
    }
}
