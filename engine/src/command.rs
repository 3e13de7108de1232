//! The command table: name, arity and handler of every command the engine speaks, and the
//! one dispatch path (arity checks, unknown commands, what scripts may not call).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use super::db::Db;
use super::pubsub::PubSub;
use super::reply::{arity, Fail, Reply};

/// What a handler works on: the keyspace, the pub/sub registry and the command's clock.
pub(crate) struct Ctx<'a> {
    pub db: &'a mut Db,
    pub pubsub: &'a mut PubSub,
    /// Unix ms, fixed for one command or one whole script (as Redis 7 does).
    pub now: u64,
    /// The same instant in µs: what TIME answers, so a script that reads TIME and then
    /// sets a relative expiry agrees with the clock that expiry is measured on.
    pub now_us: u64,
    /// Inside EVAL: blocking commands answer at once, some commands are refused.
    pub in_script: bool,
}

impl<'a> Ctx<'a> {
    /// A context at the instant `now_us` (Unix µs).
    pub fn new(db: &'a mut Db, pubsub: &'a mut PubSub, now_us: u64, in_script: bool) -> Self {
        Ctx {
            db,
            pubsub,
            now: now_us / 1000,
            now_us,
            in_script,
        }
    }
}

/// Unix time in µs.
pub(crate) fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Unix time in ms.
pub(crate) fn now_ms() -> u64 {
    now_us() / 1000
}

/// A command implementation; `args[0]` is the command name, as Redis's argv.
pub(crate) type Handler = fn(&mut Ctx<'_>, &[Vec<u8>]) -> Reply;

/// How long a blocking command may wait: `None` for "do not block",
/// `Some(None)` for forever, `Some(Some(d))` for at most `d`. May rewrite the arguments
/// (XREAD pins `$` to the last id at the moment it starts blocking).
pub(crate) type BlockFn =
    fn(&mut Ctx<'_>, &mut [Vec<u8>]) -> Result<Option<Option<Duration>>, Fail>;

/// The command changes the keyspace (blocked clients may now be served).
pub(crate) const WRITE: u8 = 1;
/// Refused inside scripts.
pub(crate) const NOSCRIPT: u8 = 2;

/// One command.
pub(crate) struct Spec {
    pub name: &'static str,
    /// Redis's convention: `n` exactly n words with the name, `-n` at least n.
    pub arity: i32,
    pub flags: u8,
    pub run: Handler,
    pub block: Option<BlockFn>,
}

impl Spec {
    /// A plain command.
    pub const fn new(name: &'static str, arity: i32, flags: u8, run: Handler) -> Spec {
        Spec {
            name,
            arity,
            flags,
            run,
            block: None,
        }
    }
    /// A command that may block outside scripts.
    pub const fn blocking(
        name: &'static str,
        arity: i32,
        flags: u8,
        run: Handler,
        block: BlockFn,
    ) -> Spec {
        Spec {
            name,
            arity,
            flags,
            run,
            block: Some(block),
        }
    }
}

static TABLE: LazyLock<HashMap<&'static str, &'static Spec>> = LazyLock::new(|| {
    [
        super::strings::COMMANDS,
        super::keys::COMMANDS,
        super::hashes::COMMANDS,
        super::lists::COMMANDS,
        super::sets::COMMANDS,
        super::zsets::COMMANDS,
        super::streams::COMMANDS,
        super::stream_groups::COMMANDS,
        super::server::COMMANDS,
        super::pubsub::COMMANDS,
        super::scripting::COMMANDS,
    ]
    .into_iter()
    .flatten()
    .map(|s| (s.name, s))
    .collect()
});

/// The spec of a command by name (any case).
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Spec> {
    let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    TABLE.get(lower.as_str()).copied()
}

/// Find, check and run one command.
pub(crate) fn dispatch(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let spec = check(args, ctx.in_script)?;
    match spec.block {
        // Validates the timeout (and pins `$` ids) even where nothing waits.
        Some(block) => {
            let mut args = args.to_vec();
            block(ctx, &mut args)?;
            (spec.run)(ctx, &args)
        }
        None => (spec.run)(ctx, args),
    }
}

/// The spec of `args`, after the checks every command goes through.
pub(crate) fn check(args: &[Vec<u8>], in_script: bool) -> Result<&'static Spec, Fail> {
    let Some(name) = args.first() else {
        return Err(Fail::err("empty command"));
    };
    let Some(spec) = lookup(name) else {
        if in_script {
            return Err(Fail::err("Unknown Redis command called from script"));
        }
        let shown: String = args[1..]
            .iter()
            .map(|a| format!("'{}' ", String::from_utf8_lossy(a)))
            .collect();
        return Err(Fail::err(format!(
            "unknown command '{}', with args beginning with: {shown}",
            String::from_utf8_lossy(name)
        )));
    };
    let n = args.len() as i32;
    if (spec.arity > 0 && n != spec.arity) || (spec.arity < 0 && n < -spec.arity) {
        return Err(arity(spec.name));
    }
    if in_script && spec.flags & NOSCRIPT != 0 {
        return Err(Fail::err("This Redis command is not allowed from script"));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::TABLE;
    use crate::testing::{engine, run};

    /// Every command with many malformed argument lists: an error reply is fine, a panic
    /// (reported as an internal error) is not.
    #[test]
    fn no_argument_list_panics_a_command() {
        let pool = [
            "k",
            "",
            "0",
            "-1",
            "x",
            "1.5",
            "inf",
            "-inf",
            "(1",
            "$",
            ">",
            "*",
            "0-0",
            "1-*",
            "LIMIT",
            "WITHSCORES",
            "STREAMS",
            "COUNT",
            "BLOCK",
            "GROUP",
            "MAXLEN",
            "~",
            "NX",
            "XX",
            "GT",
            "LT",
            "CH",
            "INCR",
            "EX",
            "PX",
            "GET",
            "KEEPTTL",
            "REV",
            "BYSCORE",
            "LEFT",
            "RIGHT",
            "MKSTREAM",
            "JUSTID",
            "IDLE",
            "99999999999999999999",
            "9223372036854775807",
            "-9223372036854775808",
            "return redis.call('get', KEYS[1])",
            "1",
        ];
        let e = engine();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut names: Vec<_> = TABLE.keys().copied().collect();
        names.sort_unstable();
        for round in 0..400 {
            // Give the keys every type now and then, so commands meet the wrong ones.
            let setup: &[&[&str]] = match round % 4 {
                0 => &[&["SET", "k", "1"]],
                1 => &[&["DEL", "k"], &["RPUSH", "k", "a"]],
                2 => &[&["DEL", "k"], &["ZADD", "k", "1", "a"]],
                _ => &[
                    &["DEL", "k"],
                    &["XADD", "k", "*", "f", "v"],
                    &["XGROUP", "CREATE", "k", "GROUP", "0"],
                ],
            };
            for cmd in setup {
                let _ = run(&e, cmd);
            }
            for name in &names {
                let n = (next() % 10) as usize;
                let mut cmd = vec![*name];
                cmd.extend((0..n).map(|_| pool[(next() % pool.len() as u64) as usize]));
                if let Err(msg) = run(&e, &cmd) {
                    assert!(!msg.contains("internal error"), "{cmd:?} panicked");
                }
            }
        }
    }
}
