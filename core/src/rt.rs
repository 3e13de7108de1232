//! The little the patterns need from a runtime — a clock, a timer, a deadline and cheap
//! randomness — with one implementation per target, so pattern code has no `cfg`.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};

/// Wall-clock time in milliseconds since the Unix epoch, as this host's clock reads it
/// (which may be off from the server's: see `crate::server_clock`).
pub fn now_ms() -> u64 {
    wall_ms().saturating_add_signed(SKEW_MS.load(Ordering::Relaxed))
}

#[cfg(not(target_arch = "wasm32"))]
fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(target_arch = "wasm32")]
fn wall_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// How far [`now_ms`] reads from the host's clock (0 but in tests: see [`skew_clock`]).
static SKEW_MS: AtomicI64 = AtomicI64::new(0);

/// Make [`now_ms`] read `ms` off the host's clock from now on (negative: behind), as a host
/// whose clock is wrong would. For tests of what a client with a bad clock does; the
/// process-wide setting is shared by every client in it.
#[doc(hidden)]
pub fn skew_clock(ms: i64) {
    SKEW_MS.store(ms, Ordering::Relaxed);
}

/// Wait for `d`.
#[cfg(not(target_arch = "wasm32"))]
pub async fn sleep(d: Duration) {
    tokio::time::sleep(d).await
}

/// Wait for `d`.
#[cfg(target_arch = "wasm32")]
pub async fn sleep(d: Duration) {
    match WASM_SLEEP.get() {
        Some(host_sleep) => host_sleep(d).await,
        None => gloo_timers::future::sleep(d).await,
    }
}

/// A timer the host provides on wasm; see [`set_wasm_sleep`].
#[cfg(target_arch = "wasm32")]
static WASM_SLEEP: std::sync::OnceLock<fn(Duration) -> crate::transport::BoxFuture<'static, ()>> =
    std::sync::OnceLock::new();

/// Let the wasm host supply the timer behind [`sleep`] (once; later calls are ignored).
/// The default (gloo-timers) fires a wasm closure from `setTimeout`; a host that
/// re-instantiates the module after a panic needs timers whose callbacks are its own, so a
/// timer of the dead instance cannot throw into the event loop.
#[cfg(target_arch = "wasm32")]
pub fn set_wasm_sleep(f: fn(Duration) -> crate::transport::BoxFuture<'static, ()>) {
    let _ = WASM_SLEEP.set(f);
}

/// Run `fut`, failing with [`Error::Timeout`] if it takes longer than `d`.
pub async fn timeout<T>(
    d: Duration,
    what: &str,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    use futures_util::future::{select, Either};
    let fut = std::pin::pin!(fut);
    let timer = std::pin::pin!(sleep(d));
    match select(fut, timer).await {
        Either::Left((r, _)) => r,
        Either::Right(_) => Err(took_longer(what, d, None)),
    }
}

/// `e` with the call a deadline cut named, as [`timeout`] names it: a request deadline the
/// transport enforces (a fail-safe read, a rate-limit decision) says only "the request".
pub fn name_timeout(e: Error, what: &str, d: Duration) -> Error {
    match e {
        Error::Timeout(m) if m.starts_with("the request ") => took_longer(what, d, None),
        Error::Timeout(m) => took_longer(what, d, Some(&m)),
        other => other,
    }
}

/// The timeout of `what`, cut at `d`, with what the transport said of it if anything.
fn took_longer(what: &str, d: Duration, why: Option<&str>) -> Error {
    Error::Timeout(match why {
        Some(why) => format!("{what} took longer than {d:?}: {why}"),
        None => format!("{what} took longer than {d:?}"),
    })
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

thread_local! {
    /// Per thread: every cache hit draws a number (XFetch), and one shared state was a
    /// cache line every worker thread fought over. 0 means "not seeded yet".
    static RNG_STATE: Cell<u64> = const { Cell::new(0) };
}

/// Seeds handed out so far: tells apart threads seeded in the same millisecond.
static SEEDS: AtomicU64 = AtomicU64::new(0);

/// A fast, non-cryptographic random number (splitmix64 over a per-thread counter seeded
/// from the clock). Good for jitter and sampling; never for secrets.
pub fn random_u64() -> u64 {
    RNG_STATE.with(|state| {
        let mut s = state.get();
        if s == 0 {
            s = seed();
        }
        s = s.wrapping_add(GOLDEN);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A starting state that differs per process, per thread and over time.
fn seed() -> u64 {
    let n = SEEDS.fetch_add(1, Ordering::Relaxed);
    let seed = now_ms() ^ GOLDEN ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    #[cfg(not(target_arch = "wasm32"))]
    let seed = seed ^ ((std::process::id() as u64) << 32);
    seed.max(1)
}

/// A random float in (0, 1]: never 0, so `ln` of it is finite.
pub fn random_unit() -> f64 {
    ((random_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
}

/// A random duration in `[0, max]`.
pub fn random_up_to(max: Duration) -> Duration {
    let ms = max.as_millis() as u64;
    if ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(random_u64() % (ms + 1))
}

/// A random token (32 hex characters) that identifies one lock holder.
pub fn token() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

/// After a process fork, the child must not produce the parent's random sequence. Call it
/// in the child, on the thread that forked (the only thread the child has).
pub fn reseed_after_fork() {
    RNG_STATE.with(|state| state.set(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_draw_different_sequences() {
        let draw = || (0..4).map(|_| random_u64()).collect::<Vec<_>>();
        let here = draw();
        let there = std::thread::spawn(draw).join().unwrap();
        assert_ne!(here, there);
        assert!(here.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn reseeding_starts_a_new_sequence() {
        random_u64();
        let before = RNG_STATE.with(Cell::get);
        reseed_after_fork();
        assert_eq!(RNG_STATE.with(Cell::get), 0);
        random_u64();
        assert_ne!(RNG_STATE.with(Cell::get), before.wrapping_add(GOLDEN));
    }

    #[test]
    fn random_unit_is_in_zero_one() {
        assert!((0..1000)
            .map(|_| random_unit())
            .all(|r| r > 0.0 && r <= 1.0));
    }
}
