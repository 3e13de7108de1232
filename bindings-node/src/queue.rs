//! `NativeQueue`: the core's queue, converted. Options arrive as the JSON text of the JS
//! object (camelCase, BullMQ's names and units) and are read by the core's one schema
//! through `redkit::input::read`, as every other options object; payloads arrive
//! as JSON text and are stored as the queue's JSON codec bytes; jobs leave as JSON text
//! that `queue.js` parses into `Job` objects. Every queue decision is the core's.
//!
//! Operations travel the client's completion queue (see `completion.rs`), as cache
//! operations do.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;
use redkit::queue::{Job, JobOptions, JobState, NewJob, Queue, Repeat, Scheduler, SchedulerSpec};
use redkit::ratelimit::whole_number;
use redkit::{Dialect, Error, Input, Result};
use serde_json::{Map, Value};

use crate::completion::{Completions, Outcome, Start};
use crate::functions::{arg, opt_arg, string_arg, Functions, Made};

/// Job options from the JSON text of a JS options object (BullMQ's camelCase names, ms;
/// `removeOnComplete.age` in seconds as in BullMQ). `None` or `null` is no option.
pub fn job_options(text: Option<&str>) -> Result<JobOptions> {
    let Some(text) = text else {
        return Ok(JobOptions::new());
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("job options are not JSON: {e}")))?;
    job_options_value(value)
}

/// Job options from a parsed JS options object, read by the core's one schema with JS's
/// names and units (`input::read`, as every other options object).
fn job_options_value(value: Value) -> Result<JobOptions> {
    redkit::input::read("job options", Input::from(value), Dialect::JS)
}

/// The job as the JSON text `queue.js` reads: camelCase names, `data` and `returnValue`
/// as the queue's JSON codec stored them. A worker's processor gets its job in this form
/// too, once per delivery, so the text is written straight from the fields: the stored
/// JSON is checked, not rebuilt, and goes in as it is (its keys in the order they were
/// added, as every other runtime reads them).
pub(crate) fn job_text(job: &Job) -> Result<String> {
    let stored = |what: &str, bytes: &[u8]| -> Result<()> {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map(drop)
            .map_err(|e| Error::Decode(format!("job {} {what} is not JSON: {e}", job.id)))
    };
    stored("data", &job.data)?;
    if let Some(value) = &job.return_value {
        stored("return value", value)?;
    }
    let opts = Dialect::JS.spell_keys(serde_json::to_value(&job.opts)?);
    let mut out = Vec::with_capacity(256 + job.data.len());
    // `,"name":` then the value: serialized, or (`raw`) JSON text written as it is.
    macro_rules! field {
        ($name:literal, raw $text:expr) => {{
            out.extend_from_slice(concat!(",\"", $name, "\":").as_bytes());
            out.extend_from_slice($text);
        }};
        ($name:literal, $value:expr) => {{
            out.extend_from_slice(concat!(",\"", $name, "\":").as_bytes());
            serde_json::to_writer(&mut out, $value)?;
        }};
    }
    out.extend_from_slice(b"{\"id\":");
    serde_json::to_writer(&mut out, &job.id)?;
    field!("name", &job.name);
    field!("data", raw job.data.as_slice());
    field!("opts", &opts);
    field!("attemptsMade", &job.attempts_made);
    field!("progress", &job.progress);
    field!("returnValue", raw job.return_value.as_deref().unwrap_or(b"null"));
    field!("failedReason", &job.failed_reason);
    field!("timestamp", &job.timestamp);
    field!("processedOn", &job.processed_on);
    field!("finishedOn", &job.finished_on);
    field!("stacktrace", &job.stacktrace);
    field!("stalledCount", &job.stalled_count);
    out.push(b'}');
    // JSON text is UTF-8: the serializer's output and the stored values just checked.
    String::from_utf8(out).map_err(|e| Error::Decode(format!("job {} is not UTF-8: {e}", job.id)))
}

/// A job's progress from the JSON text `facade/queue.js` made (`progressText`).
pub(crate) fn progress_value(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::invalid(format!("progress is not JSON: {e}")))
}

