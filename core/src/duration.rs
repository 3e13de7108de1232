//! Durations as every runtime hands them over, read by one set of rules: a number in the
//! runtime's unit (milliseconds in JavaScript and Rust's option values, seconds in Python),
//! a string with a unit (`"250ms"`, `"60s"`, `"5m"`, `"1h"`, `"7d"`: the same in every
//! language), or a duration the runtime types as one (a Python `timedelta`).
//!
//! Negative, NaN and infinite values are an [`Error::InvalidArgument`], and so is anything
//! beyond [`MAX_CONVERTIBLE`]; each option then has its own documented maximum,
//! [`MAX_TIMEOUT`] or [`MAX_SPAN`], checked by its `validate`.

use std::cell::Cell;
use std::time::Duration;

use crate::error::{Error, Result};

/// The longest timeout, lock timeout or backoff any runtime accepts: 2^31 - 1 ms (about
/// 24.8 days). JavaScript timers hold 32 bits and fire at once beyond that, so every
/// runtime refuses longer ones the same way rather than clamp in one and not another.
pub const MAX_TIMEOUT: Duration = Duration::from_millis((1 << 31) - 1);

/// The longest ttl, jitter, stale ttl or rate-limit window: ten years. Longer ones are a
/// mistake, and the scripts keep times in microseconds as exact doubles.
pub const MAX_SPAN: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Beyond this (about 292 years) a number is refused while it is read, before any option's
/// own maximum: no conversion can overflow, panic or reach a script.
pub const MAX_CONVERTIBLE: Duration = Duration::from_secs(1 << 33);

/// The unit a bare number means in a runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds (JavaScript, Rust option values, conformance scenarios).
    Millis,
    /// Seconds (Python).
    Seconds,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Millis => "milliseconds",
            Unit::Seconds => "seconds",
        }
    }

    fn per_second(self) -> f64 {
        match self {
            Unit::Millis => 1000.0,
            Unit::Seconds => 1.0,
        }
    }
}

/// `n` (in `unit`) as a duration: finite, not negative, at most [`MAX_CONVERTIBLE`].
pub fn from_number(what: &str, n: f64, unit: Unit) -> Result<Duration> {
    if !n.is_finite() || n < 0.0 {
        return Err(Error::invalid(format!(
            "{what} must be a finite number of {} >= 0, got {n}",
            unit.name()
        )));
    }
    let secs = n / unit.per_second();
    if secs > MAX_CONVERTIBLE.as_secs_f64() {
        return Err(Error::invalid(format!(
            "{what} is far too long: {n} {}",
            unit.name()
        )));
    }
    // Whole microseconds: the finest unit any runtime gives (a timedelta), and exact for
    // every value below the bound.
    Ok(Duration::from_micros((secs * 1e6).round() as u64))
}

/// A duration written with its unit: a decimal number then `ms`, `s`, `m`, `h` or `d`
/// (`"250ms"`, `"1.5s"`, `"7d"`).
pub fn parse(what: &str, text: &str) -> Result<Duration> {
    let bad = || {
        Error::invalid(format!(
            "{what} must be a number with a unit (ms, s, m, h or d, as in \"250ms\" or \"5m\"), \
             got {text:?}"
        ))
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(bad()),
    };
    let n: f64 = number.parse().map_err(|_| bad())?;
    from_number(what, n * seconds_per_unit, Unit::Seconds)
}

/// Check `value` against its option's maximum: beyond it, the error every runtime raises.
pub fn check_max(what: &str, value: Duration, max: Duration) -> Result<()> {
    if value > max {
        return Err(Error::invalid(format!(
            "{what} must be at most {}, got {}",
            show(max),
            show(value)
        )));
    }
    Ok(())
}

/// Check `value` against its option's minimum: below it, the error every runtime raises.
pub fn check_min(what: &str, value: Duration, min: Duration) -> Result<()> {
    if value < min {
        return Err(Error::invalid(format!(
            "{what} must be at least {}, got {}",
            show(min),
            show(value)
        )));
    }
    Ok(())
}

/// A ttl must be at least one millisecond (Redis' PX unit), and at most [`MAX_SPAN`].
pub fn check_ttl(what: &str, ttl: Duration) -> Result<()> {
    check_min(what, ttl, Duration::from_millis(1))?;
    check_max(what, ttl, MAX_SPAN)
}

thread_local! {
    /// The unit [`show`] writes in: the caller's while [`in_unit`] runs (a Python user
    /// reads seconds), milliseconds otherwise (Rust's option values).
    static SHOWN_IN: Cell<Unit> = const { Cell::new(Unit::Millis) };
}

/// Run `f` (an options check) with error messages giving durations in `unit`. The checks
/// (`validate`) are shared by every runtime and do not know the caller; the reader of a
/// runtime's options does, and sets it around them.
pub fn in_unit<T>(unit: Unit, f: impl FnOnce() -> T) -> T {
    let before = SHOWN_IN.with(|u| u.replace(unit));
    let out = f();
    SHOWN_IN.with(|u| u.set(before));
    out
}

