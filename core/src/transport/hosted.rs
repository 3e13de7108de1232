//! The hosted transport: redkit speaks RESP, the host runtime moves the bytes.
//!
//! Node's event loop already waits on sockets. A transport with its own tokio socket makes
//! every request cross three threads there (JS → tokio → Redis → tokio → JS); a transport
//! whose socket is a Node socket crosses none: the JS thread writes the request and is woken
//! by the reply, as with a JavaScript Redis client. This transport is that socket's other
//! half. It owns everything but the I/O: the command encoding and reply parsing, the
//! connection handshake (AUTH, SELECT), the order of replies, retries with backoff, the
//! bounded offline queue and per-command deadlines. The host owns a socket and calls:
//!
//! - [`HostedTransport::connected`] when its socket is open, then writes whatever
//!   [`HostedTransport::drain_output`] or [`HostedTransport::output`] hands it;
//! - [`HostedTransport::received`] with every chunk the socket reads;
//! - [`HostedTransport::disconnected`] when the socket closes, and then reconnects after
//!   [`HostedTransport::reconnect_delay`] unless the transport [`is_closed`];
//! - [`HostedTransport::expire`] every few tens of milliseconds, which times out requests
//!   past their deadline (no timer per request: a timer per request costs throughput).
//!
//! [`is_closed`]: HostedTransport::is_closed

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use redis::IntoConnectionInfo;
use tokio::sync::oneshot;

use crate::cache::NearCache;
use crate::error::{Error, Result};
use crate::options::ConnectOptions;
use crate::rt;
use crate::transport::native::blocking::BlockingPool;
use crate::transport::native::tracking::Tracker;
use crate::transport::resp;
use crate::transport::{BoxFuture, Transport};
use crate::value::{Cmd, Value};

/// Writes a request's commands, as Redis reads them, at the end of a buffer: straight into
/// the output on a live connection (no buffer of the request's own), into a queued
/// request's buffer otherwise, and again for each retry.
type Encode<'a> = &'a (dyn Fn(&mut Vec<u8>) + Sync);

/// Capacity of the output buffer kept between writes.
const OUTPUT_KEPT: usize = 64 * 1024;

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

/// A [`Transport`] whose socket belongs to the host; see the module documentation.
pub struct HostedTransport {
    link: Mutex<Link>,
    opts: ConnectOptions,
    address: Address,
    /// Commands each new connection starts with (AUTH, SELECT), encoded.
    handshake: Vec<Vec<u8>>,
    /// Where blocking commands go: they must never stall the shared connection.
    blocking: BlockingPool,
    /// Follows the keys of near caches (a connection of its own, made for the first one).
    tracker: Tracker,
}

/// What one request waits for.
enum Reply {
    One(oneshot::Sender<Result<Value>>),
    Many(Vec<Value>, oneshot::Sender<Result<Vec<Value>>>),
    /// A handshake command: an error reply fails the connection.
    Handshake,
    /// Timed out or given up: its replies are read and dropped, to keep the order.
    Abandoned,
}

impl Reply {
    fn fail(self, err: Error) {
        // A receiver that is gone (its caller dropped the future) needs no answer.
        match self {
            Reply::One(tx) => drop(tx.send(Err(err))),
            Reply::Many(_, tx) => drop(tx.send(Err(err))),
            Reply::Handshake | Reply::Abandoned => {}
        }
    }
}

/// A request: its reply slot, how many replies it still expects, and its deadline.
struct Entry {
    reply: Reply,
    left: usize,
    deadline: Instant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// No connection: requests wait in the offline queue.
    Down,
    /// Connected, the handshake not answered yet: requests still wait.
    Handshaking,
    Ready,
    Closed,
}

