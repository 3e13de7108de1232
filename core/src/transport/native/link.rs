//! The one multiplexed connection every request shares, and its replacement when it breaks.
//!
//! redis-rs' `ConnectionManager` does the same job, but every request through it pays for
//! its generality: two boxed futures and a `Shared` future polled for its output. On a
//! cache hit at concurrency 64 that showed (0.94× a raw connection). Here a request that
//! finds the connection up takes one clone of it and sends on it directly.
//!
//! The link is in one of two states, swapped atomically: up (a connection), or connecting
//! (one shared attempt that waiting requests await). A request whose connection turns out
//! broken reports the generation it used; only the first report per generation starts a
//! new attempt, which tries `retries + 1` times with the jittered backoff between.
//! Retrying the request, its deadline and the bound on how many wait are the caller's
//! business (see `with_retries`): a request that is not a retry does not wait for a
//! reconnect, it fails at once with a connection error.

use std::io;
use std::sync::{Arc, Weak};

use arc_swap::ArcSwap;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisError, RedisResult, Value};

use crate::options::ConnectOptions;
use crate::rt;

/// One connection attempt, shared by every request waiting for it.
type Attempt = Shared<BoxFuture<'static, RedisResult<MultiplexedConnection>>>;

enum State {
    Up(MultiplexedConnection),
    Connecting(Attempt),
}

/// The link's state and which connection (counting from 0) it is about.
struct Current {
    generation: u64,
    state: State,
}

/// The shared connection; see the module docs.
pub(super) struct Link {
    client: redis::Client,
    config: AsyncConnectionConfig,
    /// Retries and backoff of a reconnect.
    opts: ConnectOptions,
    current: Arc<ArcSwap<Current>>,
}

impl Link {
    /// Connect now, in one try: an unreachable server is an error at once.
    pub(super) async fn connect(
        client: redis::Client,
        config: AsyncConnectionConfig,
        opts: ConnectOptions,
    ) -> RedisResult<Link> {
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(Link {
            current: Arc::new(ArcSwap::from_pointee(Current {
                generation: 0,
                state: State::Up(conn),
            })),
            client,
            config,
            opts,
        })
    }

    /// Connect on first use: the attempt (one try, like [`Link::connect`]) starts when the
    /// first request awaits it.
    pub(super) fn lazy(
        client: redis::Client,
        config: AsyncConnectionConfig,
        opts: ConnectOptions,
    ) -> Link {
        let current = Arc::new_cyclic(|me| {
            let first = attempt(me.clone(), &client, &config, &opts, 0);
            ArcSwap::from_pointee(Current {
                generation: 0,
                state: State::Connecting(first),
            })
        });
        Link {
            client,
            config,
            opts,
            current,
        }
    }

    /// Whether there is no connection now (an attempt is under way, or failed and the next
    /// request starts another).
    pub(super) fn connecting(&self) -> bool {
        matches!(self.current.load().state, State::Connecting(_))
    }

    /// Send one command on the shared connection. `wait`: wait for a reconnect under way
    /// instead of failing at once.
    pub(super) async fn send(&self, cmd: &Cmd, wait: bool) -> RedisResult<Value> {
        let (mut conn, generation) = match self.up() {
            Some(up) => up,
            None => self.wait(wait).await?,
        };
        let result = conn.send_packed_command(cmd).await;
        self.check(&result, generation);
        result
    }

    /// Send the `count` commands of `pipe` in one round trip.
    pub(super) async fn send_pipeline(
        &self,
        pipe: &Pipeline,
        count: usize,
        wait: bool,
    ) -> RedisResult<Vec<Value>> {
        let (mut conn, generation) = match self.up() {
            Some(up) => up,
            None => self.wait(wait).await?,
        };
        let result = conn.send_packed_commands(pipe, 0, count).await;
        self.check(&result, generation);
        result
    }

    /// The connection (a clone: sending needs `&mut`) and its generation, if it is up.
    /// Apart from [`Link::wait`] so the common case is a plain call, not a nested future.
    fn up(&self) -> Option<(MultiplexedConnection, u64)> {
        let current = self.current.load();
        match &current.state {
            State::Up(conn) => Some((conn.clone(), current.generation)),
            State::Connecting(_) => None,
        }
    }

    /// Without a connection: the first connection (lazy connect) is awaited by whoever
    /// needs it, a reconnect only when `wait`.
    async fn wait(&self, wait: bool) -> RedisResult<(MultiplexedConnection, u64)> {
        let (attempt, generation) = {
            let current = self.current.load();
            match &current.state {
                State::Up(conn) => return Ok((conn.clone(), current.generation)),
                State::Connecting(attempt) => (attempt.clone(), current.generation),
            }
        };
        if !wait && generation > 0 {
            return Err(RedisError::from(io::Error::new(
                io::ErrorKind::NotConnected,
                "reconnecting",
            )));
        }
        let result = attempt.await;
        if result.is_err() {
            // A failed attempt stays failed: the next request needs a new one.
            self.broken(generation);
        }
        result.map(|conn| (conn, generation))
    }

    /// A connection that dropped, or a socket error, means the connection is gone.
    fn check<T>(&self, result: &RedisResult<T>, generation: u64) {
        if let Err(e) = result {
            if e.is_unrecoverable_error() {
                self.broken(generation);
            }
        }
    }

    /// Replace connection `generation` with a new attempt, unless that was done already.
    fn broken(&self, generation: u64) {
        let seen = self.current.load();
        if seen.generation != generation {
            return;
        }
        let next = generation + 1;
        let me = Arc::downgrade(&self.current);
        let attempt = attempt(me, &self.client, &self.config, &self.opts, next);
        let replacement = Arc::new(Current {
            generation: next,
            state: State::Connecting(attempt.clone()),
        });
        let before = self.current.compare_and_swap(&seen, replacement);
        // Only the request that swapped starts the attempt; it runs even if every waiting
        // request gives up, so the connection is back when the next one comes. Outside a
        // runtime the waiting requests drive it instead.
        if Arc::ptr_eq(&before, &seen) {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(attempt.map(drop));
            }
        }
    }
}

/// Connect (a reconnect tries `opts.retries` more times after a failure, with the jittered
/// backoff between); on success, put the connection in place if the link still waits for
/// this generation.
fn attempt(
    link: Weak<ArcSwap<Current>>,
    client: &redis::Client,
    config: &AsyncConnectionConfig,
    opts: &ConnectOptions,
    generation: u64,
) -> Attempt {
    let (client, config, opts) = (client.clone(), config.clone(), opts.clone());
    let retries = if generation == 0 { 0 } else { opts.retries };
    async move {
        let mut tries = 0;
        let conn = loop {
            match client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(conn) => break conn,
                Err(e) if tries >= retries || !e.is_unrecoverable_error() => return Err(e),
                Err(_) => {
                    rt::sleep(opts.backoff(tries)).await;
                    tries += 1;
                }
            }
        };
        if let Some(link) = link.upgrade() {
            let seen = link.load();
            if seen.generation == generation {
                let up = Arc::new(Current {
                    generation,
                    state: State::Up(conn.clone()),
                });
                link.compare_and_swap(&seen, up);
            }
        }
        Ok(conn)
    }
    .boxed()
    .shared()
}
