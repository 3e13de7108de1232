//! Sorted-set commands: ZADD (NX/XX/GT/LT/CH/INCR), ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD,
//! ZCOUNT, ZRANK, ZREVRANK, ZRANGE (BYSCORE/REV/LIMIT/WITHSCORES), ZREVRANGE,
//! ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZREMRANGEBYSCORE, ZREMRANGEBYRANK, ZPOPMIN, ZPOPMAX,
//! BZPOPMIN, BZPOPMAX.

use super::blocking::last_arg_timeout;
use super::command::{Ctx, Spec, WRITE};
use super::lists::clamp_range;
use super::reply::{bulk, float_arg, int_arg, is, parse_f64, score, syntax, Fail, Reply};
use super::zset::{ScoreBound, ZSet};
use redkit_protocol::Value;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("zadd", -4, WRITE, zadd),
    Spec::new("zincrby", 4, WRITE, zincrby),
    Spec::new("zrem", -3, WRITE, zrem),
    Spec::new("zscore", 3, 0, zscore),
    Spec::new("zmscore", -3, 0, zmscore),
    Spec::new("zcard", 2, 0, zcard),
    Spec::new("zcount", 4, 0, zcount),
    Spec::new("zrank", 3, 0, zrank),
    Spec::new("zrevrank", 3, 0, zrank),
    Spec::new("zrange", -4, 0, zrange),
    Spec::new("zrevrange", -4, 0, zrange),
    Spec::new("zrangebyscore", -4, 0, zrange),
    Spec::new("zrevrangebyscore", -4, 0, zrange),
    Spec::new("zremrangebyscore", 4, WRITE, zremrange),
    Spec::new("zremrangebyrank", 4, WRITE, zremrange),
    Spec::new("zpopmin", -2, WRITE, zpop),
    Spec::new("zpopmax", -2, WRITE, zpop),
    Spec::blocking("bzpopmin", -3, WRITE, bzpop, last_arg_timeout),
    Spec::blocking("bzpopmax", -3, WRITE, bzpop, last_arg_timeout),
];

fn name(args: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&args[0]).to_ascii_lowercase()
}

fn nan() -> Fail {
    Fail::err("resulting score is not a number (NaN)")
}

