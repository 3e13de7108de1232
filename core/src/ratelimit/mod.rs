//! The rate limiter: `client.rate_limiter(name)` → [`RateLimiter`] with `limit`, `peek` and
//! `reset`.
//!
//! Every decision is one Lua script — one round trip, atomic, on the server's clock by
//! default — over the keys of all of the limiter's rules, so several limits (10 per second
//! and 1000 per hour) are decided together and nothing is consumed unless all allow.
//! Around it: per-call `cost`, `count_denied`, an in-process `local_block` list, and
//! `on_error` with a `timeout`, so a dead or slow Redis never hangs a request, an
//! in-process `insurance` limit that decides instead while Redis fails, and a circuit
//! breaker so a dead Redis costs one timeout per interval (see [`failover`]); `block_for`
//! (in the same script), `allow_list` / `deny_list` (in-process), `penalty` / `reward`
//! (adjust.rs), `wait` (wait.rs) and the `rate` notation (rate.rs).
//! Algorithms, their state and their error bounds are described in docs/ratelimit.md.

mod adjust;
mod failover;
pub mod http;
mod insurance;
mod lists;
mod local_block;
mod options;
mod rate;
mod result;
pub(crate) mod scripts;
mod wait;

use std::sync::Arc;
use std::time::Duration;

pub use http::HttpAnswer;
pub use options::{
    duration_from_ms, whole_number, Algorithm, ClockMode, OnError, RateLimiterOptions, Rule,
};
pub use rate::parse_rate;
pub use result::{RateLimitResult, Reason};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::keys::{check_id, Keyspace};
use crate::rt;
use crate::script::arg;
use crate::value::{Cmd, Value};
use failover::Failover;
use lists::Lists;
use local_block::{Denial, LocalBlock};

/// Configures a [`RateLimiter`]; from [`Client::rate_limiter`].
#[derive(Debug, Clone)]
pub struct RateLimiterBuilder {
    client: Client,
    name: String,
    opts: RateLimiterOptions,
    /// A rate for `limit` + `window`, applied by `build`.
    rate: Option<String>,
    /// Whether `limit` or `window` was set: refused beside a rate.
    sized: bool,
}

impl RateLimiterBuilder {
    pub(crate) fn new(client: Client, name: &str) -> Self {
        RateLimiterBuilder {
            client,
            name: name.to_string(),
            opts: RateLimiterOptions::default(),
            rate: None,
            sized: false,
        }
    }

