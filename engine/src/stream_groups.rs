//! Stream consumer groups: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER),
//! XREADGROUP (COUNT, BLOCK, NOACK; `>` and history reads), XACK, XPENDING (summary and
//! extended), XCLAIM and XAUTOCLAIM.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Duration;

use super::command::{Ctx, Spec, WRITE};
use super::reply::{bulk, int_arg, is, ok, syntax, Fail, Reply};
use super::streams::{entry_reply, parse_id, parse_read, range_end, Id, Stream};
use redkit_protocol::Value;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("xgroup", -2, WRITE, xgroup),
    Spec::blocking("xreadgroup", -7, WRITE, xreadgroup, xreadgroup_block),
    Spec::new("xack", -4, WRITE, xack),
    Spec::new("xpending", -3, 0, xpending),
    Spec::new("xclaim", -6, WRITE, xclaim),
    Spec::new("xautoclaim", -6, WRITE, xautoclaim),
];

/// A delivered, not yet acknowledged entry.
#[derive(Debug, Clone)]
struct Pending {
    consumer: Vec<u8>,
    /// Unix ms of the last delivery.
    delivered: u64,
    deliveries: u64,
}

/// One consumer group of a stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Group {
    last: Id,
    pel: BTreeMap<Id, Pending>,
    /// Consumers and when each was last seen.
    consumers: BTreeMap<Vec<u8>, u64>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn no_group(key: &[u8], group: &[u8], suffix: &str) -> Fail {
    Fail(format!(
        "NOGROUP No such key '{}' or consumer group '{}'{suffix}",
        text(key),
        text(group)
    ))
}

/// The group `name` of the stream at `key`, or the NOGROUP error.
fn group<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &[u8],
    name: &[u8],
    suffix: &str,
) -> Result<&'a mut Group, Fail> {
    ctx.db
        .typed::<Stream>(key, ctx.now)?
        .and_then(|s| s.groups.get_mut(name))
        .ok_or_else(|| no_group(key, name, suffix))
}

/// `$` (the stream's last id) or an id.
fn start_id(s: &Stream, raw: &[u8]) -> Result<Id, Fail> {
    if raw == b"$" {
        Ok(s.last)
    } else {
        parse_id(raw, 0)
    }
}

fn xgroup(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let sub = text(&args[1]).to_ascii_lowercase();
    let wants = match sub.as_str() {
        "create" => 5..=8,
        "setid" => 5..=7,
        "destroy" => 4..=4,
        "createconsumer" | "delconsumer" => 5..=5,
        _ => {
            return Err(Fail::err(format!(
                "unknown subcommand '{}'. Try XGROUP HELP.",
                text(&args[1])
            )))
        }
    };
    if !wants.contains(&args.len()) {
        return Err(Fail::err(format!(
            "unknown subcommand or wrong number of arguments for '{sub}'. Try XGROUP HELP."
        )));
    }
    let (key, name) = (&args[2], &args[3]);
    let mkstream = sub == "create" && args[5..].iter().any(|a| is(a, "mkstream"));
    if mkstream {
        ctx.db.typed_or_create::<Stream>(key, ctx.now)?;
    }
    let Some(s) = ctx.db.typed::<Stream>(key, ctx.now)? else {
        return Err(Fail::err(
            "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use \
             the MKSTREAM option to create an empty stream automatically.",
        ));
    };
    let missing = || {
        Fail(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            text(name),
            text(key)
        ))
    };
    match sub.as_str() {
        "create" => {
            let last = start_id(s, &args[4])?;
            if s.groups.contains_key(name.as_slice()) {
                return Err(Fail("BUSYGROUP Consumer Group name already exists".into()));
            }
            s.groups.insert(
                name.clone(),
                Group {
                    last,
                    ..Group::default()
                },
            );
            ok()
        }
        "setid" => {
            let last = start_id(s, &args[4])?;
            s.groups.get_mut(name.as_slice()).ok_or_else(missing)?.last = last;
            ok()
        }
        "destroy" => Ok(Value::Int(s.groups.remove(name.as_slice()).is_some() as i64)),
        "createconsumer" => {
            let g = s.groups.get_mut(name.as_slice()).ok_or_else(missing)?;
            let added = !g.consumers.contains_key(&args[4]);
            g.consumers.entry(args[4].clone()).or_insert(ctx.now);
            Ok(Value::Int(added as i64))
        }
        _ => {
            let g = s.groups.get_mut(name.as_slice()).ok_or_else(missing)?;
            let consumer = &args[4];
            let before = g.pel.len();
            g.pel.retain(|_, p| &p.consumer != consumer);
            g.consumers.remove(consumer);
            Ok(Value::Int((before - g.pel.len()) as i64))
        }
    }
}

