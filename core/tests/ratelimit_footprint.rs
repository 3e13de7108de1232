//! Bytes per identifier in Redis (MEMORY USAGE of its keys) for each algorithm, with the
//! default prefix, a realistic limiter name and identifier. Printed for bench/RESULTS.md,
//! and bounded so the layout does not grow unnoticed.

use std::time::Duration;

use redkit::{Algorithm, Client};
use redkit_testkit::Server;

#[tokio::test]
async fn bytes_per_identifier() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let mut report = Vec::new();
    for algorithm in Algorithm::ALL {
        for (decisions, limit) in [(1, 10), (10, 10), (100, 100)] {
            let rl = client
                .rate_limiter("api")
                .algorithm(algorithm)
                .limit(limit)
                .window(Duration::from_secs(60))
                .build()
                .unwrap();
            // Same-length identifiers, so only the state differs.
            let id = format!("user:{decisions:03}:{limit:03}");
            for _ in 0..decisions {
                assert!(rl.limit(&id, 1).await.unwrap().allowed);
            }
            let keys = rl.keys_for(&id).unwrap();
            let bytes: i64 = keys
                .iter()
                .map(|k| server.int(&["MEMORY", "USAGE", k, "SAMPLES", "0"]))
                .sum();
            eprintln!(
                "{:<15} limit {limit:>3}, {decisions:>3} requests: {bytes:>5} bytes ({})",
                algorithm.as_str(),
                keys[0]
            );
            report.push((algorithm, decisions, bytes));
        }
    }
    let at = |a: Algorithm, n: i64| report.iter().find(|r| r.0 == a && r.1 == n).unwrap().2;
    // One small key whatever the traffic, for every algorithm but the log.
    for a in [
        Algorithm::Gcra,
        Algorithm::TokenBucket,
        Algorithm::SlidingWindow,
        Algorithm::FixedWindow,
    ] {
        for n in [1, 10, 100] {
            assert!(
                at(a, n) <= 112,
                "{a}: {} bytes after {n} requests",
                at(a, n)
            );
        }
    }
    assert!(
        at(Algorithm::Gcra, 1) <= 72,
        "gcra: {} bytes",
        at(Algorithm::Gcra, 1)
    );
    // As small as a key can be: one int-encoded integer, whatever the traffic.
    for a in [
        Algorithm::Gcra,
        Algorithm::FixedWindow,
        Algorithm::SlidingWindow,
    ] {
        for n in [1, 10, 100] {
            assert_eq!(at(a, n), at(Algorithm::Gcra, 1), "{a} after {n} requests");
        }
        let rl = client.rate_limiter("api").algorithm(a).build().unwrap();
        rl.limit("user:42", 1).await.unwrap();
        let key = &rl.keys_for("user:42").unwrap()[0];
        assert_eq!(
            server.raw(&["OBJECT", "ENCODING", key]).unwrap(),
            "int",
            "{a} state is one integer"
        );
    }
    assert!(
        at(Algorithm::SlidingLog, 100) > at(Algorithm::SlidingLog, 1),
        "the log grows with traffic"
    );
}
