//! Options as a binding hands them over, read into the core's option structs by one set
//! of rules.
//!
//! Each binding turns its native options (a Python dict of keyword arguments, a JS object)
//! into an [`Input`] with one general walk that knows no option by name, and calls
//! [`read`] (or [`resolve_json`]). The option structs are `serde` structs: their fields,
//! defaults, names and types are declared once, here in the core; names the struct does
//! not have, wrong types, NaN and infinities, durations beyond their maximum are an
//! [`Error::InvalidArgument`] in every runtime, with the option named as the caller
//! spelled it. A new option is one field in the core and nothing in a binding.

use std::fmt;
use std::time::Duration;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::{Deserializer, Serialize};

use crate::duration::{self, Unit};
use crate::error::{Error, Result};

/// A value of a binding's native options, before the core reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Absent: `None`, `null` or `undefined`. The option keeps its default.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number the runtime held exactly (a Python `int` within 64 bits).
    Int(i64),
    /// Any other number (every JS number, a Python `float`), NaN and infinities included:
    /// the core refuses those.
    Number(f64),
    /// A string.
    Str(String),
    /// A duration the runtime types as one (a Python `timedelta`).
    Duration(Duration),
    /// A list (a Python list or tuple, a JS array).
    List(Vec<Input>),
    /// A mapping from names to values (a dict, a plain object).
    Map(Vec<(String, Input)>),
    /// A value the runtime has that options cannot hold, described for the error (an
    /// integer beyond 64 bits, a string with a lone surrogate, a function).
    Invalid(String),
}

/// How a runtime spells option names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `stale_ttl` (Rust, Python, conformance scenarios).
    Snake,
    /// `staleTtl` (JavaScript).
    Camel,
}

/// What a runtime's options look like: how names are spelled, what a bare number of a
/// duration means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The spelling of option names.
    pub naming: Naming,
    /// The unit of a duration given as a number.
    pub unit: Unit,
}

impl Dialect {
    /// JavaScript (Node and edge): camelCase, milliseconds.
    pub const JS: Dialect = Dialect {
        naming: Naming::Camel,
        unit: Unit::Millis,
    };
    /// Python: snake_case, seconds.
    pub const PYTHON: Dialect = Dialect {
        naming: Naming::Snake,
        unit: Unit::Seconds,
    };
    /// Rust option values and the conformance scenarios: snake_case, milliseconds.
    pub const RUST: Dialect = Dialect {
        naming: Naming::Snake,
        unit: Unit::Millis,
    };

    /// `name` (snake_case, as the structs have it) as this runtime spells it.
    pub fn spell(self, name: &str) -> String {
        match self.naming {
            Naming::Snake => name.to_string(),
            Naming::Camel => {
                let mut out = String::with_capacity(name.len());
                let mut upper = false;
                for c in name.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.push(c.to_ascii_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    /// `e` (a check of `opts` that failed) with the options it names as this runtime spells
    /// them: `validate` speaks the structs' snake_case, a JavaScript caller wrote
    /// `softTimeout`. Only the options' own names change, never a value such as
    /// `token_bucket`.
    fn respell_options<T: Serialize>(self, e: Error, opts: &T) -> Error {
        let Error::InvalidArgument(message) = e else {
            return e;
        };
        if self.naming == Naming::Snake {
            return Error::InvalidArgument(message);
        }
        let mut names = std::collections::BTreeSet::new();
        if let Ok(value) = serde_json::to_value(opts) {
            option_names(&value, &mut names);
        }
        let mut out = String::with_capacity(message.len());
        let mut word = String::new();
        for c in message.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            if names.contains(word.as_str()) {
                out.push_str(&self.spell(&word));
            } else {
                out.push_str(&word);
            }
            word.clear();
            out.push(c);
        }
        out.pop();
        Error::InvalidArgument(out)
    }

    /// `value` (what a core struct serializes to) with every object key, at any depth,
    /// as this runtime spells it: a job's options or a worker's info handed to JS.
    pub fn spell_keys(self, value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(o) => serde_json::Value::Object(
                o.into_iter()
                    .map(|(k, v)| (self.spell(&k), self.spell_keys(v)))
                    .collect(),
            ),
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(|v| self.spell_keys(v)).collect())
            }
            other => other,
        }
    }

