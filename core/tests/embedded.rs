//! What only the embedded engine has to prove on its own: active expiry, blocking pops
//! that wake on writes, in-process pub/sub, and scripts atomic across concurrent clients.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redkit::{Cmd, EmbeddedOptions, Engine, ErrorKind, Transport, Value};

fn engine() -> Engine {
    Engine::new().unwrap()
}

#[tokio::test]
async fn expired_keys_are_swept_without_being_touched() {
    let e = Engine::with_options(&EmbeddedOptions {
        sweep_interval: Duration::from_millis(20),
        ..Default::default()
    })
    .unwrap();
    for i in 0..5_000 {
        e.execute(
            Cmd::new("SET")
                .arg(format!("k{i}"))
                .arg("v")
                .arg("PX")
                .arg(1_000),
        )
        .unwrap();
    }
    e.execute(Cmd::new("SET").arg("keep").arg("v")).unwrap();
    assert_eq!(e.dbsize(), 5_001);
    let deadline = Instant::now() + Duration::from_secs(5);
    while e.dbsize() > 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(e.dbsize(), 1, "expired keys must be deleted by the sweeper");
    assert_eq!(
        e.execute(Cmd::new("GET").arg("keep")).unwrap(),
        Value::Bulk(b"v".to_vec())
    );
}

#[tokio::test]
async fn expired_keys_read_as_missing_at_once() {
    let e = engine();
    e.execute(Cmd::new("SET").arg("k").arg("v").arg("PX").arg(1))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(e.execute(Cmd::new("GET").arg("k")).unwrap(), Value::Nil);
    assert_eq!(
        e.execute(Cmd::new("EXISTS").arg("k")).unwrap(),
        Value::Int(0)
    );
}