/// The job as a JSON value: [`job_text`] parsed (one form for every caller).
pub(crate) fn job_json(job: &Job) -> Result<Value> {
    Ok(serde_json::from_str(&job_text(job)?)?)
}

fn text(v: Value) -> Outcome {
    Outcome::Text(v.to_string())
}

fn jobs_text(jobs: &[Job]) -> Result<Outcome> {
    let mut out = String::from("[");
    for (i, job) in jobs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&job_text(job)?);
    }
    out.push(']');
    Ok(Outcome::Text(out))
}

/// A whole, non-negative number that fits `u32` (limits).
fn count(what: &str, n: f64) -> Result<u32> {
    u32::try_from(whole_number(what, n)?).map_err(|_| {
        Error::invalid(format!(
            "{what} must be between 0 and {}, got {n}",
            u32::MAX
        ))
    })
}

/// The jobs of `addBulk`: the JSON text of `[{name, data, opts}]`.
fn new_jobs(text: &str) -> Result<Vec<NewJob>> {
    let list: Vec<Value> = serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("addBulk takes an array of jobs: {e}")))?;
    list.into_iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(mut o) = item else {
                return Err(Error::invalid(format!(
                    "addBulk: jobs[{i}] must be an object"
                )));
            };
            let name = match o.remove("name") {
                Some(Value::String(s)) => s,
                _ => {
                    return Err(Error::invalid(format!(
                        "addBulk: jobs[{i}].name must be a string"
                    )))
                }
            };
            let data = match o.remove("data") {
                Some(v) => serde_json::to_vec(&v).map_err(|e| Error::invalid(e.to_string()))?,
                None => {
                    return Err(Error::invalid(format!(
                        "addBulk: jobs[{i}].data is missing"
                    )))
                }
            };
            let opts = job_options_value(o.remove("opts").unwrap_or(Value::Null))?;
            if let Some(k) = o.keys().next() {
                return Err(Error::invalid(format!(
                    "addBulk: jobs[{i}] has an unknown field {k:?}"
                )));
            }
            Ok(NewJob::new(name, data, opts))
        })
        .collect()
}

/// When a scheduler fires, from `{every}` (ms, or a string with a unit) or `{cron, tz}`.
pub(crate) fn repeat(o: &Map<String, Value>) -> Result<Repeat> {
    let tz = match o.get("tz") {
        None | Some(Value::Null) => None,
        Some(Value::String(tz)) => Some(tz.clone()),
        Some(_) => return Err(Error::invalid("tz must be a string")),
    };
    let every = o.get("every").filter(|v| !v.is_null());
    let cron = o.get("cron").filter(|v| !v.is_null());
    match (every, cron) {
        (Some(_), None) if tz.is_some() => Err(Error::invalid("tz goes with cron, not every")),
        (Some(Value::Number(n)), None) => Ok(Repeat::Every(redkit::duration::from_number(
            "every",
            n.as_f64().unwrap_or(f64::NAN),
            redkit::duration::Unit::Millis,
        )?)),
        (Some(Value::String(text)), None) => {
            Ok(Repeat::Every(redkit::duration::parse("every", text)?))
        }
        (Some(_), None) => Err(Error::invalid(
            "every must be a number of ms or a string with a unit",
        )),
        (None, Some(Value::String(pattern))) => Ok(Repeat::Cron {
            pattern: pattern.clone(),
            tz,
        }),
        (None, Some(_)) => Err(Error::invalid("cron must be a string")),
        _ => Err(Error::invalid(
            "a scheduler needs every or cron, one of them",
        )),
    }
}

/// `upsertScheduler`'s spec: the JSON text of `{every | cron, tz, name, data, opts}`.
fn scheduler_spec(text: &str) -> Result<SchedulerSpec> {
    let Value::Object(mut o) = serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("a scheduler spec must be JSON: {e}")))?
    else {
        return Err(Error::invalid("a scheduler spec must be an object"));
    };
    let r = repeat(&o)?;
    let name = match o.remove("name") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(_) => return Err(Error::invalid("a scheduler's name must be a string")),
    };
    let data = serde_json::to_vec(&o.remove("data").unwrap_or(Value::Null))
        .map_err(|e| Error::invalid(e.to_string()))?;
    let opts = job_options_value(o.remove("opts").unwrap_or(Value::Null))?;
    if let Some(k) = o
        .keys()
        .find(|k| !matches!(k.as_str(), "every" | "cron" | "tz"))
    {
        return Err(Error::invalid(format!(
            "unknown scheduler field {k:?} (expected every, cron, tz, name, data, opts)"
        )));
    }
    Ok(SchedulerSpec::new(r, name, data, opts))
}