    /// The struct's name for `spelled`, or `None` when this runtime cannot spell a field
    /// that way (`stale_ttl` in JavaScript).
    fn field(self, spelled: &str) -> Option<String> {
        match self.naming {
            Naming::Snake => Some(spelled.to_string()),
            Naming::Camel if spelled.contains('_') => None,
            Naming::Camel => {
                let mut out = String::with_capacity(spelled.len() + 4);
                for c in spelled.chars() {
                    if c.is_ascii_uppercase() {
                        out.push('_');
                        out.push(c.to_ascii_lowercase());
                    } else {
                        out.push(c);
                    }
                }
                Some(out)
            }
        }
    }
}

/// Options the core reads from an [`Input`]: a serde struct with its defaults and the
/// check of values that parse but cannot work.
pub trait Options: DeserializeOwned + Serialize {
    /// Refuse values no instance can work with.
    fn validate(&self) -> Result<()>;

    /// The options as given, rewritten before they are read: where one option stands for
    /// others (a rate limiter's `rate`). As given by default.
    fn prepare(input: Input) -> Result<Input> {
        Ok(input)
    }
}

/// Read `input` (absent or a mapping) as options `T`, defaults filled in, validated.
/// `what` names the options in errors (`cache options`).
pub fn read<T: Options>(what: &str, input: Input, dialect: Dialect) -> Result<T> {
    let input = match input {
        Input::Null => Input::Map(Vec::new()),
        map @ Input::Map(_) => map,
        other => {
            return Err(Error::invalid(format!(
                "{what} must be an object of named options, got {}",
                other.describe()
            )))
        }
    };
    // Durations in the messages are in the caller's unit (see `duration::show`).
    duration::in_unit(dialect.unit, || {
        let opts = T::deserialize(Reader {
            input: T::prepare(input)?,
            dialect,
            path: String::new(),
        })
        .map_err(|e| match lacks_subject(&e.0) {
            true => Error::invalid(format!("{what} {}", e.0)),
            false => Error::invalid(e.0),
        })?;
        opts.validate()
            .map_err(|e| dialect.respell_options(e, &opts))?;
        Ok(opts)
    })
}

/// Read `input` as the options of `pattern` (`connect`, `cache`, `set`, `rate_limiter`) and
/// answer them as JSON, every default filled in, durations in ms: what a binding's test
/// suite compares with the conformance scenarios (conformance/options).
pub fn resolve_json(pattern: &str, input: Input, dialect: Dialect) -> Result<String> {
    fn json<T: Options>(what: &str, input: Input, dialect: Dialect) -> Result<String> {
        let opts: T = read(what, input, dialect)?;
        Ok(serde_json::to_string(&opts)?)
    }
    match pattern {
        "connect" => json::<crate::ConnectOptions>("connect options", input, dialect),
        "cache" => json::<crate::CacheOptions>("cache options", input, dialect),
        "set" => json::<crate::SetOptions>("set options", input, dialect),
        "rate_limiter" => json::<crate::RateLimiterOptions>("rate limiter options", input, dialect),
        other => Err(Error::invalid(format!("no options named {other:?}"))),
    }
}

/// One duration given on its own (a write's ttl), by the rules of every duration option.
pub fn duration(what: &str, input: Input, dialect: Dialect) -> Result<Duration> {
    duration::in_unit(dialect.unit, || {
        Reader {
            input,
            dialect,
            path: what.to_string(),
        }
        .duration()
        .map_err(|e| Error::invalid(e.0))
    })
}

/// A ttl given on its own (`touch`, `incr`): a duration by the rules of every option,
/// checked as a ttl (1 ms to ten years) with its errors in the caller's unit. The core
/// checks it again where it is used; this check is the one that speaks the caller's unit.
pub fn ttl(what: &str, input: Input, dialect: Dialect) -> Result<Duration> {
    let d = self::duration(what, input, dialect)?;
    duration::in_unit(dialect.unit, || duration::check_ttl(what, d))?;
    Ok(d)
}

