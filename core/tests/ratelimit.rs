//! Rate limiter decisions on a real server, with the caller-supplied clock where the
//! numbers must be exact (every result below is deterministic), and with the server's
//! clock where it matters that TIME is used.

mod common;

use std::time::Duration;

use common::Backend;

use redkit::{
    Algorithm, Client, ClockMode, Cmd, ErrorKind, RateLimitResult, RateLimiter, RateLimiterBuilder,
    Reason,
};

async fn client(backend: &Backend, name: &str) -> Client {
    backend.client_named(name).await
}

/// `client`'s limiter `name`: `algorithm`, `limit` per `window_ms`; the caller adds the rest.
fn builder(
    client: &Client,
    name: &str,
    algorithm: Algorithm,
    limit: i64,
    window_ms: u64,
) -> RateLimiterBuilder {
    client
        .rate_limiter(name)
        .algorithm(algorithm)
        .limit(limit)
        .window(Duration::from_millis(window_ms))
}

async fn limiter(
    backend: &Backend,
    algorithm: Algorithm,
    limit: i64,
    window_ms: u64,
) -> RateLimiter {
    let client = client(backend, algorithm.as_str()).await;
    builder(&client, "api", algorithm, limit, window_ms)
        .build()
        .unwrap()
}

/// The string stored under `key`.
async fn stored(client: &Client, key: &str) -> String {
    let raw = client.transport().send(Cmd::new("GET").arg(key)).await;
    String::from_utf8(raw.unwrap().into_bytes().unwrap().unwrap()).unwrap()
}

/// (allowed, remaining, reset_after_ms, retry_after_ms)
fn nums(r: &RateLimitResult) -> (bool, u64, u64, u64) {
    (r.allowed, r.remaining, r.reset_after_ms, r.retry_after_ms)
}

/// A time well inside an aligned window of 1 s, 10 s and 60 s.
const T0: u64 = 1_700_000_040_000;

async fn gcra_numbers(backend: Backend) {
    let rl = limiter(&backend, Algorithm::Gcra, 5, 1000).await; // one every 200 ms, 5 at once
    let mut got = Vec::new();
    for _ in 0..6 {
        got.push(nums(&rl.limit_at("u", 1, T0).await.unwrap()));
    }
    assert_eq!(
        got,
        vec![
            (true, 4, 200, 0),
            (true, 3, 400, 0),
            (true, 2, 600, 0),
            (true, 1, 800, 0),
            (true, 0, 1000, 0),
            (false, 0, 1000, 200),
        ]
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 199).await.unwrap()),
        (false, 0, 801, 1)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 200).await.unwrap()),
        (true, 0, 1000, 0)
    );
    assert_eq!(
        nums(&rl.peek_at("u", T0 + 600).await.unwrap()),
        (true, 2, 600, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 3, T0 + 600).await.unwrap()),
        (false, 2, 600, 200)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 2, T0 + 600).await.unwrap()),
        (true, 0, 1000, 0)
    );
    assert_eq!(rl.limit_at("u", 1, T0).await.unwrap().limit, 5);
}
every_backend!(gcra_numbers, super::gcra_numbers);

async fn gcra_burst_adds_capacity_not_rate(backend: Backend) {
    let c = client(&backend, "burst").await;
    let rl = c
        .rate_limiter("b")
        .limit(2)
        .window(Duration::from_millis(1000))
        .burst(3)
        .build()
        .unwrap();
    for i in 0..5 {
        let r = rl.limit_at("u", 1, T0).await.unwrap();
        assert!(r.allowed, "request {i} within limit + burst");
        assert_eq!(r.limit, 5);
    }
    let r = rl.limit_at("u", 1, T0).await.unwrap();
    assert_eq!(nums(&r), (false, 0, 2500, 500), "then one per 500 ms");
    let r = rl.limit_at("u", 5, T0 + 2500).await.unwrap();
    assert!(r.allowed, "all of it back after 5 intervals");
}
every_backend!(
    gcra_burst_adds_capacity_not_rate,
    super::gcra_burst_adds_capacity_not_rate
);

