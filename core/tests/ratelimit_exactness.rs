//! Exactness under contention: for each algorithm, 8 clients (8 separate connections)
//! hammer one identifier for 3 s, all algorithms at once. The number allowed never exceeds
//! what the algorithm permits over the elapsed time, and is close enough to it to show
//! the limiter is admitting, not just refusing.

mod common;

use std::time::Duration;

use common::Backend;

use redkit::{rt, Algorithm};

const CLIENTS: usize = 8;
const RUN: Duration = Duration::from_secs(3);

struct Run {
    allowed: u64,
    denied: u64,
    /// Wall-clock ms (the server's clock too: same machine) before the first request
    /// was sent and after the last reply came.
    start_ms: u64,
    end_ms: u64,
}

async fn hammer(
    backend: &Backend,
    algorithm: Algorithm,
    limit: i64,
    window: Duration,
    burst: i64,
) -> Run {
    let prefix = redkit_testkit::prefix("exact");
    let mut limiters = Vec::new();
    for _ in 0..CLIENTS {
        let client = backend.client(&prefix).await;
        let rl = client
            .rate_limiter("hammer")
            .algorithm(algorithm)
            .limit(limit)
            .window(window)
            .burst(burst)
            .build()
            .unwrap();
        rl.peek("warm-up").await.unwrap();
        limiters.push(rl);
    }
    let start_ms = rt::now_ms();
    let mut tasks = tokio::task::JoinSet::new();
    for rl in limiters {
        tasks.spawn(async move {
            let (mut allowed, mut denied) = (0u64, 0u64);
            let stop = std::time::Instant::now() + RUN;
            while std::time::Instant::now() < stop {
                if rl.limit("target", 1).await.unwrap().allowed {
                    allowed += 1;
                } else {
                    denied += 1;
                }
            }
            (allowed, denied)
        });
    }
    let (mut allowed, mut denied) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (a, d) = r.unwrap();
        allowed += a;
        denied += d;
    }
    Run {
        allowed,
        denied,
        start_ms,
        end_ms: rt::now_ms(),
    }
}

/// Aligned windows of `window_ms` that [start, end] touches.
fn windows_touched(run: &Run, window_ms: u64) -> u64 {
    run.end_ms / window_ms - run.start_ms / window_ms + 1
}

async fn concurrent_clients_never_get_more_than_the_algorithm_permits(backend: Backend) {
    let (limit, burst) = (20i64, 5i64);
    let window = Duration::from_millis(500);
    let w = window.as_millis() as u64;
    let (gcra, bucket, sliding, log, fixed) = tokio::join!(
        hammer(&backend, Algorithm::Gcra, limit, window, burst),
        hammer(&backend, Algorithm::TokenBucket, limit, window, burst),
        hammer(&backend, Algorithm::SlidingWindow, limit, window, 0),
        hammer(&backend, Algorithm::SlidingLog, limit, window, 0),
        hammer(&backend, Algorithm::FixedWindow, limit, window, 0),
    );
    let l = limit as u64;
    let report = |name: &str, run: &Run, bound: u64| {
        eprintln!(
            "{name}: allowed {} of {} in {} ms (bound {bound})",
            run.allowed,
            run.allowed + run.denied,
            run.end_ms - run.start_ms
        );
        assert!(
            run.allowed <= bound,
            "{name}: {} allowed, bound {bound}",
            run.allowed
        );
        assert!(
            run.denied > run.allowed,
            "{name}: the clients did hammer ({} denied)",
            run.denied
        );
    };

    // Buckets: the capacity at once, then one per emission interval, plus at most one
    // interval of rounding.
    for (name, run) in [("gcra", &gcra), ("token_bucket", &bucket)] {
        let interval = w / l; // 25 ms
        let elapsed = run.end_ms - run.start_ms;
        let bound = (limit + burst) as u64 + elapsed / interval + 1;
        report(name, run, bound);
        assert!(
            run.allowed + 2 * l >= bound,
            "{name}: admits close to the rate ({})",
            run.allowed
        );
    }
    // Exact: never more than `limit` in any window, so over the run at most `limit` per
    // window length started, plus the first window.
    let bound = l * ((log.end_ms - log.start_ms) / w + 1);
    report("sliding_log", &log, bound);
    assert!(
        log.allowed + 2 * l >= bound,
        "sliding_log admits close to the limit ({})",
        log.allowed
    );
    // Exact per aligned window.
    let bound = l * windows_touched(&fixed, w);
    report("fixed_window", &fixed, bound);
    assert!(
        fixed.allowed + l >= bound,
        "fixed_window admits close to the limit ({})",
        fixed.allowed
    );
    // The weighted counter: never more than `limit` per aligned window (its documented
    // bound), and with steady traffic close to limit per window length.
    let bound = l * windows_touched(&sliding, w);
    report("sliding_window", &sliding, bound);
    assert!(
        sliding.allowed >= l * (sliding.end_ms - sliding.start_ms) / w / 2,
        "sliding_window admits ({})",
        sliding.allowed
    );
}
every_backend!(
    concurrent_clients_never_get_more_than_the_algorithm_permits,
    super::concurrent_clients_never_get_more_than_the_algorithm_permits,
    flavor = "multi_thread",
    worker_threads = 2
);