/// A duration for an error message, in the caller's unit and written as it could be
/// given back (`"1500ms"` in JavaScript and Rust, `"1.5s"` in Python): never Rust's
/// `Debug` form (`0ns`, `1.5µs`), which no runtime's user wrote.
pub fn show(d: Duration) -> String {
    let micros = d.as_micros();
    match SHOWN_IN.with(Cell::get) {
        Unit::Millis => format!("{}ms", decimal(micros, 1_000)),
        Unit::Seconds => format!("{}s", decimal(micros, 1_000_000)),
    }
}

/// `micros / per` as a decimal number without trailing zeros (`1.5`, `0.001`, `3`).
fn decimal(micros: u128, per: u128) -> String {
    let (whole, frac) = (micros / per, micros % per);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = per.ilog10() as usize;
    let frac = format!("{frac:0digits$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// The name a duration is deserialized under (see [`crate::input`]): the core's own
/// deserializer converts the value with the runtime's unit; any other reads numbers as
/// milliseconds.
pub(crate) const SERDE_NAME: &str = "redkit::Duration";

/// Serde for a `Duration` option field: written as milliseconds (a float when it has a
/// fraction), read by the rules of this module.
pub(crate) mod serde_ms {
    use std::fmt;
    use std::time::Duration;

    use serde::de::{self, Deserializer, Visitor};
    use serde::Serializer;

    use super::{from_number, parse, Unit, SERDE_NAME};

    /// Milliseconds, a whole number when the duration is one.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        if d.subsec_micros() % 1000 == 0 {
            s.serialize_u64(d.as_millis() as u64)
        } else {
            s.serialize_f64(d.as_micros() as f64 / 1000.0)
        }
    }

    /// Through [`SERDE_NAME`], so the core's deserializer can apply the runtime's unit.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_newtype_struct(SERDE_NAME, Millis)
    }

    /// Reads a number as milliseconds, a string with its unit; the core's deserializer
    /// hands over an already converted duration as whole microseconds (`visit_u128`).
    struct Millis;

    impl<'de> Visitor<'de> for Millis {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration (a number, or a string such as \"250ms\")")
        }

        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Duration, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_u128<E: de::Error>(self, micros: u128) -> Result<Duration, E> {
            Ok(Duration::from_micros(micros as u64))
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Duration, E> {
            self.visit_f64(n as f64)
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Duration, E> {
            self.visit_f64(n as f64)
        }

        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Duration, E> {
            from_number("duration", n, Unit::Millis).map_err(E::custom)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
            parse("duration", s).map_err(E::custom)
        }
    }
}

/// Serde for an optional `Duration` (absent or null: `None`).
pub(crate) mod serde_ms_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Milliseconds, or null.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serde_ms::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    /// `None` for null, else a duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::serde_ms")] Duration);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_unit() {
        assert_eq!(
            from_number("t", 1500.0, Unit::Millis).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            from_number("t", 1.5, Unit::Seconds).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            from_number("t", 0.25, Unit::Millis).unwrap(),
            Duration::from_micros(250)
        );
    }

    #[test]
    fn bad_numbers_are_invalid_arguments_never_panics() {
        for n in [
            f64::NAN,
            f64::INFINITY,
            -1.0,
            1e300,
            1e17 * 1000.0,
            f64::MAX,
        ] {
            for unit in [Unit::Millis, Unit::Seconds] {
                let e = from_number("ttl", n, unit).unwrap_err();
                assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{n}");
            }
        }
        // 2^63 seconds (Python's builtin OverflowError before): too long, not a crash.
        assert!(from_number("ttl", 2f64.powi(63), Unit::Seconds).is_err());
    }

    #[test]
    fn strings_carry_their_unit() {
        let ms = Duration::from_millis;
        for (text, d) in [
            ("250ms", ms(250)),
            ("60s", ms(60_000)),
            ("1.5s", ms(1500)),
            ("5m", ms(300_000)),
            ("1h", ms(3_600_000)),
            ("7d", ms(7 * 86_400_000)),
            ("0s", ms(0)),
        ] {
            assert_eq!(parse("t", text).unwrap(), d, "{text}");
        }
        for bad in [
            "", "5", "ms", "5 s", "-5s", "5sec", "1e3ms", "5.s.", "NaNs", "1.2.3s",
        ] {
            assert!(parse("t", bad).is_err(), "{bad:?}");
        }
        assert!(parse("t", "99999999999d").is_err());
    }

    #[test]
    fn durations_are_shown_in_the_callers_unit_as_they_could_be_written() {
        let ms = Duration::from_millis;
        assert_eq!(show(ms(1500)), "1500ms");
        assert_eq!(show(Duration::from_micros(250)), "0.25ms");
        assert_eq!(show(Duration::ZERO), "0ms");
        in_unit(Unit::Seconds, || {
            assert_eq!(show(ms(1500)), "1.5s");
            assert_eq!(show(ms(1)), "0.001s");
            assert_eq!(show(Duration::ZERO), "0s");
            assert_eq!(show(MAX_TIMEOUT), "2147483.647s");
        });
        // The unit is the caller's only while the check runs.
        assert_eq!(show(ms(2)), "2ms");
        let e = in_unit(Unit::Seconds, || {
            check_max("timeout", ms(3_000_000_000), MAX_TIMEOUT)
        });
        assert_eq!(
            e.unwrap_err().to_string(),
            "invalid argument: timeout must be at most 2147483.647s, got 3000000s"
        );
    }
}
