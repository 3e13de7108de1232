//! Where the worker engine's tasks run: tokio by default (Rust and Python workers), or a
//! runtime the binding supplies ([`Spawner`]) when the client's futures must be polled
//! somewhere else. Node is that case: its connections are Node sockets driven by the JS
//! thread, so the binding polls every future of a client on that thread (its executor), the
//! worker's tasks included.

use std::future::Future;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::transport::BoxFuture;

/// Runs the worker engine's tasks (its fetch, finish, renewal and upkeep loops, and one
/// task per job) for a binding that polls futures itself.
///
/// The engine's tasks use tokio's timers and channels: whoever polls them must have a tokio
/// runtime entered while it does (`Handle::enter`), though the tasks need not run on it.
pub trait Spawner: Send + Sync + 'static {
    /// Run `task` to its end in the background; return at once.
    fn spawn(&self, task: BoxFuture<'static, ()>);
}

/// How one worker spawns its tasks.
#[derive(Clone, Default)]
pub(crate) enum Spawn {
    /// `tokio::spawn` on the runtime current when the worker starts (no boxing).
    #[default]
    Tokio,
    /// The binding's spawner.
    Host(Arc<dyn Spawner>),
}

impl Spawn {
    /// Refuse to start where the tasks could not run.
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            Spawn::Tokio if tokio::runtime::Handle::try_current().is_err() => Err(Error::invalid(
                "a worker runs on a tokio runtime; none is running here",
            )),
            _ => Ok(()),
        }
    }

    /// Run `task` in the background (after a successful [`Spawn::check`]).
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self {
            Spawn::Tokio => drop(tokio::spawn(task)),
            Spawn::Host(s) => s.spawn(Box::pin(task)),
        }
    }

    /// Run `task` in the background if there is somewhere to run it (a worker dropped off
    /// any runtime has no tasks to stop either).
    pub(crate) fn detach<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self {
            Spawn::Tokio => {
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    drop(rt.spawn(task));
                }
            }
            Spawn::Host(s) => s.spawn(Box::pin(task)),
        }
    }
}
