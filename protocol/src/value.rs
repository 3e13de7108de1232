//! Commands going to the server and the replies coming back, independent of any client
//! library, so every transport (the native RESP connection, the embedded engine, REST, a JS
//! client) speaks the same two types.

use crate::error::{Error, Result};
use crate::resp;

/// One reply from the server. Covers RESP2 and RESP3: transports fold RESP3-only shapes
/// (verbatim strings, big numbers, attributes) into the nearest variant.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null bulk string, null array, or RESP3 null.
    Nil,
    /// An integer reply.
    Int(i64),
    /// A bulk string (binary-safe).
    Bulk(Vec<u8>),
    /// A simple string reply such as `OK` or `PONG`.
    Status(String),
    /// An array, a RESP3 set or a RESP3 push.
    Array(Vec<Value>),
    /// A RESP3 double.
    Double(f64),
    /// A RESP3 boolean.
    Bool(bool),
    /// A RESP3 map, in server order.
    Map(Vec<(Value, Value)>),
    /// An error reply nested inside an array or a pipeline result.
    Error(String),
}

impl Value {
    /// Whether the reply is nil.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Turn a nested error reply into an `Err`, leaving every other value alone.
    pub fn into_result(self) -> Result<Value> {
        match self {
            Value::Error(msg) => Err(server_error(msg)),
            v => Ok(v),
        }
    }

    /// The reply as an integer (integer replies, or bulk strings holding one).
    pub fn as_int(&self) -> Result<i64> {
        match self {
            Value::Int(i) => Ok(*i),
            Value::Bulk(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| unexpected("integer", self)),
            Value::Status(s) => s.parse().map_err(|_| unexpected("integer", self)),
            Value::Bool(b) => Ok(*b as i64),
            Value::Double(d) if d.fract() == 0.0 => Ok(*d as i64),
            _ => Err(unexpected("integer", self)),
        }
    }

    /// The reply as a float (doubles, integers, or strings holding one).
    pub fn as_f64(&self) -> Result<f64> {
        match self {
            Value::Double(d) => Ok(*d),
            Value::Int(i) => Ok(*i as f64),
            Value::Bulk(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| unexpected("number", self)),
            _ => Err(unexpected("number", self)),
        }
    }

    /// The reply as bytes; `None` for nil.
    pub fn into_bytes(self) -> Result<Option<Vec<u8>>> {
        match self {
            Value::Nil => Ok(None),
            Value::Bulk(b) => Ok(Some(b)),
            Value::Status(s) => Ok(Some(s.into_bytes())),
            Value::Int(i) => Ok(Some(i.to_string().into_bytes())),
            Value::Error(msg) => Err(server_error(msg)),
            v => Err(unexpected("bytes", &v)),
        }
    }

    /// The reply as an array of values; nil is an empty array.
    pub fn into_array(self) -> Result<Vec<Value>> {
        match self {
            Value::Array(a) => Ok(a),
            Value::Nil => Ok(Vec::new()),
            Value::Map(m) => Ok(m.into_iter().flat_map(|(k, v)| [k, v]).collect()),
            Value::Error(msg) => Err(server_error(msg)),
            v => Err(unexpected("array", &v)),
        }
    }

    /// The reply as a UTF-8 string; `None` for nil.
    pub fn into_string(self) -> Result<Option<String>> {
        match self.into_bytes()? {
            None => Ok(None),
            Some(b) => String::from_utf8(b)
                .map(Some)
                .map_err(|_| Error::Decode("reply is not UTF-8".into())),
        }
    }
}

fn unexpected(wanted: &str, got: &Value) -> Error {
    Error::Decode(format!("expected {wanted} reply, got {got:?}"))
}

/// Classify a server error reply: script failures are [`Error::Script`], the rest
/// [`Error::Server`].
pub fn server_error(msg: String) -> Error {
    if msg.contains("user_script") || msg.starts_with("ERR Error running script") {
        Error::Script(msg)
    } else {
        Error::Server(msg)
    }
}

/// One command: its name and binary-safe arguments.
///
/// The parts are kept as they go on the wire, each a RESP bulk string
/// (`$<len>\r\n<bytes>\r\n`) in one buffer: building a command is one allocation rather
/// than one per part, and writing it to a RESP connection is one copy behind the array
/// header ([`Cmd::encode`]). Transports that want the parts read them back ([`Cmd::parts`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Cmd {
    wire: Vec<u8>,
    count: usize,
}

impl Cmd {
    /// Start a command by name (`GET`, `EVALSHA`, ...).
    pub fn new(name: &str) -> Self {
        let mut cmd = Cmd {
            wire: Vec::with_capacity(128),
            count: 0,
        };
        cmd.push(name.as_bytes());
        cmd
    }

    /// Append one argument.
    pub fn arg(mut self, a: impl ToArg) -> Self {
        a.write_to(&mut self);
        self
    }

