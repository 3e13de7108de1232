//! The libraries Redis gives scripts beyond Lua's own: `cjson` (encode, decode, null),
//! `bit` (LuaBitOp: 32-bit operations) and `redis.sha1hex`, `redis.log` and the constants
//! scripts read. Encoding follows lua-cjson:
//! numbers as `%.14g`, `/` escaped, empty tables as `{}`, sparse arrays refused.

use mlua::{LightUserData, Lua, Table, Value as LuaValue};

use super::reply::fmt_g;

/// Install `cjson` and the `redis` table's plain functions into `lua`'s globals.
pub(crate) fn install(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    let cjson = lua.create_table()?;
    cjson.raw_set("null", null())?;
    cjson.raw_set(
        "encode",
        lua.create_function(|_, v: LuaValue| {
            let mut out = String::new();
            encode(&v, &mut out, 0).map_err(mlua::Error::runtime)?;
            Ok(out)
        })?,
    )?;
    cjson.raw_set(
        "decode",
        lua.create_function(|lua, s: mlua::LuaString| {
            let v: serde_json::Value = serde_json::from_slice(&s.as_bytes())
                .map_err(|e| mlua::Error::runtime(format!("cjson.decode: {e}")))?;
            decode(lua, &v)
        })?,
    )?;
    globals.raw_set("cjson", cjson)?;

    let redis = lua.create_table()?;
    redis.raw_set(
        "sha1hex",
        lua.create_function(|_, s: mlua::LuaString| {
            Ok(sha1_smol::Sha1::from(&*s.as_bytes()).digest().to_string())
        })?,
    )?;
    // Scripts may log and pick a replication mode; the engine has neither log nor replicas.
    redis.raw_set("log", lua.create_function(|_, _: mlua::MultiValue| Ok(()))?)?;
    redis.raw_set(
        "set_repl",
        lua.create_function(|_, _: mlua::MultiValue| Ok(()))?,
    )?;
    redis.raw_set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
    for (name, n) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        redis.raw_set(name, n)?;
    }
    globals.raw_set("redis", redis)?;
    install_bit(lua)
}

/// LuaBitOp's conversion: the number's integer value, wrapped to a signed 32-bit integer.
fn tobit(n: f64) -> i32 {
    (n.round_ties_even() as i64) as i32
}

/// The `bit` table: every operation works on, and returns, signed 32-bit integers.
fn install_bit(lua: &Lua) -> mlua::Result<()> {
    let bit = lua.create_table()?;
    let fold = |f: fn(i32, i32) -> i32| {
        lua.create_function(move |_, (first, rest): (f64, mlua::Variadic<f64>)| {
            Ok(rest.iter().fold(tobit(first), |acc, n| f(acc, tobit(*n))))
        })
    };
    bit.raw_set("band", fold(|a, b| a & b)?)?;
    bit.raw_set("bor", fold(|a, b| a | b)?)?;
    bit.raw_set("bxor", fold(|a, b| a ^ b)?)?;
    let shift = |f: fn(i32, u32) -> i32| {
        lua.create_function(move |_, (x, n): (f64, f64)| Ok(f(tobit(x), tobit(n) as u32 & 31)))
    };
    bit.raw_set("lshift", shift(|x, n| ((x as u32) << n) as i32)?)?;
    bit.raw_set("rshift", shift(|x, n| ((x as u32) >> n) as i32)?)?;
    bit.raw_set("arshift", shift(|x, n| x >> n)?)?;
    bit.raw_set("rol", shift(|x, n| (x as u32).rotate_left(n) as i32)?)?;
    bit.raw_set("ror", shift(|x, n| (x as u32).rotate_right(n) as i32)?)?;
    bit.raw_set("tobit", lua.create_function(|_, x: f64| Ok(tobit(x)))?)?;
    bit.raw_set("bnot", lua.create_function(|_, x: f64| Ok(!tobit(x)))?)?;
    bit.raw_set(
        "bswap",
        lua.create_function(|_, x: f64| Ok(tobit(x).swap_bytes()))?,
    )?;
    bit.raw_set(
        "tohex",
        lua.create_function(|_, (x, n): (f64, Option<f64>)| {
            let n = n.map(tobit).unwrap_or(8);
            let digits = n.unsigned_abs().min(8) as usize;
            let hex = format!("{:08x}", tobit(x) as u32);
            let hex = &hex[8 - digits..];
            Ok(if n < 0 {
                hex.to_ascii_uppercase()
            } else {
                hex.to_string()
            })
        })?,
    )?;
    lua.globals().raw_set("bit", bit)
}