async fn token_bucket_numbers(backend: Backend) {
    let rl = limiter(&backend, Algorithm::TokenBucket, 4, 1000).await; // a token every 250 ms
    assert_eq!(
        nums(&rl.limit_at("u", 3, T0).await.unwrap()),
        (true, 1, 750, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 2, T0).await.unwrap()),
        (false, 1, 750, 250)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 2, T0 + 250).await.unwrap()),
        (true, 0, 1000, 0)
    );
    assert_eq!(
        nums(&rl.peek_at("u", T0 + 300).await.unwrap()),
        (false, 0, 950, 200)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 500).await.unwrap()),
        (true, 0, 1000, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 5000).await.unwrap()),
        (true, 3, 250, 0)
    );
}
every_backend!(token_bucket_numbers, super::token_bucket_numbers);

async fn fixed_window_numbers(backend: Backend) {
    let rl = limiter(&backend, Algorithm::FixedWindow, 3, 10_000).await;
    let t = T0 + 4_000; // 6 s before the window ends
    assert_eq!(
        nums(&rl.limit_at("u", 2, t).await.unwrap()),
        (true, 1, 6000, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 2, t + 1000).await.unwrap()),
        (false, 1, 5000, 5000)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, t + 1000).await.unwrap()),
        (true, 0, 5000, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, t + 5999).await.unwrap()),
        (false, 0, 1, 1)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 3, t + 6000).await.unwrap()),
        (true, 0, 10_000, 0),
        "a new window"
    );

    // count_denied: denied requests count within their window.
    let c = client(&backend, "fw-denied").await;
    let counted = c
        .rate_limiter("c")
        .algorithm(Algorithm::FixedWindow)
        .limit(3)
        .window(Duration::from_secs(10))
        .count_denied(true)
        .build()
        .unwrap();
    assert!(counted.limit_at("u", 2, t).await.unwrap().allowed);
    assert!(!counted.limit_at("u", 2, t).await.unwrap().allowed);
    assert_eq!(
        nums(&counted.limit_at("u", 1, t).await.unwrap()),
        (false, 0, 6000, 6000),
        "4 of 3 counted"
    );
    assert!(counted.limit_at("u", 3, t + 6000).await.unwrap().allowed);
}
every_backend!(fixed_window_numbers, super::fixed_window_numbers);

async fn sliding_window_numbers(backend: Backend) {
    let rl = limiter(&backend, Algorithm::SlidingWindow, 10, 10_000).await;
    // 10 in the first window.
    assert_eq!(
        nums(&rl.limit_at("u", 10, T0 + 5_000).await.unwrap()),
        (true, 0, 15_000, 0)
    );
    // 2.5 s into the next window the previous one still weighs 75 %: 7.5 of 10 used.
    assert_eq!(
        nums(&rl.peek_at("u", T0 + 12_500).await.unwrap()),
        (true, 2, 7_500, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 2, T0 + 12_500).await.unwrap()),
        (true, 0, 17_500, 0)
    );
    // 9.5 of 10 used: a request of 1 waits until the weight drops by 0.5 request: 500 ms.
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 12_500).await.unwrap()),
        (false, 0, 17_500, 500)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 13_000).await.unwrap()),
        (true, 0, 17_000, 0)
    );
    // Current 3, previous 10 at 0.3 → 10 used; 8 more only fit in the next window, once
    // the 3 weigh ≤ 2: a third of the way in.
    assert_eq!(
        nums(&rl.limit_at("u", 8, T0 + 13_000).await.unwrap()),
        (false, 0, 17_000, 10_334)
    );
}
every_backend!(sliding_window_numbers, super::sliding_window_numbers);

