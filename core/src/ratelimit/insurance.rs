//! `insurance`: an in-process limiter that decides while Redis cannot (as
//! rate-limiter-flexible's `insuranceLimiter`).
//!
//! Same algorithm, same rules, same cost rules and the same numbers as the scripts
//! (core/lua/rl_*.lua, restated here in Rust over this process's clock), but its state is
//! this process's memory: each process enforces the whole limit on its own, so N
//! processes admit up to N times the limit while Redis is unreachable. It starts empty
//! and is consulted only when Redis fails; it does not follow Redis while Redis answers.
//!
//! Bounded: at most [`MAX_IDENTIFIERS`] identifiers (expired ones are swept first, then
//! the oldest is dropped), and a sliding log keeps at most [`MAX_LOG`] stamps per rule
//! (past that, a request joins the newest stamp, which only ever denies sooner).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::options::{Algorithm, RateLimiterOptions, Rule};
use super::result::{RateLimitResult, Reason};

/// Identifiers remembered at most.
pub const MAX_IDENTIFIERS: usize = 100_000;
/// Stamps one sliding log keeps at most.
pub const MAX_LOG: usize = 1_024;

/// The state of one rule for one identifier, in microseconds.
#[derive(Debug, Clone)]
enum State {
    Gcra {
        tat: f64,
    },
    Bucket {
        tokens: f64,
        last: f64,
    },
    Window {
        number: f64,
        current: f64,
        previous: f64,
    },
    Fixed {
        number: f64,
        count: f64,
    },
    Log(VecDeque<(f64, f64)>),
}

#[derive(Debug)]
struct Entry {
    rules: Vec<Option<State>>,
    /// When every rule is whole again (µs): past it the entry means nothing.
    expires: f64,
    /// When it was last written (µs): the oldest goes first when the table is full.
    written: f64,
}

/// One limiter's in-process insurance.
#[derive(Debug)]
pub(crate) struct Insurance {
    algorithm: Algorithm,
    rules: Vec<Rule>,
    count_denied: bool,
    table: Mutex<HashMap<String, Entry>>,
}

/// What one rule says.
struct Verdict {
    ok: bool,
    remaining: f64,
    reset: f64,
    retry: f64,
    state: Option<State>,
    expires: f64,
}

/// Microseconds to whole milliseconds, rounded up (rl_common.lua's `ms`).
fn ms(us: f64) -> u64 {
    if us <= 0.001 {
        0
    } else {
        ((us - 0.001) / 1000.0).ceil() as u64
    }
}

impl Insurance {
    pub fn new(opts: &RateLimiterOptions) -> Insurance {
        Insurance {
            algorithm: opts.algorithm,
            rules: opts.rules(),
            count_denied: opts.count_denied,
            table: Mutex::default(),
        }
    }

