//! One RESP connection without I/O: what to write, what each reply answers, when it is
//! ready. The host moves the bytes (see [`super::hosted`] for the calls a host makes);
//! the request policy on top (retries, deadlines per request) is [`super::requests`].
//!
//! The connection starts every new stream with its setup (AUTH, HELLO 3 for push
//! channels, SELECT, then every subscription of a push channel), holds requests in a
//! bounded offline queue until the setup is answered, matches replies to requests in
//! order, routes RESP3 pushes to its [`PushHandler`], and probes a quiet push channel with
//! a PING so a half-open socket is noticed.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::transport::push::{PushEvent, PushHandler, Topic};
use crate::transport::resp;
use crate::value::Value;

/// Writes a request's commands, as Redis reads them, at the end of a buffer: straight into
/// the output on a live connection (no buffer of the request's own), into a queued
/// request's buffer otherwise, and again for each retry.
pub(crate) type Encode<'a> = &'a (dyn Fn(&mut Vec<u8>) + Sync);

/// Capacity of the output buffer kept between writes.
const OUTPUT_KEPT: usize = 64 * 1024;

/// What one request waits for.
pub(crate) enum Reply {
    One(oneshot::Sender<Result<Value>>),
    Many(Vec<Value>, oneshot::Sender<Result<Vec<Value>>>),
    /// A setup command. An error reply fails the connection, except for a subscription's
    /// (`Some`): that one is refused and forgotten.
    Setup(Option<Topic>),
    /// A subscription made on a live connection.
    Subscribe(Topic),
    /// A push channel's health PING: unanswered by its deadline, the connection is dead.
    Probe,
    /// Timed out or given up: its replies are read and dropped, to keep the order.
    Abandoned,
}

impl Reply {
    fn fail(self, err: Error) {
        // A receiver that is gone (its caller dropped the future) needs no answer.
        match self {
            Reply::One(tx) => drop(tx.send(Err(err))),
            Reply::Many(_, tx) => drop(tx.send(Err(err))),
            _ => {}
        }
    }

    fn is_setup(&self) -> bool {
        matches!(self, Reply::Setup(_))
    }
}

/// A request: its reply slot, how many replies it still expects, and its deadline.
pub(crate) struct Entry {
    pub(crate) reply: Reply,
    pub(crate) left: usize,
    pub(crate) deadline: Instant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// No connection: requests wait in the offline queue.
    Down,
    /// Connected, the setup not answered yet: requests still wait.
    Handshaking,
    Ready,
    Closed,
}

/// How a connection behaves; fixed when it is made.
pub(crate) struct Settings {
    /// Commands every new stream starts with (AUTH, HELLO, SELECT), encoded.
    pub(crate) setup: Vec<Vec<u8>>,
    /// Deadline of the setup.
    pub(crate) connect_timeout: Duration,
    /// Keep requests waiting while disconnected (else they fail at once).
    pub(crate) offline_queue: bool,
    /// How many requests may wait at once.
    pub(crate) offline_queue_max: usize,
    /// A push channel's: its handler, and how quiet it may be before a PING checks it.
    pub(crate) push: Option<(PushHandler, Duration)>,
}

/// The sans-I/O connection; see the module documentation.
pub(crate) struct Connection {
    link: Mutex<Link>,
    settings: Settings,
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
    /// A host waiting in [`Connection::output`] for bytes to write.
    writer: Option<Waker>,
    /// A push channel's subscriptions, made again on every connection.
    topics: Vec<Topic>,
    /// The last connection finished its setup and no gap was reported since.
    up: bool,
    /// When a push channel last heard from Redis or was probed.
    heard: Instant,
    /// Why the connection last went down or could not be opened (`cannot connect to
    /// host:port: ...`), until it is ready again: a request that times out waiting for
    /// the connection says it.
    last_failure: Option<String>,
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

    fn wake_writer(&mut self) {
        if !self.out.is_empty() {
            if let Some(writer) = self.writer.take() {
                writer.wake();
            }
        }
    }

    /// Queue `entry` with the bytes `encode` writes: straight out when ready, in the
    /// offline queue otherwise.
    fn submit(&mut self, settings: &Settings, encode: Encode, entry: Entry) -> Result<()> {
        match self.state {
            State::Closed => Err(Error::Closed),
            State::Ready => {
                encode(&mut self.out);
                self.in_flight.push_back(entry);
                self.wake_writer();
                Ok(())
            }
            State::Down | State::Handshaking => {
                if !settings.offline_queue {
                    return Err(Error::Connection("not connected".into()));
                }
                if self.queued.len() >= settings.offline_queue_max {
                    return Err(Error::Connection(
                        "offline queue is full while reconnecting".into(),
                    ));
                }
                let mut bytes = Vec::new();
                encode(&mut bytes);
                self.queued.push_back((bytes, entry));
                // A lazy host waits for the first request before it connects.
                if let Some(host) = self.writer.take() {
                    host.wake();
                }
                Ok(())
            }
        }
    }
}

