//! Round trips a worker makes, counted by a server of its own (MONITOR sees what clients
//! send; INFO commandstats what the server runs, scripts' commands included).

mod common;

use std::time::{Duration, Instant};

use redkit::script::Script;
use redkit::worker::processor_fn;
use redkit::{Client, JobOptions};
use redkit_testkit::Server;

/// The SHA1 of queue script `name` as the core assembles it (queue_common.lua first).
fn sha(name: &'static str, body: &'static str) -> String {
    Script::new(
        name,
        Box::leak(format!("{}{body}", include_str!("../lua/queue_common.lua")).into_boxed_str()),
    )
    .sha()
    .to_string()
}

async fn add(client: &Client, n: usize) {
    client
        .queue("q")
        .unwrap()
        .add_bulk((0..n).map(|i| ("job", i, JobOptions::default())))
        .await
        .unwrap();
}

async fn completed(client: &Client) -> u64 {
    client.queue("q").unwrap().counts().await.unwrap().completed
}

async fn until_completed(client: &Client, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while completed(client).await < n {
        assert!(Instant::now() < deadline, "jobs did not complete");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn finishing_a_job_and_taking_the_next_is_one_command() {
    let server = Server::start();
    let client = common::client_at(&server.url(), "rt").await;
    let n = 200;
    add(&client, n).await;
    let worker = client
        .worker("q", processor_fn(|_, _| async { Ok(b"1".to_vec()) }))
        .autorun(false)
        .build()
        .unwrap();
    let monitor = server.monitor();
    server.raw(&["CONFIG", "RESETSTAT"]).unwrap();
    let run = tokio::spawn(async move {
        worker.run().await.unwrap();
    });
    until_completed(&client, n as u64).await;
    let server_calls = server.total_calls();
    let seen = monitor.finish();
    run.abort();
    let finish = sha("queue_finish", include_str!("../lua/queue_finish.lua"));
    let finishes = seen
        .iter()
        .filter(|c| **c == format!("EVALSHA {finish}"))
        .count();
    // The first call of each script on a fresh server is refused (NOSCRIPT) and sent again
    // with its source: those are not counted.
    let scripts = seen.iter().filter(|c| c.starts_with("EVALSHA")).count();
    // One take fills the slot; from then on each job is one call that finishes it and
    // takes the next (the last one finds nothing).
    assert_eq!(finishes, n);
    assert!(scripts <= n + 6, "{scripts} script calls for {n} jobs");
    // The worker's commands (the test's own polling and INFO left out).
    let worker_cmds = seen
        .iter()
        .filter(|c| c.starts_with("EVALSHA") || c.starts_with("BZPOPMIN"))
        .count();
    // n finishes, plus a fixed few: the first take, a heartbeat, the takes and blocking
    // waits of the idle end.
    assert!(worker_cmds <= n + 8, "{worker_cmds} commands for {n} jobs");
    let per_job = worker_cmds as f64 / n as f64;
    println!(
        "client commands per job: {per_job:.3}; server commands per job (scripts' included): {:.1}",
        server_calls as f64 / n as f64
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_renewal_round_trip_renews_every_lease() {
    let server = Server::start();
    let client = common::client_at(&server.url(), "rt").await;
    add(&client, 10).await;
    let lock = Duration::from_millis(400);
    let worker = client
        .worker(
            "q",
            processor_fn(|_, _| async {
                tokio::time::sleep(Duration::from_millis(1300)).await;
                Ok(b"1".to_vec())
            }),
        )
        .concurrency(10)
        .lock_duration(lock)
        .autorun(false)
        .build()
        .unwrap();
    let monitor = server.monitor();
    let worker = std::sync::Arc::new(worker);
    let w = worker.clone();
    let run = tokio::spawn(async move { w.run().await });
    until_completed(&client, 10).await;
    // The server counts a job completed before the worker has read that finish's reply:
    // the worker's own count may trail it by a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while worker.stats().completed < 10 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = monitor.finish();
    let stats = worker.stats();
    worker.close(true).await;
    run.abort();
    let extend = sha("queue_extend", include_str!("../lua/queue_extend.lua"));
    let extends = seen
        .iter()
        .filter(|c| **c == format!("EVALSHA {extend}"))
        .count() as u64;
    // Every job outlived its 400 ms lease three times over and none was refused: the
    // leases were renewed, all ten by each call (every 200 ms), not one call per job.
    assert_eq!(stats.refused, 0);
    assert_eq!(stats.completed, 10);
    assert!((4..=10).contains(&stats.renewals), "{stats:?}");
    assert!(extends <= stats.renewals + 2, "{extends} extend calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_worker_sends_at_most_one_command_per_second() {
    let server = Server::start();
    let client = common::client_at(&server.url(), "rt").await;
    let worker = client
        .worker("q", processor_fn(|_, _| async { Ok(b"1".to_vec()) }))
        .concurrency(100)
        .build()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let monitor = server.monitor();
    let window = Duration::from_secs(6);
    tokio::time::sleep(window).await;
    let seen = monitor.finish();
    // It still answers at once: a job added now is taken without waiting for a poll.
    add(&client, 1).await;
    let t = Instant::now();
    until_completed(&client, 1).await;
    let latency = t.elapsed();
    worker.close(true).await;
    assert!(
        seen.len() as f64 <= window.as_secs_f64(),
        "{} commands in {window:?}",
        seen.len()
    );
    assert!(latency < Duration::from_millis(500), "{latency:?}");
}

/// A take of many jobs into an empty active set creates it skiplist-encoded (docs/WIRE.md;
/// why: bench/results/rust-queue.md). A small take keeps Redis's default encoding.
#[tokio::test(flavor = "multi_thread")]
async fn a_take_of_many_jobs_keeps_the_active_set_a_skiplist() {
    let server = Server::start();
    let client = common::client_at(&server.url(), "rt").await;
    add(&client, 150).await;
    let q = client.queue("q").unwrap();
    let args = redkit::queue::TakeArgs {
        worker_id: "w".into(),
        lock: Duration::from_secs(30),
        limiter: None,
    };
    let key = "rt:{queue:q}:active";
    let take = |n| q.take(&args, n);
    assert!(matches!(take(2).await.unwrap(), redkit::queue::Take::Jobs(j) if j.len() == 2));
    assert_eq!(
        server.raw(&["OBJECT", "ENCODING", key]).unwrap(),
        "listpack"
    );
    server.raw(&["DEL", key]).unwrap();
    let redkit::queue::Take::Jobs(jobs) = take(100).await.unwrap() else {
        panic!("expected jobs");
    };
    assert_eq!(jobs.len(), 100);
    assert_eq!(
        server.raw(&["OBJECT", "ENCODING", key]).unwrap(),
        "skiplist"
    );
    assert_eq!(q.counts().await.unwrap().active, 100);
}
