//! A job as stored in its hash (docs/WIRE.md, "Job hash"), read back into one type.

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::options::JobOptions;
use super::Queue;
use crate::error::{Error, Result};
use crate::value::Value;

/// A job: what was added, and what became of it so far.
#[derive(Clone)]
pub struct Job {
    /// The id (automatic ids are decimal integers; custom ids never are).
    pub id: String,
    /// The name given at add.
    pub name: String,
    /// The payload as the queue's codec wrote it (JSON by default); see [`Job::data`].
    pub data: Vec<u8>,
    /// The job's effective options (the queue's defaults under the add's).
    pub opts: JobOptions,
    /// Attempts that have ended, success included.
    pub attempts_made: u32,
    /// The last progress reported, as JSON.
    pub progress: Option<serde_json::Value>,
    /// The processor's result (codec bytes), once completed; see [`Job::return_value`].
    pub return_value: Option<Vec<u8>>,
    /// Why the last attempt failed.
    pub failed_reason: Option<String>,
    /// When the job was added: server time, ms since the Unix epoch.
    pub timestamp: u64,
    /// When its last attempt started (server ms).
    pub processed_on: Option<u64>,
    /// When it completed or failed for good (server ms).
    pub finished_on: Option<u64>,
    /// The stack texts of the last errors (at most 10), oldest first.
    pub stacktrace: Vec<String>,
    /// The fencing token of the current (or last) delivery: deliveries so far. A worker
    /// quotes it to finish or extend the job; 0 for a job never taken.
    pub token: u64,
    /// Times the job was recovered from a stall.
    pub stalled_count: u32,
    /// Whether `cancel(id)` was asked for this job.
    pub cancel_requested: bool,
    /// The scheduler that made the job and the slot (server ms) it stands for.
    pub scheduler: Option<(String, u64)>,
    pub(crate) queue: Queue,
    /// Told of each progress update: a worker's local `progress` event.
    pub(crate) on_progress: Option<ProgressHook>,
}

/// What a worker hangs on the jobs it hands to its processor to hear their progress.
pub(crate) type ProgressHook = std::sync::Arc<dyn Fn(&str, &serde_json::Value) + Send + Sync>;

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("data", &String::from_utf8_lossy(&self.data))
            .field("opts", &self.opts)
            .field("attempts_made", &self.attempts_made)
            .field("failed_reason", &self.failed_reason)
            .field("timestamp", &self.timestamp)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// The states a job moves through, as `state()` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Ready to run (a paused queue's jobs too, and prioritized ones).
    Waiting,
    /// Waiting for its time (a delay, or a retry's backoff).
    Delayed,
    /// Being processed under a worker's lease.
    Active,
    /// Done.
    Completed,
    /// Failed for good.
    Failed,
}

impl JobState {
    /// Every state, in the order `counts()` lists them.
    pub const ALL: [JobState; 5] = [
        JobState::Waiting,
        JobState::Active,
        JobState::Delayed,
        JobState::Completed,
        JobState::Failed,
    ];

    /// Parse a state name (`waiting`, `delayed`, `active`, `completed`, `failed`).
    pub fn parse(name: &str) -> Result<JobState> {
        JobState::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown job state {name:?} (expected waiting, active, delayed, completed or failed)"
                ))
            })
    }

    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Waiting => "waiting",
            JobState::Delayed => "delayed",
            JobState::Active => "active",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn text(v: Vec<u8>) -> Result<String> {
    String::from_utf8(v).map_err(|_| Error::Decode("job field is not UTF-8".into()))
}

fn number<T: std::str::FromStr>(field: &str, v: &[u8]) -> Result<T> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Decode(format!("job field {field} is not a number")))
}

