//! The embedded engine: an in-process server that speaks the Redis commands redkit uses and
//! runs the same Lua scripts (Lua 5.1, as in Redis), with Redis's semantics and error
//! replies. `redkit::Client::embedded()` runs every pattern on it with no server at all.
//!
//! It knows no pattern: it speaks [`redkit_protocol`]'s commands and replies only, and the
//! `redkit` crate adapts it to its `Transport`.
//!
//! One lock guards the whole keyspace, so every command and every script is atomic with
//! respect to every other client of the engine, as on a real server. Expired keys go
//! lazily (when touched) and actively (a sweeper thread reads the deadline index), so
//! dead keys do not pile up. Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, ...) wait
//! for the next write and try again, up to their timeout.
//!
//! Commands: strings (GET, SET with NX/XX/GET/EX/PX/EXAT/PXAT/KEEPTTL, SETNX, SETEX, PSETEX,
//! GETSET, GETDEL, GETEX, MGET, MSET, MSETNX, APPEND, STRLEN, INCR, DECR, INCRBY, DECRBY,
//! INCRBYFLOAT); keys (DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RENAME, EXPIRE, PEXPIRE,
//! EXPIREAT, PEXPIREAT with NX/XX/GT/LT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST);
//! hashes (HSET, HMSET, HSETNX, HGET, HMGET, HGETALL, HKEYS, HVALS, HDEL, HEXISTS, HLEN,
//! HINCRBY, HINCRBYFLOAT); lists (LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LRANGE, LLEN,
//! LINDEX, LSET, LREM, LTRIM, LMOVE, RPOPLPUSH, BLPOP, BRPOP, BLMOVE, BRPOPLPUSH); sets
//! (SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SINTER, SUNION, SDIFF);
//! sorted sets (ZADD with NX/XX/GT/LT/CH/INCR, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD,
//! ZCOUNT, ZRANK, ZREVRANK, ZRANGE with BYSCORE/REV/LIMIT/WITHSCORES, ZREVRANGE,
//! ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZREMRANGEBYSCORE, ZREMRANGEBYRANK, ZPOPMIN, ZPOPMAX,
//! BZPOPMIN, BZPOPMAX); streams (XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XREAD with
//! BLOCK, XGROUP, XREADGROUP with BLOCK, XACK, XPENDING, XCLAIM, XAUTOCLAIM); pub/sub
//! (PUBLISH, and [`Engine::subscribe`] in process); scripting (EVAL, EVALSHA, EVAL_RO,
//! EVALSHA_RO, SCRIPT LOAD/EXISTS/FLUSH/KILL, with `redis.*`, `cjson`, `cmsgpack`, `bit`);
//! server (PING, ECHO, TIME, INFO, DBSIZE, FLUSHDB, FLUSHALL, SELECT 0, CONFIG GET).
//! Scores print as Redis 7.0 prints them (`%.17g`).

mod blocking;
mod command;
mod db;
mod glob;
mod hashes;
mod keys;
mod lists;
mod lua_libs;
mod lua_msgpack;
mod pubsub;
mod reply;
mod scripting;
mod server;
mod sets;
mod stream_groups;
mod streams;
mod strings;
mod zset;
mod zsets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};

use command::{check, dispatch, now_ms, now_us, Ctx, WRITE};
use db::Db;
use pubsub::PubSub;
use redkit_protocol::{server_error, Cmd, Error, Result, ToArg, Value};
use reply::{Fail, Reply};
use scripting::Scripting;

pub use pubsub::Message;

/// Settings of an embedded engine.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Key namespace of the client (default `rk`).
    pub prefix: String,
    /// A script running longer is stopped with an error, where Redis would leave every
    /// other client waiting (default 10 s).
    pub script_timeout: Duration,
    /// How often expired keys are swept without being touched (default 100 ms).
    pub sweep_interval: Duration,
    /// Most memory the Lua state may hold, all scripts together (default 1 GiB): past it
    /// a script fails with an error instead of the process failing an allocation (0: no
    /// limit).
    pub script_memory_limit: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            prefix: "rk".into(),
            script_timeout: Duration::from_secs(10),
            sweep_interval: Duration::from_millis(100),
            script_memory_limit: 1 << 30,
        }
    }
}

/// Most expired keys removed per sweep tick, so one tick never holds the lock for long.
const SWEEP_BATCH: usize = 20_000;

struct State {
    db: Db,
    pubsub: PubSub,
    scripting: Scripting,
}

