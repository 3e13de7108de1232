//! Connections of their own over Node sockets: the core opens one for each blocking
//! command in flight and for the near caches' push channel (see the core's
//! `transport::dedicated`). Each is a `NativeLink` that `link.js` drives exactly as it
//! drives the client's own connection, so a Node process has one network stack: every
//! byte to Redis goes through Node's sockets, none through a socket of tokio's.

use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, BufferSlice};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

use redkit::transport::hosted::{Dialer, HostedTransport};

use crate::client::{link_address, LinkAddress};
use crate::completion::Completions;
use crate::errors::js;

/// `(link: NativeLink) => void`: open a Node socket for a new connection of its own.
/// Weak: it never keeps the process alive.
pub type Dial = ThreadsafeFunction<NativeLink, (), NativeLink, Status, false, true>;

/// `(bytes: Buffer | null) => void`: write `bytes`; `null` once the connection is closed
/// (end the socket).
pub type Output = ThreadsafeFunction<Option<Buffer>, (), Option<Buffer>, Status, false, true>;

/// The core's dialer in Node: asks `link.js` for a socket.
pub struct NodeDialer {
    dial: Dial,
    completions: Arc<Completions>,
}

impl NodeDialer {
    /// A dialer that calls `dial`; the links' requests run on `completions`' executor.
    pub fn new(dial: Dial, completions: Arc<Completions>) -> Self {
        NodeDialer { dial, completions }
    }
}

impl Dialer for NodeDialer {
    fn dial(&self, conn: Arc<HostedTransport>) {
        let link = NativeLink {
            conn,
            completions: Arc::clone(&self.completions),
        };
        self.dial
            .call(link, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// The native half of a connection of its own; `link.js` holds the socket.
#[napi]
pub struct NativeLink {
    conn: Arc<HostedTransport>,
    completions: Arc<Completions>,
}

impl NativeLink {
    /// Run a link call inside the executor: it may settle requests whose futures go on.
    fn on_link<R>(&self, f: impl FnOnce(&HostedTransport) -> R) -> R {
        self.completions.executor().drive(|| f(&self.conn))
    }
}

#[napi]
impl NativeLink {
    /// Where to connect.
    #[napi(catch_unwind)]
    pub fn address(&self) -> LinkAddress {
        link_address(&self.conn)
    }

    /// Hand every write to `output` as it is due: these requests are started by the core
    /// (a blocking command, a subscription, a health PING), not by a JS call that could
    /// carry their bytes back.
    #[napi(catch_unwind, ts_args_type = "output: (bytes: Buffer | null) => void")]
    pub fn watch_output(&self, output: Output) {
        let conn = Arc::clone(&self.conn);
        self.completions.executor().spawn(async move {
            loop {
                let bytes = conn.output().await;
                let closed = bytes.is_none();
                output.call(
                    bytes.map(Buffer::from),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
                if closed {
                    return;
                }
            }
        });
    }

    /// The socket is open: queue the setup.
    #[napi(catch_unwind)]
    pub fn link_connected(&self) {
        self.on_link(HostedTransport::connected)
    }

    /// Whether the setup of the current connection has been answered.
    #[napi(catch_unwind)]
    pub fn link_ready(&self) -> bool {
        self.conn.is_ready()
    }

    /// Bytes the socket read. Throws when the stream is broken: close the socket.
    #[napi(catch_unwind)]
    pub fn link_received(&self, chunk: BufferSlice) -> napi::Result<()> {
        js(self.on_link(|link| link.received(&chunk)))
    }

    /// The socket closed: the request in flight fails over to its retries.
    #[napi(catch_unwind)]
    pub fn link_disconnected(&self, reason: String) {
        self.on_link(|link| link.disconnected(&reason))
    }

    /// Time out overdue requests; returns how many are waiting. Throws when the setup or
    /// a health PING is overdue: close the socket.
    #[napi(catch_unwind)]
    pub fn link_expire(&self) -> napi::Result<u32> {
        let waiting = js(self.on_link(HostedTransport::expire))?;
        Ok(u32::try_from(waiting).unwrap_or(u32::MAX))
    }

    /// Whether the core closed this connection: stop reconnecting.
    #[napi(catch_unwind)]
    pub fn link_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Milliseconds to wait before reconnect attempt `attempt` (0-based).
    #[napi(catch_unwind)]
    pub fn reconnect_delay(&self, attempt: u32) -> f64 {
        self.conn.reconnect_delay(attempt).as_secs_f64() * 1000.0
    }
}
