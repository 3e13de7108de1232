//! How patterns reach Redis. Every pattern talks only to a [`Transport`]: one command, a
//! pipeline, a blocking command. Scripts are run on top of that by [`crate::script`], so
//! the EVALSHA/EVAL dance exists once for every transport.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::cache::NearCache;

use crate::error::Result;
use crate::value::{Cmd, Value};

#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "native")]
pub mod hosted;
#[cfg(feature = "native")]
pub mod native;
pub use redkit_protocol::resp;

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

    /// Send a command that may block on the server (BZPOPMIN, XREAD BLOCK, ...). Native
    /// transports run it on a connection of its own so it never stalls the shared one.
    fn send_blocking(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        self.send(cmd)
    }

    /// The in-process store of the cache entries under `prefix`, kept coherent with Redis
    /// by this transport (see [`crate::cache::near`]). `None` (the default) where the
    /// transport cannot follow changes: such caches read Redis on every call.
    fn near_cache(&self, _prefix: &str, _capacity: usize) -> Option<Arc<NearCache>> {
        None
    }

    /// The near cache already made for `prefix`, if any: writes through a handle without
    /// one must still drop their keys from it.
    fn near_cache_of(&self, _prefix: &str) -> Option<Arc<NearCache>> {
        None
    }

    /// Resolves once every change Redis made before the call has reached the near caches.
    fn near_sync(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// Stop sending; later calls fail with [`crate::Error::Closed`].
    fn close(&self) -> BoxFuture<'_, Result<()>>;

    /// A short name for diagnostics (`redis`, `embedded`, `rest`, ...).
    fn name(&self) -> &'static str;
}
