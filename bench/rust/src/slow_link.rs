//! A loopback TCP forwarder that holds every chunk the server sends `delay` before passing
//! it on: a link whose round trip is longer than loopback's (a server on another host), to
//! measure what a client's round trips cost it. Latency only: chunks are not held behind
//! each other, so the link's throughput is loopback's.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

/// Start forwarding to `upstream` (`redis://host:port`); returns the URL to connect to.
pub async fn start(upstream: &str, delay: Duration) -> String {
    let target = upstream
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&target).await else {
                    return;
                };
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
                });
                let (held, mut due) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
                tokio::spawn(async move {
                    while let Some((at, chunk)) = due.recv().await {
                        sleep_until(at).await;
                        if to_client.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                });
                let mut buf = vec![0; 64 * 1024];
                while let Ok(n @ 1..) = from_server.read(&mut buf).await {
                    if held
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("redis://{addr}")
}
