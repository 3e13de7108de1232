//! The embedded engine (crate `redkit-engine`) as a [`Transport`]: `Client::embedded()`
//! runs every pattern on it with no server at all. The engine knows no pattern and no
//! transport; this is the whole adapter.

use redkit_engine::Engine as Inner;

use crate::error::Result;
use crate::transport::{BoxFuture, Transport};
use crate::value::{Cmd, ToArg, Value};

pub use redkit_engine::{EmbeddedOptions, Message, Subscription};

/// An in-process Redis-compatible engine (see `redkit_engine::Engine`). Cheap to clone:
/// clones share one keyspace. It is a [`Transport`], so
/// `Client::from_transport(Arc::new(engine.clone()), "rk")` makes a client over it (what
/// `Client::embedded()` does).
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Inner,
}

impl Engine {
    /// An empty engine with the default options.
    pub fn new() -> Result<Engine> {
        Engine::with_options(&EmbeddedOptions::default())
    }

    /// An empty engine. Starts the expiry sweeper thread, which ends with the engine.
    pub fn with_options(opts: &EmbeddedOptions) -> Result<Engine> {
        Ok(Engine {
            inner: Inner::with_options(opts)?,
        })
    }

    /// Run one command now and return its reply; an error reply is an `Err`. Blocking
    /// commands answer at once (nil when there is nothing to pop), as inside a script.
    pub fn execute(&self, cmd: Cmd) -> Result<Value> {
        self.inner.execute(cmd)
    }

    /// Subscribe to channels and glob patterns; messages PUBLISHed to the engine arrive on
    /// the returned [`Subscription`] until it is dropped.
    pub fn subscribe<C, P>(&self, channels: C, patterns: P) -> Result<Subscription>
    where
        C: IntoIterator,
        C::Item: ToArg,
        P: IntoIterator,
        P::Item: ToArg,
    {
        self.inner.subscribe(channels, patterns)
    }

    /// How many keys are stored right now, expired-but-unswept ones included (DBSIZE).
    pub fn dbsize(&self) -> usize {
        self.inner.dbsize()
    }
}

impl Transport for Engine {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(self.inner.send(cmd))
    }

    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>> {
        Box::pin(self.inner.pipeline(cmds))
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.inner.close();
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "embedded"
    }
}
