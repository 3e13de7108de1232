//! Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SINTER,
//! SUNION, SDIFF.

use indexmap::IndexSet;

use super::command::{Ctx, Spec, WRITE};
use super::reply::{bulks, Fail, Reply};
use redkit_protocol::Value;

type Set = IndexSet<Vec<u8>>;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("sadd", -3, WRITE, sadd),
    Spec::new("srem", -3, WRITE, srem),
    Spec::new("smembers", 2, 0, smembers),
    Spec::new("sismember", 3, 0, sismember),
    Spec::new("smismember", -3, 0, smismember),
    Spec::new("scard", 2, 0, scard),
    Spec::new("spop", -2, WRITE, spop),
    Spec::new("sinter", -2, 0, combine),
    Spec::new("sunion", -2, 0, combine),
    Spec::new("sdiff", -2, 0, combine),
];

fn sadd(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let s = ctx.db.typed_or_create::<Set>(&args[1], ctx.now)?;
    Ok(Value::Int(
        args[2..].iter().filter(|m| s.insert((*m).clone())).count() as i64,
    ))
}

fn srem(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let Some(s) = ctx.db.typed::<Set>(&args[1], ctx.now)? else {
        return Ok(Value::Int(0));
    };
    let n = args[2..].iter().filter(|m| s.swap_remove(*m)).count();
    ctx.db.drop_if_empty(&args[1]);
    Ok(Value::Int(n as i64))
}

fn members(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Set, Fail> {
    Ok(ctx
        .db
        .typed::<Set>(key, ctx.now)?
        .cloned()
        .unwrap_or_default())
}

fn smembers(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(bulks(members(ctx, &args[1])?))
}

fn sismember(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let s = ctx.db.typed::<Set>(&args[1], ctx.now)?;
    Ok(Value::Int(s.is_some_and(|s| s.contains(&args[2])) as i64))
}

fn smismember(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let s = members(ctx, &args[1])?;
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|m| Value::Int(s.contains(m) as i64))
            .collect(),
    ))
}

fn scard(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(
        ctx.db
            .typed::<Set>(&args[1], ctx.now)?
            .map_or(0, |s| s.len() as i64),
    ))
}

fn spop(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    if args.len() > 3 {
        return Err(super::reply::syntax());
    }
    let count = match args.get(2) {
        Some(raw) => Some(
            super::reply::parse_i64(raw)
                .filter(|n| *n >= 0)
                .ok_or_else(|| Fail::err("value is out of range, must be positive"))?
                as usize,
        ),
        None => None,
    };
    let Some(s) = ctx.db.typed::<Set>(&args[1], ctx.now)? else {
        return Ok(if count.is_some() {
            Value::Array(Vec::new())
        } else {
            Value::Nil
        });
    };
    let mut take = || {
        let i = (random_u64() % s.len().max(1) as u64) as usize;
        s.swap_remove_index(i)
    };
    let reply = match count {
        None => take().map(Value::Bulk).unwrap_or(Value::Nil),
        Some(n) => bulks((0..n).map_while(|_| take()).collect::<Vec<_>>()),
    };
    ctx.db.drop_if_empty(&args[1]);
    Ok(reply)
}

/// SINTER, SUNION, SDIFF over the sets named in `args[1..]`.
fn combine(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let op = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let mut sets = Vec::with_capacity(args.len() - 1);
    for key in &args[1..] {
        sets.push(members(ctx, key)?);
    }
    let mut rest = sets.into_iter();
    let first = rest.next().unwrap_or_default();
    let out = rest.fold(first, |acc, s| match op.as_str() {
        "sinter" => acc.into_iter().filter(|m| s.contains(m)).collect(),
        "sunion" => acc.into_iter().chain(s).collect(),
        _ => acc.into_iter().filter(|m| !s.contains(m)).collect(),
    });
    Ok(bulks(out))
}

/// A random number for SPOP. `RandomState` is seeded randomly per thread and stepped on
/// every `new()`, so hashing nothing with a fresh one is a cheap draw with no extra crate.
fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(())
}