/// `cjson.null`: the NULL light userdata, as in lua-cjson.
fn null() -> LuaValue {
    LuaValue::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn encode(v: &LuaValue, out: &mut String, depth: usize) -> Result<(), String> {
    if depth > 1000 {
        return Err(format!(
            "Cannot serialise, excessive nesting ({})",
            depth + 1
        ));
    }
    match v {
        LuaValue::Nil => out.push_str("null"),
        LuaValue::LightUserData(p) if p.0.is_null() => out.push_str("null"),
        LuaValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        LuaValue::Integer(i) => out.push_str(&i.to_string()),
        LuaValue::Number(n) if !n.is_finite() => {
            return Err("Cannot serialise number: must not be NaN or Inf".into());
        }
        LuaValue::Number(n) => out.push_str(&fmt_g(*n, 14)),
        LuaValue::String(s) => string(&s.as_bytes(), out),
        LuaValue::Table(t) => table(t, out, depth)?,
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ))
        }
    }
    Ok(())
}

fn string(bytes: &[u8], out: &mut String) {
    out.push('"');
    for ch in String::from_utf8_lossy(bytes).chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The array length lua-cjson would use: `Some(n)` for an array, `None` for an object.
fn array_len(t: &Table) -> Result<Option<usize>, String> {
    let (mut max, mut items) = (0usize, 0usize);
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        let index = match k {
            LuaValue::Integer(i) if i >= 1 => i as usize,
            LuaValue::Number(n) if n >= 1.0 && n.fract() == 0.0 => n as usize,
            _ => return Ok(None),
        };
        max = max.max(index);
        items += 1;
    }
    if items == 0 {
        return Ok(None);
    }
    if max > items * 2 && max > 10 {
        return Err("Cannot serialise table: excessively sparse array".into());
    }
    Ok(Some(max))
}

fn table(t: &Table, out: &mut String, depth: usize) -> Result<(), String> {
    if let Some(n) = array_len(t)? {
        out.push('[');
        for i in 1..=n {
            if i > 1 {
                out.push(',');
            }
            let item: LuaValue = t.raw_get(i).map_err(|e| e.to_string())?;
            encode(&item, out, depth + 1)?;
        }
        out.push(']');
        return Ok(());
    }
    out.push('{');
    let mut first = true;
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        if !first {
            out.push(',');
        }
        first = false;
        match &k {
            LuaValue::String(s) => string(&s.as_bytes(), out),
            LuaValue::Integer(i) => string(i.to_string().as_bytes(), out),
            LuaValue::Number(n) => string(fmt_g(*n, 14).as_bytes(), out),
            _ => return Err("Cannot serialise table: table key must be a number or string".into()),
        }
        out.push(':');
        encode(&v, out, depth + 1)?;
    }
    out.push('}');
    Ok(())
}

fn decode(lua: &Lua, v: &serde_json::Value) -> mlua::Result<LuaValue> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => null(),
        J::Bool(b) => LuaValue::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => LuaValue::Integer(i),
            None => LuaValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => LuaValue::String(lua.create_string(s)?),
        J::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, decode(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
        J::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, item) in map {
                t.raw_set(k.as_str(), decode(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
    })
}
