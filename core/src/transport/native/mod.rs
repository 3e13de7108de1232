//! The native transport: the hosted transport's protocol core with a tokio socket.
//!
//! One connection is shared by every clone of the client (never a connection per request).
//! The core side ([`HostedTransport`]) encodes commands, parses replies, runs the handshake
//! and gives each request bounded retries with jittered backoff, an overall deadline and
//! a bounded offline queue; [`socket`] owns the stream (TCP, TLS or Unix) and reconnects.
//! Node's binding drives the same core with a Node socket, so both behave alike, and
//! every request made in one scheduling turn leaves in one write. Blocking commands and
//! push channels get connections of their own, which [`TokioDialer`] drives the same way.

mod socket;
mod tls;

pub use socket::TokioDialer;

use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::options::ConnectOptions;
use crate::transport::hosted::HostedTransport;
use crate::transport::push::{PushChannel, PushHandler};
use crate::transport::{BoxFuture, Transport};
use crate::value::{Cmd, Value};

/// A [`Transport`] to a Redis server: `redis://`, `rediss://` and `redis+unix://` URLs
/// with user, password and database index.
pub struct NativeTransport {
    core: Arc<HostedTransport>,
    /// The socket task; stopped when the transport is closed or dropped.
    socket: JoinHandle<()>,
}

impl NativeTransport {
    /// Connect to `url`. Unless `opts.lazy_connect`, the first connection is made now and
    /// a server that cannot be reached is an error at once (fail fast); a lazy transport
    /// connects when the first request arrives.
    pub async fn connect(url: &str, opts: ConnectOptions) -> Result<Self> {
        let lazy = opts.lazy_connect;
        let connect_timeout = opts.connect_timeout;
        let core = Arc::new(HostedTransport::new(url, opts)?);
        core.set_dialer(Arc::new(TokioDialer::current()));
        let (first_tx, first_rx) = oneshot::channel();
        let socket = tokio::spawn(socket::drive(Arc::clone(&core), lazy, Some(first_tx)));
        let transport = NativeTransport { core, socket };
        if !lazy {
            let first = tokio::time::timeout(connect_timeout, first_rx).await;
            let outcome = match first {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => Err(Error::Connection("the connection task stopped".into())),
                Err(_) => Err(Error::Timeout(format!(
                    "connecting took longer than {connect_timeout:?}"
                ))),
            };
            if let Err(e) = outcome {
                transport.close().await?;
                return Err(e);
            }
        }
        Ok(transport)
    }
}

impl Drop for NativeTransport {
    fn drop(&mut self) {
        self.socket.abort();
    }
}

impl Transport for NativeTransport {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        self.core.send(cmd)
    }

    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Vec<u8>>>> {
        self.core.get(key)
    }

    fn send_within(&self, cmd: Cmd, within: std::time::Duration) -> BoxFuture<'_, Result<Value>> {
        self.core.send_within(cmd, within)
    }

    fn get_within(
        &self,
        key: &str,
        within: std::time::Duration,
    ) -> BoxFuture<'_, Result<Option<Vec<u8>>>> {
        self.core.get_within(key, within)
    }

    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>> {
        self.core.pipeline(cmds)
    }

    fn send_blocking(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        self.core.send_blocking(cmd)
    }

    fn send_blocking_within(
        &self,
        cmd: Cmd,
        within: std::time::Duration,
    ) -> BoxFuture<'_, Result<Value>> {
        self.core.send_blocking_within(cmd, within)
    }

    fn push_channel(&self, handler: PushHandler) -> Result<Option<Box<dyn PushChannel>>> {
        self.core.push_channel(handler)
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.socket.abort();
        self.core.close()
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

/// rustls needs one process-wide crypto provider for `rediss://`.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
