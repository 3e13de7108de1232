//! Connection management against a real server that is killed, restarted and stopped
//! under the client: retries, reconnects, deadlines, the offline queue, URLs.

mod common;

use std::time::{Duration, Instant};

use redkit::{Client, Cmd, ConnectOptions, Error};
use redkit_testkit::Server;

fn opts(prefix: &str) -> ConnectOptions {
    ConnectOptions::default().prefix(prefix)
}

async fn set_get(c: &Client, i: u64) -> Result<(), Error> {
    let t = c.transport();
    t.send(Cmd::new("SET").arg("k").arg(i)).await?;
    let v = t.send(Cmd::new("GET").arg("k")).await?.as_int()?;
    assert_eq!(v, i as i64);
    Ok(())
}

#[tokio::test]
async fn clones_share_one_connection() {
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("one"))
        .await
        .unwrap();
    let clones: Vec<Client> = (0..20).map(|_| c.clone()).collect();
    let tasks: Vec<_> = clones
        .into_iter()
        .map(|c| tokio::spawn(async move { c.ping().await }))
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // One client connection (plus the raw one asking).
    let list = server.raw(&["CLIENT", "LIST"]).unwrap();
    assert_eq!(list.lines().count(), 2, "{list}");
}

#[tokio::test]
async fn commands_survive_a_server_side_kill() {
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("kill"))
        .await
        .unwrap();
    set_get(&c, 1).await.unwrap();
    for i in 0..5 {
        // Kill every client connection (the asking one is skipped by default).
        let killed = server.int(&["CLIENT", "KILL", "TYPE", "normal"]);
        assert!(killed >= 1);
        set_get(&c, 10 + i).await.unwrap();
    }
}

