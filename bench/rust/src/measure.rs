//! The timing loop every benchmark binary shares.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One measured operation.
pub struct Row {
    /// What was measured.
    pub name: String,
    /// Tasks running it at once.
    pub concurrency: usize,
    /// Completed operations per second, all tasks together.
    pub ops_per_sec: f64,
    /// Median latency.
    pub p50_us: u64,
    /// 99th percentile latency.
    pub p99_us: u64,
}

/// Run `op` from `concurrency` tasks for `d`; returns ops/s and every call's latency (µs).
pub async fn run_round<F, Fut>(
    concurrency: usize,
    d: Duration,
    seq: &Arc<AtomicU64>,
    op: F,
) -> (f64, Vec<u64>)
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let until = Instant::now() + d;
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, seq) = (op.clone(), seq.clone());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(50_000);
                while Instant::now() < until {
                    let t = Instant::now();
                    op(seq.fetch_add(1, Ordering::Relaxed)).await;
                    lat.push(t.elapsed().as_micros() as u64);
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("bench task"));
    }
    (all.len() as f64 / started.elapsed().as_secs_f64(), all)
}

/// The `p` quantile of sorted latencies.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Run `op` from `concurrency` tasks for `secs` in one go.
pub async fn measure<F, Fut>(name: &str, concurrency: usize, secs: f64, op: F) -> Row
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let seq = Arc::new(AtomicU64::new(0));
    let (ops_per_sec, mut all) =
        run_round(concurrency, Duration::from_secs_f64(secs), &seq, op).await;
    all.sort_unstable();
    Row {
        name: name.to_string(),
        concurrency,
        ops_per_sec,
        p50_us: percentile(&all, 0.50),
        p99_us: percentile(&all, 0.99),
    }
}