/// A limit below 2^23 keeps the sliding window's state as one integer, a larger one as a
/// string; each reads the other's, so processes configured differently share the state.
async fn sliding_window_state_forms_share_counts(backend: Backend) {
    let prefix = format!("swforms-{}", std::process::id());
    let (a, b) = (backend.client(&prefix).await, backend.client(&prefix).await);
    let build = |client: &Client, limit: i64| {
        builder(client, "api", Algorithm::SlidingWindow, limit, 10_000)
            .build()
            .unwrap()
    };
    let (small, large) = (build(&a, 10), build(&b, 1 << 23));
    let key = small.keys_for("u").unwrap().remove(0);
    let state = || stored(&a, &key);
    assert!(small.limit_at("u", 4, T0 + 5_000).await.unwrap().allowed);
    assert!(
        state().await.parse::<u64>().is_ok(),
        "a small limit stores one integer"
    );
    // The large limiter reads the integer form: 4 used.
    let seen = large.peek_at("u", T0 + 5_000).await.unwrap();
    assert_eq!(seen.remaining, (1 << 23) - 4);
    // It writes the string form: 4 + 3 in this window.
    assert!(large.limit_at("u", 3, T0 + 5_000).await.unwrap().allowed);
    assert!(
        state().await.ends_with(":7:0"),
        "a large limit stores window:current:previous"
    );
    assert_eq!(small.peek_at("u", T0 + 5_000).await.unwrap().remaining, 3);
    // A window later both forms weigh the 7 as the previous window's: half of it at 50 %.
    assert_eq!(small.peek_at("u", T0 + 15_000).await.unwrap().remaining, 6);
    assert!(small.limit_at("u", 2, T0 + 15_000).await.unwrap().allowed);
    let after = large.peek_at("u", T0 + 15_000).await.unwrap();
    assert_eq!(after.remaining, (1 << 23) - 6);
    // Two windows on, nothing weighs any more.
    assert_eq!(small.peek_at("u", T0 + 35_000).await.unwrap().remaining, 10);
}
every_backend!(
    sliding_window_state_forms_share_counts,
    super::sliding_window_state_forms_share_counts
);

/// Counted denials stop the sliding window's count at 2^24 - 1, so its one integer stays
/// exact (below 2^53) and the identifier stays blocked.
async fn sliding_window_counted_denials_saturate(backend: Backend) {
    let client = backend.client_named("swsat").await;
    let rl = builder(&client, "api", Algorithm::SlidingWindow, 10, 10_000)
        .count_denied(true)
        .build()
        .unwrap();
    let key = rl.keys_for("u").unwrap().remove(0);
    // current = 2^24 - 1, previous = 0, in the window of T0 (number 170,000,004; mod 16: 4).
    let full = (((1u64 << 24) - 1) * 16 + 4).to_string();
    let t = client.transport();
    t.send(Cmd::new("SET").arg(key.as_str()).arg(full.as_str()))
        .await
        .unwrap();
    let r = rl.limit_at("u", 3, T0 + 5_000).await.unwrap();
    assert!(!r.allowed);
    assert_eq!(
        stored(&client, &key).await,
        full,
        "the count stays at its ceiling"
    );
}
every_backend!(
    sliding_window_counted_denials_saturate,
    super::sliding_window_counted_denials_saturate
);