#[tokio::test]
async fn commands_retry_through_a_server_restart() {
    let mut server = Server::start();
    let c = Client::connect_with(&server.url(), opts("restart"))
        .await
        .unwrap();
    let worker = {
        let c = c.clone();
        tokio::spawn(async move {
            let mut done = 0u64;
            let until = Instant::now() + Duration::from_millis(1500);
            while Instant::now() < until {
                // ECHO: the restarted server has lost its data, but must answer every call.
                let reply = c.transport().send(Cmd::new("ECHO").arg(done)).await;
                let got = reply
                    .expect("a command failed across the restart")
                    .as_int()
                    .unwrap();
                assert_eq!(got, done as i64);
                done += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            done
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    let done = worker.await.unwrap();
    assert!(done > 20, "kept working: {done} round trips");
    drop(server);
}

#[tokio::test]
async fn a_dead_server_fails_within_the_deadline() {
    let mut server = Server::start();
    let timeout = Duration::from_millis(800);
    let o = opts("dead").timeout(timeout);
    let c = Client::connect_with(&server.url(), o).await.unwrap();
    c.ping().await.unwrap();
    server.stop();
    let started = Instant::now();
    let err = c.ping().await.unwrap_err();
    assert!(
        matches!(err, Error::Connection(_) | Error::Timeout(_)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < timeout + Duration::from_millis(300),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn connect_fails_fast_unless_lazy() {
    let server = Server::start();
    let url = server.url();
    let address = url.trim_start_matches("redis://").to_string();
    drop(server);
    let started = Instant::now();
    let err = Client::connect_with(&url, opts("ff")).await.unwrap_err();
    assert!(
        matches!(err, Error::Connection(_) | Error::Timeout(_)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // The refusal names where the client tried to connect.
    assert!(
        err.to_string()
            .contains(&format!("cannot connect to {address}")),
        "{err}"
    );

    let lazy = opts("lazy")
        .lazy_connect(true)
        .timeout(Duration::from_millis(500));
    let c = Client::connect_with(&url, lazy)
        .await
        .expect("lazy connect does not touch the server");
    let err = c.ping().await.unwrap_err();
    assert!(
        matches!(err, Error::Connection(_) | Error::Timeout(_)),
        "{err:?}"
    );
    // A request that waited in vain says why the connection is not there.
    assert!(err.to_string().contains(&address), "{err}");
}

#[tokio::test]
async fn lazy_connect_makes_one_connection_on_first_use() {
    let server = Server::start();
    let lazy = opts("lazy1").lazy_connect(true);
    let c = Client::connect_with(&server.url(), lazy).await.unwrap();
    // Only the raw connection asking.
    let list = server.raw(&["CLIENT", "LIST"]).unwrap();
    assert_eq!(list.lines().count(), 1, "{list}");
    // Many first requests at once wait for the same connection attempt.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.ping().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let list = server.raw(&["CLIENT", "LIST"]).unwrap();
    assert_eq!(list.lines().count(), 2, "{list}");
}

#[tokio::test]
async fn without_offline_queue_a_dead_server_fails_at_once() {
    let mut server = Server::start();
    let o = opts("noq").offline_queue(false);
    let c = Client::connect_with(&server.url(), o).await.unwrap();
    server.stop();
    let started = Instant::now();
    assert!(c.ping().await.is_err());
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_offline_queue_is_bounded() {
    let mut server = Server::start();
    let o = opts("bound")
        .offline_queue_max(2)
        .timeout(Duration::from_secs(2));
    let c = Client::connect_with(&server.url(), o).await.unwrap();
    server.stop();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.ping().await })
        })
        .collect();
    let mut full = 0;
    for t in tasks {
        if let Err(Error::Connection(msg)) = t.await.unwrap() {
            if msg.contains("offline queue is full") {
                full += 1;
            }
        }
    }
    assert!(
        full >= 1,
        "some requests were turned away instead of queueing without bound"
    );
}

#[tokio::test]
async fn blocking_commands_do_not_stall_the_shared_connection() {
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("blk"))
        .await
        .unwrap();
    let blocker = {
        let c = c.clone();
        tokio::spawn(async move {
            c.transport()
                .send_blocking(Cmd::new("BLPOP").arg("nothing").arg(1))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    for _ in 0..10 {
        c.ping().await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "pings waited for BLPOP"
    );
    // The blocking call itself ran to its own timeout (1 s), well past the 5 s default's
    // shorter cousins: no response timeout cut it short.
    assert_eq!(blocker.await.unwrap().unwrap(), redkit::Value::Nil);
}

#[tokio::test]
async fn acl_user_password_and_db_index_come_from_the_url() {
    let server = Server::start();
    server
        .raw(&["ACL", "SETUSER", "app", "on", ">s3cret", "~*", "+@all"])
        .unwrap();
    let url = format!("redis://app:s3cret@127.0.0.1:{}/3", server.port());
    let c = Client::connect_with(&url, opts("acl")).await.unwrap();
    let info = c
        .transport()
        .send(Cmd::new("CLIENT").arg("INFO"))
        .await
        .unwrap()
        .into_string()
        .unwrap()
        .unwrap();
    assert!(info.contains("user=app"), "{info}");
    assert!(info.contains("db=3"), "{info}");

    let wrong = format!("redis://app:nope@127.0.0.1:{}/3", server.port());
    let err = Client::connect_with(&wrong, opts("acl")).await.unwrap_err();
    assert!(
        matches!(err, Error::Connection(_) | Error::Server(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_urls_and_options_are_invalid_arguments() {
    for (url, shown, fault) in [
        (
            "http://u:secret@127.0.0.1:1",
            "http://u:****@127.0.0.1:1",
            "unsupported scheme",
        ),
        ("not a url", "not a url", "no scheme"),
        (
            "redis://:secret@127.0.0.1:99999",
            "redis://:****@127.0.0.1:99999",
            "invalid port number",
        ),
    ] {
        let err = Client::connect_with(url, opts("u")).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{url}: {err:?}");
        // The URL as given (password masked), what is wrong, the forms that work.
        let text = err.to_string();
        assert!(text.contains(&format!("{shown:?}")), "{text}");
        assert!(text.contains(fault), "{text}");
        assert!(text.contains("redis://[[user]:password@]host"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }
    let server = redkit_testkit::shared();
    for bad in [
        ConnectOptions::default().prefix(String::new()),
        ConnectOptions::default().prefix("a{b"),
        ConnectOptions::default().timeout(Duration::ZERO),
    ] {
        assert!(matches!(
            Client::connect_with(&server.url(), bad).await,
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[tokio::test]
async fn rediss_urls_speak_tls() {
    let server = Server::start_tls();
    let c = Client::connect_with(&server.tls_url(), opts("tls"))
        .await
        .unwrap();
    c.ping().await.unwrap();
    let cache = c.cache("c").build().unwrap();
    cache
        .set("k", "over tls", &redkit::SetOptions::new())
        .await
        .unwrap();
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("over tls")
    );
    // The server lists the client as connected to its TLS port.
    let list = server.raw(&["CLIENT", "LIST"]).unwrap();
    let laddr = format!("laddr=127.0.0.1:{}", server.tls_port().unwrap());
    assert!(list.contains(&laddr), "{list}");
}

#[tokio::test]
async fn tls_url_against_a_plain_port_fails_cleanly() {
    let server = Server::start();
    let url = format!("rediss://127.0.0.1:{}", server.port());
    let o = opts("tls").connect_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let err = Client::connect_with(&url, o).await.unwrap_err();
    assert!(
        matches!(err, Error::Connection(_) | Error::Timeout(_)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn health_check_reports_server_and_risky_settings() {
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("hc"))
        .await
        .unwrap();
    let report = c.check().await.unwrap();
    assert!(report.server_version.starts_with('7') || report.server_version.starts_with('8'));
    assert_eq!(report.persistence, "none");
    assert!(report.warnings.iter().any(|w| w.contains("AOF")));
    // No queue lives under this prefix: no warning speaks of queued jobs.
    let no_queue_talk = |w: &Vec<String>| w.iter().all(|w| !w.contains("queue"));
    assert!(no_queue_talk(&report.warnings), "{:?}", report.warnings);
    server
        .raw(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
        .unwrap();
    let report = c.check().await.unwrap();
    assert_eq!(report.eviction_policy, "allkeys-lru");
    assert!(report.warnings.iter().any(|w| w.contains("evict")));
    assert!(no_queue_talk(&report.warnings), "{:?}", report.warnings);
}

#[tokio::test]
async fn a_foreign_layout_version_is_refused() {
    let server = Server::start();
    server.raw(&["SET", "lv:layout", "99"]).unwrap();
    let err = Client::connect_with(&server.url(), opts("lv"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("99")),
        "{err:?}"
    );
    Client::connect_with(&server.url(), opts("other"))
        .await
        .unwrap();
}

/// A request that timed out still gets its reply later on the shared connection; it must be
/// dropped, not handed to the request after it.
#[tokio::test]
async fn a_late_reply_never_reaches_the_next_request() {
    let server = Server::start();
    let o = opts("late").timeout(Duration::from_millis(300));
    let c = Client::connect_with(&server.url(), o).await.unwrap();
    // BLPOP on the shared connection (not send_blocking) holds it for a second.
    let err = c
        .transport()
        .send(Cmd::new("BLPOP").arg("nothing").arg(1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    for i in 0..5 {
        let echoed = c.transport().send(Cmd::new("ECHO").arg(i)).await;
        if let Ok(v) = echoed {
            assert_eq!(v.as_int().unwrap(), i, "a reply went to the wrong request");
        }
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let v = c.transport().send(Cmd::new("ECHO").arg(42)).await.unwrap();
    assert_eq!(v.as_int().unwrap(), 42);
}

#[tokio::test]
async fn tls_verifies_the_certificate_unless_the_url_says_insecure() {
    let server = Server::start_tls();
    let verified = format!("rediss://127.0.0.1:{}", server.tls_port().unwrap());
    let o = opts("tlsv").retries(0);
    let err = Client::connect_with(&verified, o).await.unwrap_err();
    assert!(
        matches!(&err, Error::Connection(m) if m.contains("certificate") || m.contains("Certificate") || m.contains("root")),
        "a self-signed certificate must be refused: {err:?}"
    );
    Client::connect_with(&server.tls_url(), opts("tlsi"))
        .await
        .unwrap()
        .ping()
        .await
        .unwrap();
}

/// A reply of megabytes arrives in many reads; each read extends the partial reply and is
/// scanned once (a parse from its start on every read took time quadratic in its size).
/// Replies before and after it keep their order.
#[tokio::test]
async fn a_huge_array_reply_arrives_whole() {
    const N: usize = 300_000;
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("huge"))
        .await
        .unwrap();
    let t = c.transport();
    for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
        t.send(
            Cmd::new("RPUSH")
                .arg("list")
                .args(chunk.iter().map(|i| format!("item:{i}"))),
        )
        .await
        .unwrap();
    }
    let started = Instant::now();
    let (before, all, after) = tokio::join!(
        t.send(Cmd::new("LLEN").arg("list")),
        t.send(Cmd::new("LRANGE").arg("list").arg(0i64).arg(-1i64)),
        t.send(Cmd::new("LINDEX").arg("list").arg(-1i64)),
    );
    let all = all.unwrap().into_array().unwrap();
    assert_eq!(before.unwrap().as_int().unwrap(), N as i64);
    assert_eq!(all.len(), N);
    assert_eq!(
        all[12_345].clone().into_bytes().unwrap().unwrap(),
        b"item:12345"
    );
    assert_eq!(
        after.unwrap().into_bytes().unwrap().unwrap(),
        format!("item:{}", N - 1).into_bytes()
    );
    // About 4 MB: well under a second when each read is looked at once, even unoptimized.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
