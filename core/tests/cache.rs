//! The cache pattern against a real server: every behaviour of the Cache section of
//! the shared API, the stampede protections, and the round-trip counts.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{client_at, db_down, Backend};
use redkit::{Error, SetOptions};
use redkit_testkit::Server;

const MINUTE: Duration = Duration::from_secs(60);

async fn write_through_delete_on_write_and_ttl_override(backend: Backend) {
    let c = backend.client_named("wt").await;
    let users = c.cache("users").ttl(MINUTE).build().unwrap();
    users
        .set(
            "user:1",
            &serde_json::json!({"id": 1, "name": "Ada"}),
            &SetOptions::new(),
        )
        .await
        .unwrap();
    let got: serde_json::Value = users.get("user:1").await.unwrap().unwrap();
    assert_eq!(got["name"], "Ada");
    users
        .set(
            "short",
            &1,
            &SetOptions::new().ttl(Duration::from_millis(40)),
        )
        .await
        .unwrap();
    assert_eq!(users.get::<i32>("short").await.unwrap(), Some(1));
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(users.get::<i32>("short").await.unwrap(), None);
    assert_eq!(users.delete(&["user:1", "short", "nope"]).await.unwrap(), 1);
    assert_eq!(
        users.get::<serde_json::Value>("user:1").await.unwrap(),
        None
    );
}
every_backend!(
    write_through_delete_on_write_and_ttl_override,
    super::write_through_delete_on_write_and_ttl_override
);

async fn bytes_are_stored_verbatim(backend: Backend) {
    let c = backend.client_named("bytes").await;
    let blobs = c
        .cache("blobs")
        .codec(redkit::Codec::Bytes)
        .build()
        .unwrap();
    let raw = vec![0u8, 255, b':', 10, 13, 0xC3, 0x28];
    blobs
        .set_bytes("b", &raw, &SetOptions::new())
        .await
        .unwrap();
    assert_eq!(blobs.get_bytes("b").await.unwrap(), Some(raw));
    // The typed calls refuse the bytes codec rather than guess.
    assert!(matches!(
        blobs.get::<String>("b").await,
        Err(Error::InvalidArgument(_))
    ));
}
every_backend!(bytes_are_stored_verbatim, super::bytes_are_stored_verbatim);

async fn stampede_200_callers_in_4_clients_run_the_loader_once(backend: Backend) {
    let prefix = redkit_testkit::prefix("stampede");
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        // Four clients = four connections and four single-flight maps: four "processes".
        let cache = backend
            .client(&prefix)
            .await
            .cache("hot")
            .ttl(MINUTE)
            .build()
            .unwrap();
        for _ in 0..50 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_set("cold", move || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok::<_, std::io::Error>("value".to_string())
                    })
                    .await
                    .unwrap()
            }));
        }
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "value");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
every_backend!(
    stampede_200_callers_in_4_clients_run_the_loader_once,
    super::stampede_200_callers_in_4_clients_run_the_loader_once
);

async fn a_failing_loader_is_an_error_and_caches_nothing(backend: Backend) {
    let c = backend.client_named("fail").await;
    let cache = c.cache("c").build().unwrap();
    let err = cache
        .get_or_set::<String, _, _, _>("k", || async { Err(db_down()) })
        .await
        .unwrap_err();
    match err {
        Error::Loader(inner) => assert!(inner.to_string().contains("database is down")),
        other => panic!("expected a loader error, got {other:?}"),
    }
    assert_eq!(cache.get::<String>("k").await.unwrap(), None);
    // The lock was released: the next caller loads at once instead of waiting it out.
    let started = Instant::now();
    let v: String = cache
        .get_or_set("k", || async { Ok::<_, std::io::Error>("ok".into()) })
        .await
        .unwrap();
    assert_eq!(v, "ok");
    assert!(started.elapsed() < Duration::from_secs(1));
}
every_backend!(
    a_failing_loader_is_an_error_and_caches_nothing,
    super::a_failing_loader_is_an_error_and_caches_nothing
);

/// A loader reached through the host-callback contract, as the bindings reach theirs.
struct HostLoader {
    calls: Arc<AtomicUsize>,
}

impl redkit::HostFunction for HostLoader {
    fn call(&self, call: redkit::HostCall) -> redkit::BoxFuture<'static, redkit::HostResult> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            match call.arg.as_slice() {
                b"bad" => Err(redkit::HostError::new("KeyError", "'bad'").with_trace("line 1")),
                key => Ok([b"\"loaded ", key, b"\""].concat()),
            }
        })
    }
}