    /// Decide a request of `cost` (`consume` false: peek) for `identifier` at `now_ms`, as
    /// the scripts would (rl_rules.lua: nothing is consumed unless every rule allows).
    pub fn decide(
        &self,
        identifier: &str,
        cost: i64,
        consume: bool,
        now_ms: u64,
    ) -> RateLimitResult {
        let now = now_ms as f64 * 1000.0;
        let cost = cost as f64;
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let mut entry = table.remove(identifier).filter(|e| e.expires > now);
        let states: Vec<Option<State>> = match &entry {
            Some(e) => e.rules.clone(),
            None => vec![None; self.rules.len()],
        };
        let allowed = self
            .rules
            .iter()
            .zip(&states)
            .all(|(rule, st)| self.step(rule, st.as_ref(), now, cost, false).ok);
        let write = consume && (allowed || self.count_denied);
        let mut best: Option<(usize, f64, f64)> = None;
        let mut longest = 0.0f64;
        let mut next = Vec::with_capacity(self.rules.len());
        let mut expires = now;
        for (i, (rule, st)) in self.rules.iter().zip(&states).enumerate() {
            let v = self.step(rule, st.as_ref(), now, cost, write);
            if best.is_none_or(|(_, r, s)| v.remaining < r || (v.remaining == r && v.reset > s)) {
                best = Some((i, v.remaining, v.reset));
            }
            longest = longest.max(v.retry);
            expires = expires.max(v.expires);
            next.push(v.state.or_else(|| st.clone()));
        }
        let (best, remaining, reset) = best.unwrap_or((0, 0.0, 0.0));
        if write {
            entry = Some(Entry {
                rules: next,
                expires,
                written: now,
            });
        }
        if let Some(e) = entry {
            if table.len() >= MAX_IDENTIFIERS {
                table.retain(|_, e| e.expires > now);
            }
            if table.len() >= MAX_IDENTIFIERS {
                let oldest = table
                    .iter()
                    .min_by(|a, b| a.1.written.total_cmp(&b.1.written))
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    table.remove(&k);
                }
            }
            table.insert(identifier.to_string(), e);
        }
        RateLimitResult {
            allowed,
            limit: self.rules[best].capacity() as u64,
            remaining: remaining.max(0.0) as u64,
            reset_after_ms: ms(reset),
            retry_after_ms: if allowed { 0 } else { ms(longest) },
            reason: Reason::Insurance,
            error: None,
        }
    }

    /// One rule, as the algorithm's script: whether `cost` fits, and with `write`, the
    /// state after taking it (or recording it, `count_denied`).
    fn step(&self, rule: &Rule, st: Option<&State>, now: f64, cost: f64, write: bool) -> Verdict {
        let limit = rule.limit as f64;
        let burst = rule.burst as f64;
        let window = rule.window.as_micros() as f64;
        let record = |ok: bool| write && (ok || self.count_denied);
        match self.algorithm {
            Algorithm::Gcra => {
                const SLACK: f64 = 1.0;
                let interval = window / limit;
                let full = (limit + burst) * interval;
                let mut tat = match st {
                    Some(State::Gcra { tat }) => tat.max(now),
                    _ => now,
                };
                let ok = tat + cost * interval - now <= full + SLACK;
                let mut state = None;
                if record(ok) {
                    tat = (tat + cost * interval).min(now + full).round();
                    state = Some(State::Gcra { tat });
                }
                let used = tat - now;
                Verdict {
                    ok,
                    remaining: ((full - used + SLACK) / interval).floor().max(0.0),
                    reset: used,
                    retry: used + cost * interval - full,
                    state,
                    expires: tat,
                }
            }
            Algorithm::TokenBucket => {
                let capacity = limit + burst;
                let rate = limit / window;
                let (mut tokens, mut last) = match st {
                    Some(State::Bucket { tokens, last }) => (*tokens, *last),
                    _ => (capacity, now),
                };
                if now > last {
                    tokens = capacity.min(tokens + (now - last) * rate);
                    last = now;
                }
                let ok = tokens + 1e-9 >= cost;
                let mut state = None;
                if record(ok) {
                    tokens = ((tokens - cost).max(0.0) * 1000.0).floor() / 1000.0;
                    state = Some(State::Bucket { tokens, last });
                }
                let behind = last - now;
                let reset = (capacity - tokens) / rate + behind;
                Verdict {
                    ok,
                    remaining: (tokens + 1e-9).floor(),
                    reset,
                    retry: (cost - tokens) / rate + behind,
                    state,
                    expires: now + reset,
                }
            }
            Algorithm::SlidingWindow => {
                let number = (now / window).floor();
                let starts = number * window;
                let elapsed = (now - starts) / window;
                let (mut current, mut previous) = (0.0, 0.0);
                if let Some(State::Window {
                    number: at,
                    current: cur,
                    previous: prev,
                }) = st
                {
                    let age = number - at;
                    if age <= 0.0 {
                        (current, previous) = (*cur, *prev);
                    } else if age == 1.0 {
                        previous = *cur;
                    }
                }
                let ok = previous * (1.0 - elapsed) + current + cost <= limit + 1e-9;
                let mut state = None;
                if record(ok) {
                    current += cost;
                    state = Some(State::Window {
                        number,
                        current,
                        previous,
                    });
                }
                let estimate = previous * (1.0 - elapsed) + current;
                let reset = if current > 0.0 {
                    starts + 2.0 * window - now
                } else if previous > 0.0 {
                    starts + window - now
                } else {
                    0.0
                };
                let mut retry = 0.0;
                if estimate + cost > limit + 1e-9 {
                    retry = if current + cost <= limit {
                        starts + (1.0 - (limit - current - cost) / previous) * window - now
                    } else {
                        let share = (1.0 - (limit - cost) / current).max(0.0);
                        starts + window + share * window - now
                    };
                }
                Verdict {
                    ok,
                    remaining: (limit - estimate + 1e-9).floor().max(0.0),
                    reset,
                    retry,
                    state,
                    expires: starts + 2.0 * window,
                }
            }
            Algorithm::FixedWindow => {
                let number = (now / window).floor();
                let mut count = match st {
                    Some(State::Fixed { number: at, count }) if *at == number => *count,
                    _ => 0.0,
                };
                let left = (number + 1.0) * window - now;
                let ok = count + cost <= limit;
                let mut state = None;
                if record(ok) {
                    count += cost;
                    state = Some(State::Fixed { number, count });
                }
                Verdict {
                    ok,
                    remaining: (limit - count).max(0.0),
                    reset: if count > 0.0 { left } else { 0.0 },
                    retry: if count + cost > limit { left } else { 0.0 },
                    state,
                    expires: now + left,
                }
            }
            Algorithm::SlidingLog => {
                let from = now - window;
                let mut log: VecDeque<(f64, f64)> = match st {
                    Some(State::Log(log)) => {
                        log.iter().copied().filter(|(t, _)| *t > from).collect()
                    }
                    _ => VecDeque::new(),
                };
                let mut count: f64 = log.iter().map(|(_, c)| c).sum();
                let ok = count + cost <= limit;
                let mut state = None;
                if record(ok) {
                    let full = log.len() >= MAX_LOG;
                    match log.back_mut() {
                        Some(newest) if newest.0 == now || full => {
                            newest.1 += cost;
                            newest.0 = now;
                        }
                        _ => log.push_back((now, cost)),
                    }
                    count += cost;
                    // count_denied keeps the newest `limit` units only (rl_sliding_log.lua).
                    while count > limit {
                        let Some(oldest) = log.front_mut() else { break };
                        let drop = (count - limit).min(oldest.1);
                        oldest.1 -= drop;
                        count -= drop;
                        if oldest.1 <= 0.0 {
                            log.pop_front();
                        }
                    }
                    state = Some(State::Log(log.clone()));
                }
                let reset = log.back().map_or(0.0, |(t, _)| t + window - now);
                let need = count + cost - limit;
                let mut retry = 0.0;
                if need > 0.0 {
                    let mut seen = 0.0;
                    for (t, c) in &log {
                        seen += c;
                        if seen >= need {
                            retry = t + window - now;
                            break;
                        }
                    }
                }
                Verdict {
                    ok,
                    remaining: (limit - count).max(0.0),
                    reset,
                    retry,
                    state,
                    expires: now + reset,
                }
            }
        }
    }

    /// How many identifiers it holds (expired ones included until swept).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn insurance(algorithm: Algorithm, limit: i64, window_ms: u64) -> Insurance {
        let opts = RateLimiterOptions {
            algorithm,
            limit,
            window: Duration::from_millis(window_ms),
            ..RateLimiterOptions::default()
        };
        Insurance::new(&opts)
    }

    #[test]
    fn every_algorithm_allows_the_limit_then_denies_until_the_window_passes() {
        let t0 = 1_700_000_000_000u64;
        for algorithm in Algorithm::ALL {
            let ins = insurance(algorithm, 3, 1_000);
            for i in 0..3 {
                let r = ins.decide("a", 1, true, t0);
                assert!(r.allowed, "{algorithm}: request {i}: {r:?}");
                assert_eq!(r.reason, Reason::Insurance);
                assert_eq!(r.limit, 3);
            }
            let r = ins.decide("a", 1, true, t0);
            assert!(!r.allowed && r.retry_after_ms > 0, "{algorithm}: {r:?}");
            assert_eq!(r.remaining, 0, "{algorithm}");
            assert!(
                ins.decide("b", 1, true, t0).allowed,
                "{algorithm}: per identifier"
            );
            let peek = ins.decide("a", 1, false, t0);
            assert!(!peek.allowed, "{algorithm}: a peek sees the same");
            // Two windows later everything is whole again.
            let r = ins.decide("a", 1, true, t0 + 2_000);
            assert!(r.allowed, "{algorithm}: {r:?}");
        }
    }

    #[test]
    fn nothing_is_consumed_unless_every_rule_allows() {
        let t0 = 1_700_000_000_000u64;
        let mut opts = RateLimiterOptions {
            limit: 5,
            window: Duration::from_secs(1),
            ..RateLimiterOptions::default()
        };
        opts.extra_limits
            .push(Rule::new(2, Duration::from_secs(60)));
        let ins = Insurance::new(&opts);
        assert!(ins.decide("a", 1, true, t0).allowed);
        assert!(ins.decide("a", 1, true, t0 + 10).allowed);
        let r = ins.decide("a", 1, true, t0 + 20);
        assert!(!r.allowed && r.limit == 2, "{r:?}");
        assert!(r.retry_after_ms > 25_000, "{r:?}");
    }

    #[test]
    fn bounded() {
        let ins = insurance(Algorithm::SlidingLog, 5_000, 60_000);
        let t0 = 1_700_000_000_000u64;
        for i in 0..3_000u64 {
            ins.decide("a", 1, true, t0 + i);
        }
        let table = ins.table.lock().unwrap();
        match &table["a"].rules[0] {
            Some(State::Log(log)) => assert_eq!(log.len(), MAX_LOG),
            other => panic!("{other:?}"),
        }
        drop(table);
        let r = ins.decide("a", 1, true, t0 + 3_000);
        assert_eq!(r.remaining, 5_000 - 3_001, "counts stay exact");
        let ins = insurance(Algorithm::Gcra, 1, 60_000);
        for i in 0..(MAX_IDENTIFIERS as u64 + 10) {
            ins.decide(&i.to_string(), 1, true, t0 + i / 1_000);
        }
        assert_eq!(ins.len(), MAX_IDENTIFIERS);
    }
}
