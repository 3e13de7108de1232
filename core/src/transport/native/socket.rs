//! The native transport's socket: a tokio task that connects (TCP, TLS or a Unix socket),
//! moves bytes between the stream and the hosted transport's protocol core, and reconnects
//! with backoff when the connection breaks. Everything else (RESP, handshake, retries,
//! deadlines, the offline queue) is the hosted transport's, shared with Node's binding.
//! The same task drives the connections of their own (blocking commands, push channels)
//! that [`TokioDialer`] opens.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::transport::hosted::{Address, Dialer, HostedTransport};

/// Opens connections of their own as tokio tasks on one runtime.
pub struct TokioDialer(tokio::runtime::Handle);

impl TokioDialer {
    /// A dialer on the runtime this is called from. Panics outside a tokio runtime.
    pub fn current() -> TokioDialer {
        TokioDialer(tokio::runtime::Handle::current())
    }

    /// A dialer on `runtime`.
    pub fn on(runtime: tokio::runtime::Handle) -> TokioDialer {
        TokioDialer(runtime)
    }
}

impl Dialer for TokioDialer {
    fn dial(&self, conn: Arc<HostedTransport>) {
        let lazy = conn.options().lazy_connect;
        self.0.spawn(drive(conn, lazy, None));
    }
}

use crate::transport::DEADLINE_TICK as TICK;

/// Where the first connection's outcome goes (a fail-fast connect waits for it).
pub type First = Option<oneshot::Sender<Result<()>>>;

fn report(first: &mut First, outcome: Result<()>) {
    if let Some(tx) = first.take() {
        let _ = tx.send(outcome);
    }
}

/// Keep `t` connected until it is closed. With `lazy`, the first connection waits for
/// the first request.
pub async fn drive(t: Arc<HostedTransport>, lazy: bool, mut first: First) {
    if lazy {
        t.requested().await;
    }
    let connect_timeout = t.options().connect_timeout;
    let mut attempt = 0;
    while !t.is_closed() {
        let opened = tokio::time::timeout(connect_timeout, open(t.address()))
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout(format!(
                    "connecting to {} took longer than {}",
                    t.address(),
                    crate::duration::show(connect_timeout)
                )))
            });
        match opened {
            Ok(stream) => {
                attempt = 0;
                t.connected();
                let broken = match stream {
                    Stream::Tcp(s) => {
                        let (r, w) = s.into_split();
                        serve(&t, r, w, &mut first).await
                    }
                    Stream::Tls(s) => {
                        let (r, w) = tokio::io::split(*s);
                        serve(&t, r, w, &mut first).await
                    }
                    Stream::Unix(s) => {
                        let (r, w) = s.into_split();
                        serve(&t, r, w, &mut first).await
                    }
                };
                if let Some(reason) = broken {
                    t.disconnected(&reason);
                }
            }
            Err(e) => {
                // Said by a request that times out waiting for the connection.
                t.disconnected(&match &e {
                    Error::Connection(why) | Error::Timeout(why) => why.clone(),
                    other => other.to_string(),
                });
                report(&mut first, Err(e))
            }
        }
        // Wait out the backoff, still timing out the requests that wait meanwhile.
        let until = tokio::time::Instant::now() + t.reconnect_delay(attempt);
        attempt = attempt.saturating_add(1);
        while tokio::time::Instant::now() < until && !t.is_closed() {
            tokio::time::sleep(TICK).await;
            let _ = t.expire();
        }
    }
}

enum Stream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Unix(tokio::net::UnixStream),
}

async fn open(address: &Address) -> Result<Stream> {
    let refused =
        |e: std::io::Error| Error::Connection(format!("cannot connect to {address}: {e}"));
    match address {
        Address::Tcp {
            host,
            port,
            tls,
            insecure,
        } => {
            let tcp = TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(refused)?;
            // Requests are small and latency-bound: never let the kernel hold one back.
            tcp.set_nodelay(true).map_err(refused)?;
            if *tls {
                let tls = super::tls::connect(tcp, host, *insecure).await?;
                Ok(Stream::Tls(Box::new(tls)))
            } else {
                Ok(Stream::Tcp(tcp))
            }
        }
        Address::Unix(path) => Ok(Stream::Unix(
            tokio::net::UnixStream::connect(path)
                .await
                .map_err(refused)?,
        )),
    }
}

/// Move bytes until the connection breaks (`Some(reason)`) or the transport closes.
/// Writing runs in a task of its own: requests made while a write is under way gather in
/// the next one, and a large write never holds up reading replies. The deadline tick runs
/// in a task of its own too: a reader that also waited on a timer made a lone round trip
/// several times slower (bench/results/code-notes.md).
async fn serve<R, W>(
    t: &Arc<HostedTransport>,
    mut reader: R,
    mut writer: W,
    first: &mut First,
) -> Option<String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut writing = {
        let t = Arc::clone(t);
        Aborting(tokio::spawn(async move {
            loop {
                let Some(out) = t.output().await else {
                    return "closed".to_string();
                };
                if let Err(e) = writer.write_all(&out).await {
                    return e.to_string();
                }
            }
        }))
    };
    if t.is_ready() {
        report(first, Ok(()));
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut ticking = {
        let t = Arc::clone(t);
        Aborting(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(TICK);
            loop {
                ticker.tick().await;
                if t.is_closed() {
                    return None;
                }
                if let Err(e) = t.expire() {
                    return Some(e);
                }
            }
        }))
    };
    let broken = loop {
        tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(0) => break Some("closed by the server".to_string()),
                Ok(n) => {
                    if let Err(e) = t.received(&buf[..n]) {
                        report(first, Err(e.clone()));
                        break Some(e.to_string());
                    }
                    if t.is_ready() {
                        report(first, Ok(()));
                    }
                }
                Err(e) => break Some(e.to_string()),
            },
            ticked = &mut ticking.0 => match ticked {
                Ok(Some(e)) => {
                    report(first, Err(e.clone()));
                    break Some(e.to_string());
                }
                _ => break None,
            },
            failed = &mut writing.0 => {
                break Some(failed.unwrap_or_else(|e| format!("writer stopped: {e}")));
            }
        }
    };
    broken
}

/// A task aborted when its handle is dropped: the writer and the deadline tick end with
/// the task that serves the socket, even when that one is aborted (a transport dropped
/// without `close`); detached, they held the stream and the transport forever.
struct Aborting<T>(JoinHandle<T>);

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
