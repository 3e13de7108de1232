//! Rate limiter behaviour that needs a private server: command counts (round trips,
//! local_block), a stopped or paused server (on_error), the key count (no leaks).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redkit::transport::native::NativeTransport;
use redkit::{
    Algorithm, BoxFuture, Client, ClockMode, Cmd, ConnectOptions, ErrorKind, OnError, Reason,
    Result, Transport, Value,
};
use redkit_testkit::Server;

/// Counts what the client sends: each `send` and each `pipeline` is one round trip.
struct Counting {
    inner: NativeTransport,
    round_trips: AtomicU64,
}

impl Transport for Counting {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        self.round_trips.fetch_add(1, Ordering::SeqCst);
        self.inner.send(cmd)
    }
    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>> {
        self.round_trips.fetch_add(1, Ordering::SeqCst);
        self.inner.pipeline(cmds)
    }
    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.inner.close()
    }
    fn name(&self) -> &'static str {
        "counting"
    }
}

async fn counting_client(server: &Server) -> (Client, Arc<Counting>) {
    let inner = NativeTransport::connect(&server.url(), ConnectOptions::default())
        .await
        .unwrap();
    let counting = Arc::new(Counting {
        inner,
        round_trips: AtomicU64::new(0),
    });
    let client = Client::from_transport(counting.clone(), &redkit_testkit::prefix("rt")).unwrap();
    (client, counting)
}

fn reset_stats(server: &Server) {
    assert!(server
        .raw(&["CONFIG", "RESETSTAT"])
        .unwrap()
        .starts_with("+OK"));
}

#[tokio::test]
async fn one_evalsha_per_decision() {
    let server = Server::start();
    let (client, counting) = counting_client(&server).await;
    for algorithm in Algorithm::ALL {
        let rl = client
            .rate_limiter(algorithm.as_str())
            .algorithm(algorithm)
            .limit(5)
            .window(Duration::from_secs(3600))
            .and_limit(50, Duration::from_secs(7200))
            .build()
            .unwrap();
        rl.peek("warm-up").await.unwrap(); // loads the script (NOSCRIPT → EVAL) once
        reset_stats(&server);
        counting.round_trips.store(0, Ordering::SeqCst);
        let mut allowed = 0;
        for _ in 0..20 {
            allowed += rl.limit("u", 1).await.unwrap().allowed as u32;
        }
        rl.peek("u").await.unwrap();
        assert_eq!(allowed, 5, "{algorithm}");
        assert_eq!(
            counting.round_trips.load(Ordering::SeqCst),
            21,
            "{algorithm}: one round trip per decision"
        );
        assert_eq!(
            server.calls("evalsha"),
            21,
            "{algorithm}: one EVALSHA per decision"
        );
        assert_eq!(server.calls("eval"), 0, "{algorithm}");
        assert_eq!(
            server.calls("time"),
            21,
            "{algorithm}: the server clock decides"
        );
    }
}

#[tokio::test]
async fn client_clock_never_asks_the_server_for_time() {
    let server = Server::start();
    let (client, counting) = counting_client(&server).await;
    for algorithm in Algorithm::ALL {
        let rl = client
            .rate_limiter(algorithm.as_str())
            .algorithm(algorithm)
            .limit(2)
            .window(Duration::from_secs(3600))
            .clock(ClockMode::Client)
            .build()
            .unwrap();
        rl.peek("warm-up").await.unwrap();
        reset_stats(&server);
        counting.round_trips.store(0, Ordering::SeqCst);
        let got: Vec<bool> = [
            rl.limit("u", 1).await,
            rl.limit("u", 1).await,
            rl.limit("u", 1).await,
        ]
        .into_iter()
        .map(|r| r.unwrap().allowed)
        .collect();
        assert_eq!(got, [true, true, false], "{algorithm}");
        assert_eq!(server.calls("time"), 0, "{algorithm}");
        assert_eq!(server.calls("evalsha"), 3, "{algorithm}");
        assert_eq!(
            counting.round_trips.load(Ordering::SeqCst),
            3,
            "{algorithm}"
        );
    }
}