/// A scheduler as `queue.js` reads it: `{id, every?, cron?, tz?, name, data, opts, next}`.
fn scheduler_json(s: Scheduler) -> Result<Value> {
    let mut o = Map::new();
    o.insert("id".into(), s.id.clone().into());
    match s.repeat {
        Repeat::Every(d) => {
            o.insert("every".into(), (d.as_millis() as u64).into());
        }
        Repeat::Cron { pattern, tz } => {
            o.insert("cron".into(), pattern.into());
            o.insert("tz".into(), tz.into());
        }
    }
    o.insert("name".into(), s.name.into());
    let data: Value = serde_json::from_slice(&s.data)
        .map_err(|e| Error::Decode(format!("scheduler {} data is not JSON: {e}", s.id)))?;
    o.insert("data".into(), data);
    let opts = match serde_json::to_value(&s.opts) {
        Ok(Value::Object(m)) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (Dialect::JS.spell(&k), v))
                .collect(),
        ),
        _ => Value::Object(Map::new()),
    };
    o.insert("opts".into(), opts);
    o.insert("next".into(), s.next.into());
    Ok(Value::Object(o))
}

/// The native queue behind `Queue` in `queue.js`.
#[napi]
#[derive(Clone)]
pub struct NativeQueue {
    inner: Queue,
    completions: Arc<Completions>,
}

impl NativeQueue {
    pub(crate) fn new(inner: Queue, completions: Arc<Completions>) -> Self {
        NativeQueue { inner, completions }
    }

    /// The core queue (the worker reads it).
    pub fn core(&self) -> &Queue {
        &self.inner
    }

    /// The client's completion queue (`events.rs` starts its reads there).
    pub(crate) fn completions(&self) -> &Arc<Completions> {
        &self.completions
    }

    /// Start `op` with a clone of the queue.
    pub(crate) fn run<F, Fut>(&self, env: &Env, start: Start, op: F) -> napi::Result<Made>
    where
        F: FnOnce(Queue) -> Fut,
        Fut: std::future::Future<Output = Result<Outcome>> + Send + 'static,
    {
        self.completions.start(env, start, op(self.inner.clone()))
    }
}

/// Adds to the functions `$f` the operation `$name(op, id)`: the core queue's
/// `$method(&id)`, its result as JSON text (the shape of every by-id maintenance call).
macro_rules! by_id {
    ($f:ident, $q:ident, $name:literal, $method:ident) => {{
        let c = $q.clone();
        $f.add($name, move |x| {
            let id = string_arg(x, 1)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                Ok(text(q.$method(&id).await?.into()))
            })
        })?
    }};
}

