//! A rate limiter when Redis is down or slow: `insurance` decides in-process, `on_error`
//! otherwise, and a circuit breaker makes a dead Redis cost one timeout per interval. Real
//! failures: the test's own redis-server is stopped or paused.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redkit::incidents::{Fallback, Incident};
use redkit::{Algorithm, Client, OnError, RateLimiter, Reason};
use redkit_testkit::Server;

const TIMEOUT: Duration = Duration::from_millis(200);

fn limiter(client: &Client, name: &str, on_error: OnError, breaker: Duration) -> RateLimiter {
    client
        .rate_limiter(name)
        .limit(3)
        .window(Duration::from_secs(10))
        .on_error(on_error)
        .timeout(TIMEOUT)
        .circuit_breaker(breaker)
        .build()
        .unwrap()
}

fn header<'a>(a: &'a redkit::ratelimit::HttpAnswer, name: &str) -> Option<&'a str> {
    a.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn insurance_decides_with_the_same_limits_while_redis_is_down() {
    let mut server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let seen: Arc<Mutex<Vec<Incident>>> = Arc::default();
    let sink = Arc::clone(&seen);
    client.set_reporter(Some(Arc::new(move |i: &Incident| {
        sink.lock().unwrap().push(i.clone())
    })));
    for algorithm in Algorithm::ALL {
        let api = client
            .rate_limiter(&format!("api-{algorithm}"))
            .limit(3)
            .window(Duration::from_secs(10))
            .algorithm(algorithm)
            .insurance(true)
            .on_error(OnError::Allow)
            .timeout(TIMEOUT)
            .circuit_breaker(Duration::from_secs(30))
            .build()
            .unwrap();
        if algorithm == Algorithm::Gcra {
            let r = api.limit("first", 1).await.unwrap();
            assert_eq!(r.reason, Reason::Limit);
            server.stop();
        }
        let started = Instant::now();
        for i in 0..3 {
            let r = api.limit("u", 1).await.unwrap();
            assert!(r.allowed, "{algorithm} {i}: {r:?}");
            assert_eq!(r.reason, Reason::Insurance);
            assert!(r.error.is_some());
            let a = r.http();
            assert!(a.proceeds());
            assert_eq!(header(&a, "RateLimit-Limit"), Some("3"));
        }
        let r = api.limit("u", 1).await.unwrap();
        assert!(!r.allowed && r.retry_after_ms > 0, "{algorithm}: {r:?}");
        let a = r.http();
        assert_eq!(a.status, 429, "{algorithm}");
        assert!(a.body.unwrap().contains(r#""reason":"insurance""#));
        assert!(
            api.limit("other", 1).await.unwrap().allowed,
            "per identifier"
        );
        assert!(
            started.elapsed() < TIMEOUT * 2,
            "{algorithm}: 5 decisions cost {:?}: more than one timeout",
            started.elapsed()
        );
        assert_eq!(api.errors(), 5, "{algorithm}");
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 5, "one report per limiter: {seen:?}");
    assert!(seen.iter().all(|i| i.fallback == Fallback::Insurance));
}

#[tokio::test]
async fn the_breaker_makes_a_stalled_redis_cost_one_timeout_not_one_per_request() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let guarded = limiter(
        &client,
        "guarded",
        OnError::Allow,
        Duration::from_millis(600),
    );
    let unguarded = limiter(&client, "unguarded", OnError::Deny, Duration::ZERO);
    assert!(guarded.limit("u", 1).await.unwrap().allowed);
    assert!(server
        .raw(&["CLIENT", "PAUSE", "1500", "ALL"])
        .unwrap()
        .starts_with("+OK"));

    let started = Instant::now();
    for _ in 0..20 {
        let r = guarded.limit("u", 1).await.unwrap();
        assert!(r.allowed && r.reason == Reason::Error, "{r:?}");
        // Failed open: no RateLimit-* numbers (no "Remaining: 0") in the answer.
        let a = r.http();
        assert!(a.proceeds() && a.headers.is_empty(), "{a:?}");
    }
    let elapsed = started.elapsed();
    assert!(elapsed < TIMEOUT * 2, "20 requests cost {elapsed:?}");
    assert_eq!(guarded.errors(), 20);

    let started = Instant::now();
    for _ in 0..3 {
        let r = unguarded.limit("u", 1).await.unwrap();
        assert!(!r.allowed && r.reason == Reason::Error, "{r:?}");
        let a = r.http();
        assert_eq!(a.status, 503);
        assert_eq!(header(&a, "Retry-After"), Some("1"));
    }
    assert!(started.elapsed() >= TIMEOUT * 3, "{:?}", started.elapsed());

    // Past the pause and the interval, one probe finds Redis and closes the breaker.
    tokio::time::sleep(Duration::from_millis(1_600).saturating_sub(started.elapsed())).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while guarded.limit("u", 1).await.unwrap().reason != Reason::Limit {
        assert!(Instant::now() < deadline, "Redis never decided again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn on_error_raise_without_insurance_has_no_breaker() {
    let mut server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let raise = limiter(&client, "raise", OnError::Raise, Duration::from_secs(30));
    server.stop();
    for _ in 0..2 {
        assert!(raise.limit("u", 1).await.is_err());
    }
    assert_eq!(raise.errors(), 0, "raising is not a decision");
}

#[tokio::test]
async fn a_stalled_redis_is_a_timeout_naming_the_decision_and_its_deadline() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let raise = limiter(&client, "raise", OnError::Raise, Duration::ZERO);
    assert!(raise.limit("u", 1).await.unwrap().allowed);
    assert!(server
        .raw(&["CLIENT", "PAUSE", "1000", "ALL"])
        .unwrap()
        .starts_with("+OK"));
    let e = raise.limit("u", 1).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("timed out: rate limiter decision took longer than {TIMEOUT:?}")
    );
}

/// The insurance restates the scripts in Rust: on the same requests at the same
/// (caller-supplied) times it must give the numbers Redis gives, for every algorithm.
#[tokio::test]
async fn insurance_gives_the_numbers_redis_gives() {
    let server = Server::start();
    let live = Client::connect(&server.url()).await.unwrap();
    let dead = Client::connect_with(
        "redis://127.0.0.1:1",
        redkit::ConnectOptions::default()
            .lazy_connect(true)
            .retries(0),
    )
    .await
    .unwrap();
    let t0 = 1_800_000_000_000u64;
    // (ms after t0, cost): bursts, waits inside and across windows, a cost that never fits now.
    let steps = [
        (0, 1),
        (1, 1),
        (2, 2),
        (3, 1),
        (250, 1),
        (400, 2),
        (999, 1),
        (1_000, 1),
        (1_001, 3),
        (1_700, 1),
        (2_600, 2),
        (2_601, 1),
        (5_000, 1),
    ];
    for algorithm in Algorithm::ALL {
        for count_denied in [false, true] {
            let make = |client: &Client| {
                let mut b = client
                    .rate_limiter(&format!("diff-{algorithm}-{count_denied}"))
                    .limit(3)
                    .window(Duration::from_secs(1))
                    .algorithm(algorithm)
                    .count_denied(count_denied)
                    .and_limit(5, Duration::from_secs(3))
                    .insurance(true)
                    .timeout(TIMEOUT);
                if algorithm.has_burst() {
                    b = b.burst(1);
                }
                b.build().unwrap()
            };
            let (redis, local) = (make(&live), make(&dead));
            for (at, cost) in steps {
                let now = t0 + at;
                let want = redis.limit_at("u", cost, now).await.unwrap();
                let got = local.limit_at("u", cost, now).await.unwrap();
                assert_eq!(got.reason, Reason::Insurance);
                let fields = |r: &redkit::RateLimitResult| {
                    (
                        r.allowed,
                        r.limit,
                        r.remaining,
                        r.reset_after_ms,
                        r.retry_after_ms,
                    )
                };
                assert_eq!(
                    fields(&got),
                    fields(&want),
                    "{algorithm} count_denied={count_denied} at +{at} ms, cost {cost}"
                );
                let (want, got) = (
                    redis.peek_at("u", now).await.unwrap(),
                    local.peek_at("u", now).await.unwrap(),
                );
                assert_eq!(fields(&got), fields(&want), "{algorithm} peek at +{at} ms");
            }
        }
    }
}