struct Link {
    state: State,
    /// Bytes for the host to write.
    out: Vec<u8>,
    /// Requests written (or in `out`), in the order their replies will come.
    in_flight: VecDeque<Entry>,
    /// Requests waiting for the connection, with their encoded commands.
    queued: VecDeque<(Vec<u8>, Entry)>,
    /// Received bytes that do not make a whole reply yet.
    input: Vec<u8>,
    /// How far `input` has been checked for the end of its reply.
    scan: resp::Scan,
    /// A host waiting in [`HostedTransport::output`] for bytes to write.
    writer: Option<Waker>,
}

impl Link {
    fn fail_in_flight(&mut self, err: &Error) {
        for entry in self.in_flight.drain(..) {
            entry.reply.fail(err.clone());
        }
        self.out.clear();
        self.input.clear();
        self.scan = resp::Scan::default();
    }

    /// The stream cannot be trusted any more. A refused handshake also fails the queued
    /// requests: their retries then report why (a wrong password) instead of timing out.
    fn broken(&mut self, err: &Error) {
        if self.state == State::Handshaking {
            for (_, entry) in self.queued.drain(..) {
                entry.reply.fail(err.clone());
            }
        }
        self.state = State::Down;
        self.fail_in_flight(err);
    }

    fn become_ready(&mut self) {
        self.state = State::Ready;
        for (bytes, entry) in std::mem::take(&mut self.queued) {
            self.out.extend_from_slice(&bytes);
            self.in_flight.push_back(entry);
        }
        self.wake_writer();
    }

    fn wake_writer(&mut self) {
        if !self.out.is_empty() {
            if let Some(writer) = self.writer.take() {
                writer.wake();
            }
        }
    }

    /// Hand `value` to the oldest request. Errors only for a reply nobody asked for, or a
    /// failed handshake: either way the connection is no longer trusted.
    fn deliver(&mut self, value: Value) -> Result<()> {
        let Some(entry) = self.in_flight.front_mut() else {
            return Err(Error::Connection(
                "the server sent a reply nobody asked for".into(),
            ));
        };
        entry.left -= 1;
        let done = entry.left == 0;
        let mut value = Some(value);
        match &mut entry.reply {
            Reply::Many(got, _) => got.extend(value.take()),
            Reply::Handshake => {
                if let Some(Value::Error(msg)) = &value {
                    return Err(Error::Connection(format!("connection setup failed: {msg}")));
                }
            }
            Reply::One(_) | Reply::Abandoned => {}
        }
        if !done {
            return Ok(());
        }
        let entry = self.in_flight.pop_front().expect("front exists");
        match entry.reply {
            Reply::One(tx) => {
                let reply = value.map_or(Ok(Value::Nil), Value::into_result);
                drop(tx.send(reply));
            }
            Reply::Many(got, tx) => drop(tx.send(Ok(got))),
            Reply::Handshake => {
                if !self
                    .in_flight
                    .iter()
                    .any(|e| matches!(e.reply, Reply::Handshake))
                {
                    self.become_ready();
                }
            }
            Reply::Abandoned => {}
        }
        Ok(())
    }
}

impl HostedTransport {
    /// A transport for `url` (`redis://`, `rediss://`, `redis+unix://`; user, password and
    /// database index in the URL). No I/O happens here: the host connects to
    /// [`HostedTransport::address`]. Blocking commands get connections of their own,
    /// made on first use.
    pub fn new(url: &str, opts: ConnectOptions) -> Result<Self> {
        opts.validate()?;
        let blocking = BlockingPool::new(url, opts.connect_timeout)?;
        let info = url
            .into_connection_info()
            .map_err(|e| Error::invalid(format!("bad url: {e}")))?;
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
        let tracker = Tracker::new(info.clone(), opts.connect_timeout, opts.retry_backoff_max)?;
        let settings = info.redis_settings();
        let mut handshake = Vec::new();
        if let Some(password) = settings.password() {
            let mut cmd = Vec::new();
            match settings.username() {
                Some(user) => resp::encode_command(&mut cmd, &["AUTH", user, password]),
                None => resp::encode_command(&mut cmd, &["AUTH", password]),
            }
            handshake.push(cmd);
        }
        if settings.db() != 0 {
            let mut cmd = Vec::new();
            resp::encode_command(&mut cmd, &["SELECT", &settings.db().to_string()]);
            handshake.push(cmd);
        }
        Ok(HostedTransport {
            link: Mutex::new(Link {
                state: State::Down,
                out: Vec::new(),
                in_flight: VecDeque::new(),
                queued: VecDeque::new(),
                input: Vec::new(),
                scan: resp::Scan::default(),
                writer: None,
            }),
            opts,
            address,
            handshake,
            blocking,
            tracker,
        })
    }

