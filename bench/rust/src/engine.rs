//! The embedded engine beside a redis-server on loopback, same operations, same run:
//! a raw GET, a cache hit (one GET), a cache miss (two scripts) and a rate-limit decision
//! (one script), at concurrency 1 and 64. Prints a markdown table and writes it to
//! bench/results/rust-engine.md.
//!
//! `cargo run --release -p redkit-bench --bin engine-bench` (starts its own redis-server;
//! set REDIS_URL to use another). BENCH_SECONDS sets the time per row (default 2).

use std::time::Duration;

use redkit::{Client, Cmd, SetOptions};
use redkit_bench::measure::{measure, Row};

/// Every operation of the table, on one client.
async fn rows(client: &Client, secs: f64) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let cache = client
        .cache("bench")
        .ttl(Duration::from_secs(600))
        .early_refresh(0.0)
        .build()?;
    cache
        .set("hot", &"x".repeat(100), &SetOptions::new())
        .await?;
    let raw_key = cache.entry_key("hot")?;
    let limiter = client
        .rate_limiter("bench")
        .limit(1_000_000_000)
        .window(Duration::from_secs(60))
        .build()?;
    let mut rows = Vec::new();
    for concurrency in [1, 64] {
        let (c, key) = (client.clone(), raw_key.clone());
        rows.push(
            measure("GET (raw command)", concurrency, secs, move |_| {
                let (c, key) = (c.clone(), key.clone());
                async move {
                    c.transport()
                        .send(Cmd::new("GET").arg(key))
                        .await
                        .expect("get");
                }
            })
            .await,
        );
        let c = cache.clone();
        rows.push(
            measure("cache get_or_set hit", concurrency, secs, move |_| {
                let c = c.clone();
                async move {
                    let _: String = c
                        .get_or_set("hot", || async { Ok::<_, std::io::Error>(String::new()) })
                        .await
                        .expect("hit");
                }
            })
            .await,
        );
        let c = cache.clone();
        rows.push(
            measure("cache get_or_set miss", concurrency, secs, move |i| {
                let c = c.clone();
                async move {
                    let _: String = c
                        .get_or_set(&format!("miss:{concurrency}:{i}"), || async {
                            Ok::<_, std::io::Error>("v".to_string())
                        })
                        .await
                        .expect("miss");
                }
            })
            .await,
        );
        let l = limiter.clone();
        rows.push(
            measure("rate limit decision (gcra)", concurrency, secs, move |i| {
                let l = l.clone();
                async move {
                    l.limit(&format!("user:{}", i % 1000), 1)
                        .await
                        .expect("limit");
                }
            })
            .await,
        );
    }
    Ok(rows)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = redkit_bench::env_or("BENCH_SECONDS", 2.0);
    let (url, _own_server) = redkit_bench::server::target();

    let server = rows(&Client::builder(&url).prefix("bench").build().await?, secs).await?;
    let engine = rows(&Client::embedded()?, secs).await?;

    let mut table = String::from(
        "| operation | concurrency | redis-server ops/s | embedded ops/s | embedded / server | server p50/p99 µs | embedded p50/p99 µs |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (s, e) in server.iter().zip(&engine) {
        table.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.1}× | {}/{} | {}/{} |\n",
            s.name,
            s.concurrency,
            s.ops_per_sec,
            e.ops_per_sec,
            e.ops_per_sec / s.ops_per_sec,
            s.p50_us,
            s.p99_us,
            e.p50_us,
            e.p99_us
        ));
    }
    println!("{table}");
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/rust-engine.md");
    std::fs::write(
        out,
        format!(
            "The embedded engine beside redis-server on loopback, same operations, same run \
             ({secs} s per row, release build, one tokio runtime). A hit is one GET; a miss is a \
             GET and two scripts; a rate-limit decision is one script.\n\n{table}"
        ),
    )?;
    Ok(())
}
