//! List commands: LPUSH/RPUSH(X), LPOP/RPOP with count, LRANGE, LLEN, LINDEX, LSET, LREM,
//! LTRIM, LMOVE, RPOPLPUSH, and the blocking BLPOP, BRPOP, BLMOVE, BRPOPLPUSH.

use std::collections::VecDeque;

use super::blocking::last_arg_timeout;
use super::command::{Ctx, Spec, WRITE};
use super::reply::{bulk, bulks, int_arg, is, no_such_key, ok, syntax, Fail, Reply};
use redkit_protocol::Value;

type List = VecDeque<Vec<u8>>;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("lpush", -3, WRITE, push),
    Spec::new("rpush", -3, WRITE, push),
    Spec::new("lpushx", -3, WRITE, push),
    Spec::new("rpushx", -3, WRITE, push),
    Spec::new("lpop", -2, WRITE, pop),
    Spec::new("rpop", -2, WRITE, pop),
    Spec::new("lrange", 4, 0, lrange),
    Spec::new("llen", 2, 0, llen),
    Spec::new("lindex", 3, 0, lindex),
    Spec::new("lset", 4, WRITE, lset),
    Spec::new("lrem", 4, WRITE, lrem),
    Spec::new("ltrim", 4, WRITE, ltrim),
    Spec::new("lmove", 5, WRITE, lmove),
    Spec::new("rpoplpush", 3, WRITE, lmove),
    Spec::blocking("blpop", -3, WRITE, bpop, last_arg_timeout),
    Spec::blocking("brpop", -3, WRITE, bpop, last_arg_timeout),
    Spec::blocking("blmove", 6, WRITE, lmove, last_arg_timeout),
    Spec::blocking("brpoplpush", 4, WRITE, lmove, last_arg_timeout),
];

fn name(args: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&args[0]).to_ascii_lowercase()
}

fn push(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let which = name(args);
    if which.ends_with('x') && !ctx.db.exists(&args[1], ctx.now) {
        // Still a type check: LPUSHX on a string is WRONGTYPE only if it exists.
        return Ok(Value::Int(0));
    }
    let l = ctx.db.typed_or_create::<List>(&args[1], ctx.now)?;
    for v in &args[2..] {
        if which.starts_with('l') {
            l.push_front(v.clone());
        } else {
            l.push_back(v.clone());
        }
    }
    Ok(Value::Int(l.len() as i64))
}

fn pop_one(l: &mut List, left: bool) -> Option<Vec<u8>> {
    if left {
        l.pop_front()
    } else {
        l.pop_back()
    }
}

fn pop(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let left = name(args) == "lpop";
    if args.len() > 3 {
        return Err(syntax());
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
    let Some(l) = ctx.db.typed::<List>(&args[1], ctx.now)? else {
        return Ok(Value::Nil);
    };
    let reply = match count {
        None => pop_one(l, left).map(Value::Bulk).unwrap_or(Value::Nil),
        Some(n) => bulks((0..n).map_while(|_| pop_one(l, left)).collect::<Vec<_>>()),
    };
    ctx.db.drop_if_empty(&args[1]);
    Ok(reply)
}

/// Redis's index normalisation: negative from the end, clamped; `None` for empty ranges.
pub(crate) fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let s = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let e = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    (s <= e && s < len).then_some((s as usize, e as usize))
}

fn lrange(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (start, stop) = (int_arg(&args[2])?, int_arg(&args[3])?);
    let Some(l) = ctx.db.typed::<List>(&args[1], ctx.now)? else {
        return Ok(Value::Array(Vec::new()));
    };
    Ok(match clamp_range(start, stop, l.len()) {
        Some((s, e)) => bulks(l.range(s..=e).cloned()),
        None => Value::Array(Vec::new()),
    })
}

fn llen(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(
        ctx.db
            .typed::<List>(&args[1], ctx.now)?
            .map_or(0, |l| l.len() as i64),
    ))
}