    /// Where to connect.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The options this transport was made with.
    pub fn options(&self) -> &ConnectOptions {
        &self.opts
    }

    fn link(&self) -> MutexGuard<'_, Link> {
        // A panic elsewhere while holding the lock leaves a consistent queue (every
        // mutation is a single push or pop), so keep going.
        self.link.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The host's socket is open: the handshake goes out first, the waiting requests after
    /// it has been answered.
    pub fn connected(&self) {
        let mut link = self.link();
        if link.state == State::Closed {
            return;
        }
        link.input.clear();
        link.scan = resp::Scan::default();
        if self.handshake.is_empty() {
            link.become_ready();
            return;
        }
        link.state = State::Handshaking;
        let deadline = Instant::now() + self.opts.connect_timeout;
        for cmd in &self.handshake {
            link.out.extend_from_slice(cmd);
            link.in_flight.push_back(Entry {
                reply: Reply::Handshake,
                left: 1,
                deadline,
            });
        }
        link.wake_writer();
    }

    /// Whether the last [`HostedTransport::connected`] has finished its handshake.
    pub fn is_ready(&self) -> bool {
        self.link().state == State::Ready
    }

    /// Hand the bytes to write (if any) to `write`, which copies them out: the buffer is
    /// kept for the next requests rather than allocated again for every write. Hosts that
    /// run the requests' futures themselves (Node's binding does, on the JS thread) call
    /// this after polling them; others wait in [`HostedTransport::output`].
    pub fn drain_output<R>(&self, write: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let mut link = self.link();
        if link.out.is_empty() {
            return None;
        }
        let written = write(&link.out);
        link.out.clear();
        // A burst (a large pipeline) may have grown it: give that memory back.
        if link.out.capacity() > OUTPUT_KEPT {
            link.out = Vec::new();
        }
        Some(written)
    }

