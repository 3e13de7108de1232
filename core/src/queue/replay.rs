//! The conformance replay's ops that no public call makes (conformance/README.md "Queue
//! ops": `take`, `complete`/`fail`, `maintain`, `backoff`, `next_slots`), written once so
//! the core's replay and every binding's test hook take with the same lease, finish and
//! upkeep with the same arguments, and name a fate the same way. Test support: hidden
//! from the docs, not part of the API.

use std::time::Duration;

use super::{Backoff, Finish, Finished, Job, Maintained, Outcome, Queue, Repeat, Take, TakeArgs};
use crate::{Error, Result};

/// The lease the replay takes jobs under: one worker, long enough for any scenario.
pub fn lease() -> TakeArgs {
    TakeArgs {
        worker_id: "conformance".into(),
        lock: Duration::from_secs(30),
        limiter: None,
    }
}

/// Op `take`: the next ready job of `queue` under [`lease`], if any.
pub async fn take(queue: &Queue) -> Result<Option<Job>> {
    Ok(match queue.take(&lease(), 1).await? {
        Take::Jobs(jobs) => jobs.into_iter().next(),
        _ => None,
    })
}

/// The end a scenario names: `completed` with `value`, `failed` or `unrecoverable` with
/// `reason`; any other name is invalid.
pub fn outcome(name: &str, value: Vec<u8>, reason: String) -> Result<Outcome> {
    match name {
        "completed" => Ok(Outcome::Completed(value)),
        "failed" => Ok(Outcome::Failed {
            reason,
            stack: None,
        }),
        "unrecoverable" => Ok(Outcome::Unrecoverable {
            reason,
            stack: None,
        }),
        other => Err(Error::invalid(format!("outcome {other:?}"))),
    }
}

/// Ops `complete` and `fail`: end the delivery `(id, token)` with `outcome` (no jitter);
/// the job's fate as the scenarios spell it (`completed`, `failed`, `retrying`, `lost`).
pub async fn finish(
    queue: &Queue,
    id: String,
    token: u64,
    outcome: Outcome,
) -> Result<&'static str> {
    let finish = Finish {
        id,
        token,
        outcome,
        jitter_draw: 0.0,
    };
    let (fins, _) = queue.finish(&[finish], &lease(), 0).await?;
    Ok(match fins.first() {
        Some(Finished::Completed) => "completed",
        Some(Finished::Failed) => "failed",
        Some(Finished::Retrying) => "retrying",
        Some(Finished::Lost) | None => "lost",
    })
}

/// Op `maintain`: the workers' upkeep (a job stalls out after one recovery).
pub async fn maintain(queue: &Queue) -> Result<Maintained> {
    queue.maintain(1, 1000, Duration::from_secs(60)).await
}

/// Op `backoff`: the delays in ms `backoff` waits after each of `attempts_made`, with
/// `draw` as the random part.
pub fn backoff_delays(backoff: &Backoff, attempts_made: &[u32], draw: f64) -> Vec<u64> {
    attempts_made
        .iter()
        .map(|&n| backoff.delay_for(n, draw).as_millis() as u64)
        .collect()
}

/// Op `next_slots`: the next `count` slots after `after_ms` of `repeat` (validated first,
/// as `upsert_scheduler` does).
pub fn next_slots(repeat: &Repeat, after_ms: u64, count: u32) -> Result<Vec<u64>> {
    repeat.validate()?;
    let mut after = after_ms;
    (0..count)
        .map(|_| {
            after = repeat.next_after(after)?;
            Ok(after)
        })
        .collect()
}
