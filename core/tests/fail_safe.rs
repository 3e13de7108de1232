//! `fail_safe`: a cache that answers when Redis is down or slow, with a circuit breaker so
//! a dead Redis costs one `soft_timeout` per interval, not one per call. Real failures:
//! the test's own redis-server is stopped, or paused (CLIENT PAUSE).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redkit::incidents::{Fallback, Incident};
use redkit::{Cache, Client, ErrorKind};
use redkit_testkit::Server;

const SOFT: Duration = Duration::from_millis(200);

async fn cache(client: &Client, ns: &str, breaker: Duration) -> Cache {
    client
        .cache(ns)
        .fail_safe(true)
        .soft_timeout(SOFT)
        .circuit_breaker(breaker)
        .build()
        .unwrap()
}

fn value(v: &str) -> impl FnOnce() -> std::future::Ready<Result<String, std::io::Error>> {
    let v = v.to_string();
    move || std::future::ready(Ok(v))
}

/// Every report the client makes.
fn reports(client: &Client) -> Arc<Mutex<Vec<Incident>>> {
    let seen: Arc<Mutex<Vec<Incident>>> = Arc::default();
    let sink = Arc::clone(&seen);
    client.set_reporter(Some(Arc::new(move |i: &Incident| {
        sink.lock().unwrap().push(i.clone())
    })));
    seen
}

#[tokio::test]
async fn with_redis_down_the_loader_answers_unstored_and_the_breaker_bounds_the_cost() {
    let mut server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let seen = reports(&client);
    let users = cache(&client, "users", Duration::from_secs(30)).await;
    let unguarded = cache(&client, "plain", Duration::ZERO).await;
    users.set("kept", &"v0", &Default::default()).await.unwrap();
    server.stop();

    // The first call pays one soft timeout; the breaker then skips Redis.
    let started = Instant::now();
    for i in 0..20 {
        let v: String = users
            .get_or_set(&format!("k{i}"), value(&format!("db{i}")))
            .await
            .unwrap();
        assert_eq!(v, format!("db{i}"));
    }
    assert_eq!(users.get::<String>("kept").await.unwrap(), None, "a miss");
    let elapsed = started.elapsed();
    assert!(
        elapsed < SOFT * 3,
        "21 calls cost {elapsed:?}, more than one soft timeout"
    );
    assert_eq!(users.errors(), 21);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "one report per interval: {seen:?}");
        assert_eq!(seen[0].fallback, Fallback::Loader);
        assert_eq!(seen[0].name, "users");
    }

    // Without the breaker every call pays the soft timeout: what the breaker saves.
    let started = Instant::now();
    for i in 0..3 {
        let v: String = unguarded
            .get_or_set(&format!("k{i}"), value("db"))
            .await
            .unwrap();
        assert_eq!(v, "db");
    }
    assert!(started.elapsed() >= SOFT * 3, "{:?}", started.elapsed());

    // A failing loader still raises.
    let e = users
        .get_or_set::<String, _, _, _>("x", || async { Err(common::db_down()) })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Loader);
}