fn zadd(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, false);
    let mut i = 2;
    while i < args.len() {
        match String::from_utf8_lossy(&args[i])
            .to_ascii_lowercase()
            .as_str()
        {
            "nx" => nx = true,
            "xx" => xx = true,
            "gt" => gt = true,
            "lt" => lt = true,
            "ch" => ch = true,
            "incr" => incr = true,
            _ => break,
        }
        i += 1;
    }
    let pairs = &args[i..];
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return Err(syntax());
    }
    if nx && xx {
        return Err(Fail::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(Fail::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && pairs.len() > 2 {
        return Err(Fail::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let scores = pairs
        .chunks_exact(2)
        .map(|p| float_arg(&p[0]))
        .collect::<Result<Vec<_>, _>>()?;
    if ctx.db.typed::<ZSet>(&args[1], ctx.now)?.is_none() && xx {
        return Ok(if incr { Value::Nil } else { Value::Int(0) });
    }
    let z = ctx.db.typed_or_create::<ZSet>(&args[1], ctx.now)?;
    let (mut added, mut changed) = (0, 0);
    let mut last = None;
    for (pair, s) in pairs.chunks_exact(2).zip(scores) {
        let member = &pair[1];
        match z.score(member) {
            Some(cur) => {
                if nx {
                    continue;
                }
                let new = if incr { cur + s } else { s };
                if new.is_nan() {
                    ctx.db.drop_if_empty(&args[1]);
                    return Err(nan());
                }
                if (gt && new <= cur) || (lt && new >= cur) {
                    continue;
                }
                if new != cur {
                    z.insert(member, new);
                    changed += 1;
                }
                last = Some(new);
            }
            None if !xx => {
                z.insert(member, s);
                added += 1;
                last = Some(s);
            }
            None => {}
        }
    }
    ctx.db.drop_if_empty(&args[1]);
    if incr {
        return Ok(last.map(score).unwrap_or(Value::Nil));
    }
    Ok(Value::Int(if ch { added + changed } else { added }))
}

fn zincrby(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let by = float_arg(&args[2])?;
    let z = ctx.db.typed_or_create::<ZSet>(&args[1], ctx.now)?;
    let new = z.score(&args[3]).unwrap_or(0.0) + by;
    if new.is_nan() {
        ctx.db.drop_if_empty(&args[1]);
        return Err(nan());
    }
    z.insert(&args[3], new);
    Ok(score(new))
}

fn zrem(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let Some(z) = ctx.db.typed::<ZSet>(&args[1], ctx.now)? else {
        return Ok(Value::Int(0));
    };
    let n = args[2..].iter().filter(|m| z.remove(m)).count();
    ctx.db.drop_if_empty(&args[1]);
    Ok(Value::Int(n as i64))
}

fn zscore(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let z = ctx.db.typed::<ZSet>(&args[1], ctx.now)?;
    Ok(z.and_then(|z| z.score(&args[2]))
        .map(score)
        .unwrap_or(Value::Nil))
}

fn zmscore(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let z = ctx.db.typed::<ZSet>(&args[1], ctx.now)?;
    let z = z.as_deref();
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|m| z.and_then(|z| z.score(m)).map(score).unwrap_or(Value::Nil))
            .collect(),
    ))
}

fn zcard(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(
        ctx.db
            .typed::<ZSet>(&args[1], ctx.now)?
            .map_or(0, |z| z.len() as i64),
    ))
}

/// `5`, `(5`, `-inf`, `+inf`.
fn bound(raw: &[u8]) -> Result<ScoreBound, Fail> {
    let bad = || Fail::err("min or max is not a float");
    let (exclusive, digits) = match raw.first() {
        Some(b'(') => (true, &raw[1..]),
        _ => (false, raw),
    };
    let value = parse_f64(digits).ok_or_else(bad)?;
    Ok(ScoreBound { value, exclusive })
}

fn zcount(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (min, max) = (bound(&args[2])?, bound(&args[3])?);
    let z = ctx.db.typed::<ZSet>(&args[1], ctx.now)?;
    Ok(Value::Int(
        z.map_or(0, |z| z.range_by_score(min, max).count() as i64),
    ))
}

fn zrank(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let rev = name(args) == "zrevrank";
    let z = ctx.db.typed::<ZSet>(&args[1], ctx.now)?;
    Ok(z.and_then(|z| {
        z.rank(&args[2])
            .map(|r| if rev { z.len() - 1 - r } else { r })
    })
    .map(|r| Value::Int(r as i64))
    .unwrap_or(Value::Nil))
}

/// A parsed range request, shared by every ZRANGE form.
struct Range {
    by_score: bool,
    rev: bool,
    start: Vec<u8>,
    stop: Vec<u8>,
    limit: Option<(i64, i64)>,
    with_scores: bool,
}