#[tokio::test]
async fn local_block_costs_no_round_trip() {
    let server = Server::start();
    let (client, counting) = counting_client(&server).await;
    for algorithm in Algorithm::ALL {
        let rl = client
            .rate_limiter(algorithm.as_str())
            .algorithm(algorithm)
            .limit(2)
            .window(Duration::from_millis(400))
            .local_block(true)
            .build()
            .unwrap();
        rl.peek("warm-up").await.unwrap();
        // Start early in an aligned window, so the windows do not turn between the calls.
        early_in_window(400).await;
        assert!(rl.limit("u", 2).await.unwrap().allowed);
        let denied = rl.limit("u", 1).await.unwrap();
        assert!(!denied.allowed && denied.reason == Reason::Limit && denied.retry_after_ms > 0);
        reset_stats(&server);
        counting.round_trips.store(0, Ordering::SeqCst);
        for _ in 0..100 {
            let r = rl.limit("u", 1).await.unwrap();
            assert!(!r.allowed, "{algorithm}");
            assert_eq!(r.reason, Reason::LocalBlock, "{algorithm}");
            assert!(r.retry_after_ms <= denied.retry_after_ms, "{algorithm}");
            assert_eq!(r.limit, denied.limit);
        }
        assert_eq!(
            counting.round_trips.load(Ordering::SeqCst),
            0,
            "{algorithm}: blocked calls stay local"
        );
        let seen = server.total_calls() - server.calls("config|resetstat");
        assert_eq!(seen, 0, "{algorithm}: the server saw nothing");
        // Other identifiers still ask Redis.
        assert!(rl.limit("other", 1).await.unwrap().allowed);
        assert_eq!(counting.round_trips.load(Ordering::SeqCst), 1);
        // Once the retry time has passed the identifier asks Redis again, and is allowed.
        tokio::time::sleep(Duration::from_millis(denied.retry_after_ms + 20)).await;
        let r = rl.limit("u", 1).await.unwrap();
        assert!(r.allowed && r.reason == Reason::Limit, "{algorithm}: {r:?}");
        // reset forgets the local block as well.
        assert!(!rl.limit("u", 2).await.unwrap().allowed);
        rl.reset("u").await.unwrap();
        assert!(
            rl.limit("u", 2).await.unwrap().allowed,
            "{algorithm}: reset"
        );
    }
}

/// Wait, if needed, until the first half of an aligned window of `window_ms`.
async fn early_in_window(window_ms: u64) {
    let into = redkit::rt::now_ms() % window_ms;
    if into > window_ms / 2 {
        tokio::time::sleep(Duration::from_millis(window_ms - into + 5)).await;
    }
}

fn limiter(client: &Client, on_error: OnError) -> redkit::RateLimiter {
    client
        .rate_limiter(on_error.as_str())
        .limit(5)
        .window(Duration::from_secs(1))
        .on_error(on_error)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap()
}

#[tokio::test]
async fn on_error_decides_when_the_server_is_gone() {
    let mut server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let (allow, deny, raise) = (
        limiter(&client, OnError::Allow),
        limiter(&client, OnError::Deny),
        limiter(&client, OnError::Raise),
    );
    assert_eq!(allow.limit("u", 1).await.unwrap().reason, Reason::Limit);
    server.stop();

    let started = Instant::now();
    let r = allow.limit("u", 1).await.unwrap();
    assert!(
        r.allowed && r.reason == Reason::Error && r.error.is_some(),
        "{r:?}"
    );
    let r = deny.limit("u", 1).await.unwrap();
    assert!(!r.allowed && r.reason == Reason::Error, "{r:?}");
    let e = raise.limit("u", 1).await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout),
        "{e:?}"
    );
    assert!(deny.peek("u").await.unwrap().reason == Reason::Error);
    assert!(
        started.elapsed() < Duration::from_millis(4 * 200 + 400),
        "never hangs: {:?}",
        started.elapsed()
    );
    // Bad input is still the caller's error, whatever on_error says.
    assert_eq!(
        allow.limit("", 1).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn on_error_decides_when_the_server_is_slow() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let allow = limiter(&client, OnError::Allow);
    let deny = limiter(&client, OnError::Deny);
    assert!(allow.limit("u", 1).await.unwrap().allowed);
    assert!(server
        .raw(&["CLIENT", "PAUSE", "1000", "ALL"])
        .unwrap()
        .starts_with("+OK"));
    let started = Instant::now();
    let (a, d) = tokio::join!(allow.limit("u", 1), deny.limit("u", 1));
    let elapsed = started.elapsed();
    let (a, d) = (a.unwrap(), d.unwrap());
    assert!(a.allowed && a.reason == Reason::Error, "{a:?}");
    assert_eq!(a.error.as_ref().map(|e| e.kind()), Some(ErrorKind::Timeout));
    assert!(!d.allowed && d.reason == Reason::Error, "{d:?}");
    assert!(
        elapsed < Duration::from_millis(600),
        "gave up at the timeout: {elapsed:?}"
    );
    // When the pause ends the limiter decides again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(allow.limit("u", 1).await.unwrap().reason, Reason::Limit);
}

