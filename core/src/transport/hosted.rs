//! The hosted transport: redkit speaks RESP, the host runtime moves the bytes.
//!
//! Node's event loop already waits on sockets. A transport with its own tokio socket makes
//! every request cross three threads there (JS → tokio → Redis → tokio → JS); a transport
//! whose socket is a Node socket crosses none: the JS thread writes the request and is woken
//! by the reply, as with a JavaScript Redis client. This transport is that socket's other
//! half: the protocol is [`super::connection`], the request policy (retries, deadlines)
//! [`super::requests`]. The host owns a socket (the tokio task of [`super::native`], or
//! Node's `link.js`) and calls:
//!
//! - [`HostedTransport::connected`] when its socket is open, then writes whatever
//!   [`HostedTransport::drain_output`] or [`HostedTransport::output`] hands it;
//! - [`HostedTransport::received`] with every chunk the socket reads;
//! - [`HostedTransport::disconnected`] when the socket closes, and then reconnects after
//!   [`HostedTransport::reconnect_delay`] unless the transport [`is_closed`];
//! - [`HostedTransport::expire`] every few tens of milliseconds, which times out requests
//!   past their deadline (no timer per request: a timer per request costs throughput).
//!
//! Blocking commands and push channels need connections of their own
//! ([`super::dedicated`]); each is a `HostedTransport` too, which the host's [`Dialer`]
//! drives the same way.
//!
//! [`is_closed`]: HostedTransport::is_closed

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::options::ConnectOptions;
use crate::transport::connection::{Connection, Reply, Settings};
use crate::transport::dedicated::{Dedicated, Role};
use crate::transport::push::{PushChannel, PushHandler};
use crate::transport::resp;
use crate::transport::{BoxFuture, Transport};
use crate::value::{Cmd, Value};

/// Where the host should connect, from the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A TCP socket; `tls` for `rediss://`, `insecure` when the URL asks to skip
    /// certificate verification (`rediss://...#insecure`).
    Tcp {
        /// Host name or IP address.
        host: String,
        /// Port.
        port: u16,
        /// Speak TLS.
        tls: bool,
        /// Do not verify the server's certificate.
        insecure: bool,
    },
    /// A Unix domain socket (`redis+unix://` or `unix://`).
    Unix(String),
}

/// `host:port` (`[::1]:6379` for an IPv6 address) or `unix socket /path`: what a
/// connection error names.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp { host, port, .. } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port, .. } => write!(f, "{host}:{port}"),
            Address::Unix(path) => write!(f, "unix socket {path}"),
        }
    }
}

/// How a host opens connections of its own for a transport: blocking commands and push
/// channels each need one. `dial` must keep `conn` connected, as the host keeps the
/// transport's own connection (connect when it has a request, reconnect after
/// [`HostedTransport::reconnect_delay`]), until `conn` is closed.
pub trait Dialer: Send + Sync + 'static {
    /// Start driving `conn`.
    fn dial(&self, conn: Arc<HostedTransport>);
}

/// A [`Transport`] whose socket belongs to the host; see the module documentation.
pub struct HostedTransport {
    conn: Connection,
    opts: ConnectOptions,
    address: Address,
    /// The setup commands for the connections this one dials (AUTH, SELECT), encoded.
    auth: Vec<Vec<u8>>,
    select: Vec<Vec<u8>>,
    /// How the host opens connections of its own; set once by the host.
    dialer: OnceLock<Arc<dyn Dialer>>,
    /// The connections of its own this transport dialed.
    dedicated: Dedicated,
}