/// `GROUP g c` and where the options start; the arity and the GROUP word checked.
fn group_and_consumer(args: &[Vec<u8>]) -> Result<(&[u8], &[u8]), Fail> {
    if !is(&args[1], "group") {
        return Err(syntax());
    }
    Ok((&args[2], &args[3]))
}

/// XREADGROUP blocks only when every id is `>` (history reads answer at once).
fn xreadgroup_block(
    _: &mut Ctx<'_>,
    args: &mut [Vec<u8>],
) -> Result<Option<Option<Duration>>, Fail> {
    group_and_consumer(args)?;
    let r = parse_read(args, 4)?;
    let n = (args.len() - r.streams_at) / 2;
    let all_new = args[r.streams_at + n..].iter().all(|id| id == b">");
    Ok(r.block.filter(|_| all_new))
}

fn xreadgroup(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (gname, consumer) = group_and_consumer(args)?;
    let r = parse_read(args, 4)?;
    let n = (args.len() - r.streams_at) / 2;
    let (now, count) = (ctx.now, r.count.filter(|c| *c > 0).unwrap_or(usize::MAX));
    let mut out = Vec::new();
    for k in 0..n {
        let key = &args[r.streams_at + k];
        let raw = &args[r.streams_at + n + k];
        let history = if raw == b">" {
            None
        } else {
            Some(parse_id(raw, 0)?)
        };
        let suffix = " in XREADGROUP with GROUP option";
        let s = ctx
            .db
            .typed::<Stream>(key, now)?
            .ok_or_else(|| no_group(key, gname, suffix))?;
        let Stream {
            entries, groups, ..
        } = s;
        let g = groups
            .get_mut(gname)
            .ok_or_else(|| no_group(key, gname, suffix))?;
        g.consumers.insert(consumer.to_vec(), now);
        let replies: Vec<Value> = match history {
            None => {
                let fresh: Vec<_> = entries
                    .range((Bound::Excluded(g.last), Bound::Unbounded))
                    .take(count)
                    .collect();
                for (id, _) in &fresh {
                    g.last = **id;
                    if !r.noack {
                        let p = Pending {
                            consumer: consumer.to_vec(),
                            delivered: now,
                            deliveries: 1,
                        };
                        g.pel.insert(**id, p);
                    }
                }
                if fresh.is_empty() {
                    continue;
                }
                fresh
                    .into_iter()
                    .map(|(id, f)| entry_reply(id, f))
                    .collect()
            }
            Some(after) => g
                .pel
                .range((Bound::Excluded(after), Bound::Unbounded))
                .filter(|(_, p)| p.consumer == consumer)
                .take(count)
                .map(|(id, _)| match entries.get(id) {
                    Some(f) => entry_reply(id, f),
                    None => Value::Array(vec![bulk(id.to_string()), Value::Nil]),
                })
                .collect(),
        };
        out.push(Value::Array(vec![bulk(key.clone()), Value::Array(replies)]));
    }
    Ok(if out.is_empty() {
        Value::Nil
    } else {
        Value::Array(out)
    })
}