impl State {
    /// Run one command now (blocking commands answer without waiting). Whether it was a
    /// write comes back too, so blocked clients can be woken.
    fn exec(&mut self, args: &[Vec<u8>]) -> (Reply, bool) {
        let now = now_us();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let spec = check(args, false)?;
            if scripting::is_scripting(&args[0]) {
                // A script may write and still return nil: always worth a wake-up.
                let reply = self
                    .scripting
                    .run(&mut self.db, &mut self.pubsub, now, args);
                return Ok((reply, spec.flags & WRITE != 0));
            }
            let mut ctx = Ctx::new(&mut self.db, &mut self.pubsub, now, false);
            let reply = dispatch(&mut ctx, args);
            // A write that answers nil changed nothing a blocked client waits for (and a
            // blocked client's own empty attempt must not wake itself up).
            let wrote = spec.flags & WRITE != 0 && matches!(&reply, Ok(v) if *v != Value::Nil);
            Ok((reply, wrote))
        }));
        match outcome {
            Ok(Ok((reply, write))) => (reply, write),
            Ok(Err(fail)) => (Err(fail), false),
            Err(_) => (
                Err(Fail::err("internal error in the embedded engine")),
                false,
            ),
        }
    }
}

struct Shared {
    state: Mutex<State>,
    /// Signalled after writes while someone is blocked.
    written: Notify,
    blocked: AtomicUsize,
    closed: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn exec(&self, args: &[Vec<u8>]) -> Reply {
        let (reply, write) = self.lock().exec(args);
        if write && self.blocked.load(Ordering::Acquire) > 0 {
            self.written.notify_waiters();
        }
        reply
    }
}

/// An in-process Redis-compatible engine. Cheap to clone: clones share one keyspace.
/// The `redkit` crate wraps it in a `Transport` (`redkit::Engine`), which is what
/// `Client::embedded()` runs on.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("keys", &self.shared.lock().db.len())
            .finish()
    }
}

impl Engine {
    /// An empty engine with the default options.
    pub fn new() -> Result<Engine> {
        Engine::with_options(&EmbeddedOptions::default())
    }

