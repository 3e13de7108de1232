//! Generic key commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME and the expiry family
//! (EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX/XX/GT/LT, TTL, PTTL, EXPIRETIME, PERSIST).

use super::command::{Ctx, Spec, WRITE};
use super::glob::glob_match;
use super::reply::{bulk, bulks, int_arg, is, no_such_key, ok, syntax, Fail, Reply};
use redkit_protocol::Value;

pub(crate) static COMMANDS: &[Spec] = &[
    Spec::new("del", -2, WRITE, del),
    Spec::new("unlink", -2, WRITE, del),
    Spec::new("exists", -2, 0, exists),
    Spec::new("type", 2, 0, key_type),
    Spec::new("keys", 2, 0, keys),
    Spec::new("scan", -2, 0, scan),
    Spec::new("rename", 3, WRITE, rename),
    Spec::new("expire", -3, WRITE, expire),
    Spec::new("pexpire", -3, WRITE, expire),
    Spec::new("expireat", -3, WRITE, expire),
    Spec::new("pexpireat", -3, WRITE, expire),
    Spec::new("ttl", 2, 0, ttl),
    Spec::new("pttl", 2, 0, ttl),
    Spec::new("expiretime", 2, 0, ttl),
    Spec::new("pexpiretime", 2, 0, ttl),
    Spec::new("persist", 2, WRITE, persist),
];

fn del(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let mut n = 0;
    for key in &args[1..] {
        if ctx.db.exists(key, ctx.now) {
            ctx.db.remove(key);
            n += 1;
        }
    }
    Ok(Value::Int(n))
}

fn exists(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let n = args[1..]
        .iter()
        .filter(|k| ctx.db.exists(k, ctx.now))
        .count();
    Ok(Value::Int(n as i64))
}

fn key_type(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let name = ctx
        .db
        .get(&args[1], ctx.now)
        .map(|e| e.obj.type_name())
        .unwrap_or("none");
    Ok(Value::Status(name.into()))
}

/// Live keys matching a glob pattern, sorted (a stable order SCAN can page through).
fn matching(ctx: &mut Ctx<'_>, pattern: &[u8]) -> Vec<Vec<u8>> {
    let mut found: Vec<Vec<u8>> = ctx
        .db
        .keys()
        .filter(|k| glob_match(pattern, k))
        .cloned()
        .collect();
    found.retain(|k| ctx.db.exists(k, ctx.now));
    found.sort();
    found
}

fn keys(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    Ok(bulks(matching(ctx, &args[1])))
}

/// SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]. The cursor is a position in the sorted
/// key list: keys present for the whole scan are returned, as Redis guarantees.
fn scan(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let cursor = std::str::from_utf8(&args[1])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| Fail::err("invalid cursor"))? as usize;
    let (mut pattern, mut count, mut kind) = (b"*".to_vec(), 10usize, None);
    let mut i = 2;
    while i < args.len() {
        let value = args.get(i + 1).ok_or_else(syntax)?;
        if is(&args[i], "match") {
            pattern = value.clone();
        } else if is(&args[i], "count") {
            count = usize::try_from(int_arg(value)?)
                .ok()
                .filter(|c| *c > 0)
                .ok_or_else(syntax)?;
        } else if is(&args[i], "type") {
            kind = Some(String::from_utf8_lossy(value).to_ascii_lowercase());
        } else {
            return Err(syntax());
        }
        i += 2;
    }
    let mut all = matching(ctx, &pattern);
    if let Some(kind) = kind {
        all.retain(|k| {
            ctx.db
                .get(k, ctx.now)
                .is_some_and(|e| e.obj.type_name() == kind)
        });
    }
    let end = (cursor + count).min(all.len());
    let page = all.get(cursor.min(end)..end).unwrap_or_default().to_vec();
    let next = if end >= all.len() { 0 } else { end };
    Ok(Value::Array(vec![bulk(next.to_string()), bulks(page)]))
}

fn rename(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    if !ctx.db.exists(&args[1], ctx.now) {
        return Err(no_such_key());
    }
    let entry = ctx.db.remove(&args[1]).expect("exists");
    ctx.db.insert(&args[2], entry.obj, entry.expire_at);
    ok()
}

/// The four EXPIRE variants: relative or absolute, seconds or milliseconds.
fn expire(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let (millis, absolute) = match name.as_str() {
        "expire" => (false, false),
        "pexpire" => (true, false),
        "expireat" => (false, true),
        _ => (true, true),
    };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &args[3..] {
        match String::from_utf8_lossy(opt).to_ascii_lowercase().as_str() {
            "nx" => nx = true,
            "xx" => xx = true,
            "gt" => gt = true,
            "lt" => lt = true,
            _ => {
                return Err(Fail::err(format!(
                    "Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )))
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(Fail::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(Fail::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    let invalid = || Fail::err(format!("invalid expire time in '{name}' command"));
    let amount = int_arg(&args[2])?;
    let ms = if millis {
        Some(amount)
    } else {
        amount.checked_mul(1000)
    }
    .ok_or_else(invalid)?;
    let at = if absolute {
        Some(ms)
    } else {
        ms.checked_add(ctx.now as i64)
    }
    .ok_or_else(invalid)?;
    let Some(entry) = ctx.db.get(&args[1], ctx.now) else {
        return Ok(Value::Int(0));
    };
    let current = entry.expire_at;
    let allowed = match current {
        None => !(xx || gt),
        Some(cur) => !(nx || (gt && at <= cur as i64) || (lt && at >= cur as i64)),
    };
    if !allowed {
        return Ok(Value::Int(0));
    }
    if at <= ctx.now as i64 {
        ctx.db.remove(&args[1]);
    } else {
        ctx.db.set_expire(&args[1], Some(at as u64));
    }
    Ok(Value::Int(1))
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for one without deadline.
fn ttl(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let Some(entry) = ctx.db.get(&args[1], ctx.now) else {
        return Ok(Value::Int(-2));
    };
    let Some(at) = entry.expire_at else {
        return Ok(Value::Int(-1));
    };
    let left = at.saturating_sub(ctx.now) as i64;
    Ok(Value::Int(match name.as_str() {
        "ttl" => (left + 500) / 1000,
        "pttl" => left,
        "expiretime" => (at / 1000) as i64,
        _ => at as i64,
    }))
}

fn persist(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let had = ctx
        .db
        .get(&args[1], ctx.now)
        .is_some_and(|e| e.expire_at.is_some());
    if had {
        ctx.db.set_expire(&args[1], None);
    }
    Ok(Value::Int(had as i64))
}
