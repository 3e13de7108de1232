//! Server commands: PING, ECHO, TIME, INFO, DBSIZE, FLUSHDB, FLUSHALL, SELECT 0, and the
//! few CONFIG GET parameters `Client::check` reads.

use super::command::{Ctx, Spec, WRITE};
use super::reply::{bulk, bulks, int_arg, ok, Fail, Reply};
use redkit_protocol::Value;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("ping", -1, 0, ping),
    Spec::new("echo", 2, 0, echo),
    Spec::new("time", 1, 0, time),
    Spec::new("info", -1, 0, info),
    Spec::new("dbsize", 1, 0, dbsize),
    Spec::new("flushdb", -1, WRITE, flush),
    Spec::new("flushall", -1, WRITE, flush),
    Spec::new("select", 2, 0, select),
    Spec::new("config", -2, 0, config),
];

/// The Redis version whose semantics the engine follows.
pub(crate) const REDIS_VERSION: &str = "7.0.0";

fn ping(_: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    match args.len() {
        1 => Ok(Value::Status("PONG".into())),
        2 => Ok(bulk(args[1].clone())),
        _ => Err(super::reply::arity("ping")),
    }
}

fn echo(_: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(bulk(args[1].clone()))
}

/// The command's instant: inside a script, the script's start, the same instant key
/// expiry is measured on (Redis 7 freezes that clock too).
fn time(ctx: &mut Ctx<'_>, _: &[Vec<u8>]) -> Reply {
    Ok(bulks([
        (ctx.now_us / 1_000_000).to_string(),
        (ctx.now_us % 1_000_000).to_string(),
    ]))
}

fn info(ctx: &mut Ctx<'_>, _: &[Vec<u8>]) -> Reply {
    let text = format!(
        "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_mode:standalone\r\nredkit_engine:embedded\r\n\
         \r\n# Persistence\r\naof_enabled:0\r\n\
         \r\n# Memory\r\nmaxmemory_policy:noeviction\r\n\
         \r\n# Keyspace\r\ndb0:keys={},expires={}\r\n",
        ctx.db.len(),
        ctx.db.volatile_len()
    );
    Ok(bulk(text))
}

fn dbsize(ctx: &mut Ctx<'_>, _: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(ctx.db.len() as i64))
}

fn flush(ctx: &mut Ctx<'_>, _: &[Vec<u8>]) -> Reply {
    ctx.db.clear();
    ok()
}

fn select(_: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    match int_arg(&args[1])? {
        0 => ok(),
        _ => Err(Fail::err("DB index is out of range")),
    }
}

/// CONFIG GET for the settings the engine has an answer to; nothing else.
fn config(_: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    if !args[1].eq_ignore_ascii_case(b"get") || args.len() != 3 {
        return Err(Fail::err(
            "the embedded engine supports only CONFIG GET <parameter>",
        ));
    }
    let known = [
        ("save", ""),
        ("appendonly", "no"),
        ("maxmemory-policy", "noeviction"),
    ];
    let pattern = &args[2];
    Ok(bulks(
        known
            .iter()
            .filter(|(k, _)| super::glob::glob_match(&pattern.to_ascii_lowercase(), k.as_bytes()))
            .flat_map(|(k, v)| [k.as_bytes().to_vec(), v.as_bytes().to_vec()]),
    ))
}
