//! RESP, the Redis wire protocol: commands encoded into a byte buffer, replies parsed out of
//! one that may end in the middle of a reply (a socket delivers bytes in arbitrary chunks).
//!
//! Used by redkit's hosted transport, whose bytes are moved by the host runtime
//! (`redkit::transport::hosted`). Parses RESP2 and the RESP3 types, so a server that pushes
//! RESP3 replies is not a protocol error.

use crate::error::{Error, Result};
use crate::value::Value;

/// Append `*<n>\r\n$<len>\r\n<part>\r\n...`: one command as Redis reads it.
pub fn encode_command<P: AsRef<[u8]>>(out: &mut Vec<u8>, parts: &[P]) {
    let size: usize = parts.iter().map(|p| p.as_ref().len() + 16).sum();
    out.reserve(size + 16);
    push_header(out, b'*', parts.len());
    for part in parts {
        let part = part.as_ref();
        push_header(out, b'$', part.len());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
}

/// Append `<kind><n>\r\n`: an array's or a bulk string's header.
pub(crate) fn push_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    let mut digits = [0u8; 40];
    out.push(kind);
    out.extend_from_slice(decimal(n as i128, &mut digits));
    out.extend_from_slice(b"\r\n");
}

/// `n` in decimal, written at the end of `buf`. Every integer type up to 64 bits fits in an
/// i128; the digits come from the magnitude as a u64, whose division is one instruction
/// (an i128's is a library call).
pub(crate) fn decimal(n: i128, buf: &mut [u8; 40]) -> &[u8] {
    let mut at = buf.len();
    let mut m = u64::try_from(n.unsigned_abs()).expect("an integer of at most 64 bits");
    loop {
        at -= 1;
        buf[at] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// Parse one reply from the front of `buf`: the reply and how many bytes it took, or
/// `None` when `buf` does not hold a whole reply yet. A reply that is not RESP is an error
/// (the connection cannot be trusted after it).
pub fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>> {
    parse_at(buf, 0, 0)
}

/// Deeper nesting than this is not a reply redkit asked for: refuse it rather than let a
/// hostile peer exhaust the stack.
const MAX_DEPTH: usize = 64;

type Step = Option<(Value, usize)>;

fn parse_at(buf: &[u8], at: usize, depth: usize) -> Result<Step> {
    if depth > MAX_DEPTH {
        return Err(protocol("replies nested too deeply"));
    }
    let Some((kind, line, next)) = line(buf, at)? else {
        return Ok(None);
    };
    let text = || String::from_utf8_lossy(line).into_owned();
    let value = match kind {
        b'+' => Value::Status(text()),
        b'-' => Value::Error(text()),
        b':' => Value::Int(int(line)?),
        b'_' => Value::Nil,
        b'#' => Value::Bool(line == b"t"),
        b',' => Value::Double(double(line)?),
        b'(' => Value::Bulk(line.to_vec()),
        b'$' | b'=' | b'!' => {
            let len = int(line)?;
            if len < 0 {
                return Ok(Some((Value::Nil, next)));
            }
            let end = usize::try_from(len)
                .ok()
                .and_then(|len| next.checked_add(len))
                .filter(|end| end.checked_add(2).is_some())
                .ok_or_else(|| protocol("a bulk string longer than memory"))?;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(protocol("bulk string without its terminator"));
            }
            let body = &buf[next..end];
            let value = match kind {
                b'!' => Value::Error(String::from_utf8_lossy(body).into_owned()),
                // A verbatim string starts with its format (`txt:`); the text follows.
                b'=' => Value::Bulk(body.get(4..).unwrap_or_default().to_vec()),
                _ => Value::Bulk(body.to_vec()),
            };
            return Ok(Some((value, end + 2)));
        }
        b'*' | b'~' | b'>' => {
            let n = int(line)?;
            if n < 0 {
                return Ok(Some((Value::Nil, next)));
            }
            let mut items = Vec::with_capacity((n as usize).min(1024));
            let mut at = next;
            for _ in 0..n {
                let Some((item, after)) = parse_at(buf, at, depth + 1)? else {
                    return Ok(None);
                };
                items.push(item);
                at = after;
            }
            return Ok(Some((Value::Array(items), at)));
        }
        b'%' => {
            let n = int(line)?;
            let mut pairs = Vec::with_capacity((n.max(0) as usize).min(1024));
            let mut at = next;
            for _ in 0..n {
                let Some((k, after)) = parse_at(buf, at, depth + 1)? else {
                    return Ok(None);
                };
                let Some((v, after)) = parse_at(buf, after, depth + 1)? else {
                    return Ok(None);
                };
                pairs.push((k, v));
                at = after;
            }
            return Ok(Some((Value::Map(pairs), at)));
        }
        other => return Err(protocol(&format!("unknown reply type byte 0x{other:02x}"))),
    };
    Ok(Some((value, next)))
}

/// How far a reply that has not fully arrived has been checked, so that each chunk that
/// extends it is looked at once. Parsing it from its start on every chunk would take time
/// quadratic in its size (a large array arrives in thousands of chunks); this scan only
/// finds where each element ends, and [`parse`] runs once the whole reply is there.
#[derive(Debug, Default)]
pub struct Scan {
    /// Where the next element starts, from the start of the reply.
    at: usize,
    /// For each array or map still open, outermost first: how many elements it still needs.
    open: Vec<u64>,
}

impl Scan {
    /// Go on over `buf`, the reply's bytes so far from its start (the same start every
    /// time, and only ever longer): its length once it is whole, `None` until then. What
    /// is not RESP is an error, as with [`parse`].
    pub fn whole(&mut self, buf: &[u8]) -> Result<Option<usize>> {
        loop {
            let Some((kind, line, next)) = line(buf, self.at)? else {
                return Ok(None);
            };
            let mut end = next;
            let children = match kind {
                b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => 0,
                b'$' | b'=' | b'!' => {
                    if let Ok(len) = usize::try_from(int(line)?) {
                        end = next
                            .checked_add(len)
                            .and_then(|e| e.checked_add(2))
                            .ok_or_else(|| protocol("a bulk string longer than memory"))?;
                        if buf.len() < end {
                            return Ok(None);
                        }
                    }
                    0
                }
                b'*' | b'~' | b'>' => u64::try_from(int(line)?).unwrap_or(0),
                b'%' => u64::try_from(int(line)?).unwrap_or(0).saturating_mul(2),
                other => return Err(protocol(&format!("unknown reply type byte 0x{other:02x}"))),
            };
            self.at = end;
            if children > 0 {
                if self.open.len() >= MAX_DEPTH {
                    return Err(protocol("replies nested too deeply"));
                }
                self.open.push(children);
                continue;
            }
            // An element ended: so may the arrays it closes, and with the outermost, the reply.
            loop {
                match self.open.last_mut() {
                    None => return Ok(Some(self.at)),
                    Some(left) if *left > 1 => {
                        *left -= 1;
                        break;
                    }
                    Some(_) => {
                        self.open.pop();
                    }
                }
            }
        }
    }
}

/// The type byte at `at`, the rest of its line, and where the next line starts.
fn line(buf: &[u8], at: usize) -> Result<Option<(u8, &[u8], usize)>> {
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    let rest = &buf[at + 1..];
    match rest.iter().position(|&b| b == b'\r') {
        Some(cr) if cr + 1 < rest.len() => {
            if rest[cr + 1] != b'\n' {
                return Err(protocol("line without \\r\\n"));
            }
            Ok(Some((kind, &rest[..cr], at + 1 + cr + 2)))
        }
        _ => Ok(None),
    }
}

fn int(line: &[u8]) -> Result<i64> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| protocol("a length or integer that is not a number"))
}