    /// Wait until a request is waiting for a connection (or the transport is closed): a
    /// lazy host connects then.
    pub async fn requested(&self) {
        std::future::poll_fn(|cx| {
            let mut link = self.link();
            if !link.queued.is_empty() || !link.out.is_empty() || link.state == State::Closed {
                Poll::Ready(())
            } else {
                link.writer = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// Wait until there are bytes to write, and take them.
    pub async fn output(&self) -> Vec<u8> {
        std::future::poll_fn(|cx| {
            let mut link = self.link();
            if link.out.is_empty() {
                link.writer = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(std::mem::take(&mut link.out))
            }
        })
        .await
    }

    /// Bytes the socket read. An error means the stream is broken (not RESP, a reply
    /// nobody asked for, a refused handshake): the host must close the socket and report
    /// [`HostedTransport::disconnected`].
    pub fn received(&self, bytes: &[u8]) -> Result<()> {
        let mut link = self.link();
        if link.state == State::Closed {
            return Ok(());
        }
        // Parse straight from the chunk unless a partial reply is waiting for its end.
        let mut pending = std::mem::take(&mut link.input);
        let joined = !pending.is_empty();
        if joined {
            pending.extend_from_slice(bytes);
            // Parse only once the partial reply is whole (see `resp::Scan`).
            match link.scan.whole(&pending) {
                Ok(Some(_)) => link.scan = resp::Scan::default(),
                Ok(None) => {
                    link.input = pending;
                    return Ok(());
                }
                Err(e) => {
                    link.broken(&e);
                    return Err(e);
                }
            }
        }
        let buf: &[u8] = if joined { &pending } else { bytes };
        let mut at = 0;
        let parsed = loop {
            match resp::parse(&buf[at..]) {
                Ok(Some((value, used))) => {
                    at += used;
                    if let Err(e) = link.deliver(value) {
                        break Err(e);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = parsed {
            link.broken(&e);
            return Err(e);
        }
        // Keep the unparsed tail for the next chunk, without copying a large partial
        // reply again on every chunk that extends it.
        if joined {
            pending.drain(..at);
            link.input = pending;
        } else if at < bytes.len() {
            link.input = bytes[at..].to_vec();
        }
        Ok(())
    }

    /// The socket closed (or the host gave up on it). Requests in flight fail with a
    /// connection error, which their retries absorb; queued ones keep waiting.
    pub fn disconnected(&self, reason: &str) {
        let mut link = self.link();
        if link.state == State::Closed {
            return;
        }
        link.state = State::Down;
        link.fail_in_flight(&Error::Connection(format!("connection lost: {reason}")));
    }

    /// How long to wait before reconnect attempt number `attempt` (0-based): the same
    /// jittered, capped exponential backoff as retries.
    pub fn reconnect_delay(&self, attempt: u32) -> Duration {
        self.opts.backoff(attempt)
    }

    /// Whether [`Transport::close`] was called: the host closes its socket for good.
    pub fn is_closed(&self) -> bool {
        self.link().state == State::Closed
    }

    /// Time out every request whose deadline is past; returns how many are still waiting.
    /// An error means the handshake was not answered within the connect timeout: the host
    /// closes the socket (and reconnects).
    pub fn expire(&self) -> Result<usize> {
        let now = Instant::now();
        let mut link = self.link();
        let handshake_overdue = link
            .in_flight
            .front()
            .is_some_and(|e| matches!(e.reply, Reply::Handshake) && e.deadline <= now);
        if handshake_overdue {
            let err = Error::Timeout(format!(
                "connection setup took longer than {:?}",
                self.opts.connect_timeout
            ));
            link.broken(&err);
            return Err(err);
        }
        let timeout = |what: &str| Error::Timeout(format!("{what} took longer than its deadline"));
        for entry in link.in_flight.iter_mut() {
            if entry.deadline <= now && !matches!(entry.reply, Reply::Abandoned) {
                let reply = std::mem::replace(&mut entry.reply, Reply::Abandoned);
                reply.fail(timeout("the request"));
            }
        }
        let queued = std::mem::take(&mut link.queued);
        for (bytes, entry) in queued {
            if entry.deadline <= now {
                entry.reply.fail(timeout("waiting for the connection"));
            } else {
                link.queued.push_back((bytes, entry));
            }
        }
        Ok(link.in_flight.len() + link.queued.len())
    }

    /// Queue one request of `replies` commands; `Err` when it cannot even wait.
    fn submit(
        &self,
        encode: Encode,
        replies: usize,
        reply: Reply,
        deadline: Instant,
    ) -> Result<()> {
        let mut link = self.link();
        let entry = Entry {
            reply,
            left: replies,
            deadline,
        };
        match link.state {
            State::Closed => Err(Error::Closed),
            State::Ready => {
                encode(&mut link.out);
                link.in_flight.push_back(entry);
                link.wake_writer();
                Ok(())
            }
            State::Down | State::Handshaking => {
                if !self.opts.offline_queue {
                    return Err(Error::Connection("not connected".into()));
                }
                if link.queued.len() >= self.opts.offline_queue_max {
                    return Err(Error::Connection(
                        "offline queue is full while reconnecting".into(),
                    ));
                }
                let mut bytes = Vec::new();
                encode(&mut bytes);
                link.queued.push_back((bytes, entry));
                // A lazy host waits for the first request before it connects.
                if let Some(host) = link.writer.take() {
                    host.wake();
                }
                Ok(())
            }
        }
    }

    /// Send what `encode` writes (`replies` commands) until it succeeds, fails for a reason a retry
    /// cannot fix, or the retries or the deadline run out. `slot` makes the reply slot.
    async fn request<T>(
        &self,
        encode: Encode<'_>,
        replies: usize,
        slot: fn(oneshot::Sender<Result<T>>) -> Reply,
    ) -> Result<T> {
        let deadline = Instant::now() + self.opts.timeout;
        match self.attempt(encode, replies, slot, deadline).await {
            // The retries, the rare path, run in a future of their own: inlined, their
            // timer would grow every request's future, which is allocated on each call.
            Err(e) if e.is_connection_trouble() && self.may_retry(0) => {
                Box::pin(self.retry(encode, replies, slot, deadline, e)).await
            }
            other => other,
        }
    }

    async fn attempt<T>(
        &self,
        encode: Encode<'_>,
        replies: usize,
        slot: fn(oneshot::Sender<Result<T>>) -> Reply,
        deadline: Instant,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.submit(encode, replies, slot(tx), deadline)?;
        rx.await.unwrap_or(Err(Error::Closed))
    }

    /// The retries of [`Self::request`] after its first attempt failed with `error`, each
    /// after a jittered backoff, all within the request's deadline.
    async fn retry<T>(
        &self,
        encode: Encode<'_>,
        replies: usize,
        slot: fn(oneshot::Sender<Result<T>>) -> Reply,
        deadline: Instant,
        mut error: Error,
    ) -> Result<T> {
        let mut tries = 0u32;
        loop {
            let pause = self.opts.backoff(tries);
            if Instant::now() + pause >= deadline {
                return Err(error);
            }
            rt::sleep(pause).await;
            tries += 1;
            match self.attempt(encode, replies, slot, deadline).await {
                Err(e) if e.is_connection_trouble() && self.may_retry(tries) => error = e,
                other => return other,
            }
        }
    }

    fn may_retry(&self, tries: u32) -> bool {
        self.opts.offline_queue && tries < self.opts.retries
    }
}

impl Transport for HostedTransport {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(async move {
            self.request(&|out: &mut Vec<u8>| cmd.encode(out), 1, Reply::One)
                .await
        })
    }

    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Vec<u8>>>> {
        let mut cmd = Cmd::new("GET");
        cmd.push(key.as_bytes());
        Box::pin(async move {
            self.request(&|out: &mut Vec<u8>| cmd.encode(out), 1, Reply::One)
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
            self.request(&encode, cmds.len(), |tx| Reply::Many(Vec::new(), tx))
                .await
        })
    }

    fn send_blocking(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(async move {
            if self.is_closed() {
                return Err(Error::Closed);
            }
            self.blocking.send(cmd).await
        })
    }

    fn near_cache(&self, prefix: &str, capacity: usize) -> Option<Arc<NearCache>> {
        if self.is_closed() {
            return None;
        }
        self.tracker.near_cache(prefix, capacity)
    }

    fn near_cache_of(&self, prefix: &str) -> Option<Arc<NearCache>> {
        self.tracker.near_cache_of(prefix)
    }

    fn near_sync(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.tracker.sync())
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        {
            let mut link = self.link();
            link.state = State::Closed;
            link.fail_in_flight(&Error::Closed);
            // A host waiting for output or for a first request learns it is closed.
            if let Some(host) = link.writer.take() {
                host.wake();
            }
            for (_, entry) in link.queued.drain(..) {
                entry.reply.fail(Error::Closed);
            }
        }
        self.blocking.close();
        self.tracker.close();
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "hosted"
    }
}
