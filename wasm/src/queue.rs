//! The job queue as the facade drives it: produce (`add`, `addBulk`) and inspect or maintain
//! (`getJob`, `getJobs`, `counts`, `pause`, ...). No worker: the edge does not process jobs.
//! Every operation is the core's [`Queue`]; this module only converts options (JS objects
//! read by the core's job options schema through `redkit::input::read`) and jobs
//! (the core's [`Job`] to a camelCase JS object; payloads stay codec bytes, which the facade
//! decodes).

use std::time::Duration;

use js_sys::{Array, Object, Reflect, Uint8Array};
use redkit::queue::NewJob;
use redkit::{Dialect, Job, JobOptions, JobState, Queue, QueueOptions};
use wasm_bindgen::prelude::*;

use crate::api::WasmClient;
use crate::convert::bytes_from_js;
use crate::errors::{invalid, to_js};
use crate::host::spawn;
use crate::options::text;

/// Job options as JS passes them (absent, or a BullMQ-style object), read by the core's
/// one schema with JS's names and units.
fn job_options(v: &JsValue, what: &str) -> Result<JobOptions, JsValue> {
    crate::options::read(what, v)
}

/// A JSON text as a JS value (the facade's objects are plain JSON).
fn parse(json: &str) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(json)
}

fn opt_num(v: Option<u64>) -> JsValue {
    v.map_or(JsValue::NULL, |n| JsValue::from_f64(n as f64))
}

fn bytes_or_null(v: &Option<Vec<u8>>) -> JsValue {
    v.as_ref()
        .map_or(JsValue::NULL, |b| Uint8Array::from(b.as_slice()).into())
}

/// A job as the facade's `Job` reads it: camelCase fields; `data` and `returnValue` as the
/// codec's bytes.
fn job_to_js(job: &Job) -> Result<JsValue, JsValue> {
    let o = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&o, &k.into(), &v).map(|_| ());
    set("id", job.id.as_str().into())?;
    set("name", job.name.as_str().into())?;
    set("data", Uint8Array::from(job.data.as_slice()).into())?;
    let opts = serde_json::to_value(&job.opts).map_err(|e| to_js(e.into()))?;
    set("opts", parse(&Dialect::JS.spell_keys(opts).to_string())?)?;
    set("attemptsMade", job.attempts_made.into())?;
    set(
        "progress",
        match &job.progress {
            Some(p) => parse(&p.to_string())?,
            None => JsValue::NULL,
        },
    )?;
    set("returnValue", bytes_or_null(&job.return_value))?;
    set(
        "failedReason",
        job.failed_reason
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str),
    )?;
    set("timestamp", JsValue::from_f64(job.timestamp as f64))?;
    set("processedOn", opt_num(job.processed_on))?;
    set("finishedOn", opt_num(job.finished_on))?;
    let trace: Array = job
        .stacktrace
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect();
    set("stacktrace", trace.into())?;
    set("stalledCount", job.stalled_count.into())?;
    Ok(o.into())
}

fn jobs_to_js(jobs: &[Job]) -> Result<JsValue, JsValue> {
    let out = Array::new();
    for j in jobs {
        out.push(&job_to_js(j)?);
    }
    Ok(out.into())
}

/// A JS count or index that must be a whole number in range.
fn whole(v: f64, what: &str, min: f64, max: f64) -> Result<i64, JsValue> {
    if v.is_finite() && v.fract() == 0.0 && v >= min && v <= max {
        Ok(v as i64)
    } else {
        Err(invalid(format!(
            "{what} must be a whole number from {min} to {max}, got {v}"
        )))
    }
}

fn state(name: &str) -> Result<JobState, JsValue> {
    JobState::parse(name).map_err(to_js)
}

#[wasm_bindgen]
impl WasmClient {
    /// `client.queue(name, defaultJobOptions)`: the options every add starts from.
    pub fn queue(&self, name: &str, defaults: JsValue) -> Result<WasmQueue, JsValue> {
        let opts = QueueOptions::new().defaults(job_options(&defaults, "defaultJobOptions")?);
        let inner = self.inner.queue_with(name, opts).map_err(to_js)?;
        Ok(WasmQueue { inner })
    }
}

/// One named queue (from `client.queue`), JSON payloads.
#[wasm_bindgen]
pub struct WasmQueue {
    inner: Queue,
}

/// The facade's `true`/`false` answers.
fn flag(r: redkit::Result<bool>) -> Result<JsValue, JsValue> {
    r.map(JsValue::from_bool).map_err(to_js)
}

