//! String commands: GET/SET (NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL), SETNX, SETEX,
//! PSETEX, GETSET, GETDEL, GETEX, MGET, MSET, MSETNX, APPEND, STRLEN and the counters.

use super::command::{Ctx, Spec, WRITE};
use super::db::Obj;
use super::reply::{
    bulk, fmt_human, int_arg, not_int, ok, parse_f64, parse_i64, syntax, Fail, Reply,
};
use redkit_protocol::Value;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("get", 2, 0, get),
    Spec::new("set", -3, WRITE, set),
    Spec::new("setnx", 3, WRITE, setnx),
    Spec::new("setex", 4, WRITE, setex),
    Spec::new("psetex", 4, WRITE, setex),
    Spec::new("getset", 3, WRITE, getset),
    Spec::new("getdel", 2, WRITE, getdel),
    Spec::new("getex", -2, WRITE, getex),
    Spec::new("mget", -2, 0, mget),
    Spec::new("mset", -3, WRITE, mset),
    Spec::new("msetnx", -3, WRITE, msetnx),
    Spec::new("append", 3, WRITE, append),
    Spec::new("strlen", 2, 0, strlen),
    Spec::new("incr", 2, WRITE, incr),
    Spec::new("decr", 2, WRITE, incr),
    Spec::new("incrby", 3, WRITE, incr),
    Spec::new("decrby", 3, WRITE, incr),
    Spec::new("incrbyfloat", 3, WRITE, incrbyfloat),
];

/// The string at `key`: `Ok(None)` when missing, WRONGTYPE for other types.
fn read(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Vec<u8>>, Fail> {
    Ok(ctx.db.typed::<Vec<u8>>(key, ctx.now)?.cloned())
}

fn or_nil(v: Option<Vec<u8>>) -> Value {
    v.map(Value::Bulk).unwrap_or(Value::Nil)
}

fn get(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(or_nil(read(ctx, &args[1])?))
}

/// A deadline option's value, checked like Redis: an integer, and positive.
fn deadline(ctx: &Ctx<'_>, cmd: &str, unit: &str, raw: &[u8]) -> Result<u64, Fail> {
    let n = int_arg(raw)?;
    let invalid = || Fail::err(format!("invalid expire time in '{cmd}' command"));
    if n <= 0 {
        return Err(invalid());
    }
    let at = match unit {
        "ex" => n
            .checked_mul(1000)
            .and_then(|ms| ms.checked_add(ctx.now as i64)),
        "px" => n.checked_add(ctx.now as i64),
        "exat" => n.checked_mul(1000),
        _ => Some(n),
    };
    at.map(|t| t as u64).ok_or_else(invalid)
}

fn set(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (mut nx, mut xx, mut get, mut keep) = (false, false, false, false);
    let mut expire: Option<u64> = None;
    let mut i = 3;
    while i < args.len() {
        let opt = String::from_utf8_lossy(&args[i]).to_ascii_lowercase();
        match opt.as_str() {
            "nx" if !xx => nx = true,
            "xx" if !nx => xx = true,
            "get" => get = true,
            "keepttl" if expire.is_none() => keep = true,
            "ex" | "px" | "exat" | "pxat" if expire.is_none() && !keep && i + 1 < args.len() => {
                expire = Some(deadline(ctx, "set", &opt, &args[i + 1])?);
                i += 1;
            }
            _ => return Err(syntax()),
        }
        i += 1;
    }
    let key = &args[1];
    let old = if get { Some(read(ctx, key)?) } else { None };
    let exists = ctx.db.exists(key, ctx.now);
    if (nx && exists) || (xx && !exists) {
        return Ok(old.map(or_nil).unwrap_or(Value::Nil));
    }
    let ttl = if keep {
        ctx.db.get(key, ctx.now).and_then(|e| e.expire_at)
    } else {
        expire
    };
    ctx.db.insert(key, Obj::Str(args[2].clone()), ttl);
    match old {
        Some(v) => Ok(or_nil(v)),
        None => ok(),
    }
}

fn setnx(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    if ctx.db.exists(&args[1], ctx.now) {
        return Ok(Value::Int(0));
    }
    ctx.db.insert(&args[1], Obj::Str(args[2].clone()), None);
    Ok(Value::Int(1))
}

fn setex(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let unit = if name == "setex" { "ex" } else { "px" };
    let at = deadline(ctx, &name, unit, &args[2])?;
    ctx.db.insert(&args[1], Obj::Str(args[3].clone()), Some(at));
    ok()
}

fn getset(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let old = read(ctx, &args[1])?;
    ctx.db.insert(&args[1], Obj::Str(args[2].clone()), None);
    Ok(or_nil(old))
}

fn getdel(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let old = read(ctx, &args[1])?;
    if old.is_some() {
        ctx.db.remove(&args[1]);
    }
    Ok(or_nil(old))
}

/// GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST].
fn getex(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let mut change: Option<Option<u64>> = None;
    let mut i = 2;
    while i < args.len() {
        let opt = String::from_utf8_lossy(&args[i]).to_ascii_lowercase();
        match opt.as_str() {
            "persist" if change.is_none() => change = Some(None),
            "ex" | "px" | "exat" | "pxat" if change.is_none() && i + 1 < args.len() => {
                change = Some(Some(deadline(ctx, "getex", &opt, &args[i + 1])?));
                i += 1;
            }
            _ => return Err(syntax()),
        }
        i += 1;
    }
    let value = read(ctx, &args[1])?;
    if let (Some(_), Some(at)) = (&value, change) {
        ctx.db.set_expire(&args[1], at);
    }
    Ok(or_nil(value))
}

fn mget(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    // MGET never fails: a key of another type reads as nil.
    let values = args[1..]
        .iter()
        .map(|k| or_nil(ctx.db.typed::<Vec<u8>>(k, ctx.now).ok().flatten().cloned()))
        .collect();
    Ok(Value::Array(values))
}

fn pairs(args: &[Vec<u8>]) -> Result<std::slice::ChunksExact<'_, Vec<u8>>, Fail> {
    if (args.len() - 1) % 2 != 0 {
        return Err(super::reply::arity(
            &String::from_utf8_lossy(&args[0]).to_ascii_lowercase(),
        ));
    }
    Ok(args[1..].chunks_exact(2))
}

