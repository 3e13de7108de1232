//! Cache hit and miss through redkit beside raw GET/SET through redis-rs, on the same
//! server in the same run, at concurrency 1 and 64. Prints a markdown table and writes it
//! to bench/results/rust-cache.md.
//!
//! `cargo run --release -p redkit-bench --bin cache-bench` (starts its own redis-server;
//! set REDIS_URL to use another). BENCH_SECONDS sets the time per row (default 2).

mod measure;

use std::time::Duration;

use measure::measure;

use redis::AsyncCommands;
use redkit::{Client, SetOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let own_server = std::env::var("REDIS_URL")
        .is_err()
        .then(redkit_testkit::Server::start);
    let url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| own_server.as_ref().expect("server").url());

    let client = Client::builder(&url).prefix("bench").build().await?;
    let cache = client
        .cache("bench")
        .ttl(Duration::from_secs(600))
        .early_refresh(0.0)
        .build()?;
    let payload = "x".repeat(100);
    cache.set("hot", &payload, &SetOptions::new()).await?;
    let raw = redis::Client::open(url.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let manager = redis::Client::open(url.as_str())?
        .get_connection_manager()
        .await?;
    let _: () = raw
        .clone()
        .set("raw:hot", cache.get_bytes("hot").await?.expect("hot"))
        .await?;

    let mut rows = Vec::new();
    for concurrency in [1, 64] {
        let r = raw.clone();
        rows.push(
            measure("redis-rs GET (raw)", concurrency, secs, move |_| {
                let mut r = r.clone();
                async move {
                    let _: Vec<u8> = r.get("raw:hot").await.expect("get");
                }
            })
            .await,
        );
        let m = manager.clone();
        rows.push(
            measure(
                "redis-rs GET (ConnectionManager)",
                concurrency,
                secs,
                move |_| {
                    let mut m = m.clone();
                    async move {
                        let _: Vec<u8> = m.get("raw:hot").await.expect("get");
                    }
                },
            )
            .await,
        );
        let c = cache.clone();
        rows.push(
            measure("redkit get_or_set hit", concurrency, secs, move |_| {
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
        let r = raw.clone();
        let value = payload.clone();
        rows.push(
            measure("redis-rs SET (raw)", concurrency, secs, move |i| {
                let (mut r, v) = (r.clone(), value.clone());
                async move {
                    let _: () = r
                        .set_ex(format!("raw:miss:{i}"), v, 600)
                        .await
                        .expect("set");
                }
            })
            .await,
        );
        let c = cache.clone();
        let value = payload.clone();
        let tag = concurrency;
        rows.push(
            measure("redkit get_or_set miss", concurrency, secs, move |i| {
                let (c, v) = (c.clone(), value.clone());
                async move {
                    let _: String = c
                        .get_or_set(&format!("miss:{tag}:{i}"), move || async move {
                            Ok::<_, std::io::Error>(v)
                        })
                        .await
                        .expect("miss");
                }
            })
            .await,
        );
    }

    let mut table = String::from(
        "| operation | concurrency | ops/s | p50 µs | p99 µs | vs raw |\n|---|---:|---:|---:|---:|---:|\n",
    );
    // Rows come in groups per concurrency: [GET, GET via manager, hit, SET, miss].
    for group in rows.chunks(5) {
        let pairs = [&group[0..3], &group[3..5]];
        for pair in pairs {
            let base = pair[0].ops_per_sec;
            for r in pair {
                table.push_str(&format!(
                    "| {} | {} | {:.0} | {} | {} | {:.2} |\n",
                    r.name,
                    r.concurrency,
                    r.ops_per_sec,
                    r.p50_us,
                    r.p99_us,
                    r.ops_per_sec / base
                ));
            }
        }
    }
    println!("{table}");
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/rust-cache.md");
    std::fs::write(
        out,
        format!("Rust core cache vs raw redis-rs, same redis-server, same run ({secs} s per row; hit = 1 GET, miss = GET + lock script + set script).\n\n{table}"),
    )?;
    Ok(())
}
