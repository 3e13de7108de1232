//! The transport's connections of their own against a real server: blocking commands (the
//! client's options, a deadline, cancellation, reconnects) and push channels (every
//! subscription made again after a reconnect, the gap reported).

use std::future::Future;
use std::time::{Duration, Instant};

use redkit::transport::push::{self, PushEvent, Topic};
use redkit::{Client, Cmd, ConnectOptions, Error, Value};
use redkit_testkit::Server;
use tokio::sync::mpsc::UnboundedReceiver;

fn opts(prefix: &str) -> ConnectOptions {
    ConnectOptions::default().prefix(prefix)
}

/// The server's client lines (CLIENT LIST) that `keep` selects.
fn clients(server: &Server, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let list = server.raw(&["CLIENT", "LIST"]).unwrap();
    list.lines()
        .filter(|l| keep(l))
        .map(str::to_string)
        .collect()
}

/// Connections blocked in a command.
fn blocked(server: &Server) -> Vec<String> {
    clients(server, |l| l.contains(" flags=b "))
}

fn client_id(line: &str) -> String {
    let field = line.split(' ').find(|f| f.starts_with("id=")).unwrap();
    field["id=".len()..].to_string()
}

async fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn popped(key: &str, value: &str) -> Value {
    Value::Array(vec![
        Value::Bulk(key.as_bytes().to_vec()),
        Value::Bulk(value.as_bytes().to_vec()),
    ])
}

fn blpop(key: &str, timeout: u32) -> Cmd {
    Cmd::new("BLPOP").arg(key).arg(timeout)
}

#[tokio::test]
async fn a_blocking_command_runs_on_its_own_connection_with_the_clients_tls_user_and_db() {
    let server = Server::start_tls();
    server
        .raw(&["ACL", "SETUSER", "worker", "on", ">s3cret", "~*", "+@all"])
        .unwrap();
    let tls_port = server.tls_port().unwrap();
    let url = format!("rediss://worker:s3cret@127.0.0.1:{tls_port}/5#insecure");
    let c = Client::connect_with(&url, opts("blk")).await.unwrap();
    let waiting = {
        let c = c.clone();
        tokio::spawn(async move { c.transport().send_blocking(blpop("jobs", 5)).await })
    };
    until("the BLPOP to block", || blocked(&server).len() == 1).await;
    let line = &blocked(&server)[0];
    for field in [
        "user=worker",
        " db=5 ",
        "cmd=blpop",
        &format!("laddr=127.0.0.1:{tls_port}"),
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    // The shared connection is not held up, and a push into database 5 reaches the pop.
    c.transport()
        .send(Cmd::new("LPUSH").arg("jobs").arg("j1"))
        .await
        .unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), popped("jobs", "j1"));
    // The answered connection is kept: the next blocking command reuses it.
    let nil = c.transport().send_blocking(blpop("jobs", 1)).await.unwrap();
    assert_eq!(nil, Value::Nil);
    let ours = clients(&server, |l| l.contains("user=worker"));
    assert_eq!(
        ours.len(),
        2,
        "the shared and one blocking connection: {ours:?}"
    );
}

#[tokio::test]
async fn a_cancelled_blocking_command_closes_its_connection_and_takes_nothing() {
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("cancel"))
        .await
        .unwrap();
    let t = c.transport();
    // Dropping the future is the cancellation (a timeout here, a token's select elsewhere).
    let cancelled =
        tokio::time::timeout(Duration::from_millis(300), t.send_blocking(blpop("q", 0)));
    assert!(cancelled.await.is_err(), "BLPOP q 0 cannot answer");
    until("the cancelled BLPOP's connection to close", || {
        blocked(&server).is_empty()
    })
    .await;
    // Had the connection stayed open, its BLPOP would take this element.
    t.send(Cmd::new("RPUSH").arg("q").arg("a")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.int(&["LLEN", "q"]), 1);
    // A new blocking command gets a connection that owes nothing.
    assert_eq!(
        t.send_blocking(blpop("q", 1)).await.unwrap(),
        popped("q", "a")
    );
}