/// A JSON value as options input (what crosses as JSON text: conformance scenarios, the
/// Node queue's options): whole numbers that fit 64 bits are integers, the rest numbers.
impl From<serde_json::Value> for Input {
    fn from(value: serde_json::Value) -> Input {
        use serde_json::Value as J;
        match value {
            J::Null => Input::Null,
            J::Bool(b) => Input::Bool(b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Input::Int(i),
                None => Input::Number(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Input::Str(s),
            J::Array(items) => Input::List(items.into_iter().map(Input::from).collect()),
            J::Object(map) => {
                Input::Map(map.into_iter().map(|(k, v)| (k, Input::from(v))).collect())
            }
        }
    }
}

impl Input {
    /// What the value is, for errors.
    fn describe(&self) -> String {
        match self {
            Input::Null => "nothing".into(),
            Input::Bool(b) => format!("the boolean {b}"),
            Input::Int(n) => format!("the number {n}"),
            Input::Number(n) => format!("the number {n}"),
            Input::Str(s) => format!("the string {s:?}"),
            Input::Duration(d) => format!("the duration {}", duration::show(*d)),
            Input::List(_) => "a list".into(),
            Input::Map(_) => "an object".into(),
            Input::Invalid(what) => what.clone(),
        }
    }
}

/// An error while reading options: its message, already naming the option.
#[derive(Debug)]
struct ReadError(String);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// Serde's own wording (`invalid type: string "x", expected i64`) names Rust types no
/// caller wrote: each of its errors is said here the way the reader's own are, as what the
/// option must be and what it got. [`name_it`] puts the option's name in front.
impl de::Error for ReadError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ReadError(msg.to_string())
    }

    fn invalid_type(got: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        ReadError(format!(
            "must be {}, got {}",
            expectation(expected),
            unexpected(got)
        ))
    }

    fn invalid_value(got: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::invalid_type(got, expected)
    }

