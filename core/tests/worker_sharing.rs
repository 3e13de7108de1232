//! One Redis shared by a cache and a queue, under memory pressure: with `volatile-lru`
//! only cache entries (which always carry an expiry) are evicted, never a queue key, so no
//! job is lost while the cache churns. `check()` says `volatile-*` is fine and warns on
//! `allkeys-*` once queues live on the server.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redkit::worker::processor_fn;
use redkit::{JobOptions, SetOptions};
use redkit_testkit::Server;

fn evicted(server: &Server) -> u64 {
    let info = server.raw(&["INFO", "stats"]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("evicted_keys:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cache_filling_memory_evicts_no_job() {
    let server = Server::start();
    server.raw(&["CONFIG", "SET", "maxmemory", "24mb"]).unwrap();
    server
        .raw(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"])
        .unwrap();
    let client = common::client_at(&server.url(), "share").await;
    let report = client.check().await.unwrap();
    assert!(
        !report.warnings.iter().any(|w| w.contains("evict")),
        "volatile-lru is safe: {:?}",
        report.warnings
    );

    // The cache writes ~60 MB of entries (each with a ttl) into 24 MB while jobs flow.
    let cache = client
        .cache("pages")
        .ttl(Duration::from_secs(600))
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let filler = tokio::spawn({
        let stop = stop.clone();
        async move {
            let page = "x".repeat(10_000);
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) && i < 6_000 {
                // A write may fail while the server is out of volatile keys to evict;
                // the cache is free to lose entries, the queue is not.
                let _ = cache.set(&format!("p{i}"), &page, &SetOptions::new()).await;
                i += 1;
            }
        }
    });
    let queue = client.queue("jobs").unwrap();
    let worker = client
        .worker(
            "jobs",
            processor_fn(|_, _| async {
                tokio::time::sleep(Duration::from_millis(2)).await;
                Ok(b"1".to_vec())
            }),
        )
        .concurrency(20)
        .build()
        .unwrap();
    let n = 3_000u64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(250) {
        queue
            .add_bulk(chunk.iter().map(|i| ("job", *i, JobOptions::default())))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c = queue.counts().await.unwrap();
        if c.completed + c.failed >= n {
            break;
        }
        assert!(Instant::now() < deadline, "{c:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = filler.await;
    stop.store(true, Ordering::Relaxed);
    worker.close(true).await;
    let c = queue.counts().await.unwrap();
    assert_eq!((c.completed, c.failed), (n, 0), "{c:?}");
    assert!(evicted(&server) > 0, "the cache never filled the server");

    // allkeys-*: jobs could go; check() names them.
    server
        .raw(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
        .unwrap();
    let report = client.check().await.unwrap();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("allkeys-lru") && w.contains("queued jobs,")),
        "{:?}",
        report.warnings
    );
    // This server runs without AOF: with queues here, that warning names the jobs too.
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("AOF") && w.contains("queued jobs,")),
        "{:?}",
        report.warnings
    );
}
