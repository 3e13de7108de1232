//! The Rust producer of the interop matrix (see interop/matrix.py): adds the batch
//! (`INTEROP_BATCH`) to each worker runtime's queue (`INTEROP_WORKERS`) on `REDIS_URL`, reads
//! every job back with `get_job` and compares its data and result exactly. Prints
//! `PAIR rust <worker> ok|FAIL <why>` per worker; exits 1 on any difference.
//!
//! Built as an example of redkit-examples: `cargo build -p redkit-examples --examples`.

use std::time::{Duration, Instant};

use compare::{batch, difference, Case};
use redkit::{Client, Job, JobOptions};
use serde_json::{json, Value};

mod compare;

const DEADLINE: Duration = Duration::from_secs(60);

/// Why the finished job is not what `worker` should have made of `case`, or None.
fn check(job: &Job, case: &Case, worker: &str) -> Option<String> {
    if let Some(reason) = &job.failed_reason {
        return Some(format!("job {} failed: {reason}", job.id));
    }
    let data: Value = match job.data() {
        Ok(d) => d,
        Err(e) => return Some(format!("data: {e}")),
    };
    let result: Value = match job.return_value() {
        Ok(r) => r.unwrap_or(Value::Null),
        Err(e) => return Some(format!("result: {e}")),
    };
    let want = json!({"worker": worker, "name": case.name, "data": case.data});
    difference(&case.data, &data, "data").or_else(|| difference(&want, &result, "result"))
}

#[tokio::main]
async fn main() -> redkit::Result<()> {
    let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let batch = batch();
    let workers: Vec<String> = env("INTEROP_WORKERS")
        .split(',')
        .map(String::from)
        .collect();
    let client = Client::connect(&env("REDIS_URL")).await?;

    let mut ids = Vec::new();
    for w in &workers {
        let queue = client.queue(&format!("interop-to-{w}"))?;
        // One job through add, the rest through add_bulk: both paths encode the data.
        let first = queue
            .add(&batch[0].name, &batch[0].data, JobOptions::default())
            .await?;
        let rest = queue
            .add_bulk(
                batch[1..]
                    .iter()
                    .map(|c| (c.name.clone(), &c.data, JobOptions::default())),
            )
            .await?;
        ids.push(
            std::iter::once(first.id)
                .chain(rest.into_iter().map(|j| j.id))
                .collect::<Vec<_>>(),
        );
    }

    let deadline = Instant::now() + DEADLINE;
    let mut failed = false;
    for (w, ids) in workers.iter().zip(&ids) {
        let queue = client.queue(&format!("interop-to-{w}"))?;
        let mut problems = Vec::new();
        for (case, id) in batch.iter().zip(ids) {
            let mut job = queue.get_job(id).await?;
            while matches!(&job, Some(j) if j.finished_on.is_none()) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
                job = queue.get_job(id).await?;
            }
            let why = match &job {
                None => Some("the job is gone".to_string()),
                Some(j) if j.finished_on.is_none() => {
                    Some(format!("not finished after {DEADLINE:?}"))
                }
                Some(j) => check(j, case, w),
            };
            if let Some(why) = why {
                problems.push(format!("{}: {why}", case.name));
            }
        }
        failed |= !problems.is_empty();
        if problems.is_empty() {
            println!("PAIR rust {w} ok {} jobs", batch.len());
        } else {
            println!("PAIR rust {w} FAIL {}", problems.join("; "));
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
