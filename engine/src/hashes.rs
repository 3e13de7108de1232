//! Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HGETALL, HKEYS, HVALS, HDEL, HEXISTS,
//! HLEN, HINCRBY, HINCRBYFLOAT.

use indexmap::IndexMap;

use super::command::{Ctx, Spec, WRITE};
use super::reply::{arity, bulk, bulks, fmt_human, int_arg, ok, parse_f64, parse_i64, Fail, Reply};
use redkit_protocol::Value;

type Hash = IndexMap<Vec<u8>, Vec<u8>>;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("hset", -4, WRITE, hset),
    Spec::new("hmset", -4, WRITE, hset),
    Spec::new("hsetnx", 4, WRITE, hsetnx),
    Spec::new("hget", 3, 0, hget),
    Spec::new("hmget", -3, 0, hmget),
    Spec::new("hgetall", 2, 0, hgetall),
    Spec::new("hkeys", 2, 0, hgetall),
    Spec::new("hvals", 2, 0, hgetall),
    Spec::new("hdel", -3, WRITE, hdel),
    Spec::new("hexists", 3, 0, hexists),
    Spec::new("hlen", 2, 0, hlen),
    Spec::new("hincrby", 4, WRITE, hincrby),
    Spec::new("hincrbyfloat", 4, WRITE, hincrbyfloat),
];

fn name(args: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&args[0]).to_ascii_lowercase()
}

fn hset(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    if args.len() % 2 != 0 {
        return Err(arity(&name(args)));
    }
    let h = ctx.db.typed_or_create::<Hash>(&args[1], ctx.now)?;
    let added = args[2..]
        .chunks_exact(2)
        .filter(|fv| h.insert(fv[0].clone(), fv[1].clone()).is_none())
        .count();
    if name(args) == "hmset" {
        ok()
    } else {
        Ok(Value::Int(added as i64))
    }
}

fn hsetnx(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let h = ctx.db.typed_or_create::<Hash>(&args[1], ctx.now)?;
    if h.contains_key(&args[2]) {
        return Ok(Value::Int(0));
    }
    h.insert(args[2].clone(), args[3].clone());
    Ok(Value::Int(1))
}

fn field(ctx: &mut Ctx<'_>, key: &[u8], f: &[u8]) -> Result<Value, Fail> {
    let h = ctx.db.typed::<Hash>(key, ctx.now)?;
    Ok(h.and_then(|h| h.get(f))
        .map(|v| bulk(v.clone()))
        .unwrap_or(Value::Nil))
}

fn hget(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    field(ctx, &args[1], &args[2])
}

fn hmget(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    args[2..]
        .iter()
        .map(|f| field(ctx, &args[1], f))
        .collect::<Result<_, _>>()
        .map(Value::Array)
}

/// HGETALL, HKEYS, HVALS.
fn hgetall(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let which = name(args);
    let Some(h) = ctx.db.typed::<Hash>(&args[1], ctx.now)? else {
        return Ok(Value::Array(Vec::new()));
    };
    Ok(match which.as_str() {
        "hkeys" => bulks(h.keys().cloned()),
        "hvals" => bulks(h.values().cloned()),
        _ => bulks(h.iter().flat_map(|(k, v)| [k.clone(), v.clone()])),
    })
}

fn hdel(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let Some(h) = ctx.db.typed::<Hash>(&args[1], ctx.now)? else {
        return Ok(Value::Int(0));
    };
    let n = args[2..]
        .iter()
        .filter(|f| h.shift_remove(*f).is_some())
        .count();
    ctx.db.drop_if_empty(&args[1]);
    Ok(Value::Int(n as i64))
}

fn hexists(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let h = ctx.db.typed::<Hash>(&args[1], ctx.now)?;
    Ok(Value::Int(
        h.is_some_and(|h| h.contains_key(&args[2])) as i64
    ))
}

fn hlen(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let h = ctx.db.typed::<Hash>(&args[1], ctx.now)?;
    Ok(Value::Int(h.map_or(0, |h| h.len() as i64)))
}

fn hincrby(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let by = int_arg(&args[3])?;
    let current = match ctx
        .db
        .typed::<Hash>(&args[1], ctx.now)?
        .and_then(|h| h.get(&args[2]))
    {
        Some(v) => parse_i64(v).ok_or_else(|| Fail::err("hash value is not an integer"))?,
        None => 0,
    };
    let next = current
        .checked_add(by)
        .ok_or_else(|| Fail::err("increment or decrement would overflow"))?;
    let h = ctx.db.typed_or_create::<Hash>(&args[1], ctx.now)?;
    h.insert(args[2].clone(), next.to_string().into_bytes());
    Ok(Value::Int(next))
}

fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let by = parse_f64(&args[3]).ok_or_else(super::reply::not_float)?;
    let current = match ctx
        .db
        .typed::<Hash>(&args[1], ctx.now)?
        .and_then(|h| h.get(&args[2]))
    {
        Some(v) => parse_f64(v).ok_or_else(|| Fail::err("hash value is not a float"))?,
        None => 0.0,
    };
    let next = current + by;
    if !next.is_finite() {
        return Err(Fail::err("increment would produce NaN or Infinity"));
    }
    let text = fmt_human(next).into_bytes();
    let h = ctx.db.typed_or_create::<Hash>(&args[1], ctx.now)?;
    h.insert(args[2].clone(), text.clone());
    Ok(bulk(text))
}
