//! The built binary under a hostile client, as the adversarial pass ran it: a file limit of
//! 128, 140 connections that send half their headers and stop, and SIGTERM while one is
//! still open. Before the header timeout, the connection cap and the shutdown deadline, the
//! half-sent connections stayed open for good, real requests starved, and the process did
//! not exit.

mod common;

use common::{try_post, Gateway};
use redkit_testkit::Server;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const HALF_HEADERS: &[u8] = b"POST / HTTP/1.1\r\nhost: gateway\r\nauthoriz";

async fn half_sent(gw: &Gateway) -> TcpStream {
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(HALF_HEADERS).await.unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_connections_at_a_file_limit_neither_starve_requests_nor_outlive_sigterm() {
    let redis = Server::start();
    let mut gw = Gateway::start_with(
        &redis,
        &[
            "--max-connections",
            "32",
            "--max-blocking",
            "8",
            "--header-timeout-ms",
            "1000",
            "--shutdown-timeout-ms",
            "500",
        ],
        Some(128),
    );
    let mut slow = Vec::new();
    for _ in 0..140 {
        slow.push(half_sent(&gw).await);
    }
    // While they hold every slot, a real request is answered (or closed) at once, not hung.
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(3),
        try_post(gw.addr, "/", b"[\"PING\"]"),
    )
    .await
    .expect("a real request is not left hanging");
    assert!(
        matches!(answer, Ok(503) | Ok(200) | Err(_)),
        "{answer:?} after {:?}",
        started.elapsed()
    );
    // Once the slow ones reach the header timeout, real requests are served.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for _ in 0..10 {
        assert_eq!(try_post(gw.addr, "/", b"[\"PING\"]").await, Ok(200));
    }
    // A connection still halfway through its headers does not keep the process alive.
    let _stuck = half_sent(&gw).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        gw.terminate(Duration::from_secs(3)),
        Some(0),
        "exits after SIGTERM"
    );
    drop(slow);
}