fn parse_range(args: &[Vec<u8>]) -> Result<Range, Fail> {
    let cmd = name(args);
    let mut r = Range {
        by_score: cmd.ends_with("byscore"),
        rev: cmd.starts_with("zrev"),
        start: args[2].clone(),
        stop: args[3].clone(),
        limit: None,
        with_scores: false,
    };
    let generic = cmd == "zrange";
    let mut i = 4;
    while i < args.len() {
        let a = &args[i];
        if is(a, "withscores") {
            r.with_scores = true;
        } else if is(a, "limit") && i + 2 < args.len() && cmd != "zrevrange" {
            r.limit = Some((int_arg(&args[i + 1])?, int_arg(&args[i + 2])?));
            i += 2;
        } else if generic && is(a, "byscore") {
            r.by_score = true;
        } else if generic && is(a, "rev") {
            r.rev = true;
        } else {
            return Err(syntax());
        }
        i += 1;
    }
    if r.limit.is_some() && !r.by_score {
        return Err(Fail::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    // ZREVRANGEBYSCORE and ZRANGE ... BYSCORE REV take max first.
    if r.by_score && r.rev {
        std::mem::swap(&mut r.start, &mut r.stop);
    }
    Ok(r)
}

/// The members a range request selects, in reply order.
fn select(z: &ZSet, r: &Range) -> Result<Vec<(Vec<u8>, f64)>, Fail> {
    let own = |(m, s): (&[u8], f64)| (m.to_vec(), s);
    if r.by_score {
        let (min, max) = (bound(&r.start)?, bound(&r.stop)?);
        let it = z.range_by_score(min, max);
        let picked: Vec<_> = if r.rev {
            it.rev().map(own).collect()
        } else {
            it.map(own).collect()
        };
        return Ok(match r.limit {
            Some((offset, _)) if offset < 0 => Vec::new(),
            Some((offset, count)) => {
                let count = if count < 0 {
                    usize::MAX
                } else {
                    count as usize
                };
                picked
                    .into_iter()
                    .skip(offset as usize)
                    .take(count)
                    .collect()
            }
            None => picked,
        });
    }
    let (start, stop) = (int_arg(&r.start)?, int_arg(&r.stop)?);
    let Some((s, e)) = clamp_range(start, stop, z.len()) else {
        return Ok(Vec::new());
    };
    let picked: Vec<_> = if r.rev {
        z.iter().rev().skip(s).take(e - s + 1).map(own).collect()
    } else {
        z.iter().skip(s).take(e - s + 1).map(own).collect()
    };
    Ok(picked)
}

fn members_reply(items: Vec<(Vec<u8>, f64)>, with_scores: bool) -> Value {
    let mut out = Vec::with_capacity(items.len() * (1 + with_scores as usize));
    for (m, s) in items {
        out.push(bulk(m));
        if with_scores {
            out.push(score(s));
        }
    }
    Value::Array(out)
}

fn zrange(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let r = parse_range(args)?;
    let Some(z) = ctx.db.typed::<ZSet>(&args[1], ctx.now)? else {
        // Arguments are still checked on a missing key.
        select(&ZSet::default(), &r)?;
        return Ok(Value::Array(Vec::new()));
    };
    Ok(members_reply(select(z, &r)?, r.with_scores))
}

fn zremrange(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let r = Range {
        by_score: name(args) == "zremrangebyscore",
        rev: false,
        start: args[2].clone(),
        stop: args[3].clone(),
        limit: None,
        with_scores: false,
    };
    let Some(z) = ctx.db.typed::<ZSet>(&args[1], ctx.now)? else {
        select(&ZSet::default(), &r)?;
        return Ok(Value::Int(0));
    };
    let doomed = select(z, &r)?;
    for (m, _) in &doomed {
        z.remove(m);
    }
    ctx.db.drop_if_empty(&args[1]);
    Ok(Value::Int(doomed.len() as i64))
}

fn zpop(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let highest = name(args) == "zpopmax";
    if args.len() > 3 {
        return Err(syntax());
    }
    let count = match args.get(2) {
        Some(raw) => super::reply::parse_i64(raw)
            .filter(|n| *n >= 0)
            .ok_or_else(|| Fail::err("value is out of range, must be positive"))?
            as usize,
        None => 1,
    };
    let Some(z) = ctx.db.typed::<ZSet>(&args[1], ctx.now)? else {
        return Ok(Value::Array(Vec::new()));
    };
    let popped: Vec<_> = (0..count).map_while(|_| z.pop(highest)).collect();
    ctx.db.drop_if_empty(&args[1]);
    Ok(members_reply(popped, true))
}

/// BZPOPMIN/BZPOPMAX without waiting: `[key, member, score]` from the first non-empty set.
fn bzpop(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let highest = name(args) == "bzpopmax";
    for key in &args[1..args.len() - 1] {
        if let Some(z) = ctx.db.typed::<ZSet>(key, ctx.now)? {
            if let Some((m, s)) = z.pop(highest) {
                ctx.db.drop_if_empty(key);
                return Ok(Value::Array(vec![bulk(key.clone()), bulk(m), score(s)]));
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
    fn zadd_flags() {
        let e = engine();
        assert_eq!(
            run(&e, &["ZADD", "z", "1", "a", "2", "b"]),
            Ok(Value::Int(2))
        );
        assert_eq!(
            run(&e, &["ZADD", "z", "CH", "GT", "0", "a", "3", "b"]),
            Ok(Value::Int(1))
        );
        assert_eq!(run(&e, &["ZADD", "z", "NX", "5", "a"]), Ok(Value::Int(0)));
        assert_eq!(
            run(&e, &["ZADD", "z", "INCR", "1.5", "a"]),
            Ok(Value::Bulk(b"2.5".to_vec()))
        );
        assert_eq!(run(&e, &["ZADD", "z", "XX", "1", "new"]), Ok(Value::Int(0)));
        assert_eq!(
            run(&e, &["ZSCORE", "z", "b"]),
            Ok(Value::Bulk(b"3".to_vec()))
        );
        assert_eq!(
            run(&e, &["ZADD", "z", "NX", "XX", "1", "a"]),
            Err("ERR XX and NX options at the same time are not compatible".into())
        );
        assert_eq!(
            run(&e, &["ZADD", "z", "x", "a"]),
            Err("ERR value is not a valid float".into())
        );
        assert_eq!(
            run(&e, &["ZINCRBY", "q", "inf", "a"]),
            Ok(Value::Bulk(b"inf".to_vec()))
        );
        assert_eq!(
            run(&e, &["ZINCRBY", "q", "-inf", "a"]),
            Err("ERR resulting score is not a number (NaN)".into())
        );
    }

    #[test]
    fn ranges() {
        let e = engine();
        run(&e, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]).unwrap();
        assert_eq!(run(&e, &["ZRANGE", "z", "0", "1"]), Ok(b(&["a", "b"])));
        assert_eq!(
            run(&e, &["ZRANGE", "z", "0", "0", "REV", "WITHSCORES"]),
            Ok(b(&["d", "4"]))
        );
        assert_eq!(
            run(&e, &["ZRANGE", "z", "(1", "3", "BYSCORE"]),
            Ok(b(&["b", "c"]))
        );
        assert_eq!(
            run(
                &e,
                &["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"]
            ),
            Ok(b(&["c", "b"]))
        );
        assert_eq!(
            run(&e, &["ZRANGEBYSCORE", "z", "-inf", "2"]),
            Ok(b(&["a", "b"]))
        );
        assert_eq!(
            run(&e, &["ZREVRANGEBYSCORE", "z", "3", "2"]),
            Ok(b(&["c", "b"]))
        );
        assert_eq!(run(&e, &["ZCOUNT", "z", "2", "+inf"]), Ok(Value::Int(3)));
        assert_eq!(run(&e, &["ZREVRANK", "z", "a"]), Ok(Value::Int(3)));
        assert_eq!(
            run(&e, &["ZREMRANGEBYRANK", "z", "0", "0"]),
            Ok(Value::Int(1))
        );
        assert_eq!(
            run(&e, &["ZREMRANGEBYSCORE", "z", "0", "(3"]),
            Ok(Value::Int(1))
        );
        assert_eq!(run(&e, &["ZPOPMIN", "z"]), Ok(b(&["c", "3"])));
        assert_eq!(
            run(&e, &["ZRANGEBYSCORE", "z", "x", "1"]),
            Err("ERR min or max is not a float".into())
        );
        assert_eq!(
            run(&e, &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
            Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX".into())
        );
    }
}
