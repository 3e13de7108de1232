//! Commands going to the server and the replies coming back, independent of any client
//! library, so every transport (redis-rs, the embedded engine, REST, a JS client) speaks
//! the same two types.

use crate::error::{Error, Result};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    args: Vec<Vec<u8>>,
}

impl Cmd {
    /// Start a command by name (`GET`, `EVALSHA`, ...).
    pub fn new(name: &str) -> Self {
        let mut args = Vec::with_capacity(4);
        args.push(name.as_bytes().to_vec());
        Cmd { args }
    }

    /// Append one argument.
    pub fn arg(mut self, a: impl ToArg) -> Self {
        self.args.push(a.to_arg());
        self
    }

    /// Append many arguments.
    pub fn args<I, A>(mut self, items: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: ToArg,
    {
        self.args.extend(items.into_iter().map(|a| a.to_arg()));
        self
    }

    /// The command name, upper- or lower-case as given.
    pub fn name(&self) -> &str {
        std::str::from_utf8(&self.args[0]).unwrap_or("")
    }

    /// Every part of the command, the name first.
    pub fn parts(&self) -> &[Vec<u8>] {
        &self.args
    }

    /// Take the parts out.
    pub fn into_parts(self) -> Vec<Vec<u8>> {
        self.args
    }
}

/// Something that can be sent as one command argument.
pub trait ToArg {
    /// The argument's bytes on the wire.
    fn to_arg(&self) -> Vec<u8>;
}

impl ToArg for &str {
    fn to_arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl ToArg for String {
    fn to_arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl ToArg for &String {
    fn to_arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl ToArg for &[u8] {
    fn to_arg(&self) -> Vec<u8> {
        self.to_vec()
    }
}
impl ToArg for Vec<u8> {
    fn to_arg(&self) -> Vec<u8> {
        self.clone()
    }
}
impl ToArg for &Vec<u8> {
    fn to_arg(&self) -> Vec<u8> {
        self.to_vec()
    }
}
macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(&self) -> Vec<u8> {
                self.to_string().into_bytes()
            }
        }
    )*};
}
int_arg!(i64, u64, i32, u32, usize);
impl ToArg for f64 {
    fn to_arg(&self) -> Vec<u8> {
        // Redis parses doubles with strtod: Rust's shortest round-trip form is exact.
        self.to_string().into_bytes()
    }
}