    /// An empty engine. Starts the expiry sweeper thread, which ends with the engine.
    pub fn with_options(opts: &EmbeddedOptions) -> Result<Engine> {
        if opts.script_timeout.is_zero() || opts.sweep_interval.is_zero() {
            return Err(Error::invalid(
                "script_timeout and sweep_interval must be greater than zero",
            ));
        }
        let scripting = Scripting::new(opts.script_timeout, opts.script_memory_limit)
            .map_err(|f| Error::Server(f.0))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                db: Db::default(),
                pubsub: PubSub::default(),
                scripting,
            }),
            written: Notify::new(),
            blocked: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        });
        spawn_sweeper(Arc::downgrade(&shared), opts.sweep_interval)?;
        Ok(Engine { shared })
    }

    fn ensure_open(&self) -> Result<()> {
        if self.shared.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Run one command now and return its reply; an error reply is an `Err`. Blocking
    /// commands answer at once (nil when there is nothing to pop), as inside a script.
    pub fn execute(&self, cmd: Cmd) -> Result<Value> {
        self.ensure_open()?;
        self.shared
            .exec(&cmd.into_parts())
            .map_err(|Fail(msg)| server_error(msg))
    }

    /// Run a command, waiting as Redis would when it is a blocking one.
    async fn run(&self, cmd: Cmd) -> Reply {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Fail("closed".into()));
        }
        let mut args = cmd.into_parts();
        let wait = {
            let mut state = self.shared.lock();
            let st = &mut *state;
            let spec = check(&args, false)?;
            match spec.block {
                None => None,
                Some(block) => {
                    let mut ctx = Ctx::new(&mut st.db, &mut st.pubsub, now_us(), false);
                    block(&mut ctx, &mut args)?
                }
            }
        };
        let Some(limit) = wait else {
            return self.shared.exec(&args);
        };
        self.wait_for(&args, limit).await
    }

    /// Try a blocking command after every write until it answers non-nil or `limit` passes.
    async fn wait_for(&self, args: &[Vec<u8>], limit: Option<Duration>) -> Reply {
        struct Blocked<'a>(&'a AtomicUsize);
        impl Drop for Blocked<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.shared.blocked.fetch_add(1, Ordering::AcqRel);
        let _blocked = Blocked(&self.shared.blocked);
        let deadline = limit.map(|d| tokio::time::Instant::now() + d);
        loop {
            // Registered before trying, so a write between the try and the wait is seen.
            let notified = self.shared.written.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let reply = self.shared.exec(args)?;
            if reply != Value::Nil {
                return Ok(reply);
            }
            if self.shared.closed.load(Ordering::Acquire) {
                return Err(Fail("closed".into()));
            }
            match deadline {
                Some(at) => {
                    if tokio::time::timeout_at(at, notified).await.is_err() {
                        return Ok(Value::Nil);
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Run one command as a client of a server would: blocking commands wait (up to their
    /// timeout) for a write that lets them answer, and an error reply is an `Err`.
    pub async fn send(&self, cmd: Cmd) -> Result<Value> {
        // The engine answers without waiting on I/O. Yielding once per command, as a
        // round trip to a server would, keeps a loop of commands from starving the
        // runtime's other tasks and keeps tasks that share the engine progressing evenly.
        tokio::task::yield_now().await;
        match self.run(cmd).await {
            Ok(v) => Ok(v),
            Err(_) if self.shared.closed.load(Ordering::Acquire) => Err(Error::Closed),
            Err(Fail(msg)) => Err(server_error(msg)),
        }
    }

    /// Run several commands in order, one reply each: an error reply stays in its slot as
    /// a [`Value::Error`], as in a pipeline to a server, so one failed command does not hide
    /// the others' results.
    pub async fn pipeline(&self, cmds: Vec<Cmd>) -> Result<Vec<Value>> {
        let mut replies = Vec::with_capacity(cmds.len());
        for cmd in cmds {
            replies.push(match self.send(cmd).await {
                Ok(v) => v,
                Err(Error::Closed) => return Err(Error::Closed),
                Err(Error::Server(msg) | Error::Script(msg)) => Value::Error(msg),
                Err(e) => return Err(e),
            });
        }
        Ok(replies)
    }

    /// Stop: later commands fail with [`Error::Closed`] and blocked ones give up. Clones
    /// share the one engine, so closing one closes them all.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.written.notify_waiters();
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
        self.ensure_open()?;
        let channels: Vec<Vec<u8>> = channels.into_iter().map(|c| c.to_arg()).collect();
        let patterns: Vec<Vec<u8>> = patterns.into_iter().map(|p| p.to_arg()).collect();
        if channels.is_empty() && patterns.is_empty() {
            return Err(Error::invalid(
                "subscribe needs at least one channel or pattern",
            ));
        }
        let (id, rx) = self.shared.lock().pubsub.subscribe(channels, patterns);
        Ok(Subscription {
            rx,
            id,
            engine: Arc::downgrade(&self.shared),
        })
    }

    /// How many keys are stored right now, expired-but-unswept ones included (DBSIZE).
    pub fn dbsize(&self) -> usize {
        self.shared.lock().db.len()
    }
}

/// In-process subscription to an [`Engine`]'s pub/sub.
#[derive(Debug)]
pub struct Subscription {
    rx: mpsc::Receiver<Message>,
    id: u64,
    engine: Weak<Shared>,
}

impl Subscription {
    /// The next message; `None` once the engine is closed or dropped, or when this
    /// subscriber fell more than 65 536 messages behind and was cut off.
    pub async fn recv(&mut self) -> Option<Message> {
        self.rx.recv().await
    }

    /// A message already waiting, if any.
    pub fn try_recv(&mut self) -> Option<Message> {
        self.rx.try_recv().ok()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(shared) = self.engine.upgrade() {
            shared.lock().pubsub.unsubscribe(self.id);
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

/// The active half of expiry: a thread that wakes every `interval` and deletes keys whose
/// deadline passed, whether or not anyone touches them. It holds only a weak reference and
/// ends when the engine is dropped or closed.
fn spawn_sweeper(shared: Weak<Shared>, interval: Duration) -> Result<()> {
    std::thread::Builder::new()
        .name("redkit-embedded-expiry".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if shared.closed.load(Ordering::Acquire) {
                return;
            }
            shared.lock().db.sweep(now_ms(), SWEEP_BATCH);
        })
        .map(|_| ())
        .map_err(|e| Error::Server(format!("cannot start the expiry thread: {e}")))
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A fresh engine for a unit test.
    pub fn engine() -> Engine {
        Engine::new().expect("engine")
    }

    /// Run one command; the error reply's text on failure.
    pub fn run(e: &Engine, args: &[&str]) -> std::result::Result<Value, String> {
        e.shared
            .exec(
                &args
                    .iter()
                    .map(|a| a.as_bytes().to_vec())
                    .collect::<Vec<_>>(),
            )
            .map_err(|f| f.0)
    }
}