impl HostedTransport {
    /// A transport for `url` (`redis://`, `rediss://`, `redis+unix://`; user, password and
    /// database index in the URL). No I/O happens here: the host connects to
    /// [`HostedTransport::address`], and gives a [`Dialer`] with
    /// [`HostedTransport::set_dialer`] for blocking commands and push channels.
    pub fn new(url: &str, opts: ConnectOptions) -> Result<Self> {
        opts.validate()?;
        let info = super::url::connection_info(url)?;
        let address = match info.addr() {
            redis::ConnectionAddr::Tcp(host, port) => Address::Tcp {
                host: host.clone(),
                port: *port,
                tls: false,
                insecure: false,
            },
            redis::ConnectionAddr::TcpTls {
                host,
                port,
                insecure,
                ..
            } => Address::Tcp {
                host: host.clone(),
                port: *port,
                tls: true,
                insecure: *insecure,
            },
            redis::ConnectionAddr::Unix(path) => Address::Unix(path.display().to_string()),
            other => return Err(Error::invalid(format!("unsupported address {other:?}"))),
        };
        let settings = info.redis_settings();
        let mut auth = Vec::new();
        if let Some(password) = settings.password() {
            let mut cmd = Vec::new();
            match settings.username() {
                Some(user) => resp::encode_command(&mut cmd, &["AUTH", user, password]),
                None => resp::encode_command(&mut cmd, &["AUTH", password]),
            }
            auth.push(cmd);
        }
        let mut select = Vec::new();
        if settings.db() != 0 {
            let mut cmd = Vec::new();
            resp::encode_command(&mut cmd, &["SELECT", &settings.db().to_string()]);
            select.push(cmd);
        }
        Ok(Self::with_role(opts, address, auth, select, Role::Shared))
    }

    /// A transport of `role` for `address`.
    pub(crate) fn with_role(
        opts: ConnectOptions,
        address: Address,
        auth: Vec<Vec<u8>>,
        select: Vec<Vec<u8>>,
        role: Role,
    ) -> Self {
        // A connection of its own waits for its first connect, whatever the client's
        // offline queue says: it is made on demand.
        let offline_queue = opts.offline_queue || !matches!(role, Role::Shared);
        let mut setup = auth.clone();
        let mut push = None;
        if let Role::Push(handler, quiet) = role {
            // Pushes need RESP3.
            let mut hello = Vec::new();
            resp::encode_command(&mut hello, &["HELLO", "3"]);
            setup.push(hello);
            push = Some((handler, quiet));
        }
        setup.extend(select.iter().cloned());
        let conn = Connection::new(Settings {
            setup,
            connect_timeout: opts.connect_timeout,
            offline_queue,
            offline_queue_max: opts.offline_queue_max,
            push,
        });
        HostedTransport {
            conn,
            opts,
            address,
            auth,
            select,
            dialer: OnceLock::new(),
            dedicated: Dedicated::default(),
        }
    }

    /// The host's way to open connections of its own (once; later calls are ignored).
    /// Without one, blocking commands and push channels fail with
    /// [`Error::InvalidArgument`].
    pub fn set_dialer(&self, dialer: Arc<dyn Dialer>) {
        let _ = self.dialer.set(dialer);
    }

