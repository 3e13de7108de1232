//! A queue's memory while a million jobs flow through it with `remove_on_complete`: jobs are
//! added in bulks of 1,000 (at most 10,000 waiting at a time) while one worker at
//! concurrency 100 runs them, and every 100,000 completed jobs the server's `used_memory`
//! and key count are sampled. Flat means the queue keeps nothing per finished job: the job
//! hash goes with its completion and the events stream is bounded.
//!
//! `cargo run --release -p redkit-bench --bin queue-memory` (a server of its own unless
//! REDIS_URL is set; QUEUE_MEMORY_JOBS sets the total, default 1,000,000). Prints a
//! markdown table.

use std::time::{Duration, Instant};

use redkit::queue::Removal;
use redkit::worker::processor_fn;
use redkit::{Client, JobOptions};
use redkit_bench::server::{info, info_field, send};

/// One integer of `INFO <section>` (0 when absent).
async fn info_int(client: &Client, section: &str, field: &str) -> i64 {
    info_field(&info(client, section).await, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn dbsize(client: &Client) -> i64 {
    send(client, redkit::Cmd::new("DBSIZE"))
        .await
        .as_int()
        .expect("integer")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: u64 = redkit_bench::env_or("QUEUE_MEMORY_JOBS", 1_000_000);
    let every = (total / 10).max(1);
    let (url, _own_server) = redkit_bench::server::target();
    let client = Client::builder(&url).prefix("qmem").build().await?;
    send(&client, redkit::Cmd::new("FLUSHALL")).await;
    let q = client.queue("mem")?;
    let payload = serde_json::json!({
        "to": "user@example.com", "subject": "Welcome to 47Network", "template": "welcome"
    });
    let opts = JobOptions::new().remove_on_complete(Removal::Remove);
    let worker = client
        .worker("mem", processor_fn(|_, _| async { Ok(b"1".to_vec()) }))
        .concurrency(100)
        .build()?;
    let base_mem = info_int(&client, "memory", "used_memory").await;
    let base_keys = dbsize(&client).await;
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut added = 0u64;
    while added < total {
        // At most 10,000 waiting: the queue's backlog is not what is measured.
        while added - worker.stats().completed >= 10_000 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let k = (total - added).min(1000);
        q.add_bulk((0..k).map(|_| ("email", &payload, opts.clone())))
            .await?;
        added += k;
        if added.is_multiple_of(every) || added == total {
            while worker.stats().completed < added {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            rows.push((
                added,
                info_int(&client, "memory", "used_memory").await,
                dbsize(&client).await,
                started.elapsed(),
            ));
        }
    }
    let stats = worker.stats();
    worker.close(true).await;
    let mut out = format!(
        "Command: `cargo run --release -p redkit-bench --bin queue-memory` \
         (QUEUE_MEMORY_JOBS={total}); redis-server {}; before the first job: used_memory \
         {base_mem} B, {base_keys} keys. Completed {}, failed {}, refused {}.\n\n\
         | jobs completed | used_memory (B) | growth since the first sample (B) | keys | elapsed (s) |\n\
         |---:|---:|---:|---:|---:|\n",
        info_field(&info(&client, "server").await, "redis_version").unwrap_or("?"),
        stats.completed,
        stats.failed,
        stats.refused,
    );
    let first = rows.first().map_or(0, |r| r.1);
    for (jobs, mem, keys, t) in &rows {
        out.push_str(&format!(
            "| {jobs} | {mem} | {:+} | {keys} | {:.1} |\n",
            mem - first,
            t.as_secs_f64()
        ));
    }
    print!("{out}");
    Ok(())
}