/// Within its window a fixed window adds to its key and leaves the key's expiry (the end of
/// the window, set by the window's first request) alone.
async fn fixed_window_adds_within_its_window(backend: Backend) {
    let client = backend.client_named("fwadd").await;
    let rl = builder(&client, "api", Algorithm::FixedWindow, 10, 10_000)
        .build()
        .unwrap();
    let key = rl.keys_for("u").unwrap().remove(0);
    let t = client.transport();
    let pttl = || async {
        t.send(Cmd::new("PTTL").arg(key.as_str()))
            .await
            .unwrap()
            .as_int()
            .unwrap()
    };
    // T0 starts a 10 s window: the first request at +1 s sets 9 s to live.
    assert!(rl.limit_at("u", 2, T0 + 1_000).await.unwrap().allowed);
    assert!(pttl().await > 8_000);
    // At +6 s a rewrite would set 4 s; adding keeps the 9 s.
    let r = rl.limit_at("u", 3, T0 + 6_000).await.unwrap();
    assert_eq!(nums(&r), (true, 5, 4_000, 0));
    assert!(pttl().await > 8_000, "the window's expiry is kept");
    let r = rl.limit_at("u", 6, T0 + 7_000).await.unwrap();
    assert_eq!(nums(&r), (false, 5, 3_000, 3_000));
}
every_backend!(
    fixed_window_adds_within_its_window,
    super::fixed_window_adds_within_its_window
);

/// An admission comes back from Redis packed in one integer while its numbers fit (below
/// 2^20 remaining, 2^32 ms to reset), in a table past that: both read the same.
async fn numbers_past_the_packed_reply_are_exact(backend: Backend) {
    const DAY_MS: u64 = 86_400_000;
    let client = backend.client_named("packed").await;
    let fixed = |limit: i64, window_ms: u64| {
        let name = format!("f{limit}x{window_ms}");
        builder(&client, &name, Algorithm::FixedWindow, limit, window_ms)
            .build()
            .unwrap()
    };
    // Time left in T0's aligned window of `w` ms.
    let left = |w: u64| (T0 / w + 1) * w - T0;
    // Remaining at the edge: 2^20 - 1 fits, 2^20 does not.
    for limit in [1 << 20, (1 << 20) + 1, 3_000_000] {
        let r = fixed(limit, 60_000).limit_at("u", 1, T0).await.unwrap();
        assert_eq!(nums(&r), (true, limit as u64 - 1, left(60_000), 0));
        assert_eq!(r.limit, limit as u64);
    }
    // A window of 200 days, 124 days to reset from T0: past 2^32 ms.
    let r = fixed(10, 200 * DAY_MS).limit_at("u", 4, T0).await.unwrap();
    assert!(left(200 * DAY_MS) > 1 << 32);
    assert_eq!(nums(&r), (true, 6, left(200 * DAY_MS), 0));
    // gcra with a burst: the limit reported is limit + burst in either form.
    let gcra = |name: &str, limit: i64, window_ms: u64| {
        builder(&client, name, Algorithm::Gcra, limit, window_ms)
            .burst(5)
            .build()
            .unwrap()
    };
    let r = gcra("g", 3_000_000, 60 * DAY_MS)
        .limit_at("u", 1, T0)
        .await
        .unwrap();
    assert_eq!(
        (r.allowed, r.limit, r.remaining),
        (true, 3_000_005, 3_000_004)
    );
    let r = gcra("g2", 10, 10_000).limit_at("u", 1, T0).await.unwrap();
    assert_eq!(
        (r.allowed, r.limit, r.remaining, r.reset_after_ms),
        (true, 15, 14, 1_000)
    );
}
every_backend!(
    numbers_past_the_packed_reply_are_exact,
    super::numbers_past_the_packed_reply_are_exact
);

async fn sliding_log_numbers(backend: Backend) {
    let rl = limiter(&backend, Algorithm::SlidingLog, 3, 1000).await;
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0).await.unwrap()),
        (true, 2, 1000, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 100).await.unwrap()),
        (true, 1, 1000, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 100).await.unwrap()),
        (true, 0, 1000, 0)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 200).await.unwrap()),
        (false, 0, 900, 800)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 2, T0 + 200).await.unwrap()),
        (false, 0, 900, 900)
    );
    assert_eq!(
        nums(&rl.limit_at("u", 1, T0 + 1000).await.unwrap()),
        (true, 0, 1000, 0),
        "the first left"
    );
    assert_eq!(
        nums(&rl.peek_at("u", T0 + 1100).await.unwrap()),
        (true, 2, 900, 0)
    );
}
every_backend!(sliding_log_numbers, super::sliding_log_numbers);

