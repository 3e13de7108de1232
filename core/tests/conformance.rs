//! Replays every scenario in conformance/ (see conformance/README.md). The Python, Node
//! and wasm suites replay the same files; all must agree.

mod common;

use common::Backend;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redkit::{Cache, CacheOptions, Error, SetOptions};
use serde_json::Value as Json;

fn scenarios(pattern: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conformance")
        .join(pattern);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    files
}

fn ms(v: &Json, field: &str) -> Option<Duration> {
    v.get(field)
        .and_then(Json::as_u64)
        .map(Duration::from_millis)
}

fn strings(v: &Json, field: &str) -> Vec<String> {
    v.get(field)
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn cache_options(setup: &Json) -> CacheOptions {
    let mut o = CacheOptions::default();
    o.ttl = ms(setup, "ttl_ms").unwrap_or(o.ttl);
    o.jitter = ms(setup, "jitter_ms").unwrap_or(o.jitter);
    o.stale_ttl = ms(setup, "stale_ttl_ms").unwrap_or(o.stale_ttl);
    o.lock_timeout = ms(setup, "lock_timeout_ms").unwrap_or(o.lock_timeout);
    o.early_refresh = setup
        .get("early_refresh")
        .and_then(Json::as_f64)
        .unwrap_or(o.early_refresh);
    o.lock = setup.get("lock").and_then(Json::as_bool).unwrap_or(o.lock);
    o.near_cache = setup
        .get("near_cache")
        .and_then(Json::as_u64)
        .map_or(o.near_cache, |n| n as usize);
    o.fail_safe = setup
        .get("fail_safe")
        .and_then(Json::as_bool)
        .unwrap_or(o.fail_safe);
    o.soft_timeout = ms(setup, "soft_timeout_ms").unwrap_or(o.soft_timeout);
    o.circuit_breaker = ms(setup, "circuit_breaker_ms").unwrap_or(o.circuit_breaker);
    o
}

fn set_options(step: &Json) -> SetOptions {
    let opts = SetOptions::new().tags(strings(step, "tags"));
    match ms(step, "ttl_ms") {
        Some(ttl) => opts.ttl(ttl),
        None => opts,
    }
}

async fn cache_step(cache: &Cache, step: &Json, loads: &Arc<AtomicUsize>) -> Result<Json, Error> {
    let key = || step["key"].as_str().unwrap_or_default().to_string();
    match step["op"].as_str().expect("op") {
        // A stored null is `Some(Null)`: only a miss takes the step's `default`.
        "get" => Ok(cache
            .get::<Json>(&key())
            .await?
            .unwrap_or_else(|| step.get("default").cloned().unwrap_or(Json::Null))),
        "set" => cache
            .set(&key(), &step["value"], &set_options(step))
            .await
            .map(|_| Json::Null),
        "delete" => {
            let keys = strings(step, "keys");
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            cache.delete(&refs).await.map(Json::from)
        }
        "invalidate_tags" => {
            let tags = strings(step, "tags");
            let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
            cache.invalidate_tags(&refs).await.map(Json::from)
        }
        "get_or_set" => {
            let loader = step["loader"].clone();
            let loads = loads.clone();
            cache
                .get_or_set_with(&key(), &set_options(step), move || async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    match loader.get("throws") {
                        Some(msg) => Err(std::io::Error::other(
                            msg.as_str().unwrap_or("").to_string(),
                        )),
                        None => Ok(loader["returns"].clone()),
                    }
                })
                .await
        }
        "sleep" => {
            tokio::time::sleep(ms(step, "ms").expect("ms")).await;
            Ok(Json::Null)
        }
        "get_many" => {
            let keys = strings(step, "keys");
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let got = cache.get_many::<Json>(&refs).await?;
            Ok(got.into_iter().map(|v| v.unwrap_or(Json::Null)).collect())
        }
        "set_many" => {
            let entries: Vec<(&str, &Json)> = step["entries"]
                .as_object()
                .expect("entries")
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            cache
                .set_many(&entries, &set_options(step))
                .await
                .map(|_| Json::Null)
        }
        "delete_many" => {
            let keys = strings(step, "keys");
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            cache.delete_many(&refs).await.map(Json::from)
        }
        "exists" => cache.exists(&key()).await.map(Json::from),
        "ttl" => Ok(cache
            .ttl(&key())
            .await?
            .map_or(Json::Null, |d| Json::from(d.as_millis() as u64))),
        "touch" => cache
            .touch(&key(), ms(step, "ttl_ms").expect("ttl_ms"))
            .await
            .map(Json::from),
        "incr" => {
            let by = step.get("by").map_or(Some(1), Json::as_i64).expect("by");
            cache
                .incr(&key(), by, ms(step, "ttl_ms"))
                .await
                .map(Json::from)
        }
        "clear" => cache.clear().await.map(Json::from),
        "stats" => Ok(serde_json::to_value(cache.stats()).unwrap()),
        other => panic!("unknown cache op {other}"),
    }
}

async fn cache_scenarios(backend: Backend) {
    for file in scenarios("cache") {
        let scenario: Json =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let client = common::scenario_client(&backend, &scenario).await;
        let setup = &scenario["setup"];
        let cache = client
            .cache(setup["namespace"].as_str().expect("namespace"))
            .options(cache_options(setup))
            .build()
            .unwrap();
        let loads = Arc::new(AtomicUsize::new(0));
        for (i, step) in scenario["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .enumerate()
        {
            let at = format!("{name} step {i} ({step})");
            // A lone surrogate (conformance/README.md) is what a Rust string cannot hold, a
            // fractional `by` what its i64 cannot.
            let fractional = step.get("by").is_some_and(|b| b.as_i64().is_none());
            if step.to_string().contains("$lone_surrogate") || fractional {
                continue;
            }
            let got = cache_step(&cache, step, &loads).await;
            match (step.get("error"), got) {
                (Some(class), Err(e)) => {
                    assert_eq!(e.kind().class_name(), class.as_str().unwrap(), "{at}: {e}");
                    if let Some(msg) = step["loader"].get("throws").and_then(Json::as_str) {
                        assert!(e.to_string().contains(msg), "{at}: message lost: {e}");
                    }
                }
                (Some(class), Ok(v)) => panic!("{at}: expected {class}, got {v}"),
                (None, Err(e)) => panic!("{at}: unexpected error {e:?}"),
                (None, Ok(v)) => match step.get("expect_range").and_then(Json::as_array) {
                    Some(range) => {
                        let n = v.as_u64().unwrap_or_else(|| panic!("{at}: got {v}"));
                        let (lo, hi) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
                        assert!((lo..=hi).contains(&n), "{at}: {n} not in {lo}..={hi}");
                    }
                    None => assert_eq!(v, step["expect"], "{at}"),
                },
            }
            if let Some(n) = step.get("loader_calls").and_then(Json::as_u64) {
                assert_eq!(loads.load(Ordering::SeqCst) as u64, n, "{at}: loader calls");
            }
        }
    }
}
every_backend!(cache_scenarios, super::cache_scenarios);
