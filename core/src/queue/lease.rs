//! What a worker asks of the queue: take jobs under a lease, finish them (and take the
//! next in the same round trip), renew its leases with its heartbeat, and run the periodic
//! upkeep (stalled recovery, age-based removal). The worker engine (crate::worker) drives
//! these; each is one script call.

use std::time::Duration;

use super::job::Job;
use super::scripts;
use super::Queue;
use crate::error::{Error, Result};
use crate::value::Value;

/// Who takes and how: the arguments every take carries.
#[derive(Debug, Clone)]
pub struct TakeArgs {
    /// The worker's id (unique per worker instance).
    pub worker_id: String,
    /// The lease each taken job gets.
    pub lock: Duration,
    /// The queue's global limiter: at most `max` takes per `duration` across all workers.
    pub limiter: Option<(u64, Duration)>,
}

/// What a take brought.
#[derive(Debug)]
pub enum Take {
    /// Jobs leased to the worker, each with its delivery token in `job.token`.
    Jobs(Vec<Job>),
    /// Nothing is ready: block on [`Queue::marker_key`] (BZPOPMIN, on a connection of its
    /// own) at most `wait` (`None`: no delayed job; wait at will).
    Empty {
        /// When the first delayed job is due.
        wait: Option<Duration>,
    },
    /// The limiter is exhausted for `wait`, or the queue is paused (`None`): sleep (or
    /// wait for a resume) without blocking on the marker, which may hold a wake-up.
    Limited {
        /// How long until the limiter's window turns.
        wait: Option<Duration>,
    },
}

/// How one delivery ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The processor returned this value (codec bytes).
    Completed(Vec<u8>),
    /// The processor failed; retried while attempts remain.
    Failed {
        /// The failed reason.
        reason: String,
        /// A stack text, kept on the job (last 10).
        stack: Option<String>,
    },
    /// The processor threw UnrecoverableError: failed at once, no retry.
    Unrecoverable {
        /// The failed reason.
        reason: String,
        /// A stack text, kept on the job (last 10), as a failure's.
        stack: Option<String>,
    },
    /// `cancel(id)` reached the processor: failed at once, no retry.
    Cancelled {
        /// The failed reason.
        reason: String,
    },
    /// The attempt ran past the job's `timeout`; retried while attempts remain.
    Timeout {
        /// The failed reason.
        reason: String,
    },
}

/// One delivery to finish.
#[derive(Debug, Clone)]
pub struct Finish {
    /// The job's id.
    pub id: String,
    /// The delivery's token (`job.token` from the take).
    pub token: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// A draw in [0, 1) for the backoff's jitter.
    pub jitter_draw: f64,
}

/// What became of a finished delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Refused: the lease was lost (the job stalled and may run again elsewhere); the
    /// result is dropped and counted.
    Lost,
    /// Completed.
    Completed,
    /// Failed for good.
    Failed,
    /// Failed; a retry is scheduled.
    Retrying,
}

/// A worker's heartbeat: what `queue.workers()` lists.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkerBeat {
    /// The worker's id.
    pub id: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// A name given by the user (may be empty).
    #[serde(default)]
    pub name: String,
    /// Jobs it may run at once.
    pub concurrency: u32,
    /// Jobs in flight at the beat.
    pub running: u32,
    /// When it started (ms since the epoch, its own clock).
    #[serde(default)]
    pub started: u64,
}

/// The reply to [`Queue::extend`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extended {
    /// Jobs whose lease is lost: drop them (their results would be refused).
    pub lost: Vec<String>,
    /// Jobs whose cancellation was asked: signal their processors.
    pub cancelled: Vec<String>,
}

/// The reply to [`Queue::maintain`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintained {
    /// Stalled jobs put back to wait.
    pub stalled: Vec<String>,
    /// Stalled jobs failed for stalling more than max_stalled_count times.
    pub failed: Vec<String>,
    /// Finished jobs removed by age.
    pub removed: u64,
}

fn strings(v: Value) -> Result<Vec<String>> {
    v.into_array()?
        .into_iter()
        .map(|x| x.into_string().map(Option::unwrap_or_default))
        .collect()
}

impl Queue {
    /// The sorted set an idle worker blocks on (BZPOPMIN) until jobs may be ready.
    pub fn marker_key(&self) -> String {
        format!("{}marker", self.base())
    }

    /// Take up to `n` jobs under a lease.
    pub async fn take(&self, args: &TakeArgs, n: u32) -> Result<Take> {
        let reply = self
            .run(&scripts::TAKE, |cmd| push_take(cmd, args, n))
            .await?;
        self.parse_take(reply.into_array()?)
    }