/// Append `topic`'s subscribe command; with `confirm`, a PING after a command Redis
/// confirms by a push, whose reply then comes after the confirmation.
fn encode_subscribe(out: &mut Vec<u8>, topic: &Topic, confirm: bool) {
    resp::encode_command(out, &topic.subscribe_command());
    if confirm && !topic.replies() {
        resp::encode_command(out, &["PING"]);
    }
}

impl Connection {
    pub(crate) fn new(settings: Settings) -> Connection {
        Connection {
            link: Mutex::new(Link {
                state: State::Down,
                out: Vec::new(),
                in_flight: VecDeque::new(),
                queued: VecDeque::new(),
                input: Vec::new(),
                scan: resp::Scan::default(),
                writer: None,
                topics: Vec::new(),
                up: false,
                heard: Instant::now(),
                last_failure: None,
            }),
            settings,
        }
    }

    fn link(&self) -> MutexGuard<'_, Link> {
        // A panic elsewhere while holding the lock leaves a consistent queue (every
        // mutation is a single push or pop), so keep going.
        self.link.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(&self, event: PushEvent) {
        if let Some((handler, _)) = &self.settings.push {
            handler(event);
        }
    }

    /// The stream cannot be trusted any more (or is gone). A refused setup also fails the
    /// queued requests: their retries then report why (a wrong password) instead of timing
    /// out. A push channel that was up reports the gap.
    fn lost(&self, link: &mut Link, err: &Error) {
        if link.state == State::Handshaking {
            for (_, entry) in link.queued.drain(..) {
                entry.reply.fail(err.clone());
            }
        }
        if link.state != State::Closed {
            link.state = State::Down;
        }
        link.fail_in_flight(err);
        if std::mem::replace(&mut link.up, false) {
            self.emit(PushEvent::Gap {
                reason: err.to_string(),
            });
        }
    }

    fn become_ready(&self, link: &mut Link) {
        link.state = State::Ready;
        link.heard = Instant::now();
        for (bytes, entry) in std::mem::take(&mut link.queued) {
            link.out.extend_from_slice(&bytes);
            link.in_flight.push_back(entry);
        }
        link.wake_writer();
        link.up = true;
        link.last_failure = None;
        if self.settings.push.is_some() {
            self.emit(PushEvent::Resubscribed {
                topics: link.topics.clone(),
            });
        }
    }

    /// Hand `value` to the oldest request. Errors only for a reply nobody asked for, or a
    /// failed setup: either way the connection is no longer trusted.
    fn deliver(&self, link: &mut Link, value: Value) -> Result<()> {
        let Some(entry) = link.in_flight.front_mut() else {
            return Err(Error::Connection(
                "the server sent a reply nobody asked for".into(),
            ));
        };
        entry.left -= 1;
        let done = entry.left == 0;
        let mut value = Some(value);
        if let Reply::Many(got, _) = &mut entry.reply {
            got.extend(value.take());
        }
        if !done {
            return Ok(());
        }
        let entry = link.in_flight.pop_front().expect("front exists");
        let error = match &value {
            Some(Value::Error(msg)) => Some(msg.clone()),
            _ => None,
        };
        match entry.reply {
            Reply::One(tx) => {
                let reply = value.map_or(Ok(Value::Nil), Value::into_result);
                drop(tx.send(reply));
            }
            Reply::Many(got, tx) => drop(tx.send(Ok(got))),
            Reply::Setup(topic) => {
                match (error, topic) {
                    (Some(msg), None) => {
                        return Err(Error::Connection(format!("connection setup failed: {msg}")));
                    }
                    (Some(error), Some(topic)) => self.refused(link, topic, error),
                    _ => {}
                }
                if !link.in_flight.iter().any(|e| e.reply.is_setup()) {
                    self.become_ready(link);
                }
            }
            Reply::Subscribe(topic) => match error {
                Some(error) => self.refused(link, topic, error),
                None => self.emit(PushEvent::Subscribed(topic)),
            },
            Reply::Probe | Reply::Abandoned => {}
        }
        Ok(())
    }

    fn refused(&self, link: &mut Link, topic: Topic, error: String) {
        link.topics.retain(|t| *t != topic);
        self.emit(PushEvent::Refused { topic, error });
    }

