//! Replays conformance/options/*.json (format: conformance/README.md): every runtime reads
//! the same options into the same values, and refuses the same ones.

use std::path::PathBuf;

use redkit::input::{resolve_json, Dialect, Input};
use serde_json::Value;

fn scenarios() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/options");
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
            (p.file_name().unwrap().to_string_lossy().to_string(), v)
        })
        .collect()
}

/// A scenario value as a Rust caller's options: `$ms` is milliseconds (Rust's unit),
/// `$number`/`$int` the number they spell. `None` for what a Rust string cannot hold (a lone
/// surrogate): such steps are for the runtimes whose strings can.
fn input(v: &Value) -> Option<Input> {
    Some(match v {
        Value::Null => Input::Null,
        Value::Bool(b) => Input::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Input::Int(i),
            None => Input::Number(n.as_f64().unwrap()),
        },
        Value::String(s) => Input::Str(s.clone()),
        Value::Array(items) => Input::List(items.iter().map(input).collect::<Option<_>>()?),
        Value::Object(o) => match o.iter().next() {
            Some((tag, v)) if tag == "$ms" => input(v)?,
            Some((tag, Value::String(s))) if tag == "$number" || tag == "$int" => {
                match s.parse::<i64>() {
                    Ok(i) => Input::Int(i),
                    Err(_) => Input::Number(match s.as_str() {
                        "Infinity" => f64::INFINITY,
                        "-Infinity" => f64::NEG_INFINITY,
                        other => other.parse().unwrap(),
                    }),
                }
            }
            Some((tag, _)) if tag == "$lone_surrogate" => return None,
            _ => Input::Map(
                o.iter()
                    .map(|(k, v)| Some((k.clone(), input(v)?)))
                    .collect::<Option<_>>()?,
            ),
        },
    })
}

/// Only the fields the step lists are compared.
fn matches(expect: &Value, got: &Value) -> bool {
    match (expect, got) {
        (Value::Object(e), Value::Object(g)) => e.iter().all(|(k, v)| g.get(k) == Some(v)),
        (e, g) => e == g,
    }
}

#[test]
fn option_scenarios() {
    let all = scenarios();
    assert!(all.len() >= 3, "scenarios found: {}", all.len());
    let mut replayed = 0;
    for (file, scenario) in all {
        assert_eq!(scenario["pattern"], "options", "{file}");
        let pattern = scenario["options"].as_str().expect("options");
        for (i, step) in scenario["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .enumerate()
        {
            let at = format!("{file} step {i} ({step})");
            let Some(given) = input(&step["given"]) else {
                continue;
            };
            replayed += 1;
            let got = resolve_json(pattern, given, Dialect::RUST);
            match (step.get("expect"), step.get("error")) {
                (_, Some(class)) => {
                    let e = got.expect_err(&format!("{at}: expected an error"));
                    assert_eq!(e.kind().class_name(), class.as_str().unwrap(), "{at}: {e}");
                    if let Some(message) = step.get("message") {
                        let message = message.as_str().expect("message");
                        assert!(e.to_string().contains(message), "{at}: {e}");
                    }
                }
                (Some(expect), None) => {
                    let got = got.unwrap_or_else(|e| panic!("{at}: {e}"));
                    let got: Value = serde_json::from_str(&got).unwrap();
                    assert!(matches(expect, &got), "{at}: expected {expect}, got {got}");
                }
                (None, None) => panic!("{at}: a step needs expect or error"),
            }
        }
    }
    assert!(replayed >= 90, "steps replayed: {replayed}");
}
