//! Error replies and the number formats of Redis: how arguments are parsed and how numbers
//! are printed, so every reply matches a real server byte for byte.

use redkit_protocol::Value;

/// An error reply, with its code first (`ERR ...`, `WRONGTYPE ...`), as Redis sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail(pub String);

/// What one command answers.
pub(crate) type Reply = Result<Value, Fail>;

impl Fail {
    /// `ERR <msg>`.
    pub fn err(msg: impl std::fmt::Display) -> Fail {
        Fail(format!("ERR {msg}"))
    }
}

pub(crate) fn wrongtype() -> Fail {
    Fail("WRONGTYPE Operation against a key holding the wrong kind of value".into())
}
pub(crate) fn not_int() -> Fail {
    Fail::err("value is not an integer or out of range")
}
pub(crate) fn not_float() -> Fail {
    Fail::err("value is not a valid float")
}
pub(crate) fn syntax() -> Fail {
    Fail::err("syntax error")
}
pub(crate) fn arity(name: &str) -> Fail {
    Fail::err(format!("wrong number of arguments for '{name}' command"))
}
pub(crate) fn no_such_key() -> Fail {
    Fail::err("no such key")
}

/// `OK`.
pub(crate) fn ok() -> Reply {
    Ok(Value::Status("OK".into()))
}

/// A bulk string reply.
pub(crate) fn bulk(b: impl Into<Vec<u8>>) -> Value {
    Value::Bulk(b.into())
}

/// An array of bulk strings.
pub(crate) fn bulks<I, B>(items: I) -> Value
where
    I: IntoIterator<Item = B>,
    B: Into<Vec<u8>>,
{
    Value::Array(items.into_iter().map(|b| Value::Bulk(b.into())).collect())
}

/// Redis's `string2ll`: an optional `-`, digits, no leading zeros, no `+`, no spaces.
pub(crate) fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    match digits {
        [] => return None,
        [b'0'] if !neg => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// An integer argument, or the standard error.
pub(crate) fn int_arg(b: &[u8]) -> Result<i64, Fail> {
    parse_i64(b).ok_or_else(not_int)
}

/// A double as Redis's `strtod`-based parsers take it: `inf`, `-inf`, `+inf` allowed,
/// NaN and surrounding spaces refused.
pub(crate) fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

/// A float argument, or the standard error.
pub(crate) fn float_arg(b: &[u8]) -> Result<f64, Fail> {
    parse_f64(b).ok_or_else(not_float)
}

/// C's `%.17g`: how Redis 7.0 prints scores (and how Lua numbers become arguments).
pub(crate) fn fmt_g17(v: f64) -> String {
    fmt_g(v, 17)
}

/// C's `%.<precision>g`.
pub(crate) fn fmt_g(v: f64, precision: usize) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v.is_nan() {
        return "nan".into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let p = precision.max(1);
    // Scientific form with p significant digits tells the decimal exponent after rounding.
    let sci = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = sci.split_once('e').expect("scientific format");
    let exp: i32 = exp.parse().expect("exponent");
    if exp < -4 || exp >= p as i32 {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// How INCRBYFLOAT and HINCRBYFLOAT print: plain decimal, no exponent, no trailing zeros.
pub(crate) fn fmt_human(v: f64) -> String {
    if v.is_infinite() {
        return fmt_g17(v);
    }
    format!("{v}")
}

/// A score reply: a bulk string in `%.17g` (a score of -0 reads as 0, as in Redis).
pub(crate) fn score(v: f64) -> Value {
    Value::Bulk(fmt_g17(if v == 0.0 { 0.0 } else { v }).into_bytes())
}

/// Case-insensitive comparison of an argument with an option name.
pub(crate) fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_c() {
        assert_eq!(fmt_g17(1.0), "1");
        assert_eq!(fmt_g17(1.5), "1.5");
        assert_eq!(fmt_g17(-1.0), "-1");
        assert_eq!(fmt_g17(1.1), "1.1000000000000001");
        assert_eq!(fmt_g17(0.1), "0.10000000000000001");
        assert_eq!(fmt_g17(1e20), "1e+20");
        assert_eq!(fmt_g17(1e-5), "1.0000000000000001e-05");
        assert_eq!(fmt_g17(f64::INFINITY), "inf");
        assert_eq!(fmt_g17(f64::NEG_INFINITY), "-inf");
        assert_eq!(fmt_g17(1234567890123.0), "1234567890123");
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(1e20, 14), "1e+20");
    }

    #[test]
    fn integers_parse_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b""), None);
    }

    #[test]
    fn floats_parse_like_strtod() {
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"x"), None);
    }
}