#[napi]
impl NativeQueue {
    /// The operations as plain functions (see `functions.rs`), each taking its [`Start`]
    /// first. Results are JSON text (`undefined` for calls that return nothing, `null` for
    /// a missing job).
    #[napi(
        catch_unwind,
        ts_return_type = "{ add(op: number, name: string, data: string, opts?: string | null): unknown; addBulk(op: number, jobs: string): unknown; getJob(op: number, id: string): unknown; getJobs(op: number, states: string, start: number, end: number): unknown; counts(op: number): unknown; pause(op: number): unknown; resume(op: number): unknown; isPaused(op: number): unknown; retryJobs(op: number, state: string): unknown; retryJob(op: number, id: string): unknown; promote(op: number, id: string): unknown; remove(op: number, id: string): unknown; cancel(op: number, id: string): unknown; clean(op: number, grace: unknown, limit: number, state: string): unknown; drain(op: number, delayed: boolean): unknown; obliterate(op: number, force: boolean): unknown; state(op: number, id: string): unknown; upsertScheduler(op: number, id: string, spec: string): unknown; removeScheduler(op: number, id: string): unknown; schedulers(op: number): unknown; updateProgress(op: number, id: string, progress: string): unknown; log(op: number, id: string, line: string): unknown; logs(op: number, id: string, start: number, end: number): unknown; waitUntilFinished(op: number, id: string, timeout?: unknown): unknown; workers(op: number, window?: unknown): unknown; lateResults(op: number): unknown }"
    )]
    pub fn functions<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let q = self.clone();
        let f = Functions::new(env)?;
        let c = q.clone();
        let f = f.add("add", move |x| {
            let (name, data) = (string_arg(x, 1)?, arg::<String>(x, 2)?);
            let opts: Option<String> = opt_arg(x, 3)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                let opts = job_options(opts.as_deref())?;
                let job = q.add_raw(&name, data.into_bytes(), opts).await?;
                Ok(Outcome::Text(job_text(&job)?))
            })
        })?;
        let c = q.clone();
        let f = f.add("addBulk", move |x| {
            let jobs = arg::<String>(x, 1)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                let jobs = q.add_bulk_raw(new_jobs(&jobs)?).await?;
                jobs_text(&jobs)
            })
        })?;
        let c = q.clone();
        let f = f.add("getJob", move |x| {
            let id = string_arg(x, 1)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                Ok(match q.get_job(&id).await? {
                    Some(job) => Outcome::Text(job_text(&job)?),
                    None => Outcome::Null,
                })
            })
        })?;
        let c = q.clone();
        let f = f.add("getJobs", move |x| {
            let states = string_arg(x, 1)?;
            let (start, end): (f64, f64) = (arg(x, 2)?, arg(x, 3)?);
            c.run(x.env, arg(x, 0)?, move |q| async move {
                let states: Vec<String> = serde_json::from_str(&states)
                    .map_err(|_| Error::invalid("states must be an array of state names"))?;
                let names: Vec<&str> = states.iter().map(String::as_str).collect();
                let (start, end) = (whole_number("start", start)?, whole_number("end", end)?);
                jobs_text(&q.get_jobs_named(&names, start, end).await?)
            })
        })?;
        let c = q.clone();
        let f = f.add("counts", move |x| {
            c.run(x.env, arg(x, 0)?, |q| async move {
                let m = q.counts().await?.as_map();
                Ok(text(serde_json::to_value(m).unwrap_or(Value::Null)))
            })
        })?;
        let c = q.clone();
        let f = f.add("pause", move |x| {
            c.run(x.env, arg(x, 0)?, |q| async move {
                q.pause().await?;
                Ok(Outcome::Unit)
            })
        })?;
        let c = q.clone();
        let f = f.add("resume", move |x| {
            c.run(x.env, arg(x, 0)?, |q| async move {
                q.resume().await?;
                Ok(Outcome::Unit)
            })
        })?;
        let c = q.clone();
        let f = f.add("isPaused", move |x| {
            c.run(x.env, arg(x, 0)?, |q| async move {
                Ok(text(q.is_paused().await?.into()))
            })
        })?;
        let c = q.clone();
        let f = f.add("retryJobs", move |x| {
            let state = string_arg(x, 1)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                Ok(text(q.retry_jobs(JobState::parse(&state)?).await?.into()))
            })
        })?;
        let f = by_id!(f, q, "retryJob", retry_job);
        let f = by_id!(f, q, "promote", promote);
        let f = by_id!(f, q, "remove", remove);
        let f = by_id!(f, q, "cancel", cancel);
        let c = q.clone();
        let f = f.add("clean", move |x| {
            // A duration as the core reads every one: ms, or a string with its unit.
            let grace = crate::options::duration("grace", arg(x, 1)?);
            let limit: f64 = arg(x, 2)?;
            let state = string_arg(x, 3)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                let grace = grace?;
                let limit = count("limit", limit)?;
                let ids = q.clean(grace, limit, JobState::parse(&state)?).await?;
                Ok(text(ids.into()))
            })
        })?;
        let c = q.clone();
        let f = f.add("drain", move |x| {
            let delayed: bool = arg(x, 1)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                q.drain(delayed).await?;
                Ok(Outcome::Unit)
            })
        })?;
        let c = q.clone();
        let f = f.add("state", move |x| {
            let id = string_arg(x, 1)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                Ok(match q.state(&id).await? {
                    Some(state) => text(state.as_str().into()),
                    None => Outcome::Null,
                })
            })
        })?;
        let c = q.clone();
        let f = f.add("upsertScheduler", move |x| {
            let (id, spec) = (string_arg(x, 1)?, arg::<String>(x, 2)?);
            c.run(x.env, arg(x, 0)?, move |q| async move {
                q.upsert_scheduler(&id, scheduler_spec(&spec)?).await?;
                Ok(Outcome::Unit)
            })
        })?;
        let f = by_id!(f, q, "removeScheduler", remove_scheduler);
        let c = q.clone();
        let f = f.add("schedulers", move |x| {
            c.run(x.env, arg(x, 0)?, move |q| async move {
                let all = q.schedulers().await?;
                Ok(text(Value::Array(
                    all.into_iter().map(scheduler_json).collect::<Result<_>>()?,
                )))
            })
        })?;
        let c = q.clone();
        let f = f.add("updateProgress", move |x| {
            let (id, progress) = (string_arg(x, 1)?, arg::<String>(x, 2)?);
            c.run(x.env, arg(x, 0)?, move |q| async move {
                q.update_progress(&id, &progress_value(&progress)?).await?;
                Ok(Outcome::Unit)
            })
        })?;
        let c = q.clone();
        let f = f.add("log", move |x| {
            let (id, line) = (string_arg(x, 1)?, string_arg(x, 2)?);
            c.run(x.env, arg(x, 0)?, move |q| async move {
                Ok(text(q.log(&id, &line).await?.into()))
            })
        })?;
        let c = q.clone();
        let f = f.add("logs", move |x| {
            let id = string_arg(x, 1)?;
            let (start, end): (f64, f64) = (arg(x, 2)?, arg(x, 3)?);
            c.run(x.env, arg(x, 0)?, move |q| async move {
                let (start, end) = (whole_number("start", start)?, whole_number("end", end)?);
                Ok(text(q.logs(&id, start, end).await?.into()))
            })
        })?;
        let c = q.clone();
        let f = f.add("waitUntilFinished", move |x| {
            let id = string_arg(x, 1)?;
            let timeout = or_default(opt_arg(x, 2)?, "timeout", redkit::queue::WAIT_TIMEOUT);
            c.run(x.env, arg(x, 0)?, move |q| async move {
                let timeout = timeout?;
                // The return value is the queue's JSON codec bytes: JSON text as it is.
                Ok(match q.wait_until_finished(&id, timeout).await? {
                    Some(v) => Outcome::Text(String::from_utf8_lossy(&v).into_owned()),
                    None => Outcome::Null,
                })
            })
        })?;
        let c = q.clone();
        let f = f.add("workers", move |x| {
            let window = or_default(opt_arg(x, 1)?, "window", redkit::queue::WORKER_WINDOW);
            c.run(x.env, arg(x, 0)?, move |q| async move {
                let window = window?;
                let workers = serde_json::to_value(q.workers(window).await?)?;
                Ok(text(Dialect::JS.spell_keys(workers)))
            })
        })?;
        let c = q.clone();
        let f = f.add("lateResults", move |x| {
            c.run(x.env, arg(x, 0)?, |q| async move {
                Ok(text(q.late_results().await?.into()))
            })
        })?;
        let c = q;
        let f = f.add("obliterate", move |x| {
            let force: bool = arg(x, 1)?;
            c.run(x.env, arg(x, 0)?, move |q| async move {
                q.obliterate(force).await?;
                Ok(Outcome::Unit)
            })
        })?;
        Ok(f.finish())
    }
}

/// A duration argument (ms or a string with a unit), or `default` when it is not given.
fn or_default(v: Option<crate::options::Js>, what: &str, default: Duration) -> Result<Duration> {
    v.map_or(Ok(default), |v| crate::options::duration(what, v))
}