impl Job {
    /// A job from its hash as HGETALL returns it.
    pub(crate) fn from_fields(queue: &Queue, id: String, fields: Value) -> Result<Job> {
        let mut job = Job {
            id,
            name: String::new(),
            data: Vec::new(),
            opts: JobOptions::default(),
            attempts_made: 0,
            progress: None,
            return_value: None,
            failed_reason: None,
            timestamp: 0,
            processed_on: None,
            finished_on: None,
            stacktrace: Vec::new(),
            token: 0,
            stalled_count: 0,
            cancel_requested: false,
            scheduler: None,
            queue: queue.clone(),
            on_progress: None,
        };
        let mut slot = None;
        let mut it = fields.into_array()?.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let k = k.into_bytes()?.unwrap_or_default();
            let v = v.into_bytes()?.unwrap_or_default();
            match k.as_slice() {
                b"name" => job.name = text(v)?,
                b"data" => job.data = v,
                b"opts" => {
                    job.opts = serde_json::from_slice(&v)
                        .map_err(|e| Error::Decode(format!("job options: {e}")))?
                }
                b"ts" => job.timestamp = number("ts", &v)?,
                b"am" => job.attempts_made = number("am", &v)?,
                b"pon" => job.processed_on = Some(number("pon", &v)?),
                b"fon" => job.finished_on = Some(number("fon", &v)?),
                b"rv" => job.return_value = Some(v),
                b"fr" => job.failed_reason = Some(text(v)?),
                b"st" => {
                    job.stacktrace = serde_json::from_slice(&v)
                        .map_err(|e| Error::Decode(format!("job stacktrace: {e}")))?
                }
                b"prog" => {
                    job.progress = Some(
                        serde_json::from_slice(&v)
                            .map_err(|e| Error::Decode(format!("job progress: {e}")))?,
                    )
                }
                b"tok" => job.token = number("tok", &v)?,
                b"sc" => job.stalled_count = number("sc", &v)?,
                b"cxl" => job.cancel_requested = v == b"1",
                b"sid" => job.scheduler = Some((text(v)?, 0)),
                b"slot" => slot = Some(number::<u64>("slot", &v)?),
                // Fields for the scripts alone (wid, ddid) and any a later revision adds.
                _ => {}
            }
        }
        if let (Some((_, s)), Some(slot)) = (job.scheduler.as_mut(), slot) {
            *s = slot;
        }
        Ok(job)
    }

    /// The payload, decoded by the queue's codec.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T> {
        self.queue.codec().decode(&self.data)
    }

    /// The return value, decoded by the queue's codec (`None` until completed).
    pub fn return_value<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        self.return_value
            .as_deref()
            .map(|v| self.queue.codec().decode(v))
            .transpose()
    }

    /// The queue the job belongs to.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Report progress (any JSON value): stored on the job and sent as a `progress` event.
    pub async fn update_progress(&mut self, progress: serde_json::Value) -> Result<()> {
        self.queue.update_progress(&self.id, &progress).await?;
        if let Some(hook) = &self.on_progress {
            hook(&self.id, &progress);
        }
        self.progress = Some(progress);
        Ok(())
    }

    /// Append a line to the job's log; returns the number of lines.
    pub async fn log(&self, line: &str) -> Result<u64> {
        self.queue.log(&self.id, line).await
    }

    /// The job's state now (`None` once removed).
    pub async fn state(&self) -> Result<Option<JobState>> {
        self.queue.state(&self.id).await
    }

    /// Remove the job (refused with [`Error::InvalidArgument`] while it is active).
    pub async fn remove(&self) -> Result<bool> {
        self.queue.remove(&self.id).await
    }

    /// Run a failed (or completed) job again, its attempts count reset.
    pub async fn retry(&self) -> Result<bool> {
        self.queue.retry_job(&self.id).await
    }

    /// Wait until the job completes (its return value, codec bytes) or fails (an
    /// [`Error::Job`] with the reason), at most `timeout`.
    pub async fn wait_until_finished(&self, timeout: Duration) -> Result<Option<Vec<u8>>> {
        self.queue.wait_until_finished(&self.id, timeout).await
    }
}
