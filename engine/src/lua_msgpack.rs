//! `cmsgpack.pack` and `cmsgpack.unpack` as Redis bundles them (lua-cmsgpack): tables with
//! keys 1..n are arrays, other tables maps; whole numbers are the smallest integer type;
//! other numbers float32 when exact, else float64.

use mlua::{Lua, MultiValue, Table, Value as LuaValue};

/// Install the `cmsgpack` table into `lua`'s globals.
pub(crate) fn install(lua: &Lua) -> mlua::Result<()> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(mlua::Error::runtime("MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for v in args.iter() {
                pack(v, &mut out, 0)?;
            }
            lua.create_string(&out)
        })?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, s: mlua::LuaString| {
            let bytes = s.as_bytes().to_vec();
            let mut at = 0;
            let mut values = Vec::new();
            while at < bytes.len() {
                values.push(unpack(lua, &bytes, &mut at, 0)?);
            }
            Ok(MultiValue::from_iter(values))
        })?,
    )?;
    lua.globals().raw_set("cmsgpack", t)
}

/// Keys 1..n with no gaps: an array of n.
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let (mut count, mut max) = (0usize, 0usize);
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, _) = pair?;
        match k {
            LuaValue::Integer(i) if i >= 1 => max = max.max(i as usize),
            LuaValue::Number(n) if n >= 1.0 && n.fract() == 0.0 => max = max.max(n as usize),
            _ => return Ok(None),
        }
        count += 1;
    }
    Ok((count == max).then_some(max))
}

fn pack_len(out: &mut Vec<u8>, len: usize, fix: Option<(u8, usize)>, codes: [u8; 3]) {
    match fix {
        Some((base, limit)) if len < limit => out.push(base | len as u8),
        _ if codes[0] != 0 && len <= 0xff => out.extend([codes[0], len as u8]),
        _ if len <= 0xffff => {
            out.push(codes[1]);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(codes[2]);
            out.extend((len as u32).to_be_bytes());
        }
    }
}

fn pack_int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        match i {
            0..=0x7f => out.push(i as u8),
            0x80..=0xff => out.extend([0xcc, i as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend((i as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend((i as u32).to_be_bytes());
            }
            _ => {
                out.push(0xcf);
                out.extend((i as u64).to_be_bytes());
            }
        }
    } else {
        match i {
            -32..=-1 => out.push(i as i8 as u8),
            -128..=-33 => out.extend([0xd0, i as i8 as u8]),
            -32768..=-129 => {
                out.push(0xd1);
                out.extend((i as i16).to_be_bytes());
            }
            -2_147_483_648..=-32769 => {
                out.push(0xd2);
                out.extend((i as i32).to_be_bytes());
            }
            _ => {
                out.push(0xd3);
                out.extend(i.to_be_bytes());
            }
        }
    }
}

fn pack(v: &LuaValue, out: &mut Vec<u8>, depth: usize) -> mlua::Result<()> {
    match v {
        LuaValue::Nil => out.push(0xc0),
        LuaValue::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        LuaValue::Integer(i) => pack_int(*i, out),
        LuaValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.2e18 => pack_int(*n as i64, out),
        LuaValue::Number(n) if (*n as f32) as f64 == *n => {
            out.push(0xca);
            out.extend((*n as f32).to_be_bytes());
        }
        LuaValue::Number(n) => {
            out.push(0xcb);
            out.extend(n.to_be_bytes());
        }
        LuaValue::String(s) => {
            let b = s.as_bytes();
            pack_len(out, b.len(), Some((0xa0, 32)), [0xd9, 0xda, 0xdb]);
            out.extend_from_slice(&b);
        }
        // lua-cmsgpack stops descending at 16 levels and writes nil there.
        LuaValue::Table(_) if depth >= 16 => out.push(0xc0),
        LuaValue::Table(t) => match array_len(t)? {
            Some(n) => {
                pack_len(out, n, Some((0x90, 16)), [0, 0xdc, 0xdd]);
                for i in 1..=n {
                    pack(&t.raw_get::<LuaValue>(i)?, out, depth + 1)?;
                }
            }
            None => {
                let pairs: Vec<(LuaValue, LuaValue)> = t.pairs().collect::<mlua::Result<_>>()?;
                pack_len(out, pairs.len(), Some((0x80, 16)), [0, 0xde, 0xdf]);
                for (k, val) in &pairs {
                    pack(k, out, depth + 1)?;
                    pack(val, out, depth + 1)?;
                }
            }
        },
        _ => out.push(0xc0),
    }
    Ok(())
}

fn take<'a>(b: &'a [u8], at: &mut usize, n: usize) -> mlua::Result<&'a [u8]> {
    let end = at.checked_add(n).filter(|e| *e <= b.len());
    let end = end.ok_or_else(|| mlua::Error::runtime("Missing bytes in input."))?;
    let s = &b[*at..end];
    *at = end;
    Ok(s)
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, x| (acc << 8) | *x as u64)
}

