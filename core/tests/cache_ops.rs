//! The everyday cache operations against a real server and the embedded engine:
//! get_many / set_many / delete_many (one round trip each), exists / ttl / touch, incr
//! counters, clear() and stats().

mod common;

use std::time::{Duration, Instant};

use common::{client_at, Backend};
use redkit::{Cmd, Error, SetOptions};
use redkit_testkit::Server;
use serde_json::{json, Value as Json};

const MINUTE: Duration = Duration::from_secs(60);

async fn bulk_reads_and_writes_keep_order_tags_and_misses(backend: Backend) {
    let c = backend.client_named("bulk").await;
    let cache = c.cache("b").ttl(MINUTE).build().unwrap();
    let tags = SetOptions::new().tags(["team:1"]);
    cache
        .set_many(
            &[
                ("a", json!(1)),
                ("b", json!({"x": [1, 2]})),
                ("c", json!(null)),
            ],
            &tags,
        )
        .await
        .unwrap();
    let got: Vec<Option<Json>> = cache.get_many(&["b", "missing", "a", "c"]).await.unwrap();
    assert_eq!(
        got,
        [
            Some(json!({"x": [1, 2]})),
            None,
            Some(json!(1)),
            Some(Json::Null)
        ]
    );
    // The entries carry their tags: one invalidation takes them all.
    assert_eq!(cache.invalidate_tags(&["team:1"]).await.unwrap(), 3);
    assert_eq!(
        cache.get_many::<Json>(&["a", "b"]).await.unwrap(),
        [None, None]
    );
    cache
        .set_many(
            &[("a", 1), ("b", 2)],
            &SetOptions::new().ttl(Duration::from_millis(60)),
        )
        .await
        .unwrap();
    assert_eq!(
        cache.get_many::<i32>(&["a", "b"]).await.unwrap(),
        [Some(1), Some(2)]
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(
        cache.get_many::<i32>(&["a", "b"]).await.unwrap(),
        [None, None]
    );
    cache
        .set_many(&[("a", 1), ("b", 2)], &SetOptions::new())
        .await
        .unwrap();
    assert_eq!(cache.delete_many(&["a", "b", "zz"]).await.unwrap(), 2);
    // Empty lists are answered without a round trip; bad keys and options are refused.
    assert!(cache.get_many::<i32>(&[]).await.unwrap().is_empty());
    cache
        .set_many::<i32>(&[], &SetOptions::new())
        .await
        .unwrap();
    assert_eq!(cache.delete_many(&[]).await.unwrap(), 0);
    for bad in [
        cache.get_many::<i32>(&["a", ""]).await.map(|_| ()),
        cache
            .set_many(&[("a", 1), ("", 2)], &SetOptions::new())
            .await,
        cache
            .set_many(&[("a", 1)], &SetOptions::new().tags([""]))
            .await,
        cache
            .set_many(&[("a", 1)], &SetOptions::new().ttl(Duration::ZERO))
            .await,
        cache.delete_many(&["a", ""]).await.map(|_| ()),
    ] {
        assert!(matches!(bad, Err(Error::InvalidArgument(_))), "{bad:?}");
    }
    assert_eq!(
        cache.get::<i32>("a").await.unwrap(),
        None,
        "a refused write stored nothing"
    );
}
every_backend!(
    bulk_reads_and_writes_keep_order_tags_and_misses,
    super::bulk_reads_and_writes_keep_order_tags_and_misses
);

async fn exists_ttl_and_touch_follow_freshness(backend: Backend) {
    let c = backend.client_named("inspect").await;
    let cache = c.cache("i").ttl(MINUTE).build().unwrap();
    assert!(!cache.exists("k").await.unwrap());
    assert_eq!(cache.ttl("k").await.unwrap(), None);
    assert!(!cache.touch("k", MINUTE).await.unwrap(), "nothing to touch");
    cache
        .set("k", "v", &SetOptions::new().ttl(Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(cache.exists("k").await.unwrap());
    let ttl = cache.ttl("k").await.unwrap().unwrap();
    assert!(
        ttl > Duration::from_secs(9) && ttl <= Duration::from_millis(10_100), // judged by the estimated server clock
        "{ttl:?}"
    );
    assert!(cache.touch("k", Duration::from_secs(100)).await.unwrap());
    let ttl = cache.ttl("k").await.unwrap().unwrap();
    assert!(
        ttl > Duration::from_secs(99) && ttl <= Duration::from_millis(100_100),
        "{ttl:?}"
    );
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
    // Touch can shorten too; an entry past its fresh time neither exists nor is touched.
    assert!(cache.touch("k", Duration::from_millis(50)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!cache.exists("k").await.unwrap());
    assert!(!cache.touch("k", MINUTE).await.unwrap());
    assert!(matches!(
        cache.touch("k", Duration::ZERO).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        cache.exists("").await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        cache.ttl("").await,
        Err(Error::InvalidArgument(_))
    ));
}
every_backend!(
    exists_ttl_and_touch_follow_freshness,
    super::exists_ttl_and_touch_follow_freshness
);

async fn touch_keeps_a_tagged_entry_reachable_by_its_tags(backend: Backend) {
    let c = backend.client_named("touchtags").await;
    let cache = c.cache("t").ttl(MINUTE).build().unwrap();
    let short = SetOptions::new().ttl(Duration::from_millis(100));
    let tagged = |tag: &str| short.clone().tags([tag]);
    let touch = |key: &'static str| {
        let cache = cache.clone();
        async move { assert!(cache.touch(key, MINUTE).await.unwrap(), "{key}") }
    };
    // Written for 100 ms by each write that takes tags, touched for a minute.
    cache.set("a", &1, &tagged("team")).await.unwrap();
    touch("a").await;
    cache.set_many(&[("m", 2)], &tagged("team")).await.unwrap();
    touch("m").await;
    let loaded: i32 = cache
        .get_or_set_with("g", &tagged("team"), || async {
            Ok::<_, std::io::Error>(3)
        })
        .await
        .unwrap();
    assert_eq!(loaded, 3);
    touch("g").await;
    // The same in an index that other writes keep alive (and prune as they go).
    cache.set("b", &4, &tagged("org")).await.unwrap();
    touch("b").await;
    let long = SetOptions::new().tags(["org"]);
    cache.set("c", &5, &long).await.unwrap();
    // Written with a tag, then again without: touch must not tie them to the old tag.
    cache.set("e", &6, &tagged("team")).await.unwrap();
    cache.set("e", &6, &short).await.unwrap();
    touch("e").await;
    cache.set_many(&[("s", 8)], &tagged("team")).await.unwrap();
    cache.set_many(&[("s", 8)], &short).await.unwrap();
    touch("s").await;
    // Past the life they were written with, the touched entries live on, and so do their
    // places in their indexes; these writes prune the rest (e's and s's first writes).
    tokio::time::sleep(Duration::from_millis(300)).await;
    cache.set("d", &7, &long).await.unwrap();
    cache
        .set("f", &7, &SetOptions::new().tags(["team"]))
        .await
        .unwrap();
    for key in ["a", "m", "g", "b", "e", "s"] {
        assert!(cache.get::<i32>(key).await.unwrap().is_some(), "{key}");
    }
    assert_eq!(cache.invalidate_tags(&["team"]).await.unwrap(), 4);
    for key in ["a", "m", "g", "f"] {
        assert_eq!(cache.get::<i32>(key).await.unwrap(), None, "{key} survived");
    }
    assert_eq!(cache.get::<i32>("e").await.unwrap(), Some(6), "untagged");
    assert_eq!(cache.get::<i32>("s").await.unwrap(), Some(8), "untagged");
    assert_eq!(cache.invalidate_tags(&["org"]).await.unwrap(), 3);
    assert_eq!(cache.get::<i32>("b").await.unwrap(), None, "b survived");

    // A counter made over a stale tagged entry carries no tag, touched or not.
    let stale = c
        .cache("s")
        .ttl(MINUTE)
        .stale_ttl(Duration::from_millis(300))
        .build()
        .unwrap();
    stale.set("n", &1, &tagged("w")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(stale.incr("n", 1, None).await.unwrap(), 1, "made anew");
    assert!(stale.touch("n", MINUTE).await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(stale.invalidate_tags(&["w"]).await.unwrap(), 0);
    assert_eq!(stale.get::<i64>("n").await.unwrap(), Some(1));
}
every_backend!(
    touch_keeps_a_tagged_entry_reachable_by_its_tags,
    super::touch_keeps_a_tagged_entry_reachable_by_its_tags
);

async fn the_tag_record_leaves_entries_as_every_build_reads_them(backend: Backend) {
    let c = backend.client_named("tagrecord").await;
    let cache = c.cache("r").ttl(MINUTE).build().unwrap();
    let key = |part: &str, id: &str| format!("{}:{{cache:r}}:{part}:{id}", c.prefix());
    let get = |k: String| {
        let c = c.clone();
        async move {
            let v = c.transport().send(Cmd::new("GET").arg(k)).await.unwrap();
            v.into_bytes().unwrap()
        }
    };
    // A tagged, touched entry is still `v1:<fresh>:<delta>:<payload>`, all an older build
    // reads; its tags are in a key of their own, `<length>:<tag key>` each.
    cache
        .set("k", &json!({"a": 1}), &SetOptions::new().tags(["x", "yz"]))
        .await
        .unwrap();
    assert!(cache.touch("k", MINUTE).await.unwrap());
    let entry = String::from_utf8(get(key("k", "k")).await.unwrap()).unwrap();
    let header: Vec<&str> = entry.splitn(4, ':').collect();
    assert_eq!(header[0], "v1", "{entry}");
    assert!(
        header[1].parse::<u64>().is_ok() && header[2] == "0",
        "{entry}"
    );
    assert_eq!(header[3], r#"{"a":1}"#);
    let (x, yz) = (key("t", "x"), key("t", "yz"));
    let record = format!("{}:{x}{}:{yz}", x.len(), yz.len());
    assert_eq!(get(key("g", "k")).await.unwrap(), record.as_bytes());
    // An entry as an older build wrote it, tagged but with no record, is read and touched.
    let old = key("k", "old");
    let until = (redkit::rt::now_ms() + 60_000).to_string();
    for cmd in [
        Cmd::new("SET").args([old.as_str(), &format!("v1:{until}:0:\"o\""), "PX", "60000"]),
        Cmd::new("ZADD").args([x.as_str(), until.as_str(), old.as_str()]),
    ] {
        c.transport().send(cmd).await.unwrap();
    }
    assert!(cache.touch("old", MINUTE).await.unwrap());
    assert_eq!(
        cache.get::<String>("old").await.unwrap().as_deref(),
        Some("o")
    );
    assert_eq!(get(key("g", "old")).await, None, "touch writes no record");
    assert_eq!(cache.invalidate_tags(&["x"]).await.unwrap(), 2);
}
every_backend!(
    the_tag_record_leaves_entries_as_every_build_reads_them,
    super::the_tag_record_leaves_entries_as_every_build_reads_them
);

async fn counters_count_and_read_back_as_numbers(backend: Backend) {
    let c = backend.client_named("incr").await;
    let cache = c.cache("n").ttl(MINUTE).build().unwrap();
    assert_eq!(cache.incr("hits", 1, None).await.unwrap(), 1);
    assert_eq!(cache.incr("hits", 41, None).await.unwrap(), 42);
    assert_eq!(cache.incr("hits", -50, None).await.unwrap(), -8);
    assert_eq!(cache.get::<i64>("hits").await.unwrap(), Some(-8));
    // The ttl is set when the counter is made, and kept by later increments.
    assert_eq!(
        cache
            .incr("short", 5, Some(Duration::from_millis(300)))
            .await
            .unwrap(),
        5
    );
    assert_eq!(cache.incr("short", 1, Some(MINUTE)).await.unwrap(), 6);
    let ttl = cache.ttl("short").await.unwrap().unwrap();
    assert!(ttl <= Duration::from_millis(400), "{ttl:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.get::<i64>("short").await.unwrap(), None);
    assert_eq!(
        cache.incr("short", 1, None).await.unwrap(),
        1,
        "an expired counter starts again"
    );
    // A value set as a whole number is a counter; anything else is refused, unchanged.
    cache.set("set", &7, &SetOptions::new()).await.unwrap();
    assert_eq!(cache.incr("set", 1, None).await.unwrap(), 8);
    for v in [json!("7"), json!(1.5), json!({"n": 1}), json!(null)] {
        cache.set("other", &v, &SetOptions::new()).await.unwrap();
        let err = cache.incr("other", 1, None).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{v}: {err:?}");
        assert_eq!(cache.get::<Json>("other").await.unwrap(), Some(v));
    }
    let max = redkit::cache::MAX_COUNTER;
    assert_eq!(cache.incr("big", max, None).await.unwrap(), max);
    assert!(matches!(
        cache.incr("big", 1, None).await,
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(cache.get::<i64>("big").await.unwrap(), Some(max));
    assert_eq!(cache.incr("neg", -max, None).await.unwrap(), -max);
    assert!(matches!(
        cache.incr("x", max + 1, None).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        cache.incr("", 1, None).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        cache.incr("x", 1, Some(Duration::ZERO)).await,
        Err(Error::InvalidArgument(_))
    ));
    let packed = c.cache("m").codec(redkit::Codec::Msgpack).build().unwrap();
    assert!(matches!(
        packed.incr("x", 1, None).await,
        Err(Error::InvalidArgument(_))
    ));
}
every_backend!(
    counters_count_and_read_back_as_numbers,
    super::counters_count_and_read_back_as_numbers
);

async fn clear_forgets_the_namespace_and_nothing_else(backend: Backend) {
    let c = backend.client_named("clear").await;
    // A namespace with glob characters: the scan must match it literally.
    let cache = c.cache("a*[x]").ttl(MINUTE).build().unwrap();
    let neighbour = c.cache("a").ttl(MINUTE).build().unwrap();
    let entries: Vec<(String, i32)> = (0..2500).map(|i| (format!("k{i}"), i)).collect();
    let refs: Vec<(&str, i32)> = entries.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    cache
        .set_many(&refs, &SetOptions::new().tags(["t"]))
        .await
        .unwrap();
    neighbour.set("k1", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(cache.clear().await.unwrap(), 2500);
    assert_eq!(cache.get::<i32>("k1").await.unwrap(), None);
    assert_eq!(cache.get::<i32>("k2499").await.unwrap(), None);
    assert_eq!(neighbour.get::<i32>("k1").await.unwrap(), Some(1));
    assert_eq!(cache.clear().await.unwrap(), 0);
    // The namespace works on as before.
    cache
        .set("k1", &2, &SetOptions::new().tags(["t"]))
        .await
        .unwrap();
    assert_eq!(cache.get::<i32>("k1").await.unwrap(), Some(2));
    assert_eq!(cache.invalidate_tags(&["t"]).await.unwrap(), 1);
}
every_backend!(
    clear_forgets_the_namespace_and_nothing_else,
    super::clear_forgets_the_namespace_and_nothing_else
);

async fn stats_count_what_happened(backend: Backend) {
    let c = backend.client_named("stats").await;
    let cache = c.cache("s").ttl(MINUTE).early_refresh(0.0).build().unwrap();
    cache.set("a", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(cache.get::<i32>("a").await.unwrap(), Some(1));
    assert_eq!(cache.get::<i32>("b").await.unwrap(), None);
    let _ = cache.get_many::<i32>(&["a", "b", "c"]).await.unwrap();
    let v: i32 = cache
        .get_or_set("l", || async { Ok::<_, std::io::Error>(5) })
        .await
        .unwrap();
    assert_eq!(v, 5);
    let v: i32 = cache
        .get_or_set("l", || async { Ok::<_, std::io::Error>(6) })
        .await
        .unwrap();
    assert_eq!(v, 5);
    let failed = cache
        .get_or_set::<i32, _, _, _>("f", || async { Err(common::db_down()) })
        .await;
    assert!(failed.is_err());
    let _ = cache.get::<i32>("").await.unwrap_err(); // bad input: not an error of the cache
    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (3, 5), "{s:?}");
    assert_eq!(
        (s.loader_calls, s.errors, s.stale_serves, s.near_hits),
        (2, 1, 0, 0),
        "{s:?}"
    );
    assert_eq!(cache.clone().stats(), s, "clones share the counters");
}
every_backend!(stats_count_what_happened, super::stats_count_what_happened);

#[tokio::test]
async fn stats_count_stale_serves_and_near_hits() {
    let server = Server::start();
    let c = client_at(&server.url(), "rk").await;
    let cache = c
        .cache("s")
        .ttl(Duration::from_millis(50))
        .stale_ttl(MINUTE)
        .early_refresh(0.0)
        .near_cache(100)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !cache.near().is_some_and(|n| n.is_live()) {
        assert!(Instant::now() < deadline, "tracking not confirmed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cache.set("a", &1, &SetOptions::new()).await.unwrap();
    assert_eq!(cache.get::<i32>("a").await.unwrap(), Some(1)); // from Redis, kept
    assert_eq!(cache.get_many::<i32>(&["a"]).await.unwrap(), [Some(1)]); // from memory
    assert_eq!(cache.get::<i32>("a").await.unwrap(), Some(1)); // from memory
    tokio::time::sleep(Duration::from_millis(80)).await;
    let v: i32 = cache
        .get_or_set("a", || async { Err::<i32, _>(common::db_down()) })
        .await
        .unwrap();
    assert_eq!(v, 1, "the stale value beats the loader's error");
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.near_hits, s.misses, s.stale_serves),
        (3, 2, 1, 1),
        "{s:?}"
    );
}

#[tokio::test]
async fn each_bulk_call_is_one_round_trip_and_a_hit_stays_one_get() {
    let server = Server::start();
    let c = client_at(&server.url(), "rt").await;
    let cache = c.cache("c").ttl(MINUTE).build().unwrap();
    let tags = SetOptions::new().tags(["a", "b"]);
    // Warm the script cache (the very first call is EVALSHA, NOSCRIPT, EVAL) and the clock.
    cache.set_many(&[("w", 0)], &tags).await.unwrap();
    cache.touch("w", MINUTE).await.unwrap();
    cache.incr("n", 1, None).await.unwrap();
    let _ = cache.get::<i32>("w").await.unwrap();
    let names = |cmds: Vec<String>| {
        cmds.iter()
            .map(|c| c.split(' ').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
    let entries: Vec<(&str, i32)> = keys.iter().map(|k| (k.as_str(), 1)).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();

    let m = server.monitor();
    cache.set_many(&entries, &tags).await.unwrap();
    assert_eq!(names(m.finish()), ["EVALSHA"], "set_many of 50 with 2 tags");
    let m = server.monitor();
    let got = cache.get_many::<i32>(&refs).await.unwrap();
    assert_eq!(got.len(), 50);
    assert_eq!(names(m.finish()), ["MGET"], "get_many of 50");
    let m = server.monitor();
    assert_eq!(cache.delete_many(&refs).await.unwrap(), 50);
    assert_eq!(names(m.finish()), ["DEL"], "delete_many of 50");
    let m = server.monitor();
    assert!(cache.exists("w").await.unwrap());
    assert!(cache.ttl("w").await.unwrap().is_some());
    assert_eq!(names(m.finish()), ["GET", "GET"], "exists, ttl");
    let m = server.monitor();
    cache.touch("w", MINUTE).await.unwrap();
    cache.incr("n", 1, None).await.unwrap();
    assert_eq!(names(m.finish()), ["EVALSHA", "EVALSHA"], "touch, incr");
    let m = server.monitor();
    assert_eq!(cache.get::<i32>("w").await.unwrap(), Some(0));
    assert_eq!(names(m.finish()), ["GET"], "a hit is still one GET");
    let m = server.monitor();
    cache.clear().await.unwrap();
    let cmds = names(m.finish());
    assert!(
        cmds.iter().all(|c| c == "SCAN" || c == "UNLINK"),
        "{cmds:?}"
    );
    assert!(!cmds.iter().any(|c| c == "KEYS"));
}

#[tokio::test]
async fn the_near_cache_stays_coherent_with_every_new_write() {
    let server = Server::start();
    let here = client_at(&server.url(), "rk").await;
    let there = client_at(&server.url(), "rk").await;
    let near = here.cache("n").ttl(MINUTE).near_cache(100).build().unwrap();
    let other = there.cache("n").ttl(MINUTE).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !near.near().is_some_and(|n| n.is_live()) {
        assert!(Instant::now() < deadline, "tracking not confirmed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let warm = |c: redkit::Cache| async move {
        c.get_many::<i64>(&["a", "b"]).await.unwrap();
        c.get_many::<i64>(&["a", "b"]).await.unwrap()
    };
    // Writes through this client are seen at once.
    near.set_many(&[("a", 1), ("b", 2)], &SetOptions::new())
        .await
        .unwrap();
    assert_eq!(warm(near.clone()).await, [Some(1), Some(2)]);
    near.incr("a", 10, None).await.unwrap();
    assert_eq!(
        near.get_many::<i64>(&["a", "b"]).await.unwrap(),
        [Some(11), Some(2)]
    );
    near.clear().await.unwrap();
    assert_eq!(
        near.get_many::<i64>(&["a", "b"]).await.unwrap(),
        [None, None]
    );
    // Writes through another client reach the copy within the invalidation latency.
    other
        .set_many(&[("a", 1), ("b", 2)], &SetOptions::new())
        .await
        .unwrap();
    let settle = |want: [Option<i64>; 2]| {
        let near = near.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                let got = near.get_many::<i64>(&["a", "b"]).await.unwrap();
                if got == want {
                    return;
                }
                assert!(Instant::now() < deadline, "{got:?}, want {want:?}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    settle([Some(1), Some(2)]).await;
    assert!(near.near().unwrap().len() == 2, "both kept in memory");
    other.incr("a", 1, None).await.unwrap();
    settle([Some(2), Some(2)]).await;
    other.touch("b", Duration::from_millis(1)).await.unwrap();
    settle([Some(2), None]).await;
    other.clear().await.unwrap();
    settle([None, None]).await;
}
