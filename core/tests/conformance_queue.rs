//! Replays conformance/queue/ (see conformance/README.md, "Queue ops") on a real server and
//! on the embedded engine. The bindings replay the same files.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Backend;
use redkit::queue::{
    replay, Backoff, JobOptions, JobState, NewJob, Outcome, Repeat, SchedulerSpec,
};
use redkit::{Error, Job, Queue};
use serde_json::{json, Value as Json};

fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/queue");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    files
}

fn opts(v: &Json) -> Result<JobOptions, Error> {
    match v.get("opts") {
        None | Some(Json::Null) => Ok(JobOptions::new()),
        Some(o) => JobOptions::from_json(o),
    }
}

fn job_json(job: &Job) -> Json {
    json!({
        "id": job.id,
        "name": job.name,
        "data": job.data::<Json>().unwrap(),
        "opts": serde_json::to_value(&job.opts).unwrap(),
        "attempts_made": job.attempts_made,
        "failed_reason": job.failed_reason,
        "return_value": job.return_value::<Json>().unwrap(),
        "progress": job.progress,
    })
}

/// Every field `expect` names must be equal in `got` (objects compare by subset, lists
/// element-wise, anything else exactly).
fn matches(expect: &Json, got: &Json) -> bool {
    match (expect, got) {
        (Json::Object(e), Json::Object(g)) => e
            .iter()
            .all(|(k, v)| g.get(k).is_some_and(|gv| matches(v, gv))),
        (Json::Array(e), Json::Array(g)) => {
            e.len() == g.len() && e.iter().zip(g).all(|(a, b)| matches(a, b))
        }
        _ => expect == got,
    }
}

fn repeat(v: &Json) -> Result<Repeat, Error> {
    if let Some(every) = v.get("every") {
        return Ok(Repeat::Every(Duration::from_millis(
            every.as_u64().expect("every"),
        )));
    }
    Ok(Repeat::Cron {
        pattern: v["cron"].as_str().expect("cron").to_string(),
        tz: v.get("tz").and_then(Json::as_str).map(str::to_string),
    })
}

struct Replay {
    queue: Queue,
    taken: Option<Job>,
}

impl Replay {
    async fn finish(&mut self, outcome: Outcome) -> Result<Json, Error> {
        let job = self.taken.take().expect("a step before took a job");
        let fate = replay::finish(&self.queue, job.id, job.token, outcome).await?;
        Ok(json!(fate))
    }