    /// Requests (cost units) per window.
    pub fn limit(mut self, limit: i64) -> Self {
        self.opts.limit = limit;
        self.sized = true;
        self
    }
    /// The window.
    pub fn window(mut self, window: Duration) -> Self {
        self.opts.window = window;
        self.sized = true;
        self
    }
    /// `limit` and `window` (and extra limits) in the notation of `limits`: `"100/minute"`,
    /// `"5/second;1000/day"` (see [`parse_rate`]); refused by `build` beside `limit` or
    /// `window`.
    pub fn rate(mut self, rate: &str) -> Self {
        self.rate = Some(rate.to_string());
        self
    }
    /// Once a request is denied, deny the identifier for `block_for`, in every process.
    pub fn block_for(mut self, block_for: Duration) -> Self {
        self.opts.block_for = block_for;
        self
    }
    /// Identifiers always allowed, with no round trip.
    pub fn allow_list<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.opts.allow_list = ids.into_iter().map(Into::into).collect();
        self
    }
    /// Identifiers always denied, with no round trip.
    pub fn deny_list<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.opts.deny_list = ids.into_iter().map(Into::into).collect();
        self
    }
    /// The algorithm (default gcra).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.opts.algorithm = algorithm;
        self
    }
    /// Extra capacity that may be spent at once (gcra and token_bucket).
    pub fn burst(mut self, burst: i64) -> Self {
        self.opts.burst = burst;
        self
    }
    /// One more limit, decided in the same atomic call: `limit` per `window`.
    pub fn and_limit(mut self, limit: i64, window: Duration) -> Self {
        self.opts.extra_limits.push(Rule::new(limit, window));
        self
    }
    /// Record denied requests too.
    pub fn count_denied(mut self, on: bool) -> Self {
        self.opts.count_denied = on;
        self
    }
    /// What to answer when Redis fails or is too slow.
    pub fn on_error(mut self, on_error: OnError) -> Self {
        self.opts.on_error = on_error;
        self
    }
    /// The longest one decision may wait for Redis.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.timeout = timeout;
        self
    }
    /// Remember denied identifiers in-process until their retry time.
    pub fn local_block(mut self, on: bool) -> Self {
        self.opts.local_block = on;
        self
    }
    /// Decide in-process, with the same rules, while Redis is unreachable.
    pub fn insurance(mut self, on: bool) -> Self {
        self.opts.insurance = on;
        self
    }
    /// How long Redis is skipped after a failure (0: never).
    pub fn circuit_breaker(mut self, d: Duration) -> Self {
        self.opts.circuit_breaker = d;
        self
    }
    /// Whose clock decides.
    pub fn clock(mut self, clock: ClockMode) -> Self {
        self.opts.clock = clock;
        self
    }
    /// Replace every option at once.
    pub fn options(mut self, opts: RateLimiterOptions) -> Self {
        self.opts = opts;
        self
    }
    /// Check the options and make the limiter.
    pub fn build(mut self) -> Result<RateLimiter> {
        if let Some(rate) = &self.rate {
            if self.sized {
                return Err(Error::invalid(
                    "rate stands for limit and window: give rate or limit/window, not both",
                ));
            }
            self.opts.set_rate(rate)?;
        }
        self.opts.validate()?;
        let keys = Keyspace::new(self.client.prefix(), "rl", &self.name)?;
        let rules = self.opts.rules();
        // Every argument but the clock and the cost is fixed for the limiter's life.
        let mut rule_args = Vec::with_capacity(rules.len() * 3);
        for rule in &rules {
            rule_args.push(arg(rule.limit));
            rule_args.push(arg(rule.window.as_micros() as u64));
            rule_args.push(arg(rule.burst));
        }
        let capacity = rules[0].capacity() as u64;
        Ok(RateLimiter {
            inner: Arc::new(Inner {
                failover: Failover::new(&self.name, &self.opts, capacity),
                client: self.client,
                keys,
                max_cost: self.opts.max_cost(),
                max_adjust: rules.iter().map(Rule::capacity).max().unwrap_or(0),
                capacity,
                rule_count: rules.len(),
                rule_args,
                block_arg: (!self.opts.block_for.is_zero())
                    .then(|| arg(self.opts.block_for.as_millis() as u64)),
                policy: http::policy(&rules),
                lists: Lists::new(&self.opts.allow_list, &self.opts.deny_list),
                local: LocalBlock::default(),
                opts: self.opts,
            }),
        })
    }
}

/// A named rate limiter. Cheap to clone; clones share the `local_block` list.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    keys: Keyspace,
    opts: RateLimiterOptions,
    max_cost: i64,
    /// The largest `n` of `penalty` / `reward`: the largest capacity of a rule.
    max_adjust: i64,
    /// The first rule's capacity: the limit of a result on_error makes, and of an
    /// admission the one-rule script packs into an integer (which leaves it out).
    capacity: u64,
    rule_count: usize,
    rule_args: Vec<Vec<u8>>,
    /// `block_for` in ms, the argument after the rules' (absent: no block_for).
    block_arg: Option<Vec<u8>>,
    /// The `RateLimit-Policy` header of the rules.
    policy: String,
    lists: Lists,
    local: LocalBlock,
    /// What decides when Redis cannot (none with on_error=raise and no insurance).
    failover: Option<Failover>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("keys", &self.inner.keys)
            .field("opts", &self.inner.opts)
            .finish()
    }
}

/// Consume or only look.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Limit,
    Peek,
}

impl RateLimiter {
    /// The options in force.
    pub fn options(&self) -> &RateLimiterOptions {
        &self.inner.opts
    }

    /// How many decisions `on_error` or `insurance` made because Redis failed, since this
    /// limiter was made.
    pub fn errors(&self) -> u64 {
        self.inner.failover.as_ref().map_or(0, Failover::errors)
    }