    /// Finish deliveries and take up to `n` more jobs, in one round trip.
    pub async fn finish(
        &self,
        finishes: &[Finish],
        args: &TakeArgs,
        n: u32,
    ) -> Result<(Vec<Finished>, Take)> {
        let mut reply = self
            .run(&scripts::FINISH, |mut cmd| {
                cmd = cmd.arg(finishes.len());
                for f in finishes {
                    let (outcome, value, stack): (&str, &[u8], &str) = match &f.outcome {
                        // A completion sends no stack and no jitter draw (queue_finish.lua).
                        Outcome::Completed(v) => {
                            cmd = cmd
                                .arg(&f.id)
                                .arg(f.token as i64)
                                .arg("completed")
                                .arg(&v[..]);
                            continue;
                        }
                        Outcome::Failed { reason, stack } => {
                            ("failed", reason.as_bytes(), stack.as_deref().unwrap_or(""))
                        }
                        Outcome::Unrecoverable { reason, stack } => (
                            "unrecoverable",
                            reason.as_bytes(),
                            stack.as_deref().unwrap_or(""),
                        ),
                        Outcome::Cancelled { reason } => ("cancelled", reason.as_bytes(), ""),
                        Outcome::Timeout { reason } => ("timeout", reason.as_bytes(), ""),
                    };
                    cmd = cmd
                        .arg(&f.id)
                        .arg(f.token as i64)
                        .arg(outcome)
                        .arg(value)
                        .arg(stack)
                        .arg(f.jitter_draw.clamp(0.0, 0.999_999));
                }
                push_take(cmd, args, n)
            })
            .await?
            .into_array()?;
        if reply.is_empty() {
            return Err(Error::Decode("queue_finish: empty reply".into()));
        }
        let fins = reply
            .remove(0)
            .into_array()?
            .into_iter()
            .map(|v| {
                Ok(match v.as_int()? {
                    1 => Finished::Completed,
                    2 => Finished::Failed,
                    3 => Finished::Retrying,
                    _ => Finished::Lost,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((fins, self.parse_take(reply)?))
    }

    /// Heartbeat and renew the leases of `jobs` (id, token) for `lock`, in one call.
    pub async fn extend(
        &self,
        beat: &WorkerBeat,
        lock: Duration,
        jobs: &[(String, u64)],
    ) -> Result<Extended> {
        let info = serde_json::to_string(beat)?;
        let reply = self
            .run(&scripts::EXTEND, |mut cmd| {
                cmd = cmd.arg(&beat.id).arg(&info).arg(lock.as_millis() as u64);
                for (id, token) in jobs {
                    cmd = cmd.arg(id).arg(*token as i64);
                }
                cmd
            })
            .await?;
        let mut parts = reply.into_array()?.into_iter();
        Ok(Extended {
            lost: strings(parts.next().unwrap_or(Value::Nil))?,
            cancelled: strings(parts.next().unwrap_or(Value::Nil))?,
        })
    }

    /// Periodic upkeep: stalled recovery with `max_stalled_count`, due age-based removal,
    /// forgetting expired deduplication ids and workers silent for `worker_ttl`; at most
    /// `limit` items of each per call.
    pub async fn maintain(
        &self,
        max_stalled_count: u32,
        limit: u32,
        worker_ttl: Duration,
    ) -> Result<Maintained> {
        let reply = self
            .run(&scripts::MAINTAIN, |cmd| {
                cmd.arg(max_stalled_count)
                    .arg(limit.max(1))
                    .arg(worker_ttl.as_millis() as u64)
            })
            .await?;
        let mut parts = reply.into_array()?.into_iter();
        Ok(Maintained {
            stalled: strings(parts.next().unwrap_or(Value::Nil))?,
            failed: strings(parts.next().unwrap_or(Value::Nil))?,
            removed: parts.next().map(|v| v.as_int()).transpose()?.unwrap_or(0) as u64,
        })
    }

    fn parse_take(&self, reply: Vec<Value>) -> Result<Take> {
        let mut it = reply.into_iter();
        let code = it.next().map(|v| v.as_int()).transpose()?.unwrap_or(0);
        // The take's time when jobs came (their `processed_on`), else how long to wait.
        let second = it.next().map(|v| v.as_int()).transpose()?.unwrap_or(-1);
        let wait = (second >= 0).then(|| Duration::from_millis(second as u64));
        match code {
            1 => {
                let mut jobs = Vec::with_capacity(it.len() / 3);
                // Flat: id, fields, token per job.
                while let Some(id) = it.next() {
                    let (Some(fields), Some(tok)) = (it.next(), it.next()) else {
                        return Err(Error::Decode("queue_take: short job entry".into()));
                    };
                    let id = id.into_string()?.unwrap_or_default();
                    let mut job = Job::from_fields(self, id, fields)?;
                    job.token = tok.as_int()? as u64;
                    job.processed_on = Some(second as u64);
                    jobs.push(job);
                }
                Ok(Take::Jobs(jobs))
            }
            2 => Ok(Take::Limited { wait }),
            _ => Ok(Take::Empty { wait }),
        }
    }
}

fn push_take(cmd: crate::value::Cmd, args: &TakeArgs, n: u32) -> crate::value::Cmd {
    let (max, dur) = args.limiter.unwrap_or((0, Duration::ZERO));
    cmd.arg(&args.worker_id)
        .arg(args.lock.as_millis() as u64)
        .arg(max)
        .arg(dur.as_millis() as u64)
        .arg(n)
}