fn xack(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let ids = args[3..]
        .iter()
        .map(|r| parse_id(r, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let Ok(g) = group(ctx, &args[1], &args[2], "") else {
        return Ok(Value::Int(0));
    };
    Ok(Value::Int(
        ids.iter().filter(|id| g.pel.remove(id).is_some()).count() as i64,
    ))
}

fn xpending(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let now = ctx.now;
    if args.len() == 3 {
        let g = group(ctx, &args[1], &args[2], "")?;
        let (Some((min, _)), Some((max, _))) = (g.pel.first_key_value(), g.pel.last_key_value())
        else {
            return Ok(Value::Array(vec![
                Value::Int(0),
                Value::Nil,
                Value::Nil,
                Value::Nil,
            ]));
        };
        let mut per: BTreeMap<&[u8], u64> = BTreeMap::new();
        for p in g.pel.values() {
            *per.entry(&p.consumer).or_default() += 1;
        }
        let consumers = per
            .into_iter()
            .map(|(c, n)| Value::Array(vec![bulk(c), bulk(n.to_string())]))
            .collect();
        return Ok(Value::Array(vec![
            Value::Int(g.pel.len() as i64),
            bulk(min.to_string()),
            bulk(max.to_string()),
            Value::Array(consumers),
        ]));
    }
    let mut i = 3;
    let mut min_idle = 0;
    if is(&args[i], "idle") {
        min_idle = int_arg(args.get(i + 1).ok_or_else(syntax)?)?.max(0) as u64;
        i += 2;
    }
    let rest = &args[i..];
    if rest.len() != 3 && rest.len() != 4 {
        return Err(syntax());
    }
    let (lo, hi) = (range_end(&rest[0], true)?, range_end(&rest[1], false)?);
    let count = int_arg(&rest[2])?.max(0) as usize;
    let consumer = rest.get(3);
    let g = group(ctx, &args[1], &args[2], "")?;
    let rows = g
        .pel
        .range((lo, hi))
        .filter(|(_, p)| consumer.is_none_or(|c| *c == p.consumer))
        .filter(|(_, p)| now.saturating_sub(p.delivered) >= min_idle)
        .take(count)
        .map(|(id, p)| {
            Value::Array(vec![
                bulk(id.to_string()),
                bulk(p.consumer.clone()),
                Value::Int(now.saturating_sub(p.delivered) as i64),
                Value::Int(p.deliveries as i64),
            ])
        })
        .collect();
    Ok(Value::Array(rows))
}

/// One XCLAIM or XAUTOCLAIM request.
struct Claim<'a> {
    group: &'a [u8],
    consumer: &'a [u8],
    min_idle: u64,
    now: u64,
    justid: bool,
}

/// Give `id` to the claiming consumer if it has idled long enough; its reply, or `None`
/// when it is not claimable (and a deleted entry's id goes to `deleted`).
fn claim(s: &mut Stream, c: &Claim<'_>, id: Id, deleted: &mut Vec<Value>) -> Option<Value> {
    let Claim {
        group: gname,
        consumer,
        min_idle,
        now,
        justid,
    } = *c;
    let Stream {
        entries, groups, ..
    } = s;
    let g = groups.get_mut(gname)?;
    let p = g.pel.get_mut(&id)?;
    if now.saturating_sub(p.delivered) < min_idle {
        return None;
    }
    let Some(fields) = entries.get(&id) else {
        g.pel.remove(&id);
        deleted.push(bulk(id.to_string()));
        return None;
    };
    p.consumer = consumer.to_vec();
    p.delivered = now;
    if !justid {
        p.deliveries += 1;
    }
    g.consumers.insert(consumer.to_vec(), now);
    Some(if justid {
        bulk(id.to_string())
    } else {
        entry_reply(&id, fields)
    })
}

fn min_idle_arg(raw: &[u8]) -> Result<u64, Fail> {
    Ok(int_arg(raw)
        .map_err(|_| Fail::err("Invalid min-idle-time argument for XCLAIM"))?
        .max(0) as u64)
}

fn xclaim(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (key, gname, consumer) = (&args[1], &args[2], &args[3]);
    let min_idle = min_idle_arg(&args[4])?;
    let mut ids = Vec::new();
    let mut i = 5;
    while i < args.len() {
        match parse_id(&args[i], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        i += 1;
    }
    let justid = args[i..].iter().any(|a| is(a, "justid"));
    let now = ctx.now;
    group(ctx, key, gname, "")?;
    let s = ctx.db.typed::<Stream>(key, now)?.expect("group found");
    let mut deleted = Vec::new();
    let how = Claim {
        group: gname,
        consumer,
        min_idle,
        now,
        justid,
    };
    let claimed = ids
        .into_iter()
        .filter_map(|id| claim(s, &how, id, &mut deleted))
        .collect();
    Ok(Value::Array(claimed))
}

fn xautoclaim(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let (key, gname, consumer) = (&args[1], &args[2], &args[3]);
    let min_idle = min_idle_arg(&args[4])?;
    let start = parse_id(&args[5], 0)?;
    let (mut count, mut justid) = (100usize, false);
    let mut i = 6;
    while i < args.len() {
        if is(&args[i], "count") {
            count = usize::try_from(int_arg(args.get(i + 1).ok_or_else(syntax)?)?)
                .ok()
                .filter(|c| *c > 0)
                .ok_or_else(|| Fail::err("COUNT must be > 0"))?;
            i += 2;
        } else if is(&args[i], "justid") {
            justid = true;
            i += 1;
        } else {
            return Err(syntax());
        }
    }
    let now = ctx.now;
    let g = group(ctx, key, gname, "")?;
    let candidates: Vec<Id> = g
        .pel
        .range(start..)
        .map(|(id, _)| *id)
        .take(count + 1)
        .collect();
    let next = candidates.get(count).copied().unwrap_or_default();
    let s = ctx.db.typed::<Stream>(key, now)?.expect("group found");
    let mut deleted = Vec::new();
    let how = Claim {
        group: gname,
        consumer,
        min_idle,
        now,
        justid,
    };
    let claimed = candidates
        .into_iter()
        .take(count)
        .filter_map(|id| claim(s, &how, id, &mut deleted))
        .collect();
    Ok(Value::Array(vec![
        bulk(next.to_string()),
        Value::Array(claimed),
        Value::Array(deleted),
    ]))
}