    /// The Redis keys holding `identifier`'s state, one per rule, then its block key when
    /// the limiter has `block_for`.
    pub fn keys_for(&self, identifier: &str) -> Result<Vec<String>> {
        check_id("identifier", identifier)?;
        let part = scripts::key_part(self.inner.opts.algorithm);
        let block = self.inner.block_arg.as_ref().map(|_| "b");
        Ok((0..self.inner.rule_count)
            .map(|i| match i {
                0 => self.inner.keys.key(part, identifier),
                i => self.inner.keys.key(&format!("{part}{i}"), identifier),
            })
            .chain(block.map(|b| self.inner.keys.key(b, identifier)))
            .collect())
    }

    /// The `RateLimit-Policy` header of this limiter's rules (see [`http::policy`]): what
    /// the HTTP glue passes to [`RateLimitResult::http_with_policy`].
    pub fn policy(&self) -> &str {
        &self.inner.policy
    }

    /// One atomic decision for a request of `cost`: allowed or not, and the numbers.
    pub async fn limit(&self, identifier: &str, cost: i64) -> Result<RateLimitResult> {
        self.decide(Op::Limit, identifier, cost, self.clock()).await
    }

    /// [`RateLimiter::limit`] at the caller-supplied time `now_ms` (ms since the Unix
    /// epoch) instead of the configured clock.
    /// `now_ms` must lie in [`CALLER_CLOCK_RANGE_MS`], else it is an
    /// [`Error::InvalidArgument`].
    pub async fn limit_at(
        &self,
        identifier: &str,
        cost: i64,
        now_ms: u64,
    ) -> Result<RateLimitResult> {
        check_caller_clock(now_ms)?;
        self.decide(Op::Limit, identifier, cost, Some(now_ms)).await
    }

    /// What a request of cost 1 would get now, consuming nothing.
    pub async fn peek(&self, identifier: &str) -> Result<RateLimitResult> {
        self.decide(Op::Peek, identifier, 1, self.clock()).await
    }

    /// [`RateLimiter::peek`] at the caller-supplied time `now_ms` (bounded as for
    /// [`RateLimiter::limit_at`]).
    pub async fn peek_at(&self, identifier: &str, now_ms: u64) -> Result<RateLimitResult> {
        check_caller_clock(now_ms)?;
        self.decide(Op::Peek, identifier, 1, Some(now_ms)).await
    }

    /// Forget `identifier`: its next request starts from a full limit. One DEL.
    pub async fn reset(&self, identifier: &str) -> Result<()> {
        let keys = self.keys_for(identifier)?;
        self.inner.local.forget(identifier);
        let transport = self.inner.client.transport();
        rt::timeout(
            self.inner.opts.timeout,
            "rate limiter reset",
            transport.send(Cmd::new("DEL").args(keys)),
        )
        .await
        .map(|_| ())
    }

    /// The time to send when the caller's clock decides; `None` lets the script read TIME.
    fn clock(&self) -> Option<u64> {
        match self.inner.opts.clock {
            ClockMode::Server => None,
            ClockMode::Client => Some(rt::now_ms()),
        }
    }