fn index_of(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn lindex(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let i = int_arg(&args[2])?;
    let l = ctx.db.typed::<List>(&args[1], ctx.now)?;
    Ok(
        l.and_then(|l| index_of(i, l.len()).map(|i| bulk(l[i].clone())))
            .unwrap_or(Value::Nil),
    )
}

fn lset(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let i = int_arg(&args[2])?;
    let l = ctx
        .db
        .typed::<List>(&args[1], ctx.now)?
        .ok_or_else(no_such_key)?;
    let i = index_of(i, l.len()).ok_or_else(|| Fail::err("index out of range"))?;
    l[i] = args[3].clone();
    ok()
}

fn lrem(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let count = int_arg(&args[2])?;
    let Some(l) = ctx.db.typed::<List>(&args[1], ctx.now)? else {
        return Ok(Value::Int(0));
    };
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut removed = 0;
    let mut positions: Vec<usize> = (0..l.len()).filter(|i| l[*i] == args[3]).collect();
    if count < 0 {
        positions.reverse();
    }
    positions.truncate(limit);
    positions.sort_unstable_by(|a, b| b.cmp(a));
    for i in positions {
        l.remove(i);
        removed += 1;
    }
    ctx.db.drop_if_empty(&args[1]);
    Ok(Value::Int(removed))
}

fn ltrim(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (start, stop) = (int_arg(&args[2])?, int_arg(&args[3])?);
    if let Some(l) = ctx.db.typed::<List>(&args[1], ctx.now)? {
        match clamp_range(start, stop, l.len()) {
            Some((s, e)) => {
                l.truncate(e + 1);
                l.drain(..s);
            }
            None => l.clear(),
        }
        ctx.db.drop_if_empty(&args[1]);
    }
    ok()
}

fn side(raw: &[u8]) -> Result<bool, Fail> {
    if is(raw, "left") {
        Ok(true)
    } else if is(raw, "right") {
        Ok(false)
    } else {
        Err(syntax())
    }
}

/// LMOVE, BLMOVE, RPOPLPUSH, BRPOPLPUSH: pop from one list, push onto another.
fn lmove(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (from_left, to_left) = match name(args).as_str() {
        "lmove" | "blmove" => (side(&args[3])?, side(&args[4])?),
        _ => (false, true),
    };
    let (src, dst) = (&args[1], &args[2]);
    // The destination's type is checked before anything moves.
    ctx.db.typed::<List>(dst, ctx.now)?;
    let Some(l) = ctx.db.typed::<List>(src, ctx.now)? else {
        return Ok(Value::Nil);
    };
    let Some(v) = pop_one(l, from_left) else {
        return Ok(Value::Nil);
    };
    ctx.db.drop_if_empty(src);
    let d = ctx.db.typed_or_create::<List>(dst, ctx.now)?;
    if to_left {
        d.push_front(v.clone());
    } else {
        d.push_back(v.clone());
    }
    Ok(bulk(v))
}

/// BLPOP/BRPOP without waiting: the first non-empty list's head (or tail).
fn bpop(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let left = name(args) == "blpop";
    let keys = &args[1..args.len() - 1];
    for key in keys {
        if let Some(l) = ctx.db.typed::<List>(key, ctx.now)? {
            if let Some(v) = pop_one(l, left) {
                ctx.db.drop_if_empty(key);
                return Ok(bulks([key.clone(), v]));
            }
        }
    }
    Ok(Value::Nil)
}

#[cfg(test)]
mod tests {
    use crate::testing::{engine, run};
    use redkit_protocol::Value;

    fn b(items: &[&str]) -> Value {
        Value::Array(
            items
                .iter()
                .map(|s| Value::Bulk(s.as_bytes().to_vec()))
                .collect(),
        )
    }

    #[test]
    fn push_pop_range() {
        let e = engine();
        assert_eq!(run(&e, &["RPUSH", "l", "a", "b", "c"]), Ok(Value::Int(3)));
        assert_eq!(run(&e, &["LPUSH", "l", "z"]), Ok(Value::Int(4)));
        assert_eq!(
            run(&e, &["LRANGE", "l", "0", "-1"]),
            Ok(b(&["z", "a", "b", "c"]))
        );
        assert_eq!(run(&e, &["LRANGE", "l", "-2", "100"]), Ok(b(&["b", "c"])));
        assert_eq!(run(&e, &["LPOP", "l", "2"]), Ok(b(&["z", "a"])));
        assert_eq!(run(&e, &["RPOP", "l"]), Ok(Value::Bulk(b"c".to_vec())));
        assert_eq!(
            run(&e, &["LMOVE", "l", "m", "LEFT", "RIGHT"]),
            Ok(Value::Bulk(b"b".to_vec()))
        );
        assert_eq!(run(&e, &["EXISTS", "l"]), Ok(Value::Int(0)));
        assert_eq!(
            run(&e, &["LPOP", "l", "-1"]),
            Err("ERR value is out of range, must be positive".into())
        );
        assert_eq!(
            run(&e, &["BLPOP", "m", "x"]),
            Err("ERR timeout is not a float or out of range".into())
        );
        assert_eq!(
            run(&e, &["BLPOP", "m", "-1"]),
            Err("ERR timeout is negative".into())
        );
    }

    #[test]
    fn lrem_counts_from_either_end() {
        let e = engine();
        run(&e, &["RPUSH", "l", "x", "a", "x", "b", "x"]).unwrap();
        assert_eq!(run(&e, &["LREM", "l", "-2", "x"]), Ok(Value::Int(2)));
        assert_eq!(
            run(&e, &["LRANGE", "l", "0", "-1"]),
            Ok(b(&["x", "a", "b"]))
        );
        assert_eq!(run(&e, &["LREM", "l", "0", "x"]), Ok(Value::Int(1)));
    }
}