async fn denied_requests_do_not_extend_a_block_unless_counted(backend: Backend) {
    for algorithm in Algorithm::ALL {
        for count_denied in [false, true] {
            let c = client(&backend, "denied").await;
            let rl = c
                .rate_limiter("d")
                .algorithm(algorithm)
                .limit(3)
                .window(Duration::from_millis(1000))
                .count_denied(count_denied)
                .build()
                .unwrap();
            // Window-aligned start, so fixed and sliding windows start fresh too.
            let t = T0;
            assert!(rl.limit_at("u", 3, t).await.unwrap().allowed);
            let first = rl.limit_at("u", 1, t + 10).await.unwrap();
            assert!(!first.allowed, "{algorithm}: exhausted");
            // Hammer while blocked: the buckets give a request back every 333 ms, the
            // windows once the first second is over (the sliding window when the previous
            // window weighs 3 * (1 - 0.34) = 1.98).
            let (hammer_until, free_at) = match algorithm {
                Algorithm::Gcra | Algorithm::TokenBucket => (330, 334),
                Algorithm::SlidingWindow => (1320, 1340),
                _ => (980, 1000),
            };
            for ms in (20..=hammer_until).step_by(10) {
                assert!(
                    !rl.limit_at("u", 1, t + ms).await.unwrap().allowed,
                    "{algorithm} at +{ms}"
                );
            }
            let when = free_at;
            let after = rl.limit_at("u", 1, t + when).await.unwrap();
            // A fixed window starts empty whatever was counted in the one before.
            let expect_allowed = !count_denied || algorithm == Algorithm::FixedWindow;
            assert_eq!(
                after.allowed, expect_allowed,
                "{algorithm}, count_denied={count_denied}: allowed once the block would have ended"
            );
        }
    }
}
every_backend!(
    denied_requests_do_not_extend_a_block_unless_counted,
    super::denied_requests_do_not_extend_a_block_unless_counted
);

async fn several_limits_consume_nothing_unless_all_allow(backend: Backend) {
    for algorithm in Algorithm::ALL {
        let c = client(&backend, "multi").await;
        let rl = c
            .rate_limiter("m")
            .algorithm(algorithm)
            .limit(3)
            .window(Duration::from_millis(1000))
            .and_limit(5, Duration::from_secs(60))
            .build()
            .unwrap();
        let t = T0;
        assert!(rl.limit_at("u", 2, t).await.unwrap().allowed);
        let r = rl.limit_at("u", 1, t).await.unwrap();
        assert!(r.allowed);
        assert_eq!(
            (r.limit, r.remaining),
            (3, 0),
            "{algorithm}: the per-second rule is the tightest"
        );
        let denied = rl.limit_at("u", 1, t + 1).await.unwrap();
        assert!(!denied.allowed, "{algorithm}: per-second rule denies");
        // One second on: the per-second rule has room again; the per-minute rule holds 2.
        let r = rl.limit_at("u", 2, t + 2000).await.unwrap();
        assert!(r.allowed, "{algorithm}");
        assert_eq!(
            (r.limit, r.remaining),
            (5, 0),
            "{algorithm}: now the per-minute rule is the tightest"
        );
        let r = rl.limit_at("u", 1, t + 4000).await.unwrap();
        assert!(!r.allowed, "{algorithm}: the per-minute rule denies");
        assert!(
            r.retry_after_ms > 2_000,
            "{algorithm}: waits on the minute rule, got {}",
            r.retry_after_ms
        );
        // The denied request consumed nothing from the per-second rule either.
        let r = rl.peek_at("u", t + 4000).await.unwrap();
        assert!(!r.allowed);
        let keys = rl.keys_for("u").unwrap();
        assert_eq!(keys.len(), 2);
        assert!(
            keys.iter().all(|k| k.contains("{rl:m}")),
            "one hash tag: {keys:?}"
        );
    }
}
every_backend!(
    several_limits_consume_nothing_unless_all_allow,
    super::several_limits_consume_nothing_unless_all_allow
);

