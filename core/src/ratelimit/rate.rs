//! `rate="100/minute"`: the rate notation of the Python `limits` library (used by slowapi
//! and Flask-Limiter), standing for a limiter's `limit` and `window` (several rates: the
//! extra limits too).
//!
//! One rate is `[count] [per|/] [n] [second|minute|hour|day|month|year]`, the unit
//! optionally plural, any case, spaces optional: `100/minute`, `10 per minute`,
//! `100/5 minutes`, `1000 per day`. Several are separated by `;`, `,` or `|`
//! (`5/second;1000/day`). As in `limits`, a month is 30 days and a year 12 such months
//! (360 days).

use std::time::Duration;

use super::options::{RateLimiterOptions, Rule};
use crate::error::{Error, Result};
use crate::input::Input;

/// The units a rate may name, with their length in seconds (those of `limits`).
const UNITS: [(&str, u64); 6] = [
    ("second", 1),
    ("minute", 60),
    ("hour", 3_600),
    ("day", 86_400),
    ("month", 30 * 86_400),
    ("year", 12 * 30 * 86_400),
];

/// The rules a rate string stands for, in order: the first is the limiter's `limit` and
/// `window`, the others its extra limits. Anything else than the notation above, a count
/// or a number of units of 0, is an [`Error::InvalidArgument`].
pub fn parse_rate(text: &str) -> Result<Vec<Rule>> {
    text.split([';', ',', '|'])
        .map(|one| parse_one(text, one))
        .collect()
}

fn parse_one(whole: &str, one: &str) -> Result<Rule> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "rate {whole:?} is not a rate such as \"100/minute\", \"10 per second\", \
             \"100/5 minutes\" or \"5/second;1000/day\": {why}"
        ))
    };
    let lower = one.trim().to_ascii_lowercase();
    let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let n = digits(&lower);
    if n == 0 {
        return Err(bad("it does not start with a count"));
    }
    let count: i64 = lower[..n]
        .parse()
        .map_err(|_| bad("the count is too large"))?;
    let rest = lower[n..].trim_start();
    let rest = if let Some(r) = rest.strip_prefix('/') {
        r
    } else if let Some(r) = rest.strip_prefix("per") {
        // `per` is a word: `10 per minute`, `10per minute`, not `10 perminute`.
        if !r.starts_with(|c: char| c.is_ascii_whitespace() || c.is_ascii_digit()) {
            return Err(bad("expected \"/\" or \"per\" after the count"));
        }
        r
    } else {
        return Err(bad("expected \"/\" or \"per\" after the count"));
    };
    let rest = rest.trim_start();
    let m = digits(rest);
    let times: u64 = if m == 0 {
        1
    } else {
        rest[..m]
            .parse()
            .map_err(|_| bad("the number of units is too large"))?
    };
    let unit = rest[m..].trim();
    let unit = unit.strip_suffix('s').unwrap_or(unit);
    let seconds = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, s)| *s)
        .ok_or_else(|| bad("the unit must be second, minute, hour, day, month or year"))?;
    if count == 0 {
        return Err(bad("the count must be at least 1"));
    }
    if times == 0 {
        return Err(bad("the window must be at least one unit"));
    }
    let window = times
        .checked_mul(seconds)
        .ok_or_else(|| bad("the window is too long"))?;
    Ok(Rule::new(count, Duration::from_secs(window)))
}

impl RateLimiterOptions {
    /// Set `limit` and `window` from a rate (see [`parse_rate`]); a second and further
    /// rate go before `extra_limits`.
    pub fn set_rate(&mut self, rate: &str) -> Result<()> {
        let mut rules = parse_rate(rate)?.into_iter();
        if let Some(first) = rules.next() {
            self.limit = first.limit;
            self.window = first.window;
        }
        let mut extra: Vec<Rule> = rules.collect();
        extra.append(&mut self.extra_limits);
        self.extra_limits = extra;
        Ok(())
    }
}

/// The options as given with `rate` turned into `limit`, `window` and `limits`, before the
/// core reads them ([`crate::input::Options::prepare`]). `rate` stands for `limit` and
/// `window`: giving either beside it is an [`Error::InvalidArgument`].
pub(crate) fn expand(input: Input) -> Result<Input> {
    let Input::Map(mut entries) = input else {
        return Ok(input);
    };
    let Some(at) = entries
        .iter()
        .position(|(k, v)| k == "rate" && *v != Input::Null)
    else {
        // An absent rate (None, null) is no option at all.
        entries.retain(|(k, _)| k != "rate");
        return Ok(Input::Map(entries));
    };
    let (_, rate) = entries.remove(at);
    let Input::Str(rate) = rate else {
        return Err(Error::invalid(
            "rate must be a string such as \"100/minute\" or \"5/second;1000/day\"",
        ));
    };
    if let Some((name, _)) = entries
        .iter()
        .find(|(k, v)| (k == "limit" || k == "window") && *v != Input::Null)
    {
        return Err(Error::invalid(format!(
            "rate stands for limit and window: give rate or {name}, not both"
        )));
    }
    let rules = parse_rate(&rate)?;
    let rule = |r: &Rule| {
        Input::Map(vec![
            ("limit".into(), Input::Int(r.limit)),
            ("window".into(), Input::Duration(r.window)),
        ])
    };
    entries.retain(|(k, _)| k != "limit" && k != "window");
    entries.push(("limit".into(), Input::Int(rules[0].limit)));
    entries.push(("window".into(), Input::Duration(rules[0].window)));
    if rules.len() > 1 {
        let mut extra: Vec<Input> = rules[1..].iter().map(rule).collect();
        match entries.iter_mut().find(|(k, _)| k == "limits") {
            Some((_, Input::List(given))) => {
                extra.append(given);
                *given = extra;
            }
            // No limits (or null): the rate's; anything else is refused when read.
            Some((_, v @ Input::Null)) => *v = Input::List(extra),
            Some(_) => {}
            None => entries.push(("limits".into(), Input::List(extra))),
        }
    }
    Ok(Input::Map(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<(i64, u64)> {
        parse_rate(text)
            .unwrap()
            .iter()
            .map(|r| (r.limit, r.window.as_secs()))
            .collect()
    }

    #[test]
    fn reads_the_notation_of_limits() {
        assert_eq!(rules("100/minute"), [(100, 60)]);
        assert_eq!(rules("10 per minute"), [(10, 60)]);
        assert_eq!(rules("100/5 minutes"), [(100, 300)]);
        assert_eq!(rules("  7 PER 2 Hours "), [(7, 7_200)]);
        assert_eq!(rules("1/day"), [(1, 86_400)]);
        assert_eq!(rules("1/month"), [(1, 2_592_000)]);
        assert_eq!(rules("1/year"), [(1, 31_104_000)]);
        assert_eq!(rules("3/2seconds"), [(3, 2)]);
        assert_eq!(
            rules("5/second;1000/day, 2 per hour|1/year"),
            [(5, 1), (1000, 86_400), (2, 3_600), (1, 31_104_000)]
        );
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "abc",
            "100/fortnight",
            "0/minute",
            "100/0 minutes",
            "100",
            "100 minute",
            "-1/minute",
            "1.5/minute",
            "100/minute;",
            "10 perminute",
            "99999999999999999999/second",
            "1/99999999999999999999 years",
            "1/999999999999999 years",
        ] {
            let e = parse_rate(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{bad:?}");
        }
    }
}
