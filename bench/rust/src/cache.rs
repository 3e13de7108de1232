//! Cache hit and miss through redkit beside raw GET/SET through redis-rs, on the same
//! server in the same run, at concurrency 1 and 64. Contenders run in alternating rounds
//! (the median round is reported) so drift on a shared machine hits all of them alike.
//! Prints a markdown table and writes it to bench/results/rust-cache.md.
//!
//! `cargo run --release -p redkit-bench --bin cache-bench` (starts its own redis-server;
//! set REDIS_URL to use another). BENCH_SECONDS: time per contender (default 3), split
//! over BENCH_ROUNDS rounds (default 5). BENCH_ONLY=<text>[|<text>...]: run only the
//! contenders whose name contains one of them, and print without recording (profiling).
//!
//! Besides the hit rows, "redkit transport get" runs redkit's transport alone (the GET of
//! an entry key, no cache layer), so a gap between a hit and raw GET can be placed on one
//! side of the cache layer or the other.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use redkit::{Client, SetOptions};
use redkit_bench::measure::{alternate, Contender};

/// The row a hit is also compared with: what a hand-written cache-aside does on a hit.
const GET_AND_DECODE: &str = "redis-rs GET + JSON decode (hand-written cache-aside hit)";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = redkit_bench::env_or("BENCH_SECONDS", 3.0);
    let rounds: usize = redkit_bench::env_or("BENCH_ROUNDS", 5);
    let (url, _own_server) = redkit_bench::server::target();

    let client = Client::builder(&url).prefix("bench").build().await?;
    let cache = client
        .cache("bench")
        .ttl(Duration::from_secs(600))
        .early_refresh(0.0)
        .build()?;
    let payload = "x".repeat(100);
    cache.set("hot", &payload, &SetOptions::new()).await?;
    // The same entry in a namespace with a near cache: hits from process memory.
    let near = client
        .cache("near")
        .ttl(Duration::from_secs(600))
        .early_refresh(0.0)
        .near_cache(10_000)
        .build()?;
    near.set("hot", &payload, &SetOptions::new()).await?;
    let live_by = std::time::Instant::now() + Duration::from_secs(5);
    while !near.near().is_some_and(|n| n.is_live()) {
        assert!(
            std::time::Instant::now() < live_by,
            "near cache tracking not confirmed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
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
    let _: () = raw
        .clone()
        .set("raw:json", serde_json::to_vec(&payload)?)
        .await?;

    let mut table = String::from(
        "| operation | concurrency | ops/s (median round) | p50 µs | p99 µs | vs |\n|---|---:|---:|---:|---:|---|\n",
    );
    for concurrency in [1usize, 64] {
        let (rj, cb) = (raw.clone(), cache.clone());
        let (tc, tk): (Client, Arc<str>) = (client.clone(), cache.entry_key("hot")?.into());
        let (r, m, c1, c2, r2, c3) = (
            raw.clone(),
            manager.clone(),
            cache.clone(),
            cache.clone(),
            raw.clone(),
            cache.clone(),
        );
        let v1 = payload.clone();
        let v2 = payload.clone();
        let cn = near.clone();
        let contenders = [
            Contender::new("redis-rs GET (MultiplexedConnection)", "", move |_| {
                let mut r = r.clone();
                Box::pin(async move {
                    let _: Vec<u8> = r.get("raw:hot").await.expect("get");
                })
            }),
            Contender::new(
                GET_AND_DECODE,
                "redis-rs GET (MultiplexedConnection)",
                move |_| {
                    let mut r = rj.clone();
                    Box::pin(async move {
                        // What the seed's hand-written cache-aside does with a hit: parse it.
                        let raw: Vec<u8> = r.get("raw:json").await.expect("get");
                        let _: String = serde_json::from_slice(&raw).expect("json");
                    })
                },
            ),
            Contender::new(
                "redis-rs GET (ConnectionManager)",
                "redis-rs GET (MultiplexedConnection)",
                move |_| {
                    let mut m = m.clone();
                    Box::pin(async move {
                        let _: Vec<u8> = m.get("raw:hot").await.expect("get");
                    })
                },
            ),
            Contender::new(
                "redkit transport get (no cache layer)",
                "redis-rs GET (MultiplexedConnection)",
                move |_| {
                    let (c, k) = (tc.clone(), tk.clone());
                    Box::pin(async move {
                        let _ = c.transport().get(&k).await.expect("get");
                    })
                },
            ),
            Contender::new(
                "redkit cache get_bytes (hit, no decode)",
                "redis-rs GET (MultiplexedConnection)",
                move |_| {
                    let c = cb.clone();
                    Box::pin(async move {
                        let _: Option<Vec<u8>> = c.get_bytes("hot").await.expect("get");
                    })
                },
            ),
            Contender::new(
                "redkit cache get (hit)",
                "redis-rs GET (MultiplexedConnection)",
                move |_| {
                    let c = c1.clone();
                    Box::pin(async move {
                        let _: Option<String> = c.get("hot").await.expect("get");
                    })
                },
            ),
            Contender::new(
                "redkit get_or_set (hit)",
                "redis-rs GET (MultiplexedConnection)",
                move |_| {
                    let c = c2.clone();
                    Box::pin(async move {
                        let _: String = c
                            .get_or_set("hot", || async { Ok::<_, std::io::Error>(String::new()) })
                            .await
                            .expect("hit");
                    })
                },
            ),
            Contender::new(
                "redkit cache get (hit, near_cache: from process memory)",
                "redis-rs GET (MultiplexedConnection)",
                move |_| {
                    let c = cn.clone();
                    Box::pin(async move {
                        let _: Option<String> = c.get("hot").await.expect("get");
                    })
                },
            ),
            Contender::new("redis-rs SET EX (MultiplexedConnection)", "", move |i| {
                let (mut r, v) = (r2.clone(), v1.clone());
                Box::pin(async move {
                    let _: () = r
                        .set_ex(format!("raw:miss:{i}"), v, 600)
                        .await
                        .expect("set");
                })
            }),
            Contender::new(
                "redkit get_or_set (miss: GET + lock + set)",
                "redis-rs SET EX (MultiplexedConnection)",
                move |i| {
                    let (c, v) = (c3.clone(), v2.clone());
                    Box::pin(async move {
                        let _: String = c
                            .get_or_set(&format!("miss:{concurrency}:{i}"), move || async move {
                                Ok::<_, std::io::Error>(v)
                            })
                            .await
                            .expect("miss");
                    })
                },
            ),
        ];
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        let contenders: Vec<Contender> = contenders
            .into_iter()
            .filter(|c| only.split('|').any(|part| c.name.contains(part)))
            .collect();
        let measured = alternate(contenders, concurrency, secs, rounds).await;
        for m in &measured {
            let mut vs = match m.ratio(&measured, m.baseline) {
                Some(r) => format!("{r:.2}× {}", m.baseline),
                None => "baseline".to_string(),
            };
            // A hit also compared with what a hand-written cache-aside hit does (GET + parse).
            if m.name.contains("(hit)") && !m.name.contains("no decode") {
                if let Some(r) = m.ratio(&measured, GET_AND_DECODE) {
                    vs.push_str(&format!("; {r:.2}× GET + JSON decode"));
                }
            }
            table.push_str(&m.row(concurrency, &vs));
        }
    }
    println!("{table}");
    if std::env::var("BENCH_ONLY").is_ok() {
        return Ok(()); // a partial run (profiling) does not replace the recorded table
    }
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/rust-cache.md");
    std::fs::write(
        out,
        format!(
            "## Rust: cache hit and miss\n\nredkit's Rust core beside raw redis-rs on the same redis-server in the same run; \
             {secs} s per contender in {rounds} alternating rounds (median round), 100-byte JSON value. \
             A hit is 1 GET; a miss is GET + lock script + set script (3 round trips).\n\
             Command: `cargo run --release -p redkit-bench --bin cache-bench`\n\n{table}"
        ),
    )?;
    Ok(())
}
