//! The processor: the user's function the worker engine calls once per delivery.
//!
//! It is the core's host-callback contract ([`crate::host`]) seen from a worker: called
//! many times and concurrently, each call with a cancellation signal, ending with a result
//! (bytes the codec made) or an error. A binding implements [`HostFunction`] once for its
//! language and hands it over with [`host_processor`]: the job reaches the host as JSON,
//! its future is completed from the host's side, and no queue logic lives in the binding.
//! Rust code implements [`Processor`] (or uses [`processor_fn`]) and gets the [`Job`]
//! itself.

use std::future::Future;
use std::sync::Arc;

use crate::host::{self, Cancel, HostError, HostFunction, HostResult};
use crate::queue::Job;
use crate::transport::BoxFuture;

/// The error kind that fails a job at once, with no retry (`UnrecoverableError` in every
/// language).
pub const UNRECOVERABLE: &str = "UnrecoverableError";

/// An `UnrecoverableError` with `message`: return it from a processor to fail the job now,
/// whatever attempts it has left.
pub fn unrecoverable(message: impl Into<String>) -> HostError {
    HostError::new(UNRECOVERABLE, message)
}

/// The user function of a worker. The engine calls it for each delivery, up to
/// `concurrency` calls at once, with a [`Cancel`] signal that fires on the job's `timeout`,
/// on `queue.cancel(id)`, when the worker loses the job's lease, and on `close(false)`.
/// The attempt's end is then decided by the signal (a timeout or a cancel fails the job
/// with a typed reason); the processor gets a moment to wind down and is dropped after.
pub trait Processor: Send + Sync + 'static {
    /// Process one delivery: the job's return value (codec bytes), or why it failed.
    fn process(&self, job: Job, cancel: Cancel) -> BoxFuture<'static, HostResult>;
}

/// A processor made of an async closure: `processor_fn(|job, cancel| async move { ... })`.
pub fn processor_fn<F, Fut>(f: F) -> Arc<dyn Processor>
where
    F: Fn(Job, Cancel) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HostResult> + Send + 'static,
{
    Arc::new(FnProcessor(f))
}

struct FnProcessor<F>(F);

impl<F, Fut> Processor for FnProcessor<F>
where
    F: Fn(Job, Cancel) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HostResult> + Send + 'static,
{
    fn process(&self, job: Job, cancel: Cancel) -> BoxFuture<'static, HostResult> {
        Box::pin((self.0)(job, cancel))
    }
}

/// A host function (a binding's Python, Node... function) as a processor. Each call gets
/// the job as JSON (see [`job_arg`]); the host's error of kind [`UNRECOVERABLE`] fails the
/// job without retry, any other fails the attempt (its trace kept as the job's stack).
pub fn host_processor(f: Arc<dyn HostFunction>) -> Arc<dyn Processor> {
    Arc::new(HostProcessor(f))
}

struct HostProcessor(Arc<dyn HostFunction>);

impl Processor for HostProcessor {
    fn process(&self, job: Job, cancel: Cancel) -> BoxFuture<'static, HostResult> {
        Box::pin(host::call(&*self.0, job_arg(&job), cancel))
    }
}

/// The argument a host function receives for a job: a JSON object `{id, name, data,
/// opts, attempts_made, timestamp, processed_on, progress, token}`, where `data` is the
/// payload as stored (JSON text by default, so a binding parses it with the queue's codec)
/// given as a string, or as `{"base64": "..."}` when it is not UTF-8.
pub fn job_arg(job: &Job) -> Vec<u8> {
    let data = match std::str::from_utf8(&job.data) {
        Ok(text) => serde_json::Value::String(text.to_string()),
        Err(_) => serde_json::json!({ "base64": base64(&job.data) }),
    };
    serde_json::json!({
        "id": job.id,
        "name": job.name,
        "data": data,
        "opts": job.opts,
        "attempts_made": job.attempts_made,
        "timestamp": job.timestamp,
        "processed_on": job.processed_on,
        "progress": job.progress,
        "token": job.token,
    })
    .to_string()
    .into_bytes()
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_pads_as_rfc_4648_says() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(&[0xff, 0xfe]), "//4=");
    }
}
