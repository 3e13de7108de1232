//! Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, ...): their timeouts. The engine runs
//! such a command without waiting; while it answers nil, the caller waits for the next
//! write and tries again, until the timeout (see `Engine::run_blocking`).

use std::time::Duration;

use super::command::Ctx;
use super::reply::{parse_f64, Fail};

/// A timeout in seconds as Redis 6+ takes it (a double; 0 waits forever).
pub(crate) fn seconds(raw: &[u8]) -> Result<Option<Duration>, Fail> {
    let secs = parse_f64(raw)
        .filter(|s| s.is_finite())
        .ok_or_else(|| Fail::err("timeout is not a float or out of range"))?;
    // Redis converts to milliseconds in a signed 64-bit integer: a value past it wraps
    // negative there, and is refused here with the same words.
    if secs < 0.0 || secs * 1000.0 >= i64::MAX as f64 {
        return Err(Fail::err("timeout is negative"));
    }
    Ok((secs > 0.0).then(|| Duration::from_secs_f64(secs)))
}

/// The [`super::command::BlockFn`] of commands whose last argument is the timeout.
pub(crate) fn last_arg_timeout(
    _: &mut Ctx<'_>,
    args: &mut [Vec<u8>],
) -> Result<Option<Option<Duration>>, Fail> {
    let raw = args.last().expect("arity checked");
    seconds(raw).map(Some)
}