    /// Where to connect.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The options this transport was made with.
    pub fn options(&self) -> &ConnectOptions {
        &self.opts
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A new transport of `role` to the same server with the same options, driven by this
    /// one's dialer.
    pub(crate) fn dial(&self, role: Role) -> Result<Arc<HostedTransport>> {
        let dialer = self.dialer.get().ok_or_else(|| {
            Error::invalid("this host cannot open connections of its own (no dialer)")
        })?;
        // Made on demand, a blocking connection connects for its first command; a push
        // channel at once (its subscriptions are made as the connection's setup).
        let opts = ConnectOptions {
            lazy_connect: !matches!(role, Role::Push(..)),
            ..self.opts.clone()
        };
        let conn = Arc::new(Self::with_role(
            opts,
            self.address.clone(),
            self.auth.clone(),
            self.select.clone(),
            role,
        ));
        self.dedicated.opened(&conn)?;
        dialer.dial(Arc::clone(&conn));
        Ok(conn)
    }

    /// The host's socket is open: the setup goes out first, the waiting requests after it
    /// has been answered.
    pub fn connected(&self) {
        self.conn.connected()
    }

    /// Whether the last [`HostedTransport::connected`] has finished its setup.
    pub fn is_ready(&self) -> bool {
        self.conn.is_ready()
    }

    /// Hand the bytes to write (if any) to `write`, which copies them out: the buffer is
    /// kept for the next requests rather than allocated again for every write. Hosts that
    /// run the requests' futures themselves (Node's binding does, on the JS thread) call
    /// this after polling them; others wait in [`HostedTransport::output`].
    pub fn drain_output<R>(&self, write: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.conn.drain_output(write)
    }

    /// Wait until a request is waiting for a connection (or the transport is closed): a
    /// lazy host connects then.
    pub async fn requested(&self) {
        self.conn.requested().await
    }

    /// Wait until there are bytes to write, and take them; `None` once the transport is
    /// closed: the host closes its socket.
    pub async fn output(&self) -> Option<Vec<u8>> {
        self.conn.output().await
    }

    /// Bytes the socket read. An error means the stream is broken (not RESP, a reply
    /// nobody asked for, a refused handshake): the host must close the socket and report
    /// [`HostedTransport::disconnected`].
    pub fn received(&self, bytes: &[u8]) -> Result<()> {
        self.conn.received(bytes)
    }

    /// The socket closed (or the host gave up on it). Requests in flight fail with a
    /// connection error, which their retries absorb; queued ones keep waiting.
    pub fn disconnected(&self, reason: &str) {
        self.conn.disconnected(reason)
    }

    /// How long to wait before reconnect attempt number `attempt` (0-based): the client's
    /// backoff policy ([`ConnectOptions::backoff_policy`]).
    pub fn reconnect_delay(&self, attempt: u32) -> Duration {
        self.opts.backoff_policy().delay(attempt)
    }

    /// Whether [`Transport::close`] was called: the host closes its socket for good.
    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Time out every request whose deadline is past; returns how many are still waiting.
    /// An error means the handshake (or a push channel's health PING) was not answered in
    /// time: the host closes the socket (and reconnects).
    pub fn expire(&self) -> Result<usize> {
        self.conn.expire()
    }

    /// The deadline of a request made now.
    fn deadline(&self) -> Instant {
        Instant::now() + self.opts.timeout
    }

    /// Send `cmd` on this connection, with `deadline`.
    pub(crate) async fn send_until(&self, cmd: &Cmd, deadline: Instant) -> Result<Value> {
        self.request(
            &|out: &mut Vec<u8>| cmd.encode(out),
            1,
            Reply::One,
            deadline,
        )
        .await
    }
}

impl Transport for HostedTransport {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        self.send_within(cmd, self.opts.timeout)
    }

    /// As [`Transport::get_within`]: the sooner of `within` and the client's `timeout` is
    /// the request's deadline.
    fn send_within(&self, cmd: Cmd, within: Duration) -> BoxFuture<'_, Result<Value>> {
        let within = within.min(self.opts.timeout);
        Box::pin(async move {
            let deadline = Instant::now() + within;
            self.request(
                &|out: &mut Vec<u8>| cmd.encode(out),
                1,
                Reply::One,
                deadline,
            )
            .await
        })
    }

    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Vec<u8>>>> {
        self.get_within(key, self.opts.timeout)
    }

    /// The request's own deadline, the sooner of `within` and the client's `timeout`,
    /// bounds it: the deadline tick times it out, and no timer is armed per read.
    fn get_within(&self, key: &str, within: Duration) -> BoxFuture<'_, Result<Option<Vec<u8>>>> {
        let mut cmd = Cmd::new("GET");
        cmd.push(key.as_bytes());
        let within = within.min(self.opts.timeout);
        Box::pin(async move {
            let deadline = Instant::now() + within;
            self.request(
                &|out: &mut Vec<u8>| cmd.encode(out),
                1,
                Reply::One,
                deadline,
            )
            .await?
            .into_bytes()
        })
    }

    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>> {
        Box::pin(async move {
            if cmds.is_empty() {
                return Ok(Vec::new());
            }
            let encode = |out: &mut Vec<u8>| cmds.iter().for_each(|cmd| cmd.encode(out));
            let deadline = self.deadline();
            self.request(
                &encode,
                cmds.len(),
                |tx| Reply::Many(Vec::new(), tx),
                deadline,
            )
            .await
        })
    }

    fn send_blocking(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(self.dedicated.blocking(self, cmd, None))
    }

    fn send_blocking_within(&self, cmd: Cmd, within: Duration) -> BoxFuture<'_, Result<Value>> {
        Box::pin(self.dedicated.blocking(self, cmd, Some(within)))
    }

    fn push_channel(&self, handler: PushHandler) -> Result<Option<Box<dyn PushChannel>>> {
        Ok(Some(self.dedicated.push_channel(self, handler)?))
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.conn.close();
        self.dedicated.close();
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "hosted"
    }
}