    async fn decide(
        &self,
        op: Op,
        identifier: &str,
        cost: i64,
        now_ms: Option<u64>,
    ) -> Result<RateLimitResult> {
        let keys = self.keys_for(identifier)?;
        self.check_cost(cost)?;
        if let Some(listed) = self.inner.lists.decide(identifier, self.inner.capacity) {
            return Ok(listed);
        }
        let opts = &self.inner.opts;
        // The local list runs on this process's clock, whatever decides in Redis.
        let local_now = rt::now_ms();
        if opts.local_block && op == Op::Limit {
            if let Some(d) = self.inner.local.check(identifier, cost, local_now) {
                return Ok(RateLimitResult {
                    allowed: false,
                    limit: d.limit,
                    remaining: 0,
                    reset_after_ms: d.reset_after_ms,
                    retry_after_ms: d.retry_after_ms,
                    reason: Reason::LocalBlock,
                    error: None,
                });
            }
        }
        let failover = self.inner.failover.as_ref();
        let skipped = failover.and_then(Failover::skip);
        let was_skipped = skipped.is_some();
        let decided = match skipped {
            Some(e) => Err(e),
            // Bounded by `timeout` (the request's own deadline, see `run`).
            None => self.run(op, keys, cost, now_ms).await,
        };
        let result = match (decided, failover) {
            (Ok(r), _) => {
                failover.inspect(|f| f.succeeded());
                r
            }
            // A closed client is the caller's doing, not Redis failing: it is refused as the
            // cache refuses it, whatever on_error says.
            (Err(e @ (Error::InvalidArgument(_) | Error::Closed)), _) | (Err(e), None) => {
                return Err(e)
            }
            (Err(e), Some(f)) => {
                let client = &self.inner.client;
                let consume = op == Op::Limit;
                return Ok(f.decide(client, identifier, cost, consume, now_ms, e, was_skipped));
            }
        };
        if opts.local_block && op == Op::Limit && !result.allowed {
            let denial = Denial {
                limit: result.limit,
                reset_after_ms: result.reset_after_ms,
                retry_after_ms: result.retry_after_ms,
            };
            self.inner.local.block(identifier, cost, local_now, denial);
        }
        Ok(result)
    }

    fn check_cost(&self, cost: i64) -> Result<()> {
        if cost < 1 {
            return Err(Error::invalid(format!(
                "cost must be at least 1, got {cost}"
            )));
        }
        if cost > self.inner.max_cost {
            return Err(Error::invalid(format!(
                "cost {cost} is above what this limiter can ever allow at once ({})",
                self.inner.max_cost
            )));
        }
        Ok(())
    }

    /// One decision in Redis: the script, failing with [`Error::Timeout`] past `timeout`.
    async fn run(
        &self,
        op: Op,
        keys: Vec<String>,
        cost: i64,
        now_ms: Option<u64>,
    ) -> Result<RateLimitResult> {
        let opts = &self.inner.opts;
        // The script's first argument (rl_common.lua): the cost, 0 to peek, negative to
        // count the request even when it is denied.
        let signed_cost = match op {
            Op::Peek => 0,
            Op::Limit if opts.count_denied => -cost,
            Op::Limit => cost,
        };
        let block = self.inner.block_arg.as_ref();
        // `timeout` travels with the command as its deadline: no timer per decision.
        let reply = scripts::script(opts.algorithm, self.inner.rule_count, block.is_some())
            .run_within(self.inner.client.transport(), opts.timeout, |cmd| {
                let cmd = cmd
                    .arg(keys.len())
                    .args(keys.iter())
                    .arg(signed_cost)
                    .args(self.inner.rule_args.iter())
                    // block_for (ms) after the rules' arguments, before the clock.
                    .args(block);
                // The caller's clock goes last, only when it decides.
                match now_ms {
                    Some(t) => cmd.arg(t),
                    None => cmd,
                }
            })
            .await
            .map_err(|e| crate::rt::name_timeout(e, "rate limiter decision", opts.timeout))?;
        parse_reply(reply, self.inner.capacity)
    }
}

/// The times a caller may pass as `now_ms`: from 2000-01-01 to 2200-01-01 UTC, in
/// milliseconds since the Unix epoch. Any clock a server reads lies well inside, with a
/// margin of decades either side; a reading in seconds (1.7e9) falls below it and one in
/// microseconds or nanoseconds (1.7e15, 1.7e18) above it, where the scripts' microsecond
/// arithmetic would no longer be exact (2^53 µs is in 2255) and decisions would be wrong.
pub const CALLER_CLOCK_RANGE_MS: std::ops::RangeInclusive<u64> =
    946_684_800_000..=7_258_118_400_000;

/// Refuse a caller-supplied time outside [`CALLER_CLOCK_RANGE_MS`].
fn check_caller_clock(now_ms: u64) -> Result<()> {
    if CALLER_CLOCK_RANGE_MS.contains(&now_ms) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "now_ms must be milliseconds since the Unix epoch between 2000-01-01 and 2200-01-01 \
         ({} to {}), got {now_ms}",
        CALLER_CLOCK_RANGE_MS.start(),
        CALLER_CLOCK_RANGE_MS.end()
    )))
}

