//! A server at maxmemory with noeviction (issue 16, item 8): writes fail as the server
//! error they are, a cache miss still gets the loader's value (unstored), and every
//! rate-limit algorithm, sliding_log included, answers by `on_error`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redkit::{Algorithm, Client, ConnectOptions, ErrorKind, OnError, Reason, SetOptions};
use redkit_testkit::Server;

/// A server of its own (it is starved of memory), and a client of it.
async fn starved() -> (Server, Client) {
    let server = Server::start();
    let client = Client::connect_with(&server.url(), ConnectOptions::default().prefix("oom"))
        .await
        .unwrap();
    assert!(server
        .raw(&["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        .unwrap()
        .starts_with("+OK"));
    (server, client)
}

/// From now on every memory-growing write is refused with OOM.
fn run_out_of_memory(server: &Server) {
    assert!(server
        .raw(&["CONFIG", "SET", "maxmemory", "1"])
        .unwrap()
        .starts_with("+OK"));
    let refused = server.raw(&["SET", "probe", "x"]).unwrap();
    assert!(refused.starts_with("-OOM"), "{refused}");
}

#[tokio::test]
async fn the_cache_serves_the_loader_unstored_and_reports_a_server_error() {
    let (server, client) = starved().await;
    let cache = client.cache("c").build().unwrap();
    run_out_of_memory(&server);

    let err = cache
        .set("k", &1u32, &SetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("OOM"), "{err}");

    let calls = Arc::new(AtomicU32::new(0));
    for _ in 0..2 {
        let counted = Arc::clone(&calls);
        let value: u32 = cache
            .get_or_set("miss", move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::io::Error>(7)
            })
            .await
            .unwrap();
        assert_eq!(value, 7);
    }
    // Nothing was stored, so each call loaded; and no lock was left behind to make the
    // second one wait.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(cache.get::<u32>("miss").await.unwrap(), None);
    assert_eq!(server.int(&["EXISTS", "oom:{cache:c}:l:miss"]), 0);
}

#[tokio::test]
async fn every_algorithm_follows_on_error() {
    let (server, client) = starved().await;
    const T0: u64 = 1_700_000_040_000;
    let limiter = |algorithm: Algorithm, on_error: OnError| {
        client
            .rate_limiter(&format!("{}-{on_error:?}", algorithm.as_str()))
            .algorithm(algorithm)
            .limit(5)
            .window(Duration::from_secs(1))
            .on_error(on_error)
            .build()
            .unwrap()
    };
    // State from before memory ran out, old enough to be trimmed by the next decision:
    // sliding_log's trim, when it ran first, let its ZADD past the OOM check.
    for algorithm in Algorithm::ALL {
        for on_error in [OnError::Allow, OnError::Deny, OnError::Raise] {
            let rl = limiter(algorithm, on_error);
            assert!(rl.limit_at("u", 1, T0).await.unwrap().allowed);
        }
    }
    run_out_of_memory(&server);
    let later = T0 + 10_000;
    for algorithm in Algorithm::ALL {
        let allow = limiter(algorithm, OnError::Allow)
            .limit_at("u", 1, later)
            .await
            .unwrap();
        assert_eq!(
            (allow.allowed, allow.reason),
            (true, Reason::Error),
            "{algorithm:?}"
        );
        let deny = limiter(algorithm, OnError::Deny)
            .limit_at("u", 1, later)
            .await
            .unwrap();
        assert_eq!(
            (deny.allowed, deny.reason),
            (false, Reason::Error),
            "{algorithm:?}"
        );
        let raised = limiter(algorithm, OnError::Raise)
            .limit_at("u", 1, later)
            .await
            .unwrap_err();
        assert_eq!(raised.kind(), ErrorKind::Server, "{algorithm:?}: {raised}");
    }
}