#[tokio::test]
async fn after_the_interval_one_probe_finds_redis_back_and_values_are_stored_again() {
    let mut server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let users = cache(&client, "users", Duration::from_millis(300)).await;
    server.stop();
    let v: String = users.get_or_set("a", value("unstored")).await.unwrap();
    assert_eq!(v, "unstored");
    server.restart();
    // Still open: the value is not stored even though Redis is back.
    let v: String = users.get_or_set("a", value("skipped")).await.unwrap();
    assert_eq!(v, "skipped");
    tokio::time::sleep(Duration::from_millis(350)).await;
    // Half-open: this call probes (the client may still be reconnecting: retry a little).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let v: String = users.get_or_set("a", value("stored")).await.unwrap();
        if v == "stored" && users.get::<String>("a").await.unwrap().as_deref() == Some("stored") {
            break;
        }
        assert!(Instant::now() < deadline, "never stored again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let entry = users.entry_key("a").unwrap();
    assert_eq!(server.int(&["EXISTS", &entry]), 1, "stored in Redis");
}

#[tokio::test]
async fn the_near_cache_copy_is_served_while_redis_is_down() {
    let mut server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let users = client
        .cache("users")
        .near_cache(100)
        .fail_safe(true)
        .soft_timeout(SOFT)
        .build()
        .unwrap();
    // Wait until the near cache follows its prefix and holds the entry.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let _: String = users.get_or_set("a", value("v1")).await.unwrap();
        if users.near().unwrap().len() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "near cache never filled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(5);
    // Once the tracking connection is seen down, the copy is only kept for fail_safe.
    while users.near().unwrap().is_live() {
        assert!(Instant::now() < deadline, "tracking never went down");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let v: String = users
        .get_or_set("a", || async {
            panic!("the kept copy answers") as Result<String, std::io::Error>
        })
        .await
        .unwrap();
    assert_eq!(v, "v1");
    assert_eq!(
        users.get::<String>("a").await.unwrap().as_deref(),
        Some("v1")
    );
    assert_eq!(users.get::<String>("b").await.unwrap(), None);
    assert_eq!(users.errors(), 3);
    // get_many answers the same: the kept copy, and a miss for the key it has none of.
    assert_eq!(
        users.get_many::<String>(&["a", "b"]).await.unwrap(),
        [Some("v1".to_string()), None]
    );
    assert_eq!(users.errors(), 4);
}

#[tokio::test]
async fn a_slow_redis_is_cut_at_the_soft_timeout_and_a_stale_entry_served() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let users = client
        .cache("users")
        .ttl(Duration::from_millis(50))
        .stale_ttl(Duration::from_secs(60))
        .early_refresh(0.0)
        .fail_safe(true)
        .soft_timeout(SOFT)
        .circuit_breaker(Duration::ZERO)
        .build()
        .unwrap();
    let _: String = users.get_or_set("a", value("old")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;

    // Reads answer, scripts (the miss path's lock) wait: the stale entry read is served.
    assert!(server
        .raw(&["CLIENT", "PAUSE", "2000", "WRITE"])
        .unwrap()
        .starts_with("+OK"));
    let started = Instant::now();
    let v: String = users.get_or_set("a", value("new")).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(v, "old");
    assert!(elapsed >= SOFT && elapsed < SOFT * 3, "{elapsed:?}");

    // Everything waits: no entry known, the loader answers.
    server.raw(&["CLIENT", "UNPAUSE"]).unwrap();
    assert!(server
        .raw(&["CLIENT", "PAUSE", "2000", "ALL"])
        .unwrap()
        .starts_with("+OK"));
    let started = Instant::now();
    let v: String = users.get_or_set("b", value("db")).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(v, "db");
    assert!(elapsed >= SOFT && elapsed < SOFT * 3, "{elapsed:?}");
    assert_eq!(users.errors(), 2);
    server.raw(&["CLIENT", "UNPAUSE"]).unwrap();
}

#[tokio::test]
async fn the_report_names_the_read_the_soft_timeout_cut() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let seen = reports(&client);
    let users = client
        .cache("users")
        .fail_safe(true)
        .soft_timeout(SOFT)
        .build()
        .unwrap();
    users.set("a", &"v", &Default::default()).await.unwrap();
    assert!(server
        .raw(&["CLIENT", "PAUSE", "1000", "ALL"])
        .unwrap()
        .starts_with("+OK"));
    assert_eq!(users.get::<String>("a").await.unwrap(), None);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].error.to_string(),
        format!("timed out: cache read took longer than {SOFT:?}")
    );
}

#[tokio::test]
async fn a_slow_redis_is_cut_at_the_soft_timeout_on_the_first_read_too() {
    // A lazy client has not measured the server's clock yet: its first read sends a TIME
    // beside the GET, and both wait at most the soft timeout.
    let server = Server::start();
    let client = Client::builder(&server.url())
        .lazy_connect(true)
        .build()
        .await
        .unwrap();
    let users = cache(&client, "users", Duration::ZERO).await;
    assert!(server
        .raw(&["CLIENT", "PAUSE", "2000", "ALL"])
        .unwrap()
        .starts_with("+OK"));
    let started = Instant::now();
    assert_eq!(users.get::<String>("a").await.unwrap(), None, "a miss");
    let elapsed = started.elapsed();
    assert!(elapsed >= SOFT && elapsed < SOFT * 3, "{elapsed:?}");
    assert_eq!(users.errors(), 1);
    server.raw(&["CLIENT", "UNPAUSE"]).unwrap();
}

#[tokio::test]
async fn without_fail_safe_a_dead_redis_is_an_error() {
    let mut server = Server::start();
    let client = redkit::Client::connect_with(
        &server.url(),
        redkit::ConnectOptions::default().timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    let users = client.cache("users").build().unwrap();
    server.stop();
    let e = users.get_or_set("a", value("db")).await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout),
        "{e:?}"
    );
    assert_eq!(users.errors(), 0);
}

/// On a healthy backend (both), fail_safe changes nothing.
async fn fail_safe_is_transparent_when_healthy(backend: common::Backend) {
    let client = backend.client_named("fail-safe-healthy").await;
    let users = cache(&client, "users", Duration::from_secs(1)).await;
    let v: String = users.get_or_set("a", value("v")).await.unwrap();
    assert_eq!(v, "v");
    let v: String = users.get_or_set("a", value("other")).await.unwrap();
    assert_eq!(v, "v", "stored and served");
    assert_eq!(
        users.get::<String>("a").await.unwrap().as_deref(),
        Some("v")
    );
    assert_eq!(users.errors(), 0);
}
every_backend!(healthy, super::fail_safe_is_transparent_when_healthy);