/// Low bits of the one-rule script's integer reply: the flag that marks it an admission,
/// then `remaining` (rl_common.lua).
const PACKED_REMAINING_BITS: u32 = 20;

/// The script's reply: `{allowed, limit, remaining, reset_after_ms, retry_after_ms}`, or an
/// admission packed in one odd integer, `(reset_after_ms * 2^20 + remaining) * 2 + 1`,
/// whose limit is `capacity` (the one rule's limit + burst).
fn parse_reply(reply: Value, capacity: u64) -> Result<RateLimitResult> {
    if let Value::Int(packed) = reply {
        let packed = u64::try_from(packed)
            .ok()
            .filter(|p| p & 1 == 1)
            .ok_or_else(|| {
                Error::Decode(format!(
                    "rate limit script returned {packed}, not an admission"
                ))
            })?;
        let fields = packed >> 1;
        return Ok(RateLimitResult {
            allowed: true,
            limit: capacity,
            remaining: fields & ((1 << PACKED_REMAINING_BITS) - 1),
            reset_after_ms: fields >> PACKED_REMAINING_BITS,
            retry_after_ms: 0,
            reason: Reason::Limit,
            error: None,
        });
    }
    let fields = reply.into_array()?;
    if fields.len() != 5 {
        return Err(Error::Decode(format!(
            "rate limit script returned {} fields, expected 5",
            fields.len()
        )));
    }
    let n = |i: usize| -> Result<u64> {
        let v = fields[i].as_int()?;
        u64::try_from(v).map_err(|_| {
            Error::Decode(format!("rate limit script returned a negative number: {v}"))
        })
    };
    Ok(RateLimitResult {
        allowed: n(0)? == 1,
        limit: n(1)?,
        remaining: n(2)?,
        reset_after_ms: n(3)?,
        retry_after_ms: n(4)?,
        reason: Reason::Limit,
        error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_admission_unpacks() {
        let packed = ((4_000u64 << PACKED_REMAINING_BITS) + 17) * 2 + 1;
        let r = parse_reply(Value::Int(packed as i64), 20).unwrap();
        assert_eq!(
            (
                r.allowed,
                r.limit,
                r.remaining,
                r.reset_after_ms,
                r.retry_after_ms
            ),
            (true, 20, 17, 4_000, 0)
        );
        // The largest the script sends: 2^53 - 1.
        let r = parse_reply(Value::Int((1 << 53) - 1), 5).unwrap();
        assert_eq!(
            (r.remaining, r.reset_after_ms),
            ((1 << 20) - 1, (1 << 32) - 1)
        );
    }

    /// What the one-rule script sends back, read off the wire (the embedded engine runs
    /// the same scripts as Redis): an admission is one odd integer, a denial the table.
    #[cfg(feature = "embedded")]
    #[tokio::test]
    async fn an_admission_is_one_integer_on_the_wire_and_a_denial_a_table() {
        let client = Client::embedded().unwrap();
        for algorithm in Algorithm::ALL {
            let key = format!("k:{algorithm:?}");
            // Limit 1 per second, cost 1, the caller's clock at a fixed time.
            let decide = || {
                scripts::script(algorithm, 1, false).run_with(client.transport(), |cmd| {
                    cmd.arg(1usize)
                        .arg(key.as_str())
                        .arg(1i64)
                        .args([1u64, 1_000_000, 0])
                        .arg(1_700_000_040_000u64)
                })
            };
            match decide().await.unwrap() {
                Value::Int(n) => assert_eq!(n % 2, 1, "{algorithm:?}: {n}"),
                other => panic!("{algorithm:?}: an admission came back as {other:?}"),
            }
            let denial = decide().await.unwrap().into_array().unwrap();
            assert_eq!(denial[0], Value::Int(0), "{algorithm:?}");
            assert_eq!(denial.len(), 5, "{algorithm:?}");
        }
    }

    #[test]
    fn an_integer_that_is_not_an_admission_is_a_decode_error() {
        for bad in [0, 2, -1, -3] {
            let err = parse_reply(Value::Int(bad), 5).unwrap_err();
            assert!(matches!(err, Error::Decode(_)), "{bad}: {err:?}");
        }
    }
}
