//! What a queue costs the server: bytes per waiting job, commands per job (INFO
//! commandstats, scripts' own commands included, to set beside BullMQ's 23), and memory
//! that stays flat while jobs flow with remove_on_complete. Printed for bench/RESULTS.md and
//! bounded so the layout does not grow unnoticed.

use std::time::Duration;

use redkit::queue::{Backoff, Finish, JobOptions, Outcome, Removal, Take, TakeArgs};
use redkit::Client;
use redkit_testkit::Server;
use serde_json::json;

/// The seed's email job: its payload and its options.
fn seed_job() -> (serde_json::Value, JobOptions) {
    (
        json!({"to": "user@example.com", "subject": "Welcome to 47Network", "template": "welcome"}),
        JobOptions::new()
            .attempts(3)
            .backoff(Backoff::exponential(Duration::from_secs(1)))
            .remove_on_complete(Removal::KeepFor {
                age: Duration::from_secs(86_400),
                count: None,
            })
            .remove_on_fail(Removal::KeepFor {
                age: Duration::from_secs(604_800),
                count: None,
            }),
    )
}

fn used_memory(server: &Server) -> i64 {
    let info = server.raw(&["INFO", "memory"]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("used_memory")
}

fn args() -> TakeArgs {
    TakeArgs {
        worker_id: "w".into(),
        lock: Duration::from_secs(30),
        limiter: None,
    }
}

/// Run every ready job at concurrency 1: one take, then one finish-and-take per job.
async fn run_all(q: &redkit::Queue) -> u64 {
    let mut n = 0;
    let mut next = q.take(&args(), 1).await.unwrap();
    while let Take::Jobs(jobs) = next {
        let job = &jobs[0];
        let (_, more) = q
            .finish(
                &[Finish {
                    id: job.id.clone(),
                    token: job.token,
                    outcome: Outcome::Completed(b"true".to_vec()),
                    jitter_draw: 0.0,
                }],
                &args(),
                1,
            )
            .await
            .unwrap();
        n += 1;
        next = more;
    }
    n
}

#[tokio::test]
async fn bytes_per_waiting_job() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let q = client.queue("email").unwrap();
    let (data, opts) = seed_job();
    q.add("warm", &data, opts.clone()).await.unwrap();
    let before = used_memory(&server);
    const N: usize = 10_000;
    for _ in 0..N / 1000 {
        q.add_bulk((0..1000).map(|_| ("send-welcome", &data, opts.clone())))
            .await
            .unwrap();
    }
    let per_job = (used_memory(&server) - before) as f64 / N as f64;
    let hash = server.int(&["MEMORY", "USAGE", "rk:{queue:email}:j:2", "SAMPLES", "0"]);
    eprintln!(
        "queue: {per_job:.0} bytes per waiting job (used_memory over {N} seed email jobs, \
         events included); job hash {hash} bytes"
    );
    assert!(per_job < 800.0, "{per_job} bytes per waiting job");
}

#[tokio::test]
async fn commands_per_job() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let q = client.queue("email").unwrap();
    let (data, opts) = seed_job();
    // Warm the script cache and the queue's keys.
    q.add("warm", &data, opts.clone()).await.unwrap();
    run_all(&q).await;
    const N: u64 = 1000;
    let mut total = 0;
    for (label, bulk) in [("add", false), ("add_bulk", true)] {
        server.raw(&["CONFIG", "RESETSTAT"]).unwrap();
        if bulk {
            q.add_bulk((0..N).map(|_| ("send-welcome", &data, opts.clone())))
                .await
                .unwrap();
        } else {
            for _ in 0..N {
                q.add("send-welcome", &data, opts.clone()).await.unwrap();
            }
        }
        let adds = server.total_calls() as f64 / N as f64;
        server.raw(&["CONFIG", "RESETSTAT"]).unwrap();
        assert_eq!(run_all(&q).await, N);
        let runs = server.total_calls() as f64 / N as f64;
        eprintln!(
            "queue: {label}: {adds:.1} server commands per job to add, {runs:.1} to take and \
             complete (at concurrency 1, finish and take in one call), {:.1} in all \
             (BullMQ: 23)",
            adds + runs
        );
        total = total.max(((adds + runs) * 10.0) as u64);
    }
    assert!(total <= 220, "{} commands per job", total as f64 / 10.0);
}

#[tokio::test]
async fn memory_stays_flat_with_remove_on_complete() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let q = client.queue("flat").unwrap();
    let opts = JobOptions::new().remove_on_complete(Removal::Remove);
    let data = json!({"to": "user@example.com"});
    let round = |q: redkit::Queue, opts: JobOptions, data: serde_json::Value| async move {
        for _ in 0..5 {
            q.add_bulk((0..1000).map(|_| ("x", &data, opts.clone())))
                .await
                .unwrap();
            run_all(&q).await;
        }
    };
    // Fill the bounded events stream first: it holds the newest 10,000 events.
    round(q.clone(), opts.clone(), data.clone()).await;
    let base = used_memory(&server);
    round(q.clone(), opts.clone(), data.clone()).await;
    round(q.clone(), opts.clone(), data.clone()).await;
    let after = used_memory(&server);
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.waiting, counts.active, counts.completed), (0, 0, 0));
    eprintln!("queue: used_memory {base} → {after} bytes over 10,000 more jobs");
    assert!(
        after - base < 200_000,
        "memory grew {} bytes over 10,000 jobs",
        after - base
    );
}
