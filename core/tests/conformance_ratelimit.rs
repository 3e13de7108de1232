//! Replays conformance/ratelimit/*.json (format: conformance/README.md) against a real
//! server: the results every runtime must give.

mod common;

use std::path::PathBuf;

use common::Backend;
use std::time::Duration;

use redkit::ratelimit::duration_from_ms;
use redkit::{
    Algorithm, Client, ClockMode, OnError, RateLimitResult, RateLimiter, RateLimiterOptions, Rule,
};
use serde_json::{json, Map, Value};

fn scenarios() -> Vec<(PathBuf, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/ratelimit");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, v)
        })
        .collect()
}

/// Options from a scenario's `setup` (or a `build` step's `options` merged over it).
fn options(setup: &Map<String, Value>) -> redkit::Result<RateLimiterOptions> {
    let mut o = RateLimiterOptions::default();
    let ms = |v: &Value, what: &str| duration_from_ms(what, v.as_f64().expect("number"));
    for (k, v) in setup {
        match k.as_str() {
            // Through the builder (see `build`), which refuses a rate beside them.
            "name" | "limit" | "window_ms" | "rate" => {}
            "block_for_ms" => o.block_for = ms(v, "block_for")?,
            "allow_list" => o.allow_list = strings(v),
            "deny_list" => o.deny_list = strings(v),
            "algorithm" => o.algorithm = Algorithm::parse(v.as_str().expect("algorithm"))?,
            "burst" => o.burst = v.as_i64().expect("burst"),
            "count_denied" => o.count_denied = v.as_bool().expect("count_denied"),
            "on_error" => o.on_error = OnError::parse(v.as_str().expect("on_error"))?,
            "timeout_ms" => o.timeout = ms(v, "timeout")?,
            "local_block" => o.local_block = v.as_bool().expect("local_block"),
            "insurance" => o.insurance = v.as_bool().expect("insurance"),
            "circuit_breaker_ms" => o.circuit_breaker = ms(v, "circuit_breaker")?,
            "clock" => o.clock = ClockMode::parse(v.as_str().expect("clock"))?,
            "extra_limits" => {
                for r in v.as_array().expect("extra_limits") {
                    o.extra_limits.push(
                        Rule::new(
                            r["limit"].as_i64().expect("limit"),
                            ms(&r["window_ms"], "window")?,
                        )
                        .burst(r.get("burst").and_then(Value::as_i64).unwrap_or(0)),
                    );
                }
            }
            other => panic!("unknown setup field {other}"),
        }
    }
    Ok(o)
}

fn strings(v: &Value) -> Vec<String> {
    let items = v.as_array().expect("a list of strings");
    items
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

fn build(client: &Client, setup: &Map<String, Value>) -> redkit::Result<RateLimiter> {
    let name = setup
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("conformance");
    let mut b = client.rate_limiter(name).options(options(setup)?);
    if let Some(limit) = setup.get("limit") {
        b = b.limit(limit.as_i64().expect("limit"));
    }
    if let Some(window) = setup.get("window_ms") {
        b = b.window(duration_from_ms(
            "window",
            window.as_f64().expect("window"),
        )?);
    }
    if let Some(rate) = setup.get("rate") {
        b = b.rate(rate.as_str().expect("rate"));
    }
    b.build()
}

fn to_json(r: &RateLimitResult) -> Value {
    json!({
        "allowed": r.allowed,
        "limit": r.limit,
        "remaining": r.remaining,
        "reset_after_ms": r.reset_after_ms,
        "retry_after_ms": r.retry_after_ms,
        "reason": r.reason.as_str(),
    })
}

/// Compare only the fields the scenario lists (time-dependent ones may be left out).
fn matches(expect: &Value, got: &Value) -> bool {
    match (expect, got) {
        (Value::Object(e), Value::Object(g)) => e.iter().all(|(k, v)| g.get(k) == Some(v)),
        (e, g) => e == g,
    }
}

async fn step(
    client: &Client,
    limiter: &RateLimiter,
    setup: &Map<String, Value>,
    s: &Value,
) -> redkit::Result<Value> {
    let id = || s["identifier"].as_str().expect("identifier");
    let now = s.get("now_ms").and_then(Value::as_u64);
    Ok(match s["op"].as_str().expect("op") {
        "limit" => {
            let cost = s
                .get("cost")
                .map(|c| c.as_i64().expect("cost"))
                .unwrap_or(1);
            let r = match now {
                Some(t) => limiter.limit_at(id(), cost, t).await?,
                None => limiter.limit(id(), cost).await?,
            };
            to_json(&r)
        }
        "peek" => to_json(&match now {
            Some(t) => limiter.peek_at(id(), t).await?,
            None => limiter.peek(id()).await?,
        }),
        "penalty" | "reward" => {
            let n = s["n"].as_i64().expect("n");
            let r = match (s["op"].as_str(), now) {
                (Some("penalty"), Some(t)) => limiter.penalty_at(id(), n, t).await?,
                (Some("penalty"), None) => limiter.penalty(id(), n).await?,
                (_, Some(t)) => limiter.reward_at(id(), n, t).await?,
                (_, None) => limiter.reward(id(), n).await?,
            };
            to_json(&r)
        }
        "wait" => {
            let cost = s.get("cost").map(|c| c.as_i64().expect("cost"));
            let timeout = s.get("timeout_ms").map(|t| {
                let ms = t.as_u64().expect("timeout_ms");
                Duration::from_millis(ms)
            });
            to_json(&limiter.wait(id(), cost.unwrap_or(1), timeout).await?)
        }
        "reset" => {
            limiter.reset(id()).await?;
            Value::Null
        }
        "sleep" => {
            tokio::time::sleep(Duration::from_millis(s["ms"].as_u64().expect("ms"))).await;
            Value::Null
        }
        "build" => {
            let mut merged = setup.clone();
            merged.extend(s["options"].as_object().expect("options").clone());
            build(client, &merged)?;
            Value::Null
        }
        other => panic!("unknown op {other}"),
    })
}

async fn ratelimit_scenarios(backend: Backend) {
    let all = scenarios();
    assert!(all.len() >= 5, "scenarios found: {}", all.len());
    for (path, scenario) in all {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(scenario["pattern"], "ratelimit", "{file}");
        let client = common::scenario_client(&backend, &scenario).await;
        let setup = scenario["setup"].as_object().expect("setup").clone();
        let limiter = build(&client, &setup).unwrap_or_else(|e| panic!("{file}: setup: {e}"));
        for (i, s) in scenario["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .enumerate()
        {
            let got = step(&client, &limiter, &setup, s).await;
            let at = format!("{file} step {i} ({s})");
            match (s.get("expect"), s.get("error")) {
                (_, Some(class)) => {
                    let e = got.expect_err(&format!("{at}: expected an error"));
                    assert_eq!(e.kind().class_name(), class.as_str().unwrap(), "{at}: {e}");
                }
                (Some(expect), None) => {
                    let got = got.unwrap_or_else(|e| panic!("{at}: {e}"));
                    assert!(matches(expect, &got), "{at}: expected {expect}, got {got}");
                }
                (None, None) => panic!("{at}: a step needs expect or error"),
            }
        }
    }
}
every_backend!(ratelimit_scenarios, super::ratelimit_scenarios);