async fn peek_consumes_nothing_and_reset_forgets(backend: Backend) {
    for algorithm in Algorithm::ALL {
        let rl = limiter(&backend, algorithm, 2, 3_600_000).await;
        for _ in 0..5 {
            let p = rl.peek("u").await.unwrap();
            assert!(p.allowed && p.remaining == 2, "{algorithm}: {p:?}");
        }
        assert!(rl.limit("u", 2).await.unwrap().allowed);
        let p = rl.peek("u").await.unwrap();
        assert!(
            !p.allowed && p.remaining == 0 && p.retry_after_ms > 0,
            "{algorithm}: {p:?}"
        );
        assert!(!rl.limit("u", 1).await.unwrap().allowed);
        rl.reset("u").await.unwrap();
        let r = rl.limit("u", 2).await.unwrap();
        assert!(r.allowed, "{algorithm}: reset gives the full limit back");
        assert_eq!(r.reason, Reason::Limit);
        rl.reset("never-seen").await.unwrap();
    }
}
every_backend!(
    peek_consumes_nothing_and_reset_forgets,
    super::peek_consumes_nothing_and_reset_forgets
);

async fn server_clock_by_default_client_clock_on_request(backend: Backend) {
    let c = client(&backend, "clock").await;
    let server = c
        .rate_limiter("s")
        .algorithm(Algorithm::FixedWindow)
        .limit(1)
        .window(Duration::from_secs(3600))
        .build()
        .unwrap();
    let r = server.limit("u", 1).await.unwrap();
    let expected_reset = 3_600_000 - redkit::rt::now_ms() % 3_600_000;
    assert!(
        r.reset_after_ms.abs_diff(expected_reset) < 1000,
        "{r:?} vs {expected_reset}"
    );

    let local = c
        .rate_limiter("c")
        .algorithm(Algorithm::Gcra)
        .limit(1)
        .window(Duration::from_secs(10))
        .clock(ClockMode::Client)
        .build()
        .unwrap();
    assert!(local.limit("u", 1).await.unwrap().allowed);
    let denied = local.limit("u", 1).await.unwrap();
    assert!(!denied.allowed && denied.retry_after_ms > 9_000 && denied.retry_after_ms <= 10_000);
    // A caller clock an hour ahead sees the identifier long free again.
    let later = redkit::rt::now_ms() + 3_600_000;
    assert!(local.limit_at("u", 1, later).await.unwrap().allowed);
}
every_backend!(
    server_clock_by_default_client_clock_on_request,
    super::server_clock_by_default_client_clock_on_request
);