fn double(line: &[u8]) -> Result<f64> {
    match line {
        b"inf" => Ok(f64::INFINITY),
        b"-inf" => Ok(f64::NEG_INFINITY),
        _ => std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| protocol("a double that is not a number")),
    }
}

fn protocol(what: &str) -> Error {
    Error::Connection(format!("protocol error from the server: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(bytes: &[u8]) -> Value {
        let (v, used) = parse(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len(), "consumed all of {bytes:?}");
        v
    }

    /// Fed a byte at a time, the scan finds each reply's end exactly where parse does.
    #[test]
    fn a_scan_finds_where_a_reply_ends() {
        let replies: [&[u8]; 8] = [
            b"+OK\r\n",
            b"$-1\r\n",
            b"$5\r\nhe\r\no\r\n",
            b"*0\r\n",
            b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n$-1\r\n",
            b"%2\r\n+k\r\n*1\r\n:1\r\n+k2\r\n_\r\n",
            b"*2\r\n*1\r\n*1\r\n:7\r\n,1.5\r\n",
            b"=8\r\ntxt:hey!\r\n",
        ];
        for reply in replies {
            let mut scan = Scan::default();
            for cut in 0..reply.len() {
                assert_eq!(
                    scan.whole(&reply[..cut]).unwrap(),
                    None,
                    "{reply:?} at {cut}"
                );
            }
            assert_eq!(scan.whole(reply).unwrap(), Some(reply.len()), "{reply:?}");
            let mut more = reply.to_vec();
            more.extend_from_slice(b"+next\r\n");
            assert_eq!(Scan::default().whole(&more).unwrap(), Some(reply.len()));
            assert_eq!(parse(reply).unwrap().unwrap().1, reply.len());
        }
        assert!(Scan::default().whole(b"?x\r\n").is_err());
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 1);
        assert!(Scan::default().whole(&deep).is_err());
    }

    #[test]
    fn encodes_commands() {
        let mut out = Vec::new();
        encode_command(&mut out, &["GET", "k"]);
        encode_command(&mut out, &[b"SET".as_slice(), b"", b"0123456789"]);
        assert_eq!(
            out,
            b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$0\r\n\r\n$10\r\n0123456789\r\n"
        );
    }

    #[test]
    fn parses_every_type() {
        assert_eq!(whole(b"+OK\r\n"), Value::Status("OK".into()));
        assert_eq!(whole(b"-ERR bad\r\n"), Value::Error("ERR bad".into()));
        assert_eq!(whole(b":-42\r\n"), Value::Int(-42));
        assert_eq!(whole(b"$-1\r\n"), Value::Nil);
        assert_eq!(whole(b"*-1\r\n"), Value::Nil);
        assert_eq!(
            whole(b"$5\r\na\r\nb!\r\n"),
            Value::Bulk(b"a\r\nb!".to_vec())
        );
        assert_eq!(whole(b"$0\r\n\r\n"), Value::Bulk(Vec::new()));
        assert_eq!(
            whole(b"*3\r\n:1\r\n$1\r\nx\r\n*0\r\n"),
            Value::Array(vec![
                Value::Int(1),
                Value::Bulk(b"x".to_vec()),
                Value::Array(vec![])
            ])
        );
        assert_eq!(whole(b"_\r\n"), Value::Nil);
        assert_eq!(whole(b"#t\r\n"), Value::Bool(true));
        assert_eq!(whole(b",1.5\r\n"), Value::Double(1.5));
        assert_eq!(whole(b"=8\r\ntxt:abcd\r\n"), Value::Bulk(b"abcd".to_vec()));
        assert_eq!(
            whole(b"%1\r\n+a\r\n:1\r\n"),
            Value::Map(vec![(Value::Status("a".into()), Value::Int(1))])
        );
    }

    #[test]
    fn a_partial_reply_waits_for_more_at_every_cut() {
        let bytes = b"*2\r\n$3\r\nabc\r\n*1\r\n:7\r\n";
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        assert!(parse(bytes).unwrap().is_some());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b"?x\r\n"[..],
            b":12a\r\n",
            b"$3\r\nabcXY",
            b"+a\rX",
            b"$-9999999999999999999999\r\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "*1\r\n".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
