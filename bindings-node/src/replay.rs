//! Test hooks for the conformance replay (`js/test/conformance-queue.test.mjs`, the ops of
//! conformance/README.md "Queue ops" that are no public call): the calls a worker makes
//! (`take`, `finish`, `maintain`) and the pure computations (`backoff`, `next_slots`), all
//! from the core's `redkit::queue::replay`; this file only converts. Not part of the
//! package's API.

use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;
use redkit::queue::replay;
use redkit::{Error, Result};
use serde_json::{json, Value};

use crate::completion::Outcome;
use crate::errors::js;
use crate::functions::{arg, string_arg, Functions};
use crate::queue::{job_json, job_options, repeat, NativeQueue};

#[napi]
impl NativeQueue {
    /// The hooks as plain functions, each taking its `Start` first: `take(op)` resolves to
    /// the JSON text of `{job, token}` (the token as a string) or `null`;
    /// `finish(op, id, token, end)`, `end` the JSON text of `{outcome, value, reason}`
    /// (`completed` with `value`, `failed` or `unrecoverable` with `reason`), to the job's
    /// fate; `maintain(op)` to `{stalled, failed, removed}`.
    #[napi(
        catch_unwind,
        js_name = "__replayHooks",
        ts_return_type = "{ take(op: number): unknown; finish(op: number, id: string, token: string, end: string): unknown; maintain(op: number): unknown }"
    )]
    pub fn replay_hooks<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (c1, c2, c3) = (self.clone(), self.clone(), self.clone());
        Ok(Functions::new(env)?
            .add("take", move |x| {
                c1.run(x.env, arg(x, 0)?, |q| async move {
                    Ok(match replay::take(&q).await? {
                        Some(job) => Outcome::Text(
                            json!({ "job": job_json(&job)?, "token": job.token.to_string() })
                                .to_string(),
                        ),
                        None => Outcome::Null,
                    })
                })
            })?
            .add("finish", move |x| {
                let (id, token, end) = (string_arg(x, 1)?, string_arg(x, 2)?, arg::<String>(x, 3)?);
                c2.run(x.env, arg(x, 0)?, |q| async move {
                    let token: u64 = token
                        .parse()
                        .map_err(|_| Error::invalid("token must be a decimal integer"))?;
                    let end: Value = serde_json::from_str(&end)
                        .map_err(|e| Error::invalid(format!("the end must be JSON: {e}")))?;
                    let outcome = replay::outcome(
                        end["outcome"].as_str().unwrap_or_default(),
                        end["value"].to_string().into_bytes(),
                        end["reason"].as_str().unwrap_or_default().to_string(),
                    )?;
                    let fate = replay::finish(&q, id, token, outcome).await?;
                    Ok(Outcome::Text(json!(fate).to_string()))
                })
            })?
            .add("maintain", move |x| {
                c3.run(x.env, arg(x, 0)?, |q| async move {
                    let m = replay::maintain(&q).await?;
                    Ok(Outcome::Text(
                        json!({ "stalled": m.stalled, "failed": m.failed, "removed": m.removed })
                            .to_string(),
                    ))
                })
            })?
            .finish())
    }
}

/// Conformance hook (op `backoff`): the delays in ms a job with this `backoff` (the JSON
/// text of the JS option) waits after each of `attemptsMade`, with random part `draw`.
#[napi(js_name = "__backoffDelays")]
pub fn backoff_delays(
    backoff: String,
    attempts_made: Vec<u32>,
    draw: f64,
) -> napi::Result<Vec<f64>> {
    js(delays(&backoff, attempts_made, draw))
}

fn delays(backoff: &str, attempts_made: Vec<u32>, draw: f64) -> Result<Vec<f64>> {
    let opts = job_options(Some(&format!("{{\"backoff\":{backoff}}}")))?;
    let backoff = opts
        .backoff
        .ok_or_else(|| Error::invalid("backoff is missing"))?;
    Ok(replay::backoff_delays(&backoff, &attempts_made, draw)
        .into_iter()
        .map(|ms| ms as f64)
        .collect())
}

/// Conformance hook (op `next_slots`): the next `count` slots after `afterMs` of a
/// scheduler given as `upsertScheduler` takes it (the JSON text of `{every}` or
/// `{cron, tz}`).
#[napi(js_name = "__nextSlots")]
pub fn next_slots(repeat_spec: String, after_ms: f64, count: u32) -> napi::Result<Vec<f64>> {
    js(slots(&repeat_spec, after_ms, count))
}

fn slots(spec: &str, after_ms: f64, count: u32) -> Result<Vec<f64>> {
    let Value::Object(o) = serde_json::from_str::<Value>(spec)
        .map_err(|e| Error::invalid(format!("a repeat spec must be JSON: {e}")))?
    else {
        return Err(Error::invalid("a repeat spec must be an object"));
    };
    let r = repeat(&o)?;
    let after = redkit::ratelimit::whole_number("afterMs", after_ms)? as u64;
    Ok(replay::next_slots(&r, after, count)?
        .into_iter()
        .map(|ms| ms as f64)
        .collect())
}
