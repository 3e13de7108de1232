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

/// SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]. Keys are visited in the order of a fixed
/// hash of their name and the cursor is the next hash to visit, so keys present for the
/// whole scan are returned, as Redis guarantees, even when the caller deletes the keys it
/// was given between steps (a position in the key list would then skip some).
fn scan(ctx: &mut Ctx<'_>, args: &[Vec<u8>]) -> Reply {
    let cursor = std::str::from_utf8(&args[1])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| Fail::err("invalid cursor"))?;
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
    let mut ahead: Vec<(u64, Vec<u8>)> = all
        .into_iter()
        .map(|k| (scan_position(&k), k))
        .filter(|(pos, _)| *pos >= cursor.max(1))
        .collect();
    ahead.sort();
    let mut end = count.min(ahead.len());
    // Keys sharing the last position go in the same page: the cursor cannot split them.
    while end > 0 && end < ahead.len() && ahead[end].0 == ahead[end - 1].0 {
        end += 1;
    }
    let next = match ahead.get(end) {
        Some(_) => ahead[end - 1].0 + 1,
        None => 0,
    };
    let page: Vec<Vec<u8>> = ahead.into_iter().take(end).map(|(_, k)| k).collect();
    Ok(Value::Array(vec![bulk(next.to_string()), bulks(page)]))
}

/// Where SCAN visits `key`: an FNV-1a hash of its name, in 1..=2^63 (0 is the cursor that
/// starts and ends a scan).
fn scan_position(key: &[u8]) -> u64 {
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash >> 1) + 1
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

#[cfg(test)]
mod tests {
    use crate::testing::run;
    use redkit_protocol::Value;

    /// One SCAN step: the next cursor and the keys of the page.
    fn step(e: &crate::Engine, cursor: &str) -> (String, Vec<String>) {
        let Ok(Value::Array(reply)) = run(e, &["SCAN", cursor, "MATCH", "k:*", "COUNT", "7"])
        else {
            panic!("SCAN reply");
        };
        let text = |v: &Value| match v {
            Value::Bulk(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("{other:?}"),
        };
        let Value::Array(page) = &reply[1] else {
            panic!("page");
        };
        (text(&reply[0]), page.iter().map(text).collect())
    }

    #[test]
    fn scan_returns_every_key_even_when_the_caller_deletes_as_it_goes() {
        let e = crate::testing::engine();
        for i in 0..100 {
            run(&e, &["SET", &format!("k:{i}"), "1"]).unwrap();
        }
        run(&e, &["SET", "other", "1"]).unwrap();
        let (mut cursor, mut seen) = ("0".to_string(), Vec::new());
        loop {
            let (next, page) = step(&e, &cursor);
            for k in &page {
                run(&e, &["DEL", k]).unwrap();
            }
            seen.extend(page);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 100);
        assert_eq!(run(&e, &["DBSIZE"]), Ok(Value::Int(1)));
    }
}