#[tokio::test]
async fn a_blocking_command_past_its_deadline_times_out_and_leaves_no_waiter() {
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("deadline"))
        .await
        .unwrap();
    let t = c.transport();
    let started = Instant::now();
    let err = t
        .send_blocking_within(blpop("q", 0), Duration::from_millis(300))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    until("the timed-out BLPOP's connection to close", || {
        blocked(&server).is_empty()
    })
    .await;
    t.send(Cmd::new("RPUSH").arg("q").arg("a")).await.unwrap();
    let got = t
        .send_blocking_within(blpop("q", 1), Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(got, popped("q", "a"));
}

#[tokio::test]
async fn a_client_dropped_without_close_closes_its_connections() {
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("dropped"))
        .await
        .unwrap();
    // Answered, its connection is kept idle for the next blocking command.
    let nil = c.transport().send_blocking(blpop("q", 1)).await.unwrap();
    assert_eq!(nil, Value::Nil);
    let others = |l: &str| !l.contains("cmd=client|list");
    assert_eq!(clients(&server, others).len(), 2, "shared + idle blocking");
    // Its socket tasks hold the connections, not the client: they must end with it.
    drop(c);
    until("every connection of the dropped client to close", || {
        clients(&server, others).is_empty()
    })
    .await;
}

/// Wait for a BLPOP, break its connection with `cut`, and check that the command is sent
/// again on a new connection and still gets what is pushed afterwards.
async fn a_blocking_command_survives(server: &mut Server, cut: impl FnOnce(&mut Server, &str)) {
    let c = Client::connect_with(&server.url(), opts("reblk"))
        .await
        .unwrap();
    let waiting = {
        let c = c.clone();
        tokio::spawn(async move { c.transport().send_blocking(blpop("jobs", 20)).await })
    };
    until("the BLPOP to block", || blocked(server).len() == 1).await;
    let first = client_id(&blocked(server)[0]);
    cut(server, &first);
    until("the BLPOP sent again on a new connection", || {
        blocked(server)
            .first()
            .is_some_and(|l| client_id(l) != first)
    })
    .await;
    server.raw(&["RPUSH", "jobs", "j1"]).unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the BLPOP answers")
        .unwrap()
        .unwrap();
    assert_eq!(got, popped("jobs", "j1"));
}