async fn bad_input_is_invalid_argument(backend: Backend) {
    let c = client(&backend, "bad").await;
    let build = |f: &dyn Fn(redkit::RateLimiterBuilder) -> redkit::RateLimiterBuilder| {
        f(c.rate_limiter("x"))
            .build()
            .map(|_| ())
            .map_err(|e| e.kind())
    };
    let invalid = Err(ErrorKind::InvalidArgument);
    assert_eq!(build(&|b| b.limit(0)), invalid);
    assert_eq!(build(&|b| b.limit(-5)), invalid);
    assert_eq!(build(&|b| b.window(Duration::ZERO)), invalid);
    assert_eq!(build(&|b| b.window(Duration::from_micros(999))), invalid);
    assert_eq!(build(&|b| b.burst(-1)), invalid);
    assert_eq!(
        build(&|b| b.algorithm(Algorithm::SlidingLog).burst(2)),
        invalid
    );
    assert_eq!(build(&|b| b.and_limit(0, Duration::from_secs(1))), invalid);
    assert_eq!(build(&|b| b.timeout(Duration::ZERO)), invalid);
    assert_eq!(
        c.rate_limiter("").build().map(|_| ()).map_err(|e| e.kind()),
        invalid
    );
    assert_eq!(
        c.rate_limiter("a{b")
            .build()
            .map(|_| ())
            .map_err(|e| e.kind()),
        invalid
    );
    assert_eq!(build(&|b| b.limit(3).burst(2)), Ok(()));

    let rl = c
        .rate_limiter("ok")
        .limit(3)
        .burst(2)
        .and_limit(4, Duration::from_secs(9))
        .build()
        .unwrap();
    for cost in [0, -1, 5] {
        assert_eq!(
            rl.limit("u", cost).await.unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "cost {cost}"
        );
    }
    assert!(rl.limit("u", 4).await.unwrap().allowed, "4 fits both rules");
    assert_eq!(
        rl.limit("", 1).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        rl.peek("").await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        rl.reset("").await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );

    assert_eq!(
        Algorithm::parse("leaky").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    for a in Algorithm::ALL {
        assert_eq!(Algorithm::parse(a.as_str()).unwrap(), a);
    }
    assert_eq!(
        redkit::OnError::parse("maybe").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        ClockMode::parse("sundial").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            redkit::ratelimit::duration_from_ms("window", bad)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
    }
    assert_eq!(
        redkit::ratelimit::duration_from_ms("window", 1500.0).unwrap(),
        Duration::from_millis(1500)
    );
    for bad in [1.5, f64::NAN, f64::INFINITY, -f64::INFINITY, 2f64.powi(60)] {
        assert_eq!(
            redkit::ratelimit::whole_number("cost", bad)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
    }
    assert_eq!(redkit::ratelimit::whole_number("cost", -3.0).unwrap(), -3);
    assert_eq!(redkit::ratelimit::whole_number("cost", 42.0).unwrap(), 42);
}
every_backend!(
    bad_input_is_invalid_argument,
    super::bad_input_is_invalid_argument
);

async fn sliding_log_stays_bounded_and_takes_large_costs(backend: Backend) {
    let c = client(&backend, "log").await;
    let rl = c
        .rate_limiter("log")
        .algorithm(Algorithm::SlidingLog)
        .limit(5)
        .window(Duration::from_secs(60))
        .count_denied(true)
        .build()
        .unwrap();
    for i in 0..50 {
        rl.limit_at("u", 1, T0 + i).await.unwrap();
    }
    let key = &rl.keys_for("u").unwrap()[0];
    let card = c
        .transport()
        .send(redkit::Cmd::new("ZCARD").arg(key))
        .await
        .unwrap();
    assert_eq!(
        card.as_int().unwrap(),
        5,
        "count_denied keeps only the newest `limit` entries"
    );
    let ttl = c
        .transport()
        .send(redkit::Cmd::new("PTTL").arg(key))
        .await
        .unwrap();
    assert!(ttl.as_int().unwrap() > 0, "the log always expires");

    let big = c
        .rate_limiter("big")
        .algorithm(Algorithm::SlidingLog)
        .limit(20_000)
        .window(Duration::from_secs(60))
        .build()
        .unwrap();
    let r = big.limit_at("u", 12_345, T0).await.unwrap();
    assert!(r.allowed && r.remaining == 7_655, "{r:?}");
    let r = big.limit_at("u", 7_656, T0).await.unwrap();
    assert!(!r.allowed && r.retry_after_ms == 60_000, "{r:?}");
    assert!(big.limit_at("u", 7_655, T0).await.unwrap().allowed);
}
every_backend!(
    sliding_log_stays_bounded_and_takes_large_costs,
    super::sliding_log_stays_bounded_and_takes_large_costs
);

/// The documented worst case of the weighted counter: the previous window's requests
/// bunched at its end, then as many as the estimate allows halfway into the current one.
/// The interval [start - W/2, start + W/2] then holds L + f * previous = 1.5 L, and never
/// more; each aligned window still holds at most L.
async fn sliding_window_error_bound_is_reached_not_exceeded(backend: Backend) {
    let rl = limiter(&backend, Algorithm::SlidingWindow, 10, 10_000).await;
    let start = T0 + 10_000; // an aligned window boundary
    assert!(rl.limit_at("u", 10, start - 1).await.unwrap().allowed);
    let mut admitted_late = 0;
    for _ in 0..20 {
        admitted_late += rl.limit_at("u", 1, start + 5_000).await.unwrap().allowed as i64;
    }
    assert_eq!(admitted_late, 5, "f = 0.5: the previous window weighs 5");
    assert_eq!(
        10 + admitted_late,
        15,
        "L + f * previous in one window's length"
    );
    let mut rest_of_window = 0;
    for ms in (5_000..10_000).step_by(100) {
        rest_of_window += rl.limit_at("u", 1, start + ms).await.unwrap().allowed as i64;
    }
    assert!(
        admitted_late + rest_of_window <= 10,
        "an aligned window never admits more than L"
    );
}
every_backend!(
    sliding_window_error_bound_is_reached_not_exceeded,
    super::sliding_window_error_bound_is_reached_not_exceeded
);

/// A caller clock read in the wrong unit (seconds, microseconds, nanoseconds) or out of
/// any range a server clock reads is refused, not decided wrongly (issue 16, item 3).
async fn a_caller_clock_out_of_range_is_refused(backend: Backend) {
    let c = client(&backend, "clockrange").await;
    for algorithm in Algorithm::ALL {
        let rl = builder(&c, algorithm.as_str(), algorithm, 10, 1_000)
            .build()
            .unwrap();
        for bad in [
            1_800_000_000_000_000_000,
            1 << 62,
            1_765_000_000_000_000,
            1_765_000_000,
            0,
            u64::MAX,
        ] {
            assert_eq!(
                rl.limit_at("u", 1, bad).await.unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{algorithm:?} limit_at {bad}"
            );
            assert_eq!(
                rl.peek_at("u", bad).await.unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{algorithm:?} peek_at {bad}"
            );
        }
        // Both ends of the documented range are decided.
        for good in [
            *redkit::ratelimit::CALLER_CLOCK_RANGE_MS.start(),
            *redkit::ratelimit::CALLER_CLOCK_RANGE_MS.end(),
        ] {
            assert!(rl.peek_at("v", good).await.unwrap().allowed, "{good}");
        }
    }
}
every_backend!(
    a_caller_clock_out_of_range_is_refused,
    super::a_caller_clock_out_of_range_is_refused
);

/// A limiter on a closed client refuses with Closed whatever on_error says, as the cache
/// does: admitting everything because the caller closed the client is not "Redis failed".
async fn a_closed_client_refuses_decisions(backend: Backend) {
    let c = client(&backend, "rlclosed").await;
    let limiters: Vec<RateLimiter> = [
        redkit::OnError::Allow,
        redkit::OnError::Deny,
        redkit::OnError::Raise,
    ]
    .into_iter()
    .map(|on_error| {
        c.rate_limiter(&format!("{on_error:?}"))
            .limit(5)
            .on_error(on_error)
            .build()
            .unwrap()
    })
    .collect();
    c.close().await.unwrap();
    for rl in &limiters {
        let on_error = rl.options().on_error;
        assert_eq!(
            rl.limit("u", 1).await.unwrap_err().kind(),
            ErrorKind::Closed,
            "{on_error:?}"
        );
        assert_eq!(
            rl.peek("u").await.unwrap_err().kind(),
            ErrorKind::Closed,
            "{on_error:?}"
        );
    }
}
every_backend!(
    a_closed_client_refuses_decisions,
    super::a_closed_client_refuses_decisions
);