    /// A RESP3 push: to the handler, or, on a connection without one, a protocol error.
    fn pushed(&self, value: Value) -> Result<()> {
        if self.settings.push.is_none() {
            return Err(Error::Connection(
                "the server pushed a message on a connection that takes none".into(),
            ));
        }
        let Value::Array(mut fields) = value else {
            return Ok(());
        };
        if fields.is_empty() {
            return Ok(());
        }
        let kind = match fields.remove(0) {
            Value::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::Status(s) => s,
            other => format!("{other:?}"),
        };
        self.emit(PushEvent::Message { kind, data: fields });
        Ok(())
    }

    /// The host's socket is open: the setup goes out first, the waiting requests after
    /// it has been answered.
    pub(crate) fn connected(&self) {
        let mut link = self.link();
        if link.state == State::Closed {
            return;
        }
        link.input.clear();
        link.scan = resp::Scan::default();
        let deadline = Instant::now() + self.settings.connect_timeout;
        let setup = |reply| Entry {
            reply,
            left: 1,
            deadline,
        };
        let mut out = std::mem::take(&mut link.out);
        out.clear();
        for cmd in &self.settings.setup {
            out.extend_from_slice(cmd);
            link.in_flight.push_back(setup(Reply::Setup(None)));
        }
        let mut confirm = false;
        for topic in link.topics.clone() {
            encode_subscribe(&mut out, &topic, false);
            if topic.replies() {
                link.in_flight.push_back(setup(Reply::Setup(Some(topic))));
            } else {
                confirm = true;
            }
        }
        // Pushes confirm SUBSCRIBE: a PING's reply comes after them.
        if confirm {
            resp::encode_command(&mut out, &["PING"]);
            link.in_flight.push_back(setup(Reply::Setup(None)));
        }
        link.out = out;
        if link.in_flight.is_empty() {
            self.become_ready(&mut link);
            return;
        }
        link.state = State::Handshaking;
        link.wake_writer();
    }

    /// Whether the last [`Connection::connected`] has finished its setup.
    pub(crate) fn is_ready(&self) -> bool {
        self.link().state == State::Ready
    }

    /// Whether the connection was closed for good.
    pub(crate) fn is_closed(&self) -> bool {
        self.link().state == State::Closed
    }