fn mset(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    for kv in pairs(args)? {
        ctx.db.insert(&kv[0], Obj::Str(kv[1].clone()), None);
    }
    ok()
}

fn msetnx(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let kvs: Vec<_> = pairs(args)?.collect();
    if kvs.iter().any(|kv| ctx.db.exists(&kv[0], ctx.now)) {
        return Ok(Value::Int(0));
    }
    for kv in kvs {
        ctx.db.insert(&kv[0], Obj::Str(kv[1].clone()), None);
    }
    Ok(Value::Int(1))
}

fn append(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let s = ctx.db.typed_or_create::<Vec<u8>>(&args[1], ctx.now)?;
    s.extend_from_slice(&args[2]);
    Ok(Value::Int(s.len() as i64))
}

fn strlen(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(
        read(ctx, &args[1])?.map_or(0, |s| s.len() as i64),
    ))
}

/// INCR, DECR, INCRBY, DECRBY. The key keeps its deadline.
fn incr(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let by = match name.as_str() {
        "incr" => 1,
        "decr" => -1,
        "incrby" => int_arg(&args[2])?,
        _ => int_arg(&args[2])?
            .checked_neg()
            .ok_or_else(|| Fail::err("decrement would overflow"))?,
    };
    let s = ctx.db.typed_or_create::<Vec<u8>>(&args[1], ctx.now)?;
    let current = if s.is_empty() {
        0
    } else {
        parse_i64(s).ok_or_else(not_int)?
    };
    let next = current
        .checked_add(by)
        .ok_or_else(|| Fail::err("increment or decrement would overflow"))?;
    *s = next.to_string().into_bytes();
    Ok(Value::Int(next))
}

fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let by = parse_f64(&args[2]).ok_or_else(super::reply::not_float)?;
    if !by.is_finite() {
        return Err(Fail::err("increment would produce NaN or Infinity"));
    }
    let s = ctx.db.typed_or_create::<Vec<u8>>(&args[1], ctx.now)?;
    let current = if s.is_empty() {
        0.0
    } else {
        parse_f64(s).ok_or_else(super::reply::not_float)?
    };
    let next = current + by;
    if !next.is_finite() {
        return Err(Fail::err("increment would produce NaN or Infinity"));
    }
    *s = fmt_human(next).into_bytes();
    Ok(bulk(s.clone()))
}

#[cfg(test)]
mod tests {
    use crate::testing::run;
    use redkit_protocol::Value;

    #[test]
    fn set_options() {
        let e = crate::testing::engine();
        assert_eq!(
            run(&e, &["SET", "k", "v", "NX"]),
            Ok(Value::Status("OK".into()))
        );
        assert_eq!(run(&e, &["SET", "k", "w", "NX"]), Ok(Value::Nil));
        assert_eq!(
            run(&e, &["SET", "k", "w", "XX", "GET"]),
            Ok(Value::Bulk(b"v".to_vec()))
        );
        assert_eq!(
            run(&e, &["SET", "k", "w", "NX", "XX"]),
            Err("ERR syntax error".into())
        );
        assert_eq!(
            run(&e, &["SET", "k", "w", "EX", "0"]),
            Err("ERR invalid expire time in 'set' command".into())
        );
        assert_eq!(
            run(&e, &["SET", "k", "w", "PX", "100000"]),
            Ok(Value::Status("OK".into()))
        );
        run(&e, &["SET", "k", "x", "KEEPTTL"]).unwrap();
        assert!(matches!(run(&e, &["PTTL", "k"]), Ok(Value::Int(n)) if n > 99_000));
        run(&e, &["SET", "k", "x"]).unwrap();
        assert_eq!(run(&e, &["PTTL", "k"]), Ok(Value::Int(-1)));
        assert_eq!(run(&e, &["GETDEL", "k"]), Ok(Value::Bulk(b"x".to_vec())));
        assert_eq!(run(&e, &["EXISTS", "k"]), Ok(Value::Int(0)));
    }

    #[test]
    fn counters() {
        let e = crate::testing::engine();
        assert_eq!(run(&e, &["INCR", "n"]), Ok(Value::Int(1)));
        assert_eq!(run(&e, &["INCRBY", "n", "10"]), Ok(Value::Int(11)));
        assert_eq!(run(&e, &["DECRBY", "n", "2"]), Ok(Value::Int(9)));
        assert_eq!(
            run(&e, &["INCRBY", "n", "x"]),
            Err("ERR value is not an integer or out of range".into())
        );
        run(&e, &["SET", "max", "9223372036854775807"]).unwrap();
        assert_eq!(
            run(&e, &["INCR", "max"]),
            Err("ERR increment or decrement would overflow".into())
        );
        assert_eq!(
            run(&e, &["INCRBYFLOAT", "f", "10.5"]),
            Ok(Value::Bulk(b"10.5".to_vec()))
        );
        assert_eq!(
            run(&e, &["INCRBYFLOAT", "f", "0.1"]),
            Ok(Value::Bulk(b"10.6".to_vec()))
        );
        run(&e, &["LPUSH", "l", "a"]).unwrap();
        assert_eq!(
            run(&e, &["INCR", "l"]),
            Err("WRONGTYPE Operation against a key holding the wrong kind of value".into())
        );
        assert_eq!(
            run(&e, &["GET"]),
            Err("ERR wrong number of arguments for 'get' command".into())
        );
        assert_eq!(
            run(&e, &["NOPE", "a"]),
            Err("ERR unknown command 'NOPE', with args beginning with: 'a' ".into())
        );
    }
}