fn unpack(lua: &Lua, b: &[u8], at: &mut usize, depth: usize) -> mlua::Result<LuaValue> {
    if depth > 1000 {
        return Err(mlua::Error::runtime("MessagePack input nested too deeply."));
    }
    let code = take(b, at, 1)?[0];
    let int = |v: i64| LuaValue::Integer(v);
    Ok(match code {
        0x00..=0x7f => int(code as i64),
        0x80..=0x8f => map(lua, b, at, (code & 0x0f) as usize, depth)?,
        0x90..=0x9f => array(lua, b, at, (code & 0x0f) as usize, depth)?,
        0xa0..=0xbf => str(lua, b, at, (code & 0x1f) as usize)?,
        0xc0 => LuaValue::Nil,
        0xc2 => LuaValue::Boolean(false),
        0xc3 => LuaValue::Boolean(true),
        0xc4 | 0xd9 => {
            let n = take(b, at, 1)?[0] as usize;
            str(lua, b, at, n)?
        }
        0xc5 | 0xda => {
            let n = be(take(b, at, 2)?) as usize;
            str(lua, b, at, n)?
        }
        0xc6 | 0xdb => {
            let n = be(take(b, at, 4)?) as usize;
            str(lua, b, at, n)?
        }
        0xca => LuaValue::Number(
            f32::from_be_bytes(take(b, at, 4)?.try_into().expect("4 bytes")) as f64,
        ),
        0xcb => LuaValue::Number(f64::from_be_bytes(
            take(b, at, 8)?.try_into().expect("8 bytes"),
        )),
        0xcc => int(be(take(b, at, 1)?) as i64),
        0xcd => int(be(take(b, at, 2)?) as i64),
        0xce => int(be(take(b, at, 4)?) as i64),
        0xcf => match i64::try_from(be(take(b, at, 8)?)) {
            Ok(i) => int(i),
            Err(_) => LuaValue::Number(be(&b[*at - 8..*at]) as f64),
        },
        0xd0 => int(take(b, at, 1)?[0] as i8 as i64),
        0xd1 => int(i16::from_be_bytes(take(b, at, 2)?.try_into().expect("2 bytes")) as i64),
        0xd2 => int(i32::from_be_bytes(take(b, at, 4)?.try_into().expect("4 bytes")) as i64),
        0xd3 => int(i64::from_be_bytes(
            take(b, at, 8)?.try_into().expect("8 bytes"),
        )),
        0xdc => {
            let n = be(take(b, at, 2)?) as usize;
            array(lua, b, at, n, depth)?
        }
        0xdd => {
            let n = be(take(b, at, 4)?) as usize;
            array(lua, b, at, n, depth)?
        }
        0xde => {
            let n = be(take(b, at, 2)?) as usize;
            map(lua, b, at, n, depth)?
        }
        0xdf => {
            let n = be(take(b, at, 4)?) as usize;
            map(lua, b, at, n, depth)?
        }
        0xe0..=0xff => int(code as i8 as i64),
        _ => return Err(mlua::Error::runtime("Bad data format in input.")),
    })
}

fn str(lua: &Lua, b: &[u8], at: &mut usize, n: usize) -> mlua::Result<LuaValue> {
    Ok(LuaValue::String(lua.create_string(take(b, at, n)?)?))
}

fn array(lua: &Lua, b: &[u8], at: &mut usize, n: usize, depth: usize) -> mlua::Result<LuaValue> {
    // Never trust a length prefix for a preallocation: a short input claims millions.
    let t = lua.create_table()?;
    for i in 1..=n {
        t.raw_set(i, unpack(lua, b, at, depth + 1)?)?;
    }
    Ok(LuaValue::Table(t))
}

fn map(lua: &Lua, b: &[u8], at: &mut usize, n: usize, depth: usize) -> mlua::Result<LuaValue> {
    let t = lua.create_table()?;
    for _ in 0..n {
        let k = unpack(lua, b, at, depth + 1)?;
        let v = unpack(lua, b, at, depth + 1)?;
        if k != LuaValue::Nil {
            t.raw_set(k, v)?;
        }
    }
    Ok(LuaValue::Table(t))
}
