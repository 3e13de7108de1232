//! Connections of its own, for what must not share the client's connection: blocking
//! commands (BLPOP, BZPOPMIN, BLMOVE, XREAD BLOCK, ...), which may hold a connection for
//! seconds, and push channels, which subscribe.
//!
//! Each is a [`HostedTransport`] of its own role, made with the client's options (TLS,
//! AUTH, SELECT, timeouts, backoff policy) and driven by the host's [`Dialer`] exactly as
//! the client's connection is: the same protocol code, the same socket code, the same
//! reconnects. In Node the dialer opens Node sockets; natively, tokio tasks.
//!
//! A blocking connection goes back to the idle pool only when its command came back
//! answered. One whose command was cancelled (its future dropped), timed out or lost
//! its connection is closed instead: its stream may still owe that reply, and a
//! connection that owes a reply must never serve the next command.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::transport::hosted::HostedTransport;
use crate::transport::push::{PushChannel, PushHandler, Topic};
use crate::transport::BoxFuture;
use crate::value::{Cmd, Value};

/// How many idle blocking connections are kept for the next blocking command.
const IDLE_KEPT: usize = 8;

/// How long a push channel's connection may stay quiet before a PING checks it; a
/// connection that died without a word (a half-open socket) is noticed within twice this.
const PUSH_HEALTH: Duration = Duration::from_secs(1);

/// What a connection is for.
pub(crate) enum Role {
    /// The client's own connection, shared by every request.
    Shared,
    /// One blocking command at a time.
    Blocking,
    /// A push channel's: RESP3, its events to the handler, probed when quiet this long.
    Push(PushHandler, Duration),
}

/// The connections of its own one transport dialed.
#[derive(Default)]
pub(crate) struct Dedicated {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    idle: Vec<Arc<HostedTransport>>,
    /// Every one still open, to close with the transport.
    open: Vec<Weak<HostedTransport>>,
    closed: bool,
}

impl Dedicated {
    fn state(&self) -> MutexGuard<'_, State> {
        // Each mutation is one push, pop or retain: a panic elsewhere leaves it whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record a new connection; an error once the transport is closed.
    pub(crate) fn opened(&self, conn: &Arc<HostedTransport>) -> Result<()> {
        let mut state = self.state();
        if state.closed {
            return Err(Error::Closed);
        }
        state.open.retain(|c| c.strong_count() > 0);
        state.open.push(Arc::downgrade(conn));
        Ok(())
    }

    /// Run the blocking `cmd` on a connection of its own, within `within` if given (the
    /// command's own server-side timeout should be shorter), with the client's retries
    /// after a lost connection.
    pub(crate) async fn blocking(
        &self,
        owner: &HostedTransport,
        cmd: Cmd,
        within: Option<Duration>,
    ) -> Result<Value> {
        if owner.is_closed() {
            return Err(Error::Closed);
        }
        let deadline = match within {
            Some(d) => Instant::now().checked_add(d),
            None => None,
        }
        .unwrap_or_else(far_future);
        let idle = self.state().idle.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => owner.dial(Role::Blocking)?,
        };
        let lease = Lease {
            pool: self,
            conn: Some(conn),
        };
        let result = lease.conn().send_until(&cmd, deadline).await;
        // Answered, even with an error reply: the stream owes nothing, keep it.
        if matches!(result, Ok(_) | Err(Error::Server(_))) {
            lease.keep();
        }
        result
    }

    /// A push channel on a connection of its own.
    pub(crate) fn push_channel(
        &self,
        owner: &HostedTransport,
        handler: PushHandler,
    ) -> Result<Box<dyn PushChannel>> {
        let conn = owner.dial(Role::Push(handler, PUSH_HEALTH))?;
        Ok(Box::new(HostedPush { conn }))
    }

    /// Close every connection of its own, idle or busy.
    pub(crate) fn close(&self) {
        let open = {
            let mut state = self.state();
            state.closed = true;
            state.idle.clear();
            std::mem::take(&mut state.open)
        };
        for conn in open.iter().filter_map(Weak::upgrade) {
            conn.connection().close();
        }
    }
}

impl Drop for Dedicated {
    /// A transport dropped without `close` still closes its connections of their own: their
    /// socket tasks hold them, not the transport.
    fn drop(&mut self) {
        self.close();
    }
}

/// An instant no blocking command waits for: "no deadline".
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(100 * 365 * 86_400))
        .unwrap_or(now)
}

/// A blocking connection in use; closed on drop unless kept (see the module docs).
struct Lease<'a> {
    pool: &'a Dedicated,
    conn: Option<Arc<HostedTransport>>,
}

impl Lease<'_> {
    fn conn(&self) -> &HostedTransport {
        self.conn.as_deref().expect("a lease holds its connection")
    }

    /// Back to the idle pool (or closed, past the pool's size or after the transport
    /// closed).
    fn keep(mut self) {
        let conn = self.conn.take().expect("a lease holds its connection");
        let mut state = self.pool.state();
        if !state.closed && state.idle.len() < IDLE_KEPT && !conn.is_closed() {
            state.idle.push(conn);
        } else {
            drop(state);
            conn.connection().close();
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.connection().close();
        }
    }
}

/// A push channel over a dedicated hosted connection.
struct HostedPush {
    conn: Arc<HostedTransport>,
}

impl PushChannel for HostedPush {
    fn subscribe(&self, topic: Topic) -> Result<()> {
        self.conn.connection().subscribe(topic)
    }

    fn unsubscribe(&self, topic: &Topic) -> Result<()> {
        self.conn.connection().unsubscribe(topic)
    }

    fn sync(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let deadline = Instant::now() + self.conn.options().connect_timeout;
            self.conn
                .send_until(&Cmd::new("PING"), deadline)
                .await
                .map(|_| ())
        })
    }

    fn close(&self) {
        self.conn.connection().close();
    }
}

impl Drop for HostedPush {
    fn drop(&mut self) {
        self.conn.connection().close();
    }
}
