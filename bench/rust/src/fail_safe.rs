//! What `fail_safe` (cache) and `insurance` / the circuit breaker (rate limiter) cost on the
//! hot path while Redis is healthy: each measured beside the same operation without them,
//! on the same redis-server in the same run, in alternating rounds (median round).
//!
//! - cache hit: `get` and `get_or_set` with `fail_safe` off and on (on: two relaxed
//!   atomic loads per call; the soft timeout is the GET's own request deadline, no timer);
//! - rate-limit decision: `on_error="raise"` (no failover: the path before fail-safe
//!   existed), `on_error="deny"` (the default: breaker checks) and `insurance` (breaker
//!   checks; the in-process limiter is touched only when Redis fails).
//!
//! `cargo run --release -p redkit-bench --bin fail-safe-bench` (starts its own
//! redis-server; REDIS_URL for another). BENCH_SECONDS per contender (default 4), over
//! BENCH_ROUNDS rounds (default 8). Writes bench/results/fail-safe-timing.md (the
//! instruction counts of bench/results/fail-safe.md are written by hand from the
//! BENCH_COUNT runs of bench/fail-safe-count.sh).
//!
//! `BENCH_COUNT='<operation>=<n>'` runs one operation `n` times in sequence and writes
//! nothing: under callgrind, (count at n2 - count at n1) / (n2 - n1) is its instructions
//! per call, a figure the load of a shared machine does not move.

use std::time::Duration;

use redkit::{BoxFuture, Cache, Client, OnError, RateLimiter, SetOptions};
use redkit_bench::measure::{alternate, Contender};

fn contender(
    name: &'static str,
    baseline: &'static str,
    op: impl Fn(u64) -> BoxFuture<'static, ()> + Send + Sync + 'static,
) -> Contender {
    Contender::new(name, baseline, op)
}

fn get(c: &Cache) -> impl Fn(u64) -> BoxFuture<'static, ()> + Send + Sync + 'static {
    let c = c.clone();
    move |_| {
        let c = c.clone();
        Box::pin(async move {
            let _: Option<String> = c.get("hot").await.expect("get");
        })
    }
}

fn get_or_set(c: &Cache) -> impl Fn(u64) -> BoxFuture<'static, ()> + Send + Sync + 'static {
    let c = c.clone();
    move |_| {
        let c = c.clone();
        Box::pin(async move {
            let _: String = c
                .get_or_set("hot", || async { Ok::<_, std::io::Error>(String::new()) })
                .await
                .expect("hit");
        })
    }
}

fn limit(l: &RateLimiter) -> impl Fn(u64) -> BoxFuture<'static, ()> + Send + Sync + 'static {
    let l = l.clone();
    move |i| {
        let l = l.clone();
        Box::pin(async move {
            let r = l.limit(&format!("u{}", i % 1000), 1).await.expect("limit");
            assert!(r.allowed);
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = redkit_bench::env_or("BENCH_SECONDS", 4.0);
    let rounds: usize = redkit_bench::env_or("BENCH_ROUNDS", 8);
    let (url, _own_server) = redkit_bench::server::target();
    let client = Client::builder(&url).prefix("bench-fs").build().await?;
    let payload = "x".repeat(100);
    let cache = |ns: &str, fail_safe: bool| {
        client
            .cache(ns)
            .ttl(Duration::from_secs(600))
            .early_refresh(0.0)
            .fail_safe(fail_safe)
            .build()
    };
    let (plain, safe) = (cache("plain", false)?, cache("safe", true)?);
    for c in [&plain, &safe] {
        c.set("hot", &payload, &SetOptions::new()).await?;
    }
    let limiter = |name: &str, on_error: OnError, insurance: bool| {
        client
            .rate_limiter(name)
            .limit(1 << 30)
            .window(Duration::from_secs(1))
            .on_error(on_error)
            .insurance(insurance)
            .build()
    };
    let raise = limiter("raise", OnError::Raise, false)?;
    let deny = limiter("deny", OnError::Deny, false)?;
    let insured = limiter("insured", OnError::Raise, true)?;

    const GET: &str = "cache get (hit), fail_safe off";
    const GOS: &str = "cache get_or_set (hit), fail_safe off";
    const RAISE: &str = "rate limit, on_error=raise (no failover)";
    let make = || {
        [
            contender(GET, "", get(&plain)),
            contender("cache get (hit), fail_safe on", GET, get(&safe)),
            contender(GOS, "", get_or_set(&plain)),
            contender(
                "cache get_or_set (hit), fail_safe on",
                GOS,
                get_or_set(&safe),
            ),
            contender(RAISE, "", limit(&raise)),
            contender(
                "rate limit, on_error=deny (circuit breaker)",
                RAISE,
                limit(&deny),
            ),
            contender(
                "rate limit, insurance (circuit breaker)",
                RAISE,
                limit(&insured),
            ),
        ]
    };
    // Instruction counts (callgrind): run one contender `n` times in sequence and stop.
    if let Ok(spec) = std::env::var("BENCH_COUNT") {
        let (name, n) = spec
            .rsplit_once('=')
            .expect("BENCH_COUNT=<operation>=<count>");
        let n: u64 = n.parse().expect("count");
        let c = make()
            .into_iter()
            .find(|c| c.name == name)
            .expect("no such operation");
        for i in 0..n {
            (c.op)(i).await;
        }
        return Ok(());
    }
    let mut table = String::from(
        "| operation | concurrency | ops/s (median round) | p50 µs | p99 µs | vs |\n|---|---:|---:|---:|---:|---|\n",
    );
    for concurrency in [1usize, 64] {
        let measured = alternate(make().into(), concurrency, secs, rounds).await;
        for m in &measured {
            let vs = match m.ratio(&measured, m.baseline) {
                Some(r) => format!("{r:.3}× {}", m.baseline),
                None => "baseline".to_string(),
            };
            table.push_str(&m.row(concurrency, &vs));
        }
    }
    println!("{table}");
    let out = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../results/fail-safe-timing.md"
    );
    std::fs::write(
        out,
        format!(
            "## Rust: what fail_safe and insurance cost while Redis is healthy\n\n\
             Each operation beside the same one without the feature, on the same redis-server \
             in the same run; {secs} s per contender in {rounds} alternating rounds (median \
             round), 100-byte JSON value, 1,000 identifiers. On a shared, loaded machine the \
             median round moves by tens of percent: the instruction counts of fail-safe.md \
             (bench/fail-safe-count.sh) resolve what timing cannot.\n\
             Command: `cargo run --release -p redkit-bench --bin fail-safe-bench`\n\n{table}"
        ),
    )?;
    Ok(())
}