#[tokio::test]
async fn blocking_pop_wakes_on_push() {
    let e = engine();
    let waiter = {
        let e = e.clone();
        tokio::spawn(async move {
            e.send_blocking(Cmd::new("BZPOPMIN").arg("jobs").arg(5))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    e.send(Cmd::new("ZADD").arg("jobs").arg(1).arg("job-1"))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Value::Array(vec![
            Value::Bulk(b"jobs".to_vec()),
            Value::Bulk(b"job-1".to_vec()),
            Value::Bulk(b"1".to_vec())
        ])
    );
}

#[tokio::test]
async fn blocking_pop_times_out_with_nil() {
    let e = engine();
    let started = Instant::now();
    let got = e
        .send_blocking(Cmd::new("BLPOP").arg("q").arg("0.1"))
        .await
        .unwrap();
    assert_eq!(got, Value::Nil);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(100) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[tokio::test]
async fn blmove_and_xread_block_wake_on_writes() {
    let e = engine();
    let mover = {
        let e = e.clone();
        tokio::spawn(async move {
            e.send_blocking(Cmd::new("BLMOVE").args(["wait", "active", "RIGHT", "LEFT", "0"]))
                .await
        })
    };
    let reader = {
        let e = e.clone();
        tokio::spawn(async move {
            e.send_blocking(Cmd::new("XREAD").args(["BLOCK", "0", "STREAMS", "ev", "$"]))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    e.send(Cmd::new("XADD").args(["ev", "*", "event", "added"]))
        .await
        .unwrap();
    e.send(Cmd::new("LPUSH").args(["wait", "j1"]))
        .await
        .unwrap();
    let moved = tokio::time::timeout(Duration::from_secs(2), mover)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(moved, Value::Bulk(b"j1".to_vec()));
    let read = tokio::time::timeout(Duration::from_secs(2), reader)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(read.into_array().unwrap().len(), 1);
}

#[tokio::test]
async fn close_wakes_blocked_clients_and_refuses_more() {
    let e = engine();
    let waiter = {
        let e = e.clone();
        tokio::spawn(async move { e.send_blocking(Cmd::new("BLPOP").arg("q").arg(0)).await })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    e.close().await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(
        e.send(Cmd::new("PING")).await.unwrap_err().kind(),
        ErrorKind::Closed
    );
}

#[tokio::test]
async fn publish_reaches_channel_and_pattern_subscribers() {
    let e = engine();
    let mut direct = e.subscribe(["news.tech"], Vec::<&str>::new()).unwrap();
    let mut pattern = e.subscribe(Vec::<&str>::new(), ["news.*"]).unwrap();
    let n = e
        .send(Cmd::new("PUBLISH").args(["news.tech", "hello"]))
        .await
        .unwrap();
    assert_eq!(n, Value::Int(2));
    let m = direct.recv().await.unwrap();
    assert_eq!(
        (m.channel.as_slice(), m.payload.as_slice(), m.pattern),
        (&b"news.tech"[..], &b"hello"[..], None)
    );
    let m = pattern.recv().await.unwrap();
    assert_eq!(m.pattern.as_deref(), Some(&b"news.*"[..]));
    drop(direct);
    assert_eq!(
        e.send(Cmd::new("PUBLISH").args(["news.tech", "again"]))
            .await
            .unwrap(),
        Value::Int(1)
    );
    // Scripts publish too.
    let n = e
        .send(Cmd::new("EVAL").args(["return redis.call('publish', 'news.x', 'y')", "0"]))
        .await
        .unwrap();
    assert_eq!(n, Value::Int(1));
    assert!(e.subscribe(Vec::<&str>::new(), Vec::<&str>::new()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scripts_are_atomic_across_clients() {
    // Read-modify-write in Lua; without one engine lock, concurrent runs would lose updates.
    let script = "local v = tonumber(redis.call('get', KEYS[1]) or '0'); redis.call('set', KEYS[1], v + 1); return v + 1";
    let e = Arc::new(engine());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let e = e.clone();
            tokio::spawn(async move {
                for _ in 0..250 {
                    e.send(Cmd::new("EVAL").arg(script).arg(1).arg("counter"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        e.execute(Cmd::new("GET").arg("counter")).unwrap(),
        Value::Bulk(b"2000".to_vec())
    );
}

#[tokio::test]
async fn runaway_scripts_are_stopped() {
    let e = Engine::with_options(&EmbeddedOptions {
        script_timeout: Duration::from_millis(100),
        ..Default::default()
    })
    .unwrap();
    let err = e
        .send(Cmd::new("EVAL").args(["while true do end", "0"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Script, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    // The engine still answers.
    assert_eq!(
        e.send(Cmd::new("PING")).await.unwrap(),
        Value::Status("PONG".into())
    );
}

#[tokio::test]
async fn a_script_that_exhausts_memory_fails_alone() {
    let opts = EmbeddedOptions {
        script_memory_limit: 8 << 20,
        ..Default::default()
    };
    let e = Engine::with_options(&opts).unwrap();
    let script = "local s = string.rep('x', 2^22); return #(s .. s .. s)";
    let err = e
        .send(Cmd::new("EVAL").args([script, "0"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Script, "{err}");
    assert!(err.to_string().contains("memory"), "{err}");
    assert_eq!(
        e.send(Cmd::new("EVAL").args(["return 1", "0"]))
            .await
            .unwrap(),
        Value::Int(1)
    );
}

#[tokio::test]
async fn pipeline_keeps_each_error_in_its_slot() {
    let e = engine();
    let replies = e
        .pipeline(vec![
            Cmd::new("SET").args(["a", "1"]),
            Cmd::new("LPUSH").args(["a", "x"]),
            Cmd::new("INCR").arg("a"),
        ])
        .await
        .unwrap();
    assert_eq!(replies[0], Value::Status("OK".into()));
    assert!(matches!(&replies[1], Value::Error(m) if m.starts_with("WRONGTYPE")));
    assert_eq!(replies[2], Value::Int(2));
}

#[tokio::test]
async fn client_embedded_runs_the_cache() {
    let client = redkit::Client::embedded().unwrap();
    assert_eq!(client.transport().name(), "embedded");
    let cache = client.cache("c").build().unwrap();
    let v: String = cache
        .get_or_set("k", || async { Ok::<_, std::io::Error>("x".to_string()) })
        .await
        .unwrap();
    assert_eq!(v, "x");
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("x")
    );
    assert!(redkit::Client::embedded_with(EmbeddedOptions {
        prefix: "a{b}".into(),
        ..Default::default()
    })
    .is_err());
}

#[tokio::test]
async fn xreadgroup_block_wakes_on_xadd() {
    let e = engine();
    e.execute(Cmd::new("XGROUP").args(["CREATE", "jobs", "workers", "$", "MKSTREAM"]))
        .unwrap();
    let reader = {
        let e = e.clone();
        tokio::spawn(async move {
            e.send_blocking(Cmd::new("XREADGROUP").args([
                "GROUP", "workers", "w1", "BLOCK", "0", "STREAMS", "jobs", ">",
            ]))
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    e.send(Cmd::new("XADD").args(["jobs", "*", "job", "1"]))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), reader)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.into_array().unwrap().len(), 1);
    let pending = e
        .execute(Cmd::new("XPENDING").args(["jobs", "workers"]))
        .unwrap()
        .into_array()
        .unwrap();
    assert_eq!(pending[0], Value::Int(1));
}

#[tokio::test]
async fn the_embedded_url_needs_no_server() {
    let client = redkit::Client::connect("embedded://").await.unwrap();
    assert_eq!(client.transport().name(), "embedded");
    assert_eq!(client.prefix(), "rk");
    client.ping().await.unwrap();
}
