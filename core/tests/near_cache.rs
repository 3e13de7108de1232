//! The near cache against a real server: hits served from memory with no round trip, and
//! every way an entry can change elsewhere reaching it — another client's write, delete or
//! tag invalidation, a foreign value, expiry, FLUSHALL — plus this process's own writes
//! seen at once, and the store turning off while its tracking connection is gone.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::client_at;
use redkit::{Cache, Client, SetOptions};
use redkit_testkit::Server;

/// Long enough for an invalidation to cross loopback on a loaded CI machine.
const SETTLE: Duration = Duration::from_secs(3);

async fn near_cache(c: &Client, ns: &str) -> Cache {
    let cache = c.cache(ns).near_cache(1000).build().unwrap();
    eventually("tracking confirmed", || async {
        cache.near().is_some_and(|n| n.is_live())
    })
    .await;
    cache
}

/// Two clients, as two processes: a near cache of `users` on one (live), a plain handle of
/// the same namespace on the other.
async fn near_and_other(server: &Server) -> (Cache, Cache) {
    let here = client_at(&server.url(), "rk").await;
    let there = client_at(&server.url(), "rk").await;
    (
        near_cache(&here, "users").await,
        there.cache("users").build().unwrap(),
    )
}

/// Poll `check` until it holds or [`SETTLE`] passes.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + SETTLE;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {SETTLE:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn read(cache: &Cache, key: &str) -> Option<i64> {
    cache.get::<i64>(key).await.unwrap()
}

