//! Stream commands as far as redkit uses them: XADD (NOMKSTREAM, MAXLEN/MINID trimming),
//! XRANGE, XREVRANGE, XLEN, XDEL, XTRIM and XREAD (COUNT, BLOCK). Trimming with `~` trims
//! exactly: Redis may keep more entries then, never fewer. Consumer groups are in
//! `stream_groups`.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Duration;

use super::command::{Ctx, Spec, WRITE};
use super::reply::{arity, bulk, bulks, int_arg, is, parse_i64, syntax, Fail, Reply};
use super::stream_groups::Group;
use redkit_protocol::Value;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("xadd", -5, WRITE, xadd),
    Spec::new("xrange", -4, 0, xrange),
    Spec::new("xrevrange", -4, 0, xrange),
    Spec::new("xlen", 2, 0, xlen),
    Spec::new("xdel", -3, WRITE, xdel),
    Spec::new("xtrim", -4, WRITE, xtrim),
    Spec::blocking("xread", -4, 0, xread, xread_block),
];

/// A stream entry id: milliseconds and sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Id(pub u64, pub u64);

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

/// A stream: entries in id order, and the last id ever given (deleting entries keeps it).
#[derive(Debug, Clone, Default)]
pub(crate) struct Stream {
    pub entries: BTreeMap<Id, Vec<Vec<u8>>>,
    pub last: Id,
    /// Consumer groups by name (see `stream_groups`).
    pub groups: BTreeMap<Vec<u8>, Group>,
}

pub(crate) fn bad_id() -> Fail {
    Fail::err("Invalid stream ID specified as stream command argument")
}

fn num(raw: &str) -> Result<u64, Fail> {
    raw.parse().map_err(|_| bad_id())
}

/// `ms-seq`, or `ms` with the sequence `missing_seq` gives.
pub(crate) fn parse_id(raw: &[u8], missing_seq: u64) -> Result<Id, Fail> {
    let s = std::str::from_utf8(raw).map_err(|_| bad_id())?;
    match s.split_once('-') {
        Some((ms, seq)) => Ok(Id(num(ms)?, num(seq)?)),
        None => Ok(Id(num(s)?, missing_seq)),
    }
}

/// A range end: `-`, `+`, an id, or `(id` (exclusive).
pub(crate) fn range_end(raw: &[u8], start: bool) -> Result<Bound<Id>, Fail> {
    match raw {
        b"-" => Ok(Bound::Unbounded),
        b"+" => Ok(Bound::Unbounded),
        [b'(', rest @ ..] => Ok(Bound::Excluded(parse_id(
            rest,
            if start { 0 } else { u64::MAX },
        )?)),
        _ => Ok(Bound::Included(parse_id(
            raw,
            if start { 0 } else { u64::MAX },
        )?)),
    }
}

pub(crate) fn entry_reply(id: &Id, fields: &[Vec<u8>]) -> Value {
    Value::Array(vec![bulk(id.to_string()), bulks(fields.iter().cloned())])
}

/// A trim request: MAXLEN or MINID, with its threshold.
enum Trim {
    MaxLen(usize),
    MinId(Id),
}

/// Parse `MAXLEN|MINID [=|~] threshold [LIMIT n]` at `args[*i]`, advancing `i`.
fn parse_trim(args: &[Vec<u8>], i: &mut usize) -> Result<Option<Trim>, Fail> {
    let maxlen = is(&args[*i], "maxlen");
    if !maxlen && !is(&args[*i], "minid") {
        return Ok(None);
    }
    *i += 1;
    if args.get(*i).is_some_and(|a| a == b"=" || a == b"~") {
        *i += 1;
    }
    let raw = args.get(*i).ok_or_else(syntax)?;
    *i += 1;
    let trim = if maxlen {
        let n = int_arg(raw)?;
        if n < 0 {
            return Err(Fail::err("The MAXLEN argument must be >= 0."));
        }
        Trim::MaxLen(n as usize)
    } else {
        Trim::MinId(parse_id(raw, 0)?)
    };
    if args.get(*i).is_some_and(|a| is(a, "limit")) {
        int_arg(args.get(*i + 1).ok_or_else(syntax)?)?;
        *i += 2;
    }
    Ok(Some(trim))
}

impl Stream {
    fn trim(&mut self, how: &Trim) -> usize {
        let before = self.entries.len();
        match how {
            Trim::MaxLen(n) => {
                while self.entries.len() > *n {
                    self.entries.pop_first();
                }
            }
            Trim::MinId(min) => self.entries.retain(|id, _| id >= min),
        }
        before - self.entries.len()
    }
}

