//! A minimal host for the hosted transport: a tokio task that owns the socket and does
//! what the module documentation of `redkit::transport::hosted` asks of a host. Node's
//! binding is the real host; this one lets the core suites run over the same transport.

use std::sync::Arc;
use std::time::Duration;

use redkit::transport::hosted::{Address, HostedTransport};
use redkit::{Client, ConnectOptions, Error, Result, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// How often the host calls `expire`.
const TICK: Duration = Duration::from_millis(20);

/// `Client::connect_with`, over a hosted transport driven by a tokio task.
pub async fn connect(url: &str, opts: ConnectOptions) -> Result<Client> {
    let lazy = opts.lazy_connect;
    let connect_timeout = opts.connect_timeout;
    let prefix = opts.prefix.clone();
    let transport = Arc::new(HostedTransport::with_native_blocking(url, opts).await?);
    let (first_tx, first_rx) = oneshot::channel();
    tokio::spawn(drive(Arc::clone(&transport), Some(first_tx)));
    if !lazy {
        // Fail fast: the first connection and its handshake, or the reason they failed.
        let first = tokio::time::timeout(connect_timeout, first_rx).await;
        let outcome = match first {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(Error::Connection("host stopped".into())),
            Err(_) => Err(Error::Timeout("connect".into())),
        };
        if let Err(e) = outcome {
            transport.close().await?;
            return Err(e);
        }
    }
    let client = Client::from_transport(transport, &prefix)?;
    if !lazy {
        client.check_layout().await?;
    }
    Ok(client)
}

type First = Option<oneshot::Sender<Result<()>>>;

fn report(first: &mut First, outcome: Result<()>) {
    if let Some(tx) = first.take() {
        let _ = tx.send(outcome);
    }
}

async fn drive(t: Arc<HostedTransport>, mut first: First) {
    let Address::Tcp { host, port, .. } = t.address().clone() else {
        report(
            &mut first,
            Err(Error::invalid("the test host speaks TCP only")),
        );
        return;
    };
    let mut attempt = 0;
    while !t.is_closed() {
        match TcpStream::connect((host.as_str(), port)).await {
            Ok(stream) => {
                attempt = 0;
                t.connected();
                let reason = serve(&t, stream, &mut first).await;
                if let Some(reason) = reason {
                    t.disconnected(&reason);
                }
            }
            Err(e) => report(&mut first, Err(Error::Connection(e.to_string()))),
        }
        // Wait out the backoff, still expiring requests queued meanwhile.
        let until = tokio::time::Instant::now() + t.reconnect_delay(attempt);
        attempt += 1;
        while tokio::time::Instant::now() < until && !t.is_closed() {
            tokio::time::sleep(TICK).await;
            let _ = t.expire();
        }
    }
}

/// Move bytes until the connection breaks (`Some(reason)`) or the transport closes.
async fn serve(t: &HostedTransport, stream: TcpStream, first: &mut First) -> Option<String> {
    let (mut reader, mut writer) = stream.into_split();
    let mut buf = vec![0u8; 64 * 1024];
    let mut ticker = tokio::time::interval(TICK);
    if t.is_ready() {
        report(first, Ok(()));
    }
    loop {
        tokio::select! {
            out = t.output() => {
                if let Err(e) = writer.write_all(&out).await {
                    return Some(e.to_string());
                }
            }
            read = reader.read(&mut buf) => match read {
                Ok(0) => return Some("closed by the server".into()),
                Ok(n) => {
                    if let Err(e) = t.received(&buf[..n]) {
                        report(first, Err(e.clone()));
                        return Some(e.to_string());
                    }
                    if t.is_ready() {
                        report(first, Ok(()));
                    }
                }
                Err(e) => return Some(e.to_string()),
            },
            _ = ticker.tick() => {
                if t.is_closed() {
                    return None;
                }
                if let Err(e) = t.expire() {
                    report(first, Err(e.clone()));
                    return Some(e.to_string());
                }
            }
        }
    }
}