async fn a_host_function_loads_with_the_key_and_keeps_its_error(backend: Backend) {
    let c = backend.client_named("host").await;
    let cache = c.cache("c").build().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let loader = || HostLoader {
        calls: Arc::clone(&calls),
    };
    let opts = SetOptions::new();
    let v = cache.get_or_set_host("k1", &opts, loader()).await.unwrap();
    assert_eq!(v, b"\"loaded k1\"");
    // A hit does not call it.
    let v = cache.get_or_set_host("k1", &opts, loader()).await.unwrap();
    assert_eq!(v, b"\"loaded k1\"");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    match cache.get_or_set_host("bad", &opts, loader()).await {
        Err(Error::Loader(inner)) => {
            let e = inner
                .downcast_ref::<redkit::HostError>()
                .expect("a HostError");
            assert_eq!(
                (e.kind(), e.message(), e.trace()),
                ("KeyError", "'bad'", Some("line 1"))
            );
        }
        other => panic!("expected the loader's error, got {other:?}"),
    }
    assert_eq!(cache.get_bytes("bad").await.unwrap(), None);
}
every_backend!(
    a_host_function_loads_with_the_key_and_keeps_its_error,
    super::a_host_function_loads_with_the_key_and_keeps_its_error
);

async fn stale_value_is_served_when_the_loader_fails(backend: Backend) {
    let c = backend.client_named("failsafe").await;
    let cache = c
        .cache("c")
        .ttl(Duration::from_millis(100))
        .stale_ttl(MINUTE)
        .early_refresh(0.0)
        .build()
        .unwrap();
    cache.set("k", "old", &SetOptions::new()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Stale: not a hit for plain reads...
    assert_eq!(cache.get::<String>("k").await.unwrap(), None);
    // ...but better than an error when the source is down.
    let v: String = cache
        .get_or_set("k", || async { Err(db_down()) })
        .await
        .unwrap();
    assert_eq!(v, "old");
    // And without a stale value, the failure surfaces.
    let e = cache
        .get_or_set::<String, _, _, _>("other", || async { Err(db_down()) })
        .await;
    assert!(matches!(e, Err(Error::Loader(_))));
}
every_backend!(
    stale_value_is_served_when_the_loader_fails,
    super::stale_value_is_served_when_the_loader_fails
);

async fn stale_value_is_served_while_one_caller_refreshes(backend: Backend) {
    let prefix = redkit_testkit::prefix("swr");
    let build = |c: redkit::Client| {
        c.cache("c")
            .ttl(Duration::from_millis(100))
            .stale_ttl(MINUTE)
            .early_refresh(0.0)
            .build()
            .unwrap()
    };
    let a = build(backend.client(&prefix).await);
    let b = build(backend.client(&prefix).await);
    a.set("k", "v1", &SetOptions::new()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;

    let refresher = tokio::spawn({
        let a = a.clone();
        async move {
            a.get_or_set("k", || async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                Ok::<_, std::io::Error>("v2".to_string())
            })
            .await
            .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let b_calls = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let counted = b_calls.clone();
    let seen: String = b
        .get_or_set("k", move || async move {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>("b-loaded".to_string())
        })
        .await
        .unwrap();
    assert_eq!(
        seen, "v1",
        "the other process serves stale while one refreshes"
    );
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "it did not wait for the refresh"
    );
    assert_eq!(b_calls.load(Ordering::SeqCst), 0);
    assert_eq!(refresher.await.unwrap(), "v2");
    assert_eq!(b.get::<String>("k").await.unwrap().as_deref(), Some("v2"));
}
every_backend!(
    stale_value_is_served_while_one_caller_refreshes,
    super::stale_value_is_served_while_one_caller_refreshes
);

/// Run get_or_set in a loop until `until` and count loader calls.
async fn loads_before(cache: &redkit::Cache, until: Instant) -> usize {
    let calls = Arc::new(AtomicUsize::new(0));
    while Instant::now() < until {
        let counted = calls.clone();
        let _: u64 = cache
            .get_or_set("k", move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok::<_, std::io::Error>(1)
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    calls.load(Ordering::SeqCst)
}

async fn early_refresh_recomputes_before_expiry_and_beta_zero_turns_it_off(backend: Backend) {
    let c = backend.client_named("xfetch").await;
    let ttl = Duration::from_millis(400);
    // With a 20 ms loader and beta 20, the expected head start is 400 ms: recomputation
    // all but surely happens inside the 300 ms we watch, long before the entry expires.
    let eager = c
        .cache("eager")
        .ttl(ttl)
        .early_refresh(20.0)
        .build()
        .unwrap();
    let off = c.cache("off").ttl(ttl).early_refresh(0.0).build().unwrap();
    let until = Instant::now() + Duration::from_millis(300);
    let (eager_loads, off_loads) =
        tokio::join!(loads_before(&eager, until), loads_before(&off, until));
    assert!(
        eager_loads >= 2,
        "XFetch recomputed early ({eager_loads} loads)"
    );
    assert_eq!(off_loads, 1, "beta 0: one load, no early refresh");
}
every_backend!(
    early_refresh_recomputes_before_expiry_and_beta_zero_turns_it_off,
    super::early_refresh_recomputes_before_expiry_and_beta_zero_turns_it_off
);

#[tokio::test]
async fn jitter_spreads_expiry() {
    let server = Server::start();
    let c = client_at(&server.url(), "jit").await;
    let cache = c
        .cache("c")
        .ttl(Duration::from_secs(10))
        .jitter(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut ttls = Vec::new();
    for i in 0..40 {
        let key = format!("k{i}");
        cache.set(&key, &i, &SetOptions::new()).await.unwrap();
        ttls.push(server.int(&["PTTL", &cache.entry_key(&key).unwrap()]));
    }
    let (min, max) = (*ttls.iter().min().unwrap(), *ttls.iter().max().unwrap());
    assert!(
        min >= 9_000 && max <= 15_000,
        "ttls within ttl..ttl+jitter: {min}..{max}"
    );
    assert!(max - min > 1_000, "ttls are spread: {min}..{max}");
}

async fn invalidation_wins_over_racing_writers(backend: Backend) {
    let c = backend.client_named("race-set").await;
    let cache = c.cache("c").ttl(MINUTE).build().unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(2);
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (cache, written) = (cache.clone(), written.clone());
            tokio::spawn(async move {
                while Instant::now() < stop {
                    let v = written.load(Ordering::SeqCst) + 1;
                    cache
                        .set("k", &v, &SetOptions::new().tags(["t"]))
                        .await
                        .unwrap();
                    written.fetch_max(v, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let mut checks = 0;
    while Instant::now() < stop {
        // Every write of a value <= done finished before the invalidation started.
        let done = written.load(Ordering::SeqCst);
        cache.invalidate_tags(&["t"]).await.unwrap();
        if let Some(v) = cache.get::<u64>("k").await.unwrap() {
            assert!(
                v > done,
                "read {v}, written before the invalidation (<= {done})"
            );
        }
        checks += 1;
    }
    for w in writers {
        w.await.unwrap();
    }
    assert!(checks > 20);
}
every_backend!(
    invalidation_wins_over_racing_writers,
    super::invalidation_wins_over_racing_writers
);

async fn invalidation_wins_over_loaders_that_started_before_it(backend: Backend) {
    let prefix = redkit_testkit::prefix("race-load");
    let db_version = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(2);
    let opts = SetOptions::new().tags(["t"]);
    let mut readers = Vec::new();
    for _ in 0..4 {
        let cache = backend
            .client(&prefix)
            .await
            .cache("c")
            .ttl(MINUTE)
            .build()
            .unwrap();
        let (db, opts) = (db_version.clone(), opts.clone());
        readers.push(tokio::spawn(async move {
            while Instant::now() < stop {
                let db = db.clone();
                let _: u64 = cache
                    .get_or_set_with("k", &opts, move || async move {
                        // Read the "database", then take a while: an update may land meanwhile.
                        let v = db.load(Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(15)).await;
                        Ok::<_, std::io::Error>(v)
                    })
                    .await
                    .unwrap();
            }
        }));
    }
    let cache = backend
        .client(&prefix)
        .await
        .cache("c")
        .ttl(MINUTE)
        .build()
        .unwrap();
    let mut stale_reads = 0;
    let mut checks = 0;
    while Instant::now() < stop {
        let v = db_version.fetch_add(1, Ordering::SeqCst) + 1;
        cache.invalidate_tags(&["t"]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(25)).await;
        if let Some(seen) = cache.get::<u64>("k").await.unwrap() {
            if seen < v {
                stale_reads += 1;
            }
        }
        checks += 1;
    }
    for r in readers {
        r.await.unwrap();
    }
    assert!(checks > 20);
    assert_eq!(
        stale_reads, 0,
        "a value loaded before an invalidation was served after it"
    );
}
every_backend!(
    invalidation_wins_over_loaders_that_started_before_it,
    super::invalidation_wins_over_loaders_that_started_before_it
);

#[tokio::test]
async fn round_trips_hit_is_one_get_and_tagged_set_is_one_script() {
    let server = Server::start();
    let c = client_at(&server.url(), "rt").await;
    let cache = c.cache("c").ttl(MINUTE).early_refresh(0.0).build().unwrap();
    let tags = SetOptions::new().tags(["a", "b", "c"]);
    // Warm the script cache (the very first call is EVALSHA, NOSCRIPT, EVAL).
    cache.set("warm", &0, &tags).await.unwrap();
    let _: u32 = cache
        .get_or_set("warm2", || async { Ok::<_, std::io::Error>(1) })
        .await
        .unwrap();

    let names = |cmds: Vec<String>| {
        cmds.iter()
            .map(|c| c.split(' ').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };

    let m = server.monitor();
    cache.set("k", &1, &tags).await.unwrap();
    assert_eq!(names(m.finish()), ["EVALSHA"], "set with 3 tags");

    let m = server.monitor();
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(1));
    assert_eq!(names(m.finish()), ["GET"], "get hit");

    let m = server.monitor();
    let v: u32 = cache
        .get_or_set("k", || async { Ok::<_, std::io::Error>(2) })
        .await
        .unwrap();
    assert_eq!(v, 1);
    assert_eq!(names(m.finish()), ["GET"], "get_or_set hit");

    let m = server.monitor();
    let v: u32 = cache
        .get_or_set("miss", || async { Ok::<_, std::io::Error>(3) })
        .await
        .unwrap();
    assert_eq!(v, 3);
    assert_eq!(
        names(m.finish()),
        ["GET", "EVALSHA", "EVALSHA"],
        "miss: GET, lock script, set script"
    );
}

#[tokio::test]
async fn tag_bookkeeping_leaves_nothing_behind() {
    let server = Server::start();
    let c = client_at(&server.url(), "leak").await;
    let cache = c
        .cache("c")
        .ttl(Duration::from_millis(150))
        .lock_timeout(Duration::from_millis(200))
        .early_refresh(0.0)
        .build()
        .unwrap();
    let baseline = server.int(&["DBSIZE"]);
    for round in 0..20u64 {
        for i in 0..100u64 {
            let tags = SetOptions::new().tags([format!("t{}", i % 7), format!("r{round}")]);
            cache
                .set(&format!("k{}", round * 100 + i), &i, &tags)
                .await
                .unwrap();
        }
        let _: u64 = cache
            .get_or_set_with(
                &format!("l{round}"),
                &SetOptions::new().tags(["t1"]),
                || async { Ok::<_, std::io::Error>(1) },
            )
            .await
            .unwrap();
        if round % 3 == 0 {
            cache
                .invalidate_tags(&["t3", &format!("r{}", round.saturating_sub(1))])
                .await
                .unwrap();
        }
    }
    // The index of a busy tag holds only live entries: expired members are pruned on write.
    tokio::time::sleep(Duration::from_millis(200)).await;
    cache
        .set("last", &0, &SetOptions::new().tags(["t0"]))
        .await
        .unwrap();
    let t0 = String::from_utf8(cache.entry_key("x").unwrap().into_bytes())
        .unwrap()
        .replace(":k:x", ":t:t0");
    assert!(
        server.int(&["ZCARD", &t0]) <= 2,
        "pruned index: entry + epoch at most"
    );
    // Everything expires: entries, tag indexes, epochs and locks.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.int(&["DBSIZE"]) > baseline && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.int(&["DBSIZE"]), baseline, "keys left behind");
}

async fn bad_input_is_a_typed_error(backend: Backend) {
    let c = backend.client_named("bad").await;
    assert!(matches!(
        c.cache("").build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.cache("a{b}").build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.cache("a").ttl(Duration::ZERO).build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.cache("a").early_refresh(f64::NAN).build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.cache("a").early_refresh(-1.0).build(),
        Err(Error::InvalidArgument(_))
    ));
    let cache = c.cache("a").build().unwrap();
    assert!(matches!(
        cache.get::<u8>("").await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        cache.set("", &1, &SetOptions::new()).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        cache.set("k", &1, &SetOptions::new().tags([""])).await,
        Err(Error::InvalidArgument(_))
    ));
    let zero = SetOptions::new().ttl(Duration::ZERO);
    assert!(matches!(
        cache.set("k", &1, &zero).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        cache.delete(&[""]).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        cache.invalidate_tags(&[""]).await,
        Err(Error::InvalidArgument(_))
    ));
    // Nothing was half-written by the refused calls.
    assert_eq!(cache.get::<u8>("k").await.unwrap(), None);
    // A stored value of another shape is a decode error, not a panic.
    cache.set("k", "text", &SetOptions::new()).await.unwrap();
    assert!(matches!(cache.get::<u64>("k").await, Err(Error::Decode(_))));
    // A value serde cannot encode (a map with non-string keys) is refused before writing.
    let odd: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
    assert!(matches!(
        cache.set("odd", &odd, &SetOptions::new()).await,
        Err(Error::Encode(_))
    ));
    assert_eq!(cache.get_bytes("odd").await.unwrap(), None);
}
every_backend!(
    bad_input_is_a_typed_error,
    super::bad_input_is_a_typed_error
);

async fn a_closed_client_refuses_work(backend: Backend) {
    let c = backend.client_named("closed").await;
    let cache = c.cache("a").build().unwrap();
    c.close().await.unwrap();
    assert!(matches!(cache.get::<u8>("k").await, Err(Error::Closed)));
    assert!(matches!(c.ping().await, Err(Error::Closed)));
}
every_backend!(
    a_closed_client_refuses_work,
    super::a_closed_client_refuses_work
);

/// The error of a `get_or_set_bytes` whose loader asks for `key` of `cache`.
fn asks_for(
    cache: &redkit::Cache,
    key: &'static str,
) -> impl std::future::Future<Output = redkit::Result<Vec<u8>>> + Send + 'static {
    let cache = cache.clone();
    async move {
        cache
            .get_or_set_bytes(key, &SetOptions::new(), || async { Ok(b"inner".to_vec()) })
            .await
    }
}

/// A loader asking for its own key, directly or through a cycle A → B → A, is refused at
/// once with InvalidArgument instead of waiting for itself (issue 16, item 1); the key
/// works afterwards.
async fn a_loader_asking_for_its_own_key_is_refused(backend: Backend) {
    let c = backend.client_named("reentry").await;
    let cache = c
        .cache("r")
        .lock_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let inner = asks_for(&cache, "a");
    let err = cache
        .get_or_set_bytes("a", &SetOptions::new(), move || inner)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("would wait for itself"), "{err}");

    // A → B → A.
    let b_asks_a = {
        let cache = cache.clone();
        move || async move {
            let again = asks_for(&cache, "a");
            cache
                .get_or_set_bytes("b", &SetOptions::new(), move || again)
                .await
        }
    };
    let err = cache
        .get_or_set_bytes("a", &SetOptions::new(), b_asks_a)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Another key from a loader is fine, and the refused keys load normally now.
    let other = asks_for(&cache, "other");
    let v = cache
        .get_or_set_bytes("a", &SetOptions::new(), move || async move {
            assert_eq!(other.await?, b"inner");
            Ok(b"outer".to_vec())
        })
        .await
        .unwrap();
    assert_eq!(v, b"outer");
    let b = cache
        .get_or_set_bytes("b", &SetOptions::new(), || async { Ok(b"b".to_vec()) })
        .await
        .unwrap();
    assert_eq!(b, b"b");
}
every_backend!(
    a_loader_asking_for_its_own_key_is_refused,
    super::a_loader_asking_for_its_own_key_is_refused
);

/// A host names the load a call comes from by the id its loader was given, even when the
/// call runs outside the loader's future (as a JS promise does); a call that names nothing
/// and joins its own load waits at most lock_timeout, and the key recovers.
async fn a_host_named_load_is_refused_and_an_unnamed_one_is_bounded(backend: Backend) {
    let c = backend.client_named("reentry-host").await;
    let cache = c
        .cache("h")
        .lock_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let opts = SetOptions::new();
    // Named: the inner call runs on a task of its own, with the loader's id.
    let named = {
        let cache = cache.clone();
        move |id: u64| async move {
            tokio::spawn(async move {
                cache
                    .get_or_set_bytes_in(Some(id), "k", &SetOptions::new(), |_| async {
                        Ok(b"inner".to_vec())
                    })
                    .await
            })
            .await
            .unwrap()
        }
    };
    let started = Instant::now();
    let err = cache
        .get_or_set_bytes_in(None, "k", &opts, named)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(started.elapsed() < Duration::from_millis(250));

    // Unnamed: the inner call cannot be told apart from another caller; it gives up after
    // lock_timeout instead of hanging the key for the rest of the process.
    let unnamed = {
        let cache = cache.clone();
        move |_: u64| async move { tokio::spawn(asks_for(&cache, "k")).await.unwrap() }
    };
    let err = cache
        .get_or_set_bytes_in(None, "k", &opts, unnamed)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    let v = cache
        .get_or_set_bytes("k", &opts, || async { Ok(b"later".to_vec()) })
        .await
        .unwrap();
    assert_eq!(v, b"later");
}
every_backend!(
    a_host_named_load_is_refused_and_an_unnamed_one_is_bounded,
    super::a_host_named_load_is_refused_and_an_unnamed_one_is_bounded
);
