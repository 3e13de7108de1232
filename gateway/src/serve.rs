//! Accepting connections, with the bounds `axum::serve` lacks: a deadline for a request's
//! headers, a cap on open connections, and a deadline for shutting down. Without them a
//! client that sends half its headers holds a connection (and a file descriptor) forever,
//! enough of them starve real requests, and one keeps the process alive after SIGTERM.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// The bounds on connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send a request's headers, counted from when the
    /// gateway starts waiting for them (so it also closes idle keep-alive connections).
    pub header_timeout: Duration,
    /// Most connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// After the shutdown signal, how long requests in flight may take to finish before
    /// their connections are dropped.
    pub shutdown_timeout: Duration,
}

/// How long to pause accepting after an accept error (out of file descriptors, say), so
/// the loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Connections over the cap that may be being answered 503 at once; beyond, they are
/// closed without an answer (a flood must not cost a task and a descriptor each).
const MAX_REFUSING: usize = 64;

/// How long answering an over-the-cap connection may take.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The body of the answer to a connection over the cap.
const REFUSAL: &str = r#"{"error":"ERR too many connections, retry later"}"#;

/// Serve `router` on `listener` until `shutdown` completes; then stop accepting, let the
/// requests in flight finish within [`Limits::shutdown_timeout`], and drop what is left.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        if let Ok(slot) = slots.clone().try_acquire_owned() {
            let service = TowerToHyperService::new(router.clone());
            tasks.spawn(connection(
                stream,
                service,
                limits.header_timeout,
                stopping.clone(),
                slot,
            ));
        } else if let Ok(permit) = refusing.clone().try_acquire_owned() {
            tasks.spawn(refuse(stream, permit));
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_timeout, drained)
        .await
        .is_err()
    {
        tasks.shutdown().await;
    }
    Ok(())
}

/// One HTTP/1.1 connection, until the client closes it, a deadline passes, or shutdown.
async fn connection(
    stream: TcpStream,
    service: TowerToHyperService<Router>,
    header_timeout: Duration,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    // Finish the request in flight, if any, then close; the shutdown deadline bounds it.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Answer 503 to a connection over the cap: once its request's headers are in (a client
/// that has not sent its request yet would take an early close for a broken connection),
/// then read and drop the rest until the client closes, so that closing does not reset the
/// connection before the answer is read. All within [`REFUSE_TIMEOUT`].
async fn refuse(mut stream: TcpStream, _permit: OwnedSemaphorePermit) {
    let _ = tokio::time::timeout(REFUSE_TIMEOUT, async {
        let mut buf = [0u8; 4096];
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{REFUSAL}",
            REFUSAL.len()
        );
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        while stream.read(&mut buf).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}