#[wasm_bindgen]
impl WasmQueue {
    /// Add a job whose payload the facade encoded; resolves to the job (or, for a `jobId`
    /// or deduplication id already taken, the job holding it).
    pub fn add(&self, name: JsValue, data: JsValue, opts: JsValue) -> Result<u32, JsValue> {
        let name = text(&name, "name")?;
        let data = bytes_from_js(&data, "job data")?;
        let opts = job_options(&opts, "job options")?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            job_to_js(&q.add_raw(&name, data, opts).await.map_err(to_js)?)
        }))
    }

    /// Add `[{name, data, opts}]` (data encoded by the facade) atomically, in one round trip.
    pub fn add_bulk(&self, jobs: Array) -> Result<u32, JsValue> {
        let mut list = Vec::with_capacity(jobs.length() as usize);
        for (i, j) in jobs.iter().enumerate() {
            let get = |k: &str| Reflect::get(&j, &k.into()).unwrap_or(JsValue::UNDEFINED);
            let name = text(&get("name"), &format!("jobs[{i}].name"))?;
            list.push(NewJob::new(
                name,
                bytes_from_js(&get("data"), &format!("jobs[{i}].data"))?,
                job_options(&get("opts"), &format!("jobs[{i}].opts"))?,
            ));
        }
        let q = self.inner.clone();
        Ok(spawn(async move {
            jobs_to_js(&q.add_bulk_raw(list).await.map_err(to_js)?)
        }))
    }

    /// The job with this id, or null.
    pub fn get_job(&self, id: JsValue) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            match q.get_job(&id).await.map_err(to_js)? {
                Some(j) => job_to_js(&j),
                None => Ok(JsValue::NULL),
            }
        }))
    }

    /// Jobs in `states`, positions `start..=end` of each state's order (`end` -1: the last).
    pub fn get_jobs(&self, states: Vec<String>, start: f64, end: f64) -> Result<u32, JsValue> {
        let states = states
            .iter()
            .map(|s| state(s))
            .collect::<Result<Vec<_>, _>>()?;
        let start = whole(start, "start", 0.0, 9_007_199_254_740_991.0)?;
        let end = whole(
            end,
            "end",
            -9_007_199_254_740_991.0,
            9_007_199_254_740_991.0,
        )?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            jobs_to_js(&q.get_jobs(&states, start, end).await.map_err(to_js)?)
        }))
    }

    /// `{waiting, active, delayed, completed, failed, prioritized}` (and `paused`, the
    /// waiting jobs, when the queue is paused).
    pub fn counts(&self) -> u32 {
        let q = self.inner.clone();
        spawn(async move {
            let counts = q.counts().await.map_err(to_js)?;
            let o = Object::new();
            for (k, n) in counts.as_map() {
                Reflect::set(&o, &k.into(), &JsValue::from_f64(n as f64))?;
            }
            Ok(o.into())
        })
    }

    /// The job's state name, or null when there is no such job.
    pub fn state(&self, id: JsValue) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            let s = q.state(&id).await.map_err(to_js)?;
            Ok(s.map_or(JsValue::NULL, |s| s.as_str().into()))
        }))
    }

    /// Hand out no jobs until resumed (adds still succeed).
    pub fn pause(&self) -> u32 {
        let q = self.inner.clone();
        spawn(async move { q.pause().await.map(|_| JsValue::UNDEFINED).map_err(to_js) })
    }

    /// Hand out jobs again.
    pub fn resume(&self) -> u32 {
        let q = self.inner.clone();
        spawn(async move { q.resume().await.map(|_| JsValue::UNDEFINED).map_err(to_js) })
    }

    /// Whether the queue is paused.
    pub fn is_paused(&self) -> u32 {
        let q = self.inner.clone();
        spawn(async move { flag(q.is_paused().await) })
    }

    /// Remove a job; false when there was none (an active one is refused).
    pub fn remove(&self, id: JsValue) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let q = self.inner.clone();
        Ok(spawn(async move { flag(q.remove(&id).await) }))
    }

    /// Cancel a job; false when there is none or it finished already.
    pub fn cancel(&self, id: JsValue) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let q = self.inner.clone();
        Ok(spawn(async move { flag(q.cancel(&id).await) }))
    }

    /// Make a delayed job ready now; false when it is not delayed.
    pub fn promote(&self, id: JsValue) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let q = self.inner.clone();
        Ok(spawn(async move { flag(q.promote(&id).await) }))
    }

    /// Run one failed job again; false when it is not failed.
    pub fn retry_job(&self, id: JsValue) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let q = self.inner.clone();
        Ok(spawn(async move { flag(q.retry_job(&id).await) }))
    }

    /// Move every job of `state` (`failed` or `completed`) back to waiting; resolves to
    /// how many moved.
    pub fn retry_jobs(&self, state_name: String) -> Result<u32, JsValue> {
        let s = state(&state_name)?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            q.retry_jobs(s)
                .await
                .map(|n| JsValue::from_f64(n as f64))
                .map_err(to_js)
        }))
    }

    /// Remove up to `limit` jobs of `state` older than `grace_ms`; resolves to their ids.
    pub fn clean(&self, grace: JsValue, limit: f64, state_name: String) -> Result<u32, JsValue> {
        let grace = crate::options::duration("grace", &grace)?;
        let limit = whole(limit, "limit", 0.0, f64::from(u32::MAX))? as u32;
        let s = state(&state_name)?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            let ids = q.clean(grace, limit, s).await.map_err(to_js)?;
            Ok(ids
                .iter()
                .map(|s| JsValue::from_str(s))
                .collect::<Array>()
                .into())
        }))
    }

    /// Remove every waiting job (and delayed ones when `delayed`).
    pub fn drain(&self, delayed: bool) -> u32 {
        let q = self.inner.clone();
        spawn(async move {
            q.drain(delayed)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(to_js)
        })
    }

    /// Store a job's progress (`progress_json`, the facade's JSON text) and send a
    /// `progress` event; NotFound when there is no such job.
    pub fn update_progress(&self, id: JsValue, progress_json: String) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let progress: serde_json::Value = serde_json::from_str(&progress_json)
            .map_err(|e| invalid(format!("progress is not JSON: {e}")))?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            q.update_progress(&id, &progress)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(to_js)
        }))
    }

    /// Append a line to a job's log; resolves to the number of lines.
    pub fn log(&self, id: JsValue, line: JsValue) -> Result<u32, JsValue> {
        let (id, line) = (text(&id, "id")?, text(&line, "line")?);
        let q = self.inner.clone();
        Ok(spawn(async move {
            q.log(&id, &line)
                .await
                .map(|n| JsValue::from_f64(n as f64))
                .map_err(to_js)
        }))
    }

    /// A job's log lines `start..=end` (`end` -1: the last).
    pub fn logs(&self, id: JsValue, start: f64, end: f64) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let max = 9_007_199_254_740_991.0;
        let (start, end) = (
            whole(start, "start", -max, max)?,
            whole(end, "end", -max, max)?,
        );
        let q = self.inner.clone();
        Ok(spawn(async move {
            let lines = q.logs(&id, start, end).await.map_err(to_js)?;
            Ok(lines
                .iter()
                .map(|s| JsValue::from_str(s))
                .collect::<Array>()
                .into())
        }))
    }

    /// Resolves to the job's return value (codec bytes) once it completes; rejects with
    /// JobFailed when it fails, Timeout after `timeout` (ms or a string with a unit;
    /// null or undefined: the core's default).
    pub fn wait_until_finished(&self, id: JsValue, timeout: JsValue) -> Result<u32, JsValue> {
        let id = text(&id, "id")?;
        let timeout = or_default(&timeout, "timeout", redkit::queue::WAIT_TIMEOUT)?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            let v = q.wait_until_finished(&id, timeout).await.map_err(to_js)?;
            Ok(bytes_or_null(&v))
        }))
    }

    /// The workers seen within `window` (ms or a string with a unit; null or undefined:
    /// the core's default window).
    pub fn workers(&self, window: JsValue) -> Result<u32, JsValue> {
        let window = or_default(&window, "window", redkit::queue::WORKER_WINDOW)?;
        let q = self.inner.clone();
        Ok(spawn(async move {
            let workers = q.workers(window).await.map_err(to_js)?;
            let v = serde_json::to_value(workers).map_err(|e| to_js(e.into()))?;
            parse(&Dialect::JS.spell_keys(v).to_string())
        }))
    }

    /// Results refused because their delivery had lost its lease, since the queue was made.
    pub fn late_results(&self) -> u32 {
        let q = self.inner.clone();
        spawn(async move {
            q.late_results()
                .await
                .map(|n| JsValue::from_f64(n as f64))
                .map_err(to_js)
        })
    }

    /// Delete the queue and every key of it (refused while jobs are active unless `force`).
    pub fn obliterate(&self, force: bool) -> u32 {
        let q = self.inner.clone();
        spawn(async move {
            q.obliterate(force)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(to_js)
        })
    }
}

/// A duration argument, or `default` when it is null or undefined.
fn or_default(v: &JsValue, what: &str, default: Duration) -> Result<Duration, JsValue> {
    if v.is_null() || v.is_undefined() {
        Ok(default)
    } else {
        crate::options::duration(what, v)
    }
}