#[tokio::test]
async fn a_hit_from_memory_makes_no_round_trip() {
    let server = Server::start();
    let c = client_at(&server.url(), "rk").await;
    let users = near_cache(&c, "users").await;
    users.set("a", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(read(&users, "a").await, Some(1), "the first read fills");
    let monitor = server.monitor();
    for _ in 0..100 {
        assert_eq!(read(&users, "a").await, Some(1));
        let got: Option<i64> = users
            .get_or_set("a", || async { Ok::<_, std::io::Error>(9) })
            .await
            .ok();
        assert_eq!(got, Some(1));
    }
    let sent = monitor.finish();
    assert!(sent.is_empty(), "hits went to Redis: {sent:?}");
    assert_eq!(users.near().unwrap().len(), 1);
}

#[tokio::test]
async fn every_change_made_elsewhere_reaches_it() {
    let server = Server::start();
    let (near, other) = near_and_other(&server).await;
    let key = near.entry_key("a").unwrap();

    // Each step: fill the near copy, change the key from elsewhere, see the change here.
    let fill = |v: i64| {
        let (near, other) = (near.clone(), other.clone());
        async move {
            other
                .set("a", &v, &SetOptions::new().tags(["t"]))
                .await
                .unwrap();
            eventually("the write is read", || async {
                read(&near, "a").await == Some(v)
            })
            .await;
            assert_eq!(read(&near, "a").await, Some(v), "served from memory");
        }
    };

    fill(1).await;
    other.set("a", &2, &SetOptions::new()).await.unwrap();
    eventually("another client's write", || async {
        read(&near, "a").await == Some(2)
    })
    .await;

    fill(3).await;
    other.delete(&["a"]).await.unwrap();
    eventually("another client's delete", || async {
        read(&near, "a").await.is_none()
    })
    .await;

    fill(4).await;
    other.invalidate_tags(&["t"]).await.unwrap();
    eventually("another client's tag invalidation", || async {
        read(&near, "a").await.is_none()
    })
    .await;

    fill(5).await;
    server.raw(&["SET", &key, "not a redkit entry"]).unwrap();
    eventually("a foreign value", || async {
        read(&near, "a").await.is_none()
    })
    .await;

    fill(6).await;
    server.raw(&["PEXPIRE", &key, "20"]).unwrap();
    eventually("expiry", || async { read(&near, "a").await.is_none() }).await;

    fill(7).await;
    server.raw(&["FLUSHALL"]).unwrap();
    eventually("FLUSHALL", || async { read(&near, "a").await.is_none() }).await;
}

#[tokio::test]
async fn writes_through_the_same_client_are_read_at_once() {
    let server = Server::start();
    let c = client_at(&server.url(), "rk").await;
    let users = near_cache(&c, "users").await;
    for round in 0..50 {
        users
            .set("a", &round, &SetOptions::new().tags(["t"]))
            .await
            .unwrap();
        assert_eq!(read(&users, "a").await, Some(round));
        assert_eq!(read(&users, "a").await, Some(round));
        if round % 3 == 0 {
            users.delete(&["a"]).await.unwrap();
            assert_eq!(read(&users, "a").await, None, "delete, round {round}");
        } else if round % 3 == 1 {
            users.invalidate_tags(&["t"]).await.unwrap();
            assert_eq!(
                read(&users, "a").await,
                None,
                "invalidate_tags, round {round}"
            );
        }
    }
    let loaded: i64 = users
        .get_or_set("b", || async { Ok::<_, std::io::Error>(7) })
        .await
        .unwrap();
    assert_eq!((loaded, read(&users, "b").await), (7, Some(7)));
    // A handle of the namespace without a near cache, on the same client, writes too.
    let plain = c.cache("users").build().unwrap();
    for round in 0..50 {
        assert_eq!(read(&users, "b").await, Some(7 + round));
        plain
            .set("b", &(8 + round), &SetOptions::new().tags(["u"]))
            .await
            .unwrap();
        assert_eq!(
            read(&users, "b").await,
            Some(8 + round),
            "plain set, round {round}"
        );
    }
    assert_eq!(read(&users, "b").await, Some(57));
    plain.invalidate_tags(&["u"]).await.unwrap();
    assert_eq!(read(&users, "b").await, None, "plain invalidate_tags");

    // The same without timing luck: a plain handle's write drops the copy before it is
    // sent. Redis's invalidation takes a round trip; this looks right after the first poll.
    let solo = near_cache(&c, "solo").await;
    let plain = c.cache("solo").build().unwrap();
    plain.set("k", &1, &SetOptions::new()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await; // the set's own invalidation
    eventually("k held in memory", || async {
        read(&solo, "k").await == Some(1) && solo.near().unwrap().len() == 1
    })
    .await;
    let opts = SetOptions::new();
    let mut write = std::pin::pin!(plain.set("k", &2, &opts));
    let waker = std::task::Waker::noop();
    assert!(write
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
        .is_pending());
    assert_eq!(solo.near().unwrap().len(), 0, "the write left the old copy");
    write.await.unwrap();
    assert_eq!(read(&solo, "k").await, Some(2));
    // And the near handle's own write, the same way.
    tokio::time::sleep(Duration::from_millis(50)).await;
    eventually("k = 2 held in memory", || async {
        read(&solo, "k").await == Some(2) && solo.near().unwrap().len() == 1
    })
    .await;
    let mut write = std::pin::pin!(solo.set("k", &3, &opts));
    assert!(write
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
        .is_pending());
    assert_eq!(
        solo.near().unwrap().len(),
        0,
        "its own write left the old copy"
    );
    write.await.unwrap();
    assert_eq!(read(&solo, "k").await, Some(3));
}

/// The id of the server's connection that tracks in broadcast mode (flag `B`).
fn tracking_client(server: &Server) -> Option<String> {
    let list = server.raw(&["CLIENT", "LIST"]).unwrap();
    list.lines()
        .find(|l| {
            l.split(' ')
                .any(|f| f.starts_with("flags=") && f.contains('B'))
        })
        .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_string)
}

#[tokio::test]
async fn losing_the_tracking_connection_turns_it_off_until_it_is_back() {
    let server = Server::start();
    let (near, other) = near_and_other(&server).await;
    other.set("a", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(read(&near, "a").await, Some(1));
    assert_eq!(near.near().unwrap().len(), 1);

    let id = tracking_client(&server).expect("a tracking connection");
    server.raw(&["CLIENT", "KILL", "ID", &id]).unwrap();
    eventually("off once the connection is gone", || async {
        !near.near().unwrap().is_live()
    })
    .await;
    // Changes while nobody announces them must not be hidden by an old copy.
    other.set("a", &2, &SetOptions::new()).await.unwrap();
    assert_eq!(read(&near, "a").await, Some(2));
    eventually("live again on a new connection", || async {
        near.near().unwrap().is_live()
    })
    .await;
    assert_ne!(tracking_client(&server), Some(id));
    assert_eq!(read(&near, "a").await, Some(2));
    other.set("a", &3, &SetOptions::new()).await.unwrap();
    eventually("following changes again", || async {
        read(&near, "a").await == Some(3)
    })
    .await;
}

#[tokio::test]
async fn a_server_restart_loses_nothing() {
    let mut server = Server::start();
    let here = client_at(&server.url(), "rk").await;
    let near = near_cache(&here, "users").await;
    near.set("a", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(read(&near, "a").await, Some(1));
    // The restarted server holds nothing (no persistence): the copy must not outlive it.
    server.restart();
    eventually("the restart is noticed", || async {
        matches!(near.get::<i64>("a").await, Ok(None))
    })
    .await;
    eventually("live again", || async { near.near().unwrap().is_live() }).await;
    near.set("a", &2, &SetOptions::new()).await.unwrap();
    assert_eq!(read(&near, "a").await, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_concurrent_writes_it_settles_on_the_last_one() {
    let server = Server::start();
    let (near, other) = near_and_other(&server).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (near, stop) = (near.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut reads = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    near.get::<i64>("a").await.unwrap();
                    reads += 1;
                    // A hit from memory never waits: let the runtime schedule others.
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();
    for v in 0..500 {
        other.set("a", &v, &SetOptions::new()).await.unwrap();
    }
    eventually("the last write is read", || async {
        read(&near, "a").await == Some(499)
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.await.unwrap() > 0);
    }
    // Settled: no older value comes back from memory afterwards.
    for _ in 0..200 {
        assert_eq!(read(&near, "a").await, Some(499));
    }
}

#[tokio::test]
async fn a_size_past_32_bits_is_refused_as_in_every_binding() {
    let c = common::embedded("near-size");
    let too_big = u32::MAX as usize + 1;
    let err = c.cache("users").near_cache(too_big).build().unwrap_err();
    assert!(matches!(err, redkit::Error::InvalidArgument(_)), "{err:?}");
    assert!(c
        .cache("users")
        .near_cache(u32::MAX as usize)
        .build()
        .is_ok());
}

#[tokio::test]
async fn the_embedded_engine_has_no_near_copy_and_needs_none() {
    let c = common::embedded("near");
    let users = c.cache("users").near_cache(100).build().unwrap();
    assert!(users.near().is_none());
    users.set("a", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(read(&users, "a").await, Some(1));
}

#[tokio::test]
async fn it_tracks_over_tls() {
    let server = Server::start_tls();
    let c = client_at(&server.tls_url(), "rk").await;
    let users = near_cache(&c, "users").await;
    users.set("a", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(read(&users, "a").await, Some(1));
    let monitor = server.monitor();
    assert_eq!(read(&users, "a").await, Some(1));
    assert!(monitor.finish().is_empty(), "a hit over TLS went to Redis");
}

#[tokio::test]
async fn it_tracks_with_a_password_and_a_database_index() {
    let server = Server::start();
    server
        .raw(&["CONFIG", "SET", "requirepass", "s3cret"])
        .unwrap();
    let url = format!("redis://:s3cret@127.0.0.1:{}/2", server.port());
    let (here, there) = (client_at(&url, "rk").await, client_at(&url, "rk").await);
    // Live means the tracking connection authenticated and Redis confirmed the prefix.
    let near = near_cache(&here, "users").await;
    let other = there.cache("users").build().unwrap();
    other.set("a", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(read(&near, "a").await, Some(1));
    other.set("a", &2, &SetOptions::new()).await.unwrap();
    eventually("a change in database 2", || async {
        read(&near, "a").await == Some(2)
    })
    .await;
    // The harness stops the server with an unauthenticated SHUTDOWN.
    let unset = redkit::Cmd::new("CONFIG").args(["SET", "requirepass", ""]);
    there.transport().send(unset).await.unwrap();
}