fn xadd(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let mut i = 2;
    let mut nomkstream = false;
    let mut trim = None;
    loop {
        if is(&args[i], "nomkstream") {
            nomkstream = true;
            i += 1;
        } else if let Some(t) = parse_trim(args, &mut i)? {
            trim = Some(t);
        } else {
            break;
        }
        if i >= args.len() {
            return Err(arity("xadd"));
        }
    }
    let raw_id = &args[i];
    let fields = &args[i + 1..];
    if fields.is_empty() || fields.len() % 2 != 0 {
        return Err(arity("xadd"));
    }
    // An explicit id is checked before the key is looked at.
    let explicit = match raw_id.as_slice() {
        b"*" => None,
        raw if raw.ends_with(b"-*") => Some((parse_id(&raw[..raw.len() - 2], 0)?, true)),
        raw => Some((parse_id(raw, 0)?, false)),
    };
    if explicit.is_some_and(|(id, auto_seq)| !auto_seq && id == Id(0, 0)) {
        return Err(Fail::err(
            "The ID specified in XADD must be greater than 0-0",
        ));
    }
    if nomkstream && ctx.db.typed::<Stream>(&args[1], ctx.now)?.is_none() {
        return Ok(Value::Nil);
    }
    let now = ctx.now;
    let s = ctx.db.typed_or_create::<Stream>(&args[1], now)?;
    let id = match explicit {
        None if now > s.last.0 => Id(now, 0),
        None => Id(s.last.0, s.last.1 + 1),
        Some((Id(ms, _), true)) if ms == s.last.0 => Id(ms, s.last.1 + 1),
        Some((Id(ms, _), true)) => Id(ms, 0),
        Some((id, false)) => id,
    };
    if id <= s.last && !(s.entries.is_empty() && s.last == Id(0, 0) && id > Id(0, 0)) {
        return Err(Fail::err(
            "The ID specified in XADD is equal or smaller than the target stream top item",
        ));
    }
    s.entries.insert(id, fields.to_vec());
    s.last = id;
    if let Some(t) = trim {
        s.trim(&t);
    }
    Ok(bulk(id.to_string()))
}

fn xrange(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let rev = is(&args[0], "xrevrange");
    let (a, b) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let (lo, hi) = (range_end(a, true)?, range_end(b, false)?);
    let count = match &args[4..] {
        [] => None,
        [c, n] if is(c, "count") => Some(int_arg(n)?.max(0) as usize),
        _ => return Err(syntax()),
    };
    let Some(s) = ctx.db.typed::<Stream>(&args[1], ctx.now)? else {
        return Ok(Value::Array(Vec::new()));
    };
    if matches!((lo, hi), (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) if l > h)
    {
        return Ok(Value::Array(Vec::new()));
    }
    let range = s.entries.range((lo, hi));
    let take = count.unwrap_or(usize::MAX);
    let out: Vec<Value> = if rev {
        range
            .rev()
            .take(take)
            .map(|(id, f)| entry_reply(id, f))
            .collect()
    } else {
        range.take(take).map(|(id, f)| entry_reply(id, f)).collect()
    };
    Ok(Value::Array(out))
}

fn xlen(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Int(
        ctx.db
            .typed::<Stream>(&args[1], ctx.now)?
            .map_or(0, |s| s.entries.len() as i64),
    ))
}