    async fn step(&mut self, step: &Json) -> Result<Json, Error> {
        let q = self.queue.clone();
        let id = || step["id"].as_str().unwrap_or_default().to_string();
        match step["op"].as_str().expect("op") {
            "add" => {
                let name = step["name"].as_str().unwrap_or_default();
                Ok(json!(q.add(name, &step["data"], opts(step)?).await?.id))
            }
            "add_bulk" => {
                let jobs = step["jobs"]
                    .as_array()
                    .expect("jobs")
                    .iter()
                    .map(|j| {
                        Ok(NewJob::new(
                            j["name"].as_str().unwrap_or_default(),
                            serde_json::to_vec(&j["data"]).unwrap(),
                            opts(j)?,
                        ))
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                let ids: Vec<String> = q
                    .add_bulk_raw(jobs)
                    .await?
                    .into_iter()
                    .map(|j| j.id)
                    .collect();
                Ok(json!(ids))
            }
            "state" => Ok(json!(q.state(&id()).await?.map(|s| s.as_str()))),
            "counts" => Ok(json!(q.counts().await?.as_map())),
            "get_job" => Ok(q.get_job(&id()).await?.map_or(Json::Null, |j| job_json(&j))),
            "get_jobs" => {
                let states: Vec<&str> = step["states"]
                    .as_array()
                    .expect("states")
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                let names: Vec<String> = q
                    .get_jobs_named(&states, 0, -1)
                    .await?
                    .into_iter()
                    .map(|j| j.name)
                    .collect();
                Ok(json!(names))
            }
            "pause" => q.pause().await.map(|_| Json::Null),
            "resume" => q.resume().await.map(|_| Json::Null),
            "is_paused" => Ok(json!(q.is_paused().await?)),
            "promote" => Ok(json!(q.promote(&id()).await?)),
            "drain" => q.drain(false).await.map(|_| Json::Null),
            "retry_jobs" => {
                let state = JobState::parse(step["state"].as_str().unwrap_or_default())?;
                Ok(json!(q.retry_jobs(state).await?))
            }
            "take" => match replay::take(&q).await? {
                Some(job) => {
                    let out = job_json(&job);
                    self.taken = Some(job);
                    Ok(out)
                }
                None => Ok(Json::Null),
            },
            "complete" => {
                let value = serde_json::to_vec(&step["value"]).unwrap();
                self.finish(Outcome::Completed(value)).await
            }
            "fail" => {
                let reason = step["reason"].as_str().unwrap_or_default().to_string();
                let outcome = if step["unrecoverable"].as_bool().unwrap_or(false) {
                    Outcome::Unrecoverable {
                        reason,
                        stack: None,
                    }
                } else {
                    Outcome::Failed {
                        reason,
                        stack: None,
                    }
                };
                self.finish(outcome).await
            }
            "run_all" => {
                let mut names = Vec::new();
                while let Some(job) = replay::take(&q).await? {
                    names.push(job.name.clone());
                    self.taken = Some(job);
                    self.finish(Outcome::Completed(b"null".to_vec())).await?;
                }
                Ok(json!(names))
            }
            "maintain" => {
                let m = replay::maintain(&q).await?;
                Ok(json!({"stalled": m.stalled, "failed": m.failed, "removed": m.removed}))
            }
            "sleep" => {
                tokio::time::sleep(Duration::from_millis(step["ms"].as_u64().unwrap())).await;
                Ok(Json::Null)
            }
            "backoff" => {
                let b: Backoff = serde_json::from_value(step["backoff"].clone())
                    .map_err(|e| Error::invalid(e.to_string()))?;
                let draw = step["draw"].as_f64().unwrap_or(0.0);
                let attempts_made: Vec<u32> = step["attempts_made"]
                    .as_array()
                    .expect("attempts_made")
                    .iter()
                    .map(|n| n.as_u64().unwrap() as u32)
                    .collect();
                Ok(json!(replay::backoff_delays(&b, &attempts_made, draw)))
            }
            "next_slots" => {
                let r = repeat(&step["repeat"])?;
                let after = step["after_ms"].as_u64().unwrap();
                let count = step["count"].as_u64().unwrap() as u32;
                Ok(json!(replay::next_slots(&r, after, count)?))
            }
            "upsert_scheduler" => q
                .upsert_scheduler(
                    &id(),
                    SchedulerSpec::new(
                        repeat(&step["repeat"])?,
                        step["name"].as_str().unwrap_or_default(),
                        serde_json::to_vec(&step["data"]).unwrap(),
                        opts(step)?,
                    ),
                )
                .await
                .map(|_| Json::Null),
            "remove_scheduler" => Ok(json!(q.remove_scheduler(&id()).await?)),
            "schedulers" => Ok(Json::Array(
                q.schedulers()
                    .await?
                    .into_iter()
                    .map(|s| json!({"id": s.id, "name": s.name, "next": s.next}))
                    .collect(),
            )),
            other => panic!("unknown op {other}"),
        }
    }
}

async fn replay_all(backend: Backend) {
    for file in scenarios() {
        let text = std::fs::read_to_string(&file).unwrap();
        let scenario: Json = serde_json::from_str(&text).unwrap();
        let c = backend.client_named("conf_q").await;
        let name = scenario["setup"]["queue"].as_str().unwrap_or("conformance");
        let mut replay = Replay {
            queue: c.queue(name).unwrap(),
            taken: None,
        };
        for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{} step {i}: {step}", file.display());
            match (replay.step(step).await, step.get("error")) {
                (Ok(got), None) => {
                    let expect = step.get("expect").unwrap_or(&Json::Null);
                    assert!(matches(expect, &got), "{at}\n  got {got}");
                }
                (Err(e), Some(class)) => {
                    assert_eq!(e.kind().class_name(), class, "{at}: {e}")
                }
                (Ok(got), Some(class)) => panic!("{at}: expected {class}, got {got}"),
                (Err(e), None) => panic!("{at}: {e}"),
            }
        }
    }
}
every_backend!(replay_all, super::replay_all);