    /// Append many arguments.
    pub fn args<I, A>(mut self, items: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: ToArg,
    {
        for a in items {
            a.write_to(&mut self);
        }
        self
    }

    /// Append one part, as it is.
    pub fn push(&mut self, part: &[u8]) {
        resp::push_header(&mut self.wire, b'$', part.len());
        self.wire.extend_from_slice(part);
        self.wire.extend_from_slice(b"\r\n");
        self.count += 1;
    }

    /// The command name, upper- or lower-case as given.
    pub fn name(&self) -> &str {
        self.parts()
            .next()
            .and_then(|n| std::str::from_utf8(n).ok())
            .unwrap_or("")
    }

    /// How many parts, the name included.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the command has no parts (never: it has a name).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every part of the command, the name first.
    pub fn parts(&self) -> Parts<'_> {
        Parts {
            wire: &self.wire,
            left: self.count,
        }
    }

    /// The parts, copied out.
    pub fn into_parts(self) -> Vec<Vec<u8>> {
        self.parts().map(<[u8]>::to_vec).collect()
    }

    /// Append the command as Redis reads it (`*<n>\r\n` and the parts) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.wire.len() + 16);
        resp::push_header(out, b'*', self.count);
        out.extend_from_slice(&self.wire);
    }
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.parts().map(String::from_utf8_lossy))
            .finish()
    }
}

/// The parts of a [`Cmd`], in order.
#[derive(Clone)]
pub struct Parts<'a> {
    wire: &'a [u8],
    left: usize,
}

impl<'a> Iterator for Parts<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        // `$<len>\r\n<bytes>\r\n`, as `Cmd::push` wrote it.
        let digits_end = self.wire.iter().position(|&b| b == b'\r')?;
        let len = self.wire[1..digits_end]
            .iter()
            .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
        let start = digits_end + 2;
        let part = &self.wire[start..start + len];
        self.wire = &self.wire[start + len + 2..];
        self.left -= 1;
        Some(part)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Parts<'_> {}

/// Something that can be sent as one command argument.
pub trait ToArg {
    /// The argument's bytes on the wire.
    fn to_arg(&self) -> Vec<u8>;

    /// Append the argument to `cmd`; the types here do it without an allocation of
    /// their own.
    fn write_to(&self, cmd: &mut Cmd) {
        cmd.push(&self.to_arg());
    }
}

impl ToArg for &str {
    fn to_arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn write_to(&self, cmd: &mut Cmd) {
        cmd.push(self.as_bytes());
    }
}
impl ToArg for String {
    fn to_arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn write_to(&self, cmd: &mut Cmd) {
        cmd.push(self.as_bytes());
    }
}
impl ToArg for &String {
    fn to_arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn write_to(&self, cmd: &mut Cmd) {
        cmd.push(self.as_bytes());
    }
}
impl ToArg for &[u8] {
    fn to_arg(&self) -> Vec<u8> {
        self.to_vec()
    }
    fn write_to(&self, cmd: &mut Cmd) {
        cmd.push(self);
    }
}
impl ToArg for Vec<u8> {
    fn to_arg(&self) -> Vec<u8> {
        self.clone()
    }
    fn write_to(&self, cmd: &mut Cmd) {
        cmd.push(self);
    }
}
impl ToArg for &Vec<u8> {
    fn to_arg(&self) -> Vec<u8> {
        self.to_vec()
    }
    fn write_to(&self, cmd: &mut Cmd) {
        cmd.push(self);
    }
}
macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(&self) -> Vec<u8> {
                self.to_string().into_bytes()
            }
            fn write_to(&self, cmd: &mut Cmd) {
                let mut digits = [0u8; 40];
                cmd.push(resp::decimal(i128::from(*self), &mut digits));
            }
        }
    )*};
}
int_arg!(i64, u64, i32, u32);

impl ToArg for usize {
    fn to_arg(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
    fn write_to(&self, cmd: &mut Cmd) {
        (*self as u64).write_to(cmd);
    }
}

impl ToArg for f64 {
    fn to_arg(&self) -> Vec<u8> {
        // Redis parses doubles with strtod: Rust's shortest round-trip form is exact.
        self.to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_gives_back_its_parts_as_they_were_given() {
        let long = vec![0xffu8; 1234];
        let cmd = Cmd::new("SET")
            .arg("")
            .arg(long.as_slice())
            .arg(-42i64)
            .arg(u64::MAX)
            .arg(i64::MIN)
            .arg(7usize)
            .arg(b"a\r\nb".as_slice());
        let parts: Vec<&[u8]> = cmd.parts().collect();
        assert_eq!(
            parts,
            [
                b"SET".as_slice(),
                b"",
                &long,
                b"-42",
                u64::MAX.to_string().as_bytes(),
                i64::MIN.to_string().as_bytes(),
                b"7",
                b"a\r\nb",
            ]
        );
        assert_eq!((cmd.len(), cmd.parts().len(), cmd.name()), (8, 8, "SET"));
        assert_eq!(cmd.clone().into_parts().len(), 8);
    }

    #[test]
    fn a_command_encodes_as_redis_reads_it() {
        let cmd = Cmd::new("EVALSHA")
            .arg("abc")
            .arg(1usize)
            .arg("k")
            .arg(0i64);
        let mut encoded = Vec::new();
        cmd.encode(&mut encoded);
        let mut expected = Vec::new();
        resp::encode_command(&mut expected, &cmd.clone().into_parts());
        assert_eq!(encoded, expected);
        assert_eq!(
            encoded,
            b"*5\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$1\r\nk\r\n$1\r\n0\r\n"
        );
    }
}