    /// Hand the bytes to write (if any) to `write`, which copies them out: the buffer is
    /// kept for the next requests rather than allocated again for every write.
    pub(crate) fn drain_output<R>(&self, write: impl FnOnce(&[u8]) -> R) -> Option<R> {
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

    /// Wait until a request is waiting for a connection (or the connection is closed).
    pub(crate) async fn requested(&self) {
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

    /// Wait until there are bytes to write, and take them; `None` once the connection is
    /// closed (the host drops its socket at once).
    pub(crate) async fn output(&self) -> Option<Vec<u8>> {
        std::future::poll_fn(|cx| {
            let mut link = self.link();
            if !link.out.is_empty() {
                Poll::Ready(Some(std::mem::take(&mut link.out)))
            } else if link.state == State::Closed {
                Poll::Ready(None)
            } else {
                link.writer = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// Bytes the socket read. An error means the stream is broken (not RESP, a reply
    /// nobody asked for, a refused setup): the host closes the socket and reports
    /// [`Connection::disconnected`].
    pub(crate) fn received(&self, bytes: &[u8]) -> Result<()> {
        let mut link = self.link();
        if link.state == State::Closed {
            return Ok(());
        }
        if self.settings.push.is_some() {
            link.heard = Instant::now();
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
                    self.lost(&mut link, &e);
                    return Err(e);
                }
            }
        }
        let buf: &[u8] = if joined { &pending } else { bytes };
        let mut at = 0;
        let parsed = loop {
            match resp::parse(&buf[at..]) {
                Ok(Some((value, used))) => {
                    let push = buf[at] == b'>';
                    at += used;
                    let handled = if push {
                        self.pushed(value)
                    } else {
                        self.deliver(&mut link, value)
                    };
                    if let Err(e) = handled {
                        break Err(e);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = parsed {
            self.lost(&mut link, &e);
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
    pub(crate) fn disconnected(&self, reason: &str) {
        let mut link = self.link();
        if link.state == State::Closed {
            return;
        }
        link.state = State::Down;
        link.last_failure = Some(reason.to_string());
        self.lost(
            &mut link,
            &Error::Connection(format!("connection lost: {reason}")),
        );
    }

    /// Time out every request whose deadline is past, and probe a quiet push channel;
    /// returns how many requests are still waiting. An error means the setup or a probe
    /// was not answered in time: the host closes the socket (and reconnects).
    pub(crate) fn expire(&self) -> Result<usize> {
        let now = Instant::now();
        let mut link = self.link();
        let overdue = link.in_flight.iter().find_map(|e| match e.reply {
            Reply::Setup(_) if e.deadline <= now => Some("connection setup"),
            Reply::Probe if e.deadline <= now => Some("the health PING"),
            _ => None,
        });
        if let Some(what) = overdue {
            let err = Error::Timeout(format!("{what} took too long: the connection is dead"));
            self.lost(&mut link, &err);
            return Err(err);
        }
        let timeout = |what: &str| Error::Timeout(format!("{what} took longer than its deadline"));
        for entry in link.in_flight.iter_mut() {
            if entry.deadline <= now && matches!(entry.reply, Reply::One(_) | Reply::Many(..)) {
                let reply = std::mem::replace(&mut entry.reply, Reply::Abandoned);
                reply.fail(timeout("the request"));
            }
        }
        let queued = std::mem::take(&mut link.queued);
        let waiting = match &link.last_failure {
            Some(why) => Error::Timeout(format!(
                "waiting for the connection took longer than its deadline; the connection \
                 is down: {why}"
            )),
            None => timeout("waiting for the connection"),
        };
        for (bytes, entry) in queued {
            if entry.deadline <= now {
                entry.reply.fail(waiting.clone());
            } else {
                link.queued.push_back((bytes, entry));
            }
        }
        if let Some((_, quiet)) = self.settings.push {
            let probing = link
                .in_flight
                .iter()
                .any(|e| matches!(e.reply, Reply::Probe));
            if link.state == State::Ready && !probing && now >= link.heard + quiet {
                link.heard = now;
                resp::encode_command(&mut link.out, &["PING"]);
                link.in_flight.push_back(Entry {
                    reply: Reply::Probe,
                    left: 1,
                    deadline: now + quiet,
                });
                link.wake_writer();
            }
        }
        Ok(link.in_flight.len() + link.queued.len())
    }

    /// Queue one request of `replies` commands; `Err` when it cannot even wait.
    pub(crate) fn submit(&self, encode: Encode, entry: Entry) -> Result<()> {
        self.link().submit(&self.settings, encode, entry)
    }

    /// Subscribe to `topic` on this and every later stream; see
    /// [`crate::transport::push::PushChannel::subscribe`].
    pub(crate) fn subscribe(&self, topic: Topic) -> Result<()> {
        let mut link = self.link();
        if link.state == State::Closed {
            return Err(Error::Closed);
        }
        if link.topics.contains(&topic) {
            return Ok(());
        }
        link.topics.push(topic.clone());
        // While down, the next stream's setup makes it; while the setup is under way,
        // it is part of this one (the connection becomes ready after its reply).
        let deadline = Instant::now() + self.settings.connect_timeout;
        match link.state {
            State::Ready => {
                encode_subscribe(&mut link.out, &topic, true);
                link.in_flight.push_back(Entry {
                    reply: Reply::Subscribe(topic),
                    left: 1,
                    deadline,
                });
            }
            State::Handshaking => {
                encode_subscribe(&mut link.out, &topic, true);
                link.in_flight.push_back(Entry {
                    reply: Reply::Setup(Some(topic)),
                    left: 1,
                    deadline,
                });
            }
            State::Down | State::Closed => {}
        }
        link.wake_writer();
        Ok(())
    }

    /// Stop following `topic`; see [`crate::transport::push::PushChannel::unsubscribe`].
    pub(crate) fn unsubscribe(&self, topic: &Topic) -> Result<()> {
        let Some(command) = topic.unsubscribe_command() else {
            return Err(Error::invalid(
                "a tracked prefix stays tracked until the channel closes",
            ));
        };
        let mut link = self.link();
        if link.state == State::Closed {
            return Err(Error::Closed);
        }
        link.topics.retain(|t| t != topic);
        // A setup under way may have made it already: end it after the setup.
        if matches!(link.state, State::Ready | State::Handshaking) {
            // Redis confirms with a push; the consumer sees it as a message.
            resp::encode_command(&mut link.out, &command);
            link.wake_writer();
        }
        Ok(())
    }

    /// Close for good: every request fails with [`Error::Closed`], a waiting host learns
    /// it is closed, a push channel that was up reports the gap.
    pub(crate) fn close(&self) {
        let mut link = self.link();
        self.lost(&mut link, &Error::Closed);
        link.state = State::Closed;
        // A host waiting for output or for a first request learns it is closed.
        if let Some(host) = link.writer.take() {
            host.wake();
        }
        for (_, entry) in link.queued.drain(..) {
            entry.reply.fail(Error::Closed);
        }
    }
}