fn xdel(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let ids = args[2..]
        .iter()
        .map(|r| parse_id(r, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(s) = ctx.db.typed::<Stream>(&args[1], ctx.now)? else {
        return Ok(Value::Int(0));
    };
    Ok(Value::Int(
        ids.iter()
            .filter(|id| s.entries.remove(id).is_some())
            .count() as i64,
    ))
}

fn xtrim(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let mut i = 2;
    let trim = parse_trim(args, &mut i)?.ok_or_else(syntax)?;
    if i != args.len() {
        return Err(syntax());
    }
    let Some(s) = ctx.db.typed::<Stream>(&args[1], ctx.now)? else {
        return Ok(Value::Int(0));
    };
    Ok(Value::Int(s.trim(&trim) as i64))
}

/// XREAD's options: COUNT, BLOCK, and where the STREAMS keys start.
pub(crate) struct ReadArgs {
    pub count: Option<usize>,
    pub block: Option<Option<Duration>>,
    pub streams_at: usize,
    /// XREADGROUP's NOACK.
    pub noack: bool,
}

/// XREAD's (or, from `first`, XREADGROUP's) options up to STREAMS.
pub(crate) fn parse_read(args: &[Vec<u8>], first: usize) -> Result<ReadArgs, Fail> {
    let mut r = ReadArgs {
        count: None,
        block: None,
        streams_at: 0,
        noack: false,
    };
    let mut i = first;
    while i < args.len() {
        if is(&args[i], "streams") {
            r.streams_at = i + 1;
            break;
        }
        if first > 1 && is(&args[i], "noack") {
            r.noack = true;
            i += 1;
            continue;
        }
        let value = args.get(i + 1).ok_or_else(syntax)?;
        if is(&args[i], "count") {
            r.count = Some(int_arg(value)?.max(0) as usize);
        } else if is(&args[i], "block") {
            let ms = parse_i64(value)
                .ok_or_else(|| Fail::err("timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(Fail::err("timeout is negative"));
            }
            r.block = Some((ms > 0).then(|| Duration::from_millis(ms as u64)));
        } else {
            return Err(syntax());
        }
        i += 2;
    }
    let rest = args.len().saturating_sub(r.streams_at);
    if r.streams_at == 0 || rest == 0 || rest % 2 != 0 {
        return Err(Fail::err(if first > 1 {
            "Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified."
        } else {
            "Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified."
        }));
    }
    Ok(r)
}

/// XREAD BLOCK waits; `$` is pinned to each stream's last id now, so entries added while
/// waiting are the ones returned.
fn xread_block(ctx: &mut Ctx<'_>, args: &mut [Vec<u8>]) -> Result<Option<Option<Duration>>, Fail> {
    let r = parse_read(args, 1)?;
    let n = (args.len() - r.streams_at) / 2;
    for k in 0..n {
        if args[r.streams_at + n + k] == b"$" {
            let key = args[r.streams_at + k].clone();
            let last = ctx
                .db
                .typed::<Stream>(&key, ctx.now)?
                .map(|s| s.last)
                .unwrap_or_default();
            args[r.streams_at + n + k] = last.to_string().into_bytes();
        }
    }
    Ok(r.block)
}

fn xread(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let r = parse_read(args, 1)?;
    let n = (args.len() - r.streams_at) / 2;
    let mut out = Vec::new();
    for k in 0..n {
        let key = &args[r.streams_at + k];
        let raw = &args[r.streams_at + n + k];
        let Some(s) = ctx.db.typed::<Stream>(key, ctx.now)? else {
            continue;
        };
        let after = if raw == b"$" {
            s.last
        } else {
            parse_id(raw, 0)?
        };
        let entries: Vec<Value> = s
            .entries
            .range((Bound::Excluded(after), Bound::Unbounded))
            .take(r.count.filter(|c| *c > 0).unwrap_or(usize::MAX))
            .map(|(id, f)| entry_reply(id, f))
            .collect();
        if !entries.is_empty() {
            out.push(Value::Array(vec![bulk(key.clone()), Value::Array(entries)]));
        }
    }
    Ok(if out.is_empty() {
        Value::Nil
    } else {
        Value::Array(out)
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::{engine, run};
    use redkit_protocol::Value;

    #[test]
    fn add_range_trim() {
        let e = engine();
        assert_eq!(
            run(&e, &["XADD", "s", "1-1", "f", "v"]),
            Ok(Value::Bulk(b"1-1".to_vec()))
        );
        assert_eq!(
            run(&e, &["XADD", "s", "1-*", "f", "w"]),
            Ok(Value::Bulk(b"1-2".to_vec()))
        );
        assert_eq!(
            run(&e, &["XADD", "s", "1-0", "f", "v"]),
            Err(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item"
                    .into()
            )
        );
        assert_eq!(
            run(&e, &["XADD", "s", "0-0", "f", "v"]),
            Err("ERR The ID specified in XADD must be greater than 0-0".into())
        );
        run(&e, &["XADD", "s", "MAXLEN", "2", "5-0", "f", "x"]).unwrap();
        assert_eq!(run(&e, &["XLEN", "s"]), Ok(Value::Int(2)));
        let r = run(&e, &["XRANGE", "s", "-", "+", "COUNT", "1"])
            .unwrap()
            .into_array()
            .unwrap();
        assert_eq!(r.len(), 1);
        let read = run(&e, &["XREAD", "STREAMS", "s", "1-2"])
            .unwrap()
            .into_array()
            .unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(run(&e, &["XREAD", "STREAMS", "s", "$"]), Ok(Value::Nil));
        assert_eq!(run(&e, &["XTRIM", "s", "MINID", "5"]), Ok(Value::Int(1)));
    }
}
