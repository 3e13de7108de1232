//! How patterns reach Redis. Every pattern talks only to a [`Transport`]: one command, a
//! pipeline, a blocking command, a push channel.
//!
//! The network transports are layered, one file per layer: [`resp`] (the wire format),
//! `connection` (one RESP connection without I/O), `requests` (retries and deadlines),
//! [`hosted`] (the calls a host that owns the socket makes), `dedicated` (connections of
//! their own for blocking commands and push channels), and the hosts: [`native`]'s tokio
//! socket task here, `link.js` in Node. [`backoff`] is the one pause policy of them all.
//! Scripts are run on top of that by [`crate::script`], so the EVALSHA/EVAL dance exists
//! once for every transport.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::error::Result;
use crate::transport::push::{PushChannel, PushHandler};
use crate::value::{Cmd, Value};

pub mod backoff;
#[cfg(feature = "native")]
pub(crate) mod connection;
#[cfg(feature = "native")]
mod dedicated;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "native")]
pub mod hosted;
#[cfg(feature = "native")]
pub mod native;
pub mod push;
#[cfg(feature = "native")]
mod requests;
pub mod url;
pub use redkit_protocol::resp;

/// How often a connection times out the requests past their deadline: the precision of
/// every deadline, the same in every runtime (the native socket task and Node's link).
pub const DEADLINE_TICK: std::time::Duration = std::time::Duration::from_millis(20);

/// `Send` on native targets, nothing on wasm, where futures hold JS values and are never
/// moved across threads. Lets one copy of the code serve both.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}
/// `Send` on native targets, nothing on wasm.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` on native targets, nothing on wasm.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}
/// `Sync` on native targets, nothing on wasm.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// A boxed future that is `Send` exactly where [`MaybeSend`] is.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future that is `Send` exactly where [`MaybeSend`] is.
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The one door to Redis.
///
/// Implementations own connection management: reconnects, retries, timeouts. Errors come
/// back as [`crate::Error`]; an error reply to a single command is an `Err`, while inside
/// a pipeline each command's error reply is a [`Value::Error`] in its slot, so one failed
/// command does not hide the others' results.
pub trait Transport: MaybeSend + MaybeSync + 'static {
    /// Send one command and wait for its reply.
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>>;

    /// Send several commands in one round trip; one reply per command, in order.
    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>>;

    /// `GET key`: the cache's hit path. The default sends a [`Cmd`]; transports may skip
    /// building one (the native transport does: on a hit, every allocation shows).
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Vec<u8>>>> {
        let cmd = Cmd::new("GET").arg(key);
        Box::pin(async move { self.send(cmd).await?.into_bytes() })
    }

    /// [`Transport::send`] that fails with [`crate::Error::Timeout`] once `within` has
    /// passed: a rate-limit decision, bounded by the limiter's `timeout`. As for
    /// [`Transport::get_within`], the default races a timer and the hosted transport makes
    /// `within` the request's own deadline.
    fn send_within(&self, cmd: Cmd, within: Duration) -> BoxFuture<'_, Result<Value>> {
        let send = self.send(cmd);
        Box::pin(crate::rt::timeout(within, "the command", send))
    }

    /// [`Transport::get`] that fails with [`crate::Error::Timeout`] once `within` has
    /// passed: a fail-safe cache's read, bounded by its soft timeout. The default races a
    /// timer. A transport that times its requests out itself takes `within` as the
    /// request's deadline instead, so the read arms no timer of its own (the hosted
    /// transport does: a timer per read was most of what a fail-safe cache hit cost, see
    /// bench/results/fail-safe.md).
    fn get_within(&self, key: &str, within: Duration) -> BoxFuture<'_, Result<Option<Vec<u8>>>> {
        let get = self.get(key);
        Box::pin(crate::rt::timeout(within, "GET", get))
    }

    /// Send a command that may block on the server (BLPOP, BZPOPMIN, BLMOVE, XREAD BLOCK,
    /// ...). Network transports run it on a connection of its own, made with the client's
    /// options, so it never stalls the shared one and is not cut short by the per-command
    /// timeout: it waits as long as the command's own server-side timeout says. A lost
    /// connection is re-established and the command sent again, within the client's
    /// retries (a pop Redis made just before the loss is lost with its reply: Redis
    /// cannot tell). Dropping the future cancels it: its connection is closed, never
    /// reused with a reply still owed.
    fn send_blocking(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        self.send(cmd)
    }

    /// [`Transport::send_blocking`] with a deadline: a [`crate::Error::Timeout`] once
    /// `within` has passed (make the command's own timeout shorter, so Redis answers
    /// first when nothing arrives).
    fn send_blocking_within(&self, cmd: Cmd, within: Duration) -> BoxFuture<'_, Result<Value>> {
        Box::pin(crate::rt::timeout(
            within,
            "the blocking command",
            self.send_blocking(cmd),
        ))
    }

    /// A push channel (see [`push`]) on a connection of its own, its events to
    /// `handler`: `Ok(None)` (the default) where the transport has none (the embedded
    /// engine, REST), whose users then go without (a cache without a near copy).
    fn push_channel(&self, _handler: PushHandler) -> Result<Option<Box<dyn PushChannel>>> {
        Ok(None)
    }

    /// Stop sending; later calls fail with [`crate::Error::Closed`].
    fn close(&self) -> BoxFuture<'_, Result<()>>;

    /// A short name for diagnostics (`redis`, `embedded`, `rest`, ...).
    fn name(&self) -> &'static str;
}
