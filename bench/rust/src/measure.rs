//! The timing loop every benchmark binary shares.

use std::future::Future;
use std::pin::Pin;
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

/// One operation under test; the argument is a sequence number (for unique keys).
pub type Op = Arc<dyn Fn(u64) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A contender of a side-by-side run: its operation and what it is compared with.
pub struct Contender {
    /// Its row's name.
    pub name: &'static str,
    /// The row it is compared with (the "vs" column); `""`: none.
    pub baseline: &'static str,
    /// The operation.
    pub op: Op,
    rounds_ops: Vec<f64>,
    latencies_us: Vec<u64>,
}

impl Contender {
    /// `name`, measured by `op`, compared with the row `baseline`.
    pub fn new(
        name: &'static str,
        baseline: &'static str,
        op: impl Fn(u64) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static,
    ) -> Self {
        Contender {
            name,
            baseline,
            op: Arc::new(op),
            rounds_ops: Vec::new(),
            latencies_us: Vec::new(),
        }
    }
}

/// A contender's figures over its rounds.
pub struct Measured {
    /// The contender's name.
    pub name: &'static str,
    /// The row it is compared with.
    pub baseline: &'static str,
    /// Its median round's ops/s.
    pub ops: f64,
    /// Latency percentiles over every round.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
}

/// Run `contenders` at `concurrency` in alternating rounds (`rounds` slices of `secs` in
/// all, each contender one slice per round), so a machine's drift touches them alike.
pub async fn alternate(
    contenders: Vec<Contender>,
    concurrency: usize,
    secs: f64,
    rounds: usize,
) -> Vec<Measured> {
    let mut contenders = contenders;
    let seq = Arc::new(AtomicU64::new(0));
    let slice = Duration::from_secs_f64(secs / rounds as f64);
    for _ in 0..rounds {
        for c in contenders.iter_mut() {
            let op = c.op.clone();
            let (ops, lat) = run_round(concurrency, slice, &seq, move |i| op(i)).await;
            c.rounds_ops.push(ops);
            c.latencies_us.extend(lat);
        }
    }
    contenders
        .into_iter()
        .map(|mut c| {
            c.rounds_ops.sort_by(|a, b| a.total_cmp(b));
            c.latencies_us.sort_unstable();
            Measured {
                name: c.name,
                baseline: c.baseline,
                ops: c.rounds_ops[c.rounds_ops.len() / 2],
                p50_us: percentile(&c.latencies_us, 0.50),
                p99_us: percentile(&c.latencies_us, 0.99),
            }
        })
        .collect()
}

impl Measured {
    /// Its ops/s over those of the row `name` in `all`, if that row ran.
    pub fn ratio(&self, all: &[Measured], name: &str) -> Option<f64> {
        all.iter()
            .find(|m| m.name == name)
            .map(|m| self.ops / m.ops)
    }

    /// Its markdown row: name, concurrency, ops/s, p50, p99, then `vs`.
    pub fn row(&self, concurrency: usize, vs: &str) -> String {
        format!(
            "| {} | {} | {:.0} | {} | {} | {} |\n",
            self.name, concurrency, self.ops, self.p50_us, self.p99_us, vs
        )
    }
}