fn keyspace_counts(server: &Server) -> (i64, i64) {
    let info = server.raw(&["INFO", "keyspace"]).unwrap();
    let field = |name: &str| {
        info.split([',', ':', '\n', '\r'])
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0)
    };
    (field("keys"), field("expires"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_leaves_no_keys_behind() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let before = server.int(&["DBSIZE"]);
    reset_stats(&server);
    let window = Duration::from_millis(200);
    let variants: Vec<redkit::RateLimiter> = Algorithm::ALL
        .into_iter()
        .map(|a| {
            client
                .rate_limiter(a.as_str())
                .algorithm(a)
                .limit(2)
                .window(window)
                .and_limit(3, window * 2)
                .count_denied(a == Algorithm::SlidingLog)
                .build()
                .unwrap()
        })
        .collect();
    // 10,000 identifiers, 2,000 per algorithm, each hit three times (one denial each).
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..50 {
        let variants = variants.clone();
        tasks.spawn(async move {
            for i in (worker..10_000).step_by(50) {
                let rl = &variants[i % variants.len()];
                let id = format!("user:{i}");
                for _ in 0..3 {
                    rl.limit(&id, 1).await.unwrap();
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let (keys, expires) = keyspace_counts(&server);
    assert!(keys > before, "keys were written: {keys}");
    assert_eq!(keys - before, expires, "every rate limit key has an expiry");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = server.int(&["DBSIZE"]);
        if now == before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "keys left behind: {now} vs {before}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let info = server.raw(&["INFO", "stats"]).unwrap();
    let expired: i64 = info
        .lines()
        .find_map(|l| l.strip_prefix("expired_keys:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap();
    assert!(
        expired >= 20_000,
        "two keys per identifier, each gone by expiry: {expired}"
    );
}

/// block_for, penalty and reward keep to one round trip each (the block is read and set in
/// the decision's own script); listed identifiers cost none; a wait costs one per try.
#[tokio::test]
async fn block_for_penalty_reward_and_lists_keep_their_round_trips() {
    let server = Server::start();
    let (client, counting) = counting_client(&server).await;
    let trips = || counting.round_trips.swap(0, Ordering::SeqCst);
    for algorithm in Algorithm::ALL {
        for rules in [1, 2] {
            let mut b = client
                .rate_limiter(&format!("{algorithm}-{rules}"))
                .algorithm(algorithm)
                .limit(2)
                .window(Duration::from_secs(60))
                .block_for(Duration::from_secs(60))
                .allow_list(["ok"])
                .deny_list(["bad"]);
            if rules == 2 {
                b = b.and_limit(100, Duration::from_secs(3600));
            }
            let rl = b.build().unwrap();
            // Load both scripts (a first call of each may add a SCRIPT LOAD).
            rl.peek("warm-up").await.unwrap();
            rl.reward("warm-up", 1).await.unwrap();
            reset_stats(&server);
            trips();
            let what = format!("{algorithm}, {rules} rules");
            assert!(rl.limit("u", 2).await.unwrap().allowed, "{what}");
            assert!(!rl.limit("u", 1).await.unwrap().allowed, "{what}");
            assert_eq!(trips(), 2, "{what}: one round trip per decision");
            rl.reward("u", 2).await.unwrap();
            // Capacity is back, the block is not: still denied, and seen by every process.
            let blocked = rl.limit("u", 1).await.unwrap();
            assert!(
                !blocked.allowed && blocked.retry_after_ms > 59_000,
                "{what}"
            );
            assert_eq!(trips(), 2, "{what}: reward and a blocked decision");
            rl.penalty("v", 1).await.unwrap();
            assert_eq!(trips(), 1, "{what}: penalty");
            for id in ["ok", "bad"] {
                rl.limit(id, 1).await.unwrap();
                rl.peek(id).await.unwrap();
            }
            assert_eq!(trips(), 0, "{what}: listed identifiers stay local");
            assert_eq!(
                server.calls("evalsha"),
                5,
                "{what}: every call above one script"
            );
            // Another client (another process) sees the block: it lives in Redis.
            let inner = NativeTransport::connect(&server.url(), ConnectOptions::default())
                .await
                .unwrap();
            let other = Client::from_transport(Arc::new(inner), client.prefix()).unwrap();
            let mut b = other
                .rate_limiter(&format!("{algorithm}-{rules}"))
                .algorithm(algorithm)
                .limit(2)
                .window(Duration::from_secs(60))
                .block_for(Duration::from_secs(60));
            if rules == 2 {
                b = b.and_limit(100, Duration::from_secs(3600));
            }
            let there = b.build().unwrap().limit("u", 1).await.unwrap();
            assert!(!there.allowed && there.retry_after_ms > 59_000, "{what}");
        }
    }
}

/// A wait sleeps for each denial's retry time: a few decisions, not a busy loop.
#[tokio::test]
async fn wait_sleeps_between_tries() {
    let server = Server::start();
    let (client, counting) = counting_client(&server).await;
    let rl = client
        .rate_limiter("wait")
        .limit(1)
        .window(Duration::from_millis(1000))
        .build()
        .unwrap();
    let started = Instant::now();
    assert!(rl.limit("u", 1).await.unwrap().allowed);
    counting.round_trips.store(0, Ordering::SeqCst);
    let r = rl.wait("u", 1, Some(Duration::from_secs(5))).await.unwrap();
    let took = started.elapsed();
    assert!(r.allowed, "{r:?}");
    // Allowed one emission interval after the first request, not before.
    assert!(took >= Duration::from_millis(990), "{took:?}");
    let tries = counting.round_trips.load(Ordering::SeqCst);
    assert!((1..=3).contains(&tries), "{tries} decisions");
    // A timeout shorter than the wait: the denial at once, no sleep.
    let started = Instant::now();
    let r = rl
        .wait("u", 1, Some(Duration::from_millis(100)))
        .await
        .unwrap();
    assert!(!r.allowed && r.retry_after_ms > 100, "{r:?}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "no sleep for nothing"
    );
}