    fn invalid_length(len: usize, _: &dyn de::Expected) -> Self {
        let s = if len == 1 { "" } else { "s" };
        ReadError(format!("has {len} item{s}, fewer than it needs"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        ReadError(format!(
            "must be one of {}, got {variant:?}",
            quoted(expected)
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        ReadError(format!(
            "has no option {field:?} (it takes {})",
            quoted(expected)
        ))
    }

    fn missing_field(field: &'static str) -> Self {
        ReadError(format!("needs {field:?}"))
    }
}

/// What serde's expectation means to a caller: the Rust types of numbers, sequences and
/// maps in the words of every runtime.
fn expectation(expected: &dyn de::Expected) -> String {
    let text = expected.to_string();
    match text.as_str() {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "a list".into(),
        "a map" => "an object".into(),
        "a borrowed string" | "a string" | "string" => "a string".into(),
        _ if text.starts_with("struct ") || text.starts_with("tuple struct ") => "an object".into(),
        _ => text,
    }
}

/// What a caller gave, as [`Input::describe`] says it.
fn unexpected(got: de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match got {
        U::Bool(b) => format!("the boolean {b}"),
        U::Unsigned(n) => format!("the number {n}"),
        U::Signed(n) => format!("the number {n}"),
        U::Float(n) => format!("the number {n}"),
        U::Char(c) => format!("the string {:?}", c.to_string()),
        U::Str(s) => format!("the string {s:?}"),
        U::Unit | U::Option => "nothing".into(),
        U::Seq => "a list".into(),
        U::Map => "an object".into(),
        other => other.to_string(),
    }
}

/// `"a", "b" or "c"`.
fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.split_last() {
        None => "nothing".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Every object key in `value`, at any depth, that has a `_` (the names a runtime may
/// spell otherwise).
fn option_names(value: &serde_json::Value, names: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                if k.contains('_') {
                    names.insert(k.clone());
                }
                option_names(v, names);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| option_names(v, names)),
        _ => {}
    }
}

/// The deserializer over one value, at `path` (the option as the caller spelled it).
struct Reader {
    input: Input,
    dialect: Dialect,
    path: String,
}

/// The largest integer a double holds exactly: whole numbers up to it are integers.
const MAX_EXACT: f64 = 9_007_199_254_740_991.0;

impl Reader {
    fn fail(&self, message: impl fmt::Display) -> ReadError {
        ReadError(format!("{} {message}", self.name()))
    }

    fn name(&self) -> &str {
        if self.path.is_empty() {
            "the value"
        } else {
            &self.path
        }
    }

    /// The value as a duration, by the runtime's rules.
    fn duration(self) -> std::result::Result<Duration, ReadError> {
        let what = self.name().to_string();
        let err = |e: Error| ReadError(message_of(e));
        match self.input {
            Input::Int(n) => duration::from_number(&what, n as f64, self.dialect.unit).map_err(err),
            Input::Number(n) => duration::from_number(&what, n, self.dialect.unit).map_err(err),
            Input::Str(s) => duration::parse(&what, &s).map_err(err),
            Input::Duration(d) => Ok(d),
            other => Err(ReadError(format!(
                "{what} must be a duration (a number of {}, or a string such as \"250ms\"), got {}",
                match self.dialect.unit {
                    Unit::Millis => "milliseconds",
                    Unit::Seconds => "seconds",
                },
                other.describe()
            ))),
        }
    }
}

/// The message of an [`Error::InvalidArgument`] without its `invalid argument: ` label
/// (the reader's errors become one again).
fn message_of(e: Error) -> String {
    match e {
        Error::InvalidArgument(m) => m,
        other => other.to_string(),
    }
}

impl<'de> Deserializer<'de> for Reader {
    type Error = ReadError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> std::result::Result<V::Value, ReadError> {
        match self.input {
            Input::Null => v.visit_unit(),
            Input::Bool(b) => v.visit_bool(b),
            Input::Int(n) => v.visit_i64(n),
            Input::Number(n) if !n.is_finite() => {
                Err(self.fail(format_args!("must be a finite number, got {n}")))
            }
            // JS has only doubles: a whole one is an integer, so `limit: 10` reads as one.
            Input::Number(n) if n.fract() == 0.0 && n.abs() <= MAX_EXACT => v.visit_i64(n as i64),
            Input::Number(n) => v.visit_f64(n),
            Input::Str(s) => v.visit_string(s),
            Input::Duration(d) => Err(self.fail(format_args!(
                "must not be a duration, got {}",
                duration::show(d)
            ))),
            Input::List(items) => {
                let count = items.len();
                let mut seq = Items {
                    items: items.into_iter().enumerate(),
                    dialect: self.dialect,
                    path: self.path,
                };
                let value = v.visit_seq(&mut seq)?;
                // A (limit, window, burst) rule with a fourth item is a mistake, not noise.
                match seq.items.next() {
                    None => Ok(value),
                    Some(_) => Err(ReadError(format!(
                        "{} has {count} items, more than it takes",
                        if seq.path.is_empty() {
                            "the value"
                        } else {
                            &seq.path
                        }
                    ))),
                }
            }
            Input::Map(entries) => v.visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
                fields: None,
                dialect: self.dialect,
                path: self.path,
            }),
            Input::Invalid(ref what) => Err(self.fail(format_args!("cannot be {what}"))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> std::result::Result<V::Value, ReadError> {
        match self.input {
            Input::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> std::result::Result<V::Value, ReadError> {
        if name == duration::SERDE_NAME {
            return v.visit_u128(self.duration()?.as_micros());
        }
        v.visit_newtype_struct(self)
    }

    /// A type error names the option and what it got, not serde's wording.
    /// Input refuses names the struct does not have, even where its derived
    /// `Deserialize` ignores them (job options: a stored job from a later build still
    /// reads, a caller's misspelling does not).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> std::result::Result<V::Value, ReadError> {
        match self.input {
            Input::Map(entries) => v.visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
                fields: Some(fields),
                dialect: self.dialect,
                path: self.path,
            }),
            Input::List(_) => self.deserialize_any(v),
            ref other => {
                Err(self.fail(format_args!("must be an object, got {}", other.describe())))
            }
        }
    }

    /// A choice among names (`backoff.type`) is a string.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> std::result::Result<V::Value, ReadError> {
        match self.input {
            Input::Str(s) => v.visit_enum(s.into_deserializer()),
            ref other => Err(self.fail(format_args!("must be a string, got {}", other.describe()))),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
        ignored_any
    }
}

/// The items of a list.
struct Items {
    items: std::iter::Enumerate<std::vec::IntoIter<Input>>,
    dialect: Dialect,
    path: String,
}

impl<'de> de::SeqAccess<'de> for &mut Items {
    type Error = ReadError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> std::result::Result<Option<T::Value>, ReadError> {
        let Some((i, input)) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{i}]", self.path);
        seed.deserialize(Reader {
            input,
            dialect: self.dialect,
            path: path.clone(),
        })
        .map(Some)
        .map_err(|e| name_it(&path, e))
    }
}

/// The entries of a mapping; names are translated to the structs' spelling, values keep
/// the name the caller wrote for their errors.
struct Entries {
    entries: std::vec::IntoIter<(String, Input)>,
    value: Option<(String, Input)>,
    /// A struct's field names: any other name is refused here, even where the struct's
    /// derived `Deserialize` would ignore it.
    fields: Option<&'static [&'static str]>,
    dialect: Dialect,
    path: String,
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = ReadError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, ReadError> {
        // An absent value (None, null, undefined) is no option at all: the default.
        let Some((spelled, input)) = self.entries.find(|(_, v)| *v != Input::Null) else {
            return Ok(None);
        };
        let at = if self.path.is_empty() {
            spelled.clone()
        } else {
            format!("{}.{spelled}", self.path)
        };
        let unknown = || ReadError(unknown_option(&self.path, &spelled, self.dialect));
        let field = self
            .dialect
            .field(&spelled)
            .filter(|f| self.fields.is_none_or(|known| known.contains(&f.as_str())))
            .ok_or_else(unknown)?;
        let key = seed
            .deserialize(field.into_deserializer())
            .map_err(|_: ReadError| unknown())?;
        self.value = Some((at, input));
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> std::result::Result<V::Value, ReadError> {
        let (path, input) = self
            .value
            .take()
            .ok_or_else(|| ReadError("an option without a value".into()))?;
        let reader = Reader {
            input,
            dialect: self.dialect,
            path,
        };
        let name = reader.path.clone();
        seed.deserialize(reader).map_err(|e| name_it(&name, e))
    }
}

/// `unknown option "a.b"`; a snake_case name in JavaScript says how JS spells it.
fn unknown_option(path: &str, spelled: &str, dialect: Dialect) -> String {
    let at = if path.is_empty() {
        spelled.to_string()
    } else {
        format!("{path}.{spelled}")
    };
    if dialect.naming == Naming::Camel && spelled.contains('_') {
        format!(
            "unknown option {at:?} (JavaScript spells options in camelCase: {:?})",
            dialect.spell(spelled)
        )
    } else {
        format!("unknown option {at:?}")
    }
}

/// Errors from serde's side of a read (a type's own check, [`de::Error`]'s) do not say
/// which option: put its name first where the message lacks it, as the subject of a
/// message that says what the option must be (`limit must be a whole number, got ...`).
fn name_it(name: &str, e: ReadError) -> ReadError {
    if e.0.starts_with(name) || e.0.starts_with("unknown option") {
        e
    } else if lacks_subject(&e.0) {
        ReadError(format!("{name} {}", e.0))
    } else {
        ReadError(format!("{name}: {}", e.0))
    }
}

/// A message that starts with its predicate (`must be ...`): the option is its subject.
fn lacks_subject(message: &str) -> bool {
    ["must ", "needs ", "has ", "cannot "]
        .iter()
        .any(|p| message.starts_with(p))
}

/// Serde for a count option (`retries`, `near_cache`, `offline_queue_max`): a whole number
/// from 0 to 2^32 - 1, the one bound every runtime shares; an option may lower it in its
/// `validate`.
pub(crate) mod count {
    use std::fmt;

    use serde::de::{self, Deserializer, Visitor};

    /// The count, as any unsigned integer type.
    pub fn deserialize<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
        let n = d.deserialize_u64(Count)?;
        T::try_from(n).map_err(|_| de::Error::custom(format!("must be a smaller number, got {n}")))
    }

    struct Count;

    impl Visitor<'_> for Count {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a whole number from 0 to {}", u32::MAX)
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<u64, E> {
            match u32::try_from(n) {
                Ok(n) => Ok(u64::from(n)),
                Err(_) => Err(E::custom(format!(
                    "must be a whole number from 0 to {}, got {n}",
                    u32::MAX
                ))),
            }
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<u64, E> {
            self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
        }
    }
}

/// Serde for an enum of named choices (a codec, an algorithm): written as its name, read
/// with its `parse`, so a wrong name is refused with the list of right ones.
macro_rules! serde_by_name {
    ($($t:ty),+) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let name = String::deserialize(d)?;
                <$t>::parse(&name).map_err(|e| serde::de::Error::custom(match e {
                    crate::Error::InvalidArgument(m) => m,
                    other => other.to_string(),
                }))
            }
        }
    )+};
}
pub(crate) use serde_by_name;

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, Input)]) -> Input {
        Input::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn names_are_spelled_per_runtime() {
        assert_eq!(Dialect::JS.spell("offline_queue_max"), "offlineQueueMax");
        assert_eq!(Dialect::JS.field("staleTtl").as_deref(), Some("stale_ttl"));
        assert_eq!(Dialect::JS.field("stale_ttl"), None);
        assert_eq!(
            Dialect::PYTHON.field("stale_ttl").as_deref(),
            Some("stale_ttl")
        );
    }

    #[test]
    fn a_failed_check_names_the_options_as_the_runtime_spells_them() {
        let soft = map(&[
            ("failSafe", Input::Bool(true)),
            ("softTimeout", Input::Number(0.0)),
        ]);
        let e = read::<crate::CacheOptions>("cache options", soft, Dialect::JS).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid argument: softTimeout must be at least 1 ms"
        );
        let soft = map(&[
            ("fail_safe", Input::Bool(true)),
            ("soft_timeout", Input::Int(0)),
        ]);
        let e = read::<crate::CacheOptions>("cache options", soft, Dialect::PYTHON).unwrap_err();
        assert!(e.to_string().contains("soft_timeout must"), "{e}");
        // A value keeps its spelling: `token_bucket` is what JavaScript writes too.
        let burst = map(&[
            ("algorithm", Input::Str("fixed_window".into())),
            ("limit", Input::Int(5)),
            ("window", Input::Int(1000)),
            ("burst", Input::Int(2)),
        ]);
        let e = read::<crate::RateLimiterOptions>("rate limiter options", burst, Dialect::JS)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("gcra and token_bucket only, not fixed_window"),
            "{e}"
        );
    }

    #[test]
    fn one_call_reads_defaults_names_and_units() {
        let o: crate::CacheOptions = read(
            "cache options",
            map(&[
                ("staleTtl", Input::Str("5m".into())),
                ("lockTimeout", Input::Number(250.0)),
                ("ttl", Input::Null),
            ]),
            Dialect::JS,
        )
        .unwrap();
        assert_eq!(o.stale_ttl, Duration::from_secs(300));
        assert_eq!(o.lock_timeout, Duration::from_millis(250));
        assert_eq!(o.ttl, Duration::from_secs(3600));
        let o: crate::CacheOptions = read(
            "cache options",
            map(&[("ttl", Input::Number(1.5))]),
            Dialect::PYTHON,
        )
        .unwrap();
        assert_eq!(o.ttl, Duration::from_millis(1500));
    }

    #[test]
    fn bad_options_are_invalid_arguments_naming_the_option() {
        for (input, dialect, needle) in [
            (map(&[("ttll", Input::Int(1))]), Dialect::PYTHON, "ttll"),
            (
                map(&[("stale_ttl", Input::Int(1))]),
                Dialect::JS,
                "stale_ttl",
            ),
            (map(&[("ttl", Input::Number(f64::NAN))]), Dialect::JS, "ttl"),
            (map(&[("ttl", Input::Number(1e300))]), Dialect::JS, "ttl"),
            (
                map(&[("lock", Input::Str("yes".into()))]),
                Dialect::JS,
                "lock",
            ),
            (
                map(&[("nearCache", Input::Number(-1.0))]),
                Dialect::JS,
                "nearCache",
            ),
            (
                map(&[("nearCache", Input::Number(1.5))]),
                Dialect::JS,
                "nearCache",
            ),
            (
                map(&[("codec", Input::Str("xml".into()))]),
                Dialect::JS,
                "xml",
            ),
            (
                map(&[("ttl", Input::Invalid("an integer beyond 64 bits".into()))]),
                Dialect::PYTHON,
                "beyond",
            ),
            (Input::Str("x".into()), Dialect::JS, "object"),
        ] {
            let e =
                read::<crate::CacheOptions>("cache options", input.clone(), dialect).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{input:?}");
            assert!(e.to_string().contains(needle), "{input:?}: {e}");
        }
    }

    /// What issue 19 found in every runtime: serde's wording (`invalid type: string "x",
    /// expected i64`), Rust's `Debug` durations (`0ns`) and milliseconds for a Python user.
    #[test]
    fn messages_say_what_is_expected_in_the_callers_words() {
        fn message<T: Options>(input: Input, dialect: Dialect) -> String {
            match read::<T>("options", input, dialect) {
                Ok(_) => "accepted".into(),
                Err(e) => e.to_string(),
            }
        }
        use crate::{CacheOptions as C, ConnectOptions as K, RateLimiterOptions as R};
        let py = Dialect::PYTHON;
        for (got, want) in [
            (
                message::<R>(map(&[("limit", Input::Str("x".into()))]), py),
                "limit must be a whole number, got the string \"x\"",
            ),
            (
                message::<R>(map(&[("limit", Input::Number(1.5))]), Dialect::JS),
                "limit must be a whole number, got the number 1.5",
            ),
            (
                message::<R>(
                    map(&[(
                        "limits",
                        Input::List(vec![Input::List(vec![Input::Int(1)])]),
                    )]),
                    py,
                ),
                "limits[0] has 1 item, fewer than it needs",
            ),
            (
                message::<R>(map(&[("limit", Input::Int(0))]), py),
                "limit must be at least 1, got 0",
            ),
            (
                message::<C>(map(&[("ttl", Input::Int(0))]), py),
                "ttl must be at least 0.001s, got 0s",
            ),
            (
                message::<C>(map(&[("ttl", Input::Int(0))]), Dialect::JS),
                "ttl must be at least 1ms, got 0ms",
            ),
            (
                message::<K>(map(&[("timeout", Input::Int(10_000_000))]), py),
                "timeout must be at most 2147483.647s, got 10000000s",
            ),
            (
                message::<K>(map(&[("retries", Input::Duration(Duration::ZERO))]), py),
                "retries must not be a duration, got 0s",
            ),
            (
                message::<C>(map(&[("codec", Input::Int(5))]), Dialect::JS),
                "codec must be a string, got the number 5",
            ),
        ] {
            assert_eq!(got, format!("invalid argument: {want}"));
        }
        assert_eq!(
            message::<crate::queue::JobOptions>(
                map(&[(
                    "backoff",
                    map(&[("type", Input::Str("x".into())), ("delay", Input::Int(1))]),
                )]),
                Dialect::JS,
            ),
            "invalid argument: backoff.type must be one of \"fixed\" or \"exponential\", got \"x\""
        );
        // A usize option (a worker's concurrency) names no Rust type either.
        assert_eq!(
            message::<crate::worker::WorkerOptions>(
                map(&[("concurrency", Input::Number(1.5))]),
                py
            ),
            "invalid argument: concurrency must be a whole number, got the number 1.5"
        );
    }
}