#[tokio::test]
async fn a_blocking_command_is_sent_again_after_client_kill() {
    let mut server = Server::start();
    a_blocking_command_survives(&mut server, |s, id| {
        s.raw(&["CLIENT", "KILL", "ID", id]).unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_blocking_command_is_sent_again_after_a_server_restart() {
    let mut server = Server::start();
    a_blocking_command_survives(&mut server, |s, _| s.restart()).await;
}

/// The next event `pick` accepts, skipping others.
async fn next<T>(
    events: &mut UnboundedReceiver<PushEvent>,
    what: &str,
    pick: impl Fn(&PushEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("the channel's events go on");
        if let Some(found) = pick(&event) {
            return found;
        }
    }
}

fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

async fn published(events: &mut UnboundedReceiver<PushEvent>, channel: &str, payload: &str) {
    let expected = vec![bulk(channel), bulk(payload)];
    next(events, &format!("{payload} on {channel}"), |e| match e {
        PushEvent::Message { kind, data } if kind == "message" && *data == expected => Some(()),
        _ => None,
    })
    .await
}

async fn resubscribed(events: &mut UnboundedReceiver<PushEvent>, topics: &[Topic]) {
    next(events, "every subscription made", |e| match e {
        PushEvent::Resubscribed { topics: now } if topics.iter().all(|t| now.contains(t)) => {
            Some(())
        }
        _ => None,
    })
    .await
}

async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_push_channel_subscribes_again_after_a_reconnect_and_reports_the_gap() {
    let server = Server::start();
    let c = Client::connect_with(&server.url(), opts("push"))
        .await
        .unwrap();
    let (handler, mut events) = push::stream();
    let channel = c
        .transport()
        .push_channel(handler)
        .unwrap()
        .expect("a channel");
    let news = Topic::Channel(b"news".to_vec());
    let alerts = Topic::Pattern(b"alerts.*".to_vec());
    channel.subscribe(news.clone()).unwrap();
    channel.subscribe(alerts.clone()).unwrap();
    // Made as the first connection's setup, or one by one if it was up already.
    let subscribed = |t: &Topic| {
        let t = t.clone();
        move |e: &PushEvent| match e {
            PushEvent::Resubscribed { topics } if topics.contains(&t) => Some(()),
            PushEvent::Subscribed(s) if *s == t => Some(()),
            _ => None,
        }
    };
    next(&mut events, "news", subscribed(&news)).await;
    channel.sync().await.unwrap();
    assert_eq!(server.int(&["PUBLISH", "news", "one"]), 1);
    published(&mut events, "news", "one").await;
    server.raw(&["PUBLISH", "alerts.fire", "hot"]).unwrap();
    let expected = vec![bulk("alerts.*"), bulk("alerts.fire"), bulk("hot")];
    next(&mut events, "a pattern message", |e| match e {
        PushEvent::Message { kind, data } if kind == "pmessage" && *data == expected => Some(()),
        _ => None,
    })
    .await;

    // Kill the channel's connection: a gap, then every subscription again.
    let ours = clients(&server, |l| l.contains(" sub=1 "));
    assert_eq!(ours.len(), 1, "{ours:?}");
    server
        .raw(&["CLIENT", "KILL", "ID", &client_id(&ours[0])])
        .unwrap();
    next(&mut events, "the gap", |e| {
        matches!(e, PushEvent::Gap { .. }).then_some(())
    })
    .await;
    resubscribed(&mut events, &[news.clone(), alerts.clone()]).await;
    assert_eq!(server.int(&["PUBLISH", "news", "two"]), 1);
    published(&mut events, "news", "two").await;

    // Unsubscribed, the channel no longer gets the messages, now or after a reconnect.
    channel.unsubscribe(&news).unwrap();
    eventually("news unsubscribed", || async {
        server.int(&["PUBLISH", "news", "x"]) == 0
    })
    .await;
    let err = channel
        .unsubscribe(&Topic::Tracking("p:".into()))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");

    // Dropped, its connection closes.
    drop(channel);
    until("the channel's connection to close", || {
        clients(&server, |l| l.contains(" psub=1 ")).is_empty()
    })
    .await;
}

#[tokio::test]
async fn a_push_channel_comes_back_after_a_server_restart() {
    let mut server = Server::start();
    let c = Client::connect_with(&server.url(), opts("pushr"))
        .await
        .unwrap();
    let (handler, mut events) = push::stream();
    let channel = c
        .transport()
        .push_channel(handler)
        .unwrap()
        .expect("a channel");
    let news = Topic::Channel(b"news".to_vec());
    channel.subscribe(news.clone()).unwrap();
    eventually("subscribed", || async {
        server.int(&["PUBLISH", "news", "x"]) == 1
    })
    .await;
    server.restart();
    next(&mut events, "the gap", |e| {
        matches!(e, PushEvent::Gap { .. }).then_some(())
    })
    .await;
    resubscribed(&mut events, std::slice::from_ref(&news)).await;
    assert_eq!(server.int(&["PUBLISH", "news", "back"]), 1);
    published(&mut events, "news", "back").await;
}

#[tokio::test]
async fn the_embedded_engine_has_no_push_channel() {
    let c = Client::embedded().unwrap();
    let (handler, _events) = push::stream();
    assert!(c.transport().push_channel(handler).unwrap().is_none());
}
