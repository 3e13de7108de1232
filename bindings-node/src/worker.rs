//! `NativeWorker`: the core's worker engine (`redkit::worker`) over a JavaScript processor.
//!
//! Everything a worker does is the core's: fetching, concurrency, leases, the limiter,
//! timeouts, cancellation, retries, stalled recovery, events. The binding supplies three
//! things: the processor (a JS function the dispatcher registered, called through the
//! host-callback contract with the job as JSON text, `queue.rs`'s camelCase form), the place
//! the engine's tasks run (the client's executor, on the JS thread, where the client's
//! sockets are driven: [`JsThread`]), and a way for `worker.js` to read the worker's events.
//! Options are read by the core's one schema (`WorkerOptions`, JS names and units).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;
use redkit::host::{self, Cancel, HostError, HostResult};
use redkit::queue::{Job, Queue};
use redkit::transport::BoxFuture;
use redkit::worker::{FailureKind, Processor, Spawner, Worker, WorkerEvent, WorkerEvents};
use tokio::sync::{watch, Mutex};

use crate::completion::{Completions, HostTarget, Outcome};
use crate::errors::js;
use crate::executor::Executor;
use crate::functions::{arg, string_arg, Functions};
use crate::host::JsHost;
use crate::options::{read, Js};
use crate::queue::{job_text, progress_value};

/// The most events one `next` hands over.
const EVENT_BATCH: usize = 512;

/// The engine's tasks, polled on the JS thread by the client's executor (its sockets are
/// Node sockets, driven there).
struct JsThread(Arc<Executor>);

impl Spawner for JsThread {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        // Queued, not polled here: the engine spawns from inside its own tasks' polls.
        self.0.spawn_queued(task);
    }
}

/// The JS processor as the engine calls it: the job as `queue.js` reads jobs (JSON text,
/// camelCase, `data` as the queue's JSON codec stored it), handed over as a string; the
/// result as JSON text.
struct JsProcessor(JsHost);

impl Processor for JsProcessor {
    fn process(&self, job: Job, cancel: Cancel) -> BoxFuture<'static, HostResult> {
        match job_text(&job) {
            Ok(arg) => Box::pin(host::call(&self.0, arg.into_bytes(), cancel)),
            // Data another runtime stored with a codec other than JSON: this attempt fails,
            // with the reason, and the worker goes on.
            Err(e) => {
                let e = HostError::new(e.kind().class_name(), e.to_string());
                Box::pin(std::future::ready(Err(e)))
            }
        }
    }
}

/// Append one event, as `worker.js` reads it, to `out` (a JSON array being written);
/// `completed` events only when `completed` is true (somebody listens to them). Written
/// straight to text: a worker at full speed has one event per job.
fn write_event(out: &mut Vec<u8>, e: WorkerEvent, completed: bool) {
    let start = out.len();
    out.push(if out.is_empty() { b'[' } else { b',' });
    let str = |out: &mut Vec<u8>, s: &str| {
        // A string always serializes.
        let _ = serde_json::to_writer(out, s);
    };
    match e {
        WorkerEvent::Completed { job_id, result } => {
            if !completed {
                out.truncate(start);
                return;
            }
            out.extend_from_slice(b"{\"event\":\"completed\",\"jobId\":");
            str(out, &job_id);
            out.extend_from_slice(b",\"result\":");
            // The processor's JSON text, as `worker.js` made it (null if it is not JSON).
            let json = serde_json::from_slice::<serde::de::IgnoredAny>(&result).is_ok()
                && std::str::from_utf8(&result).is_ok();
            out.extend_from_slice(if json { &result } else { b"null" });
        }
        WorkerEvent::Failed {
            job_id,
            reason,
            kind,
            will_retry,
        } => {
            out.extend_from_slice(b"{\"event\":\"failed\",\"jobId\":");
            str(out, &job_id);
            out.extend_from_slice(b",\"reason\":");
            str(out, &reason);
            out.extend_from_slice(b",\"kind\":\"");
            out.extend_from_slice(failure_kind(kind).as_bytes());
            out.extend_from_slice(b"\",\"willRetry\":");
            out.extend_from_slice(if will_retry { b"true" } else { b"false" });
        }
        WorkerEvent::Progress { job_id, progress } => {
            out.extend_from_slice(b"{\"event\":\"progress\",\"jobId\":");
            str(out, &job_id);
            out.extend_from_slice(b",\"progress\":");
            let _ = serde_json::to_writer(&mut *out, &progress);
        }
        WorkerEvent::Stalled { job_id } => {
            out.extend_from_slice(b"{\"event\":\"stalled\",\"jobId\":");
            str(out, &job_id);
        }
        WorkerEvent::Error { message } => {
            out.extend_from_slice(b"{\"event\":\"error\",\"message\":");
            str(out, &message);
        }
        WorkerEvent::Drained => out.extend_from_slice(b"{\"event\":\"drained\""),
        // A kind of event this binding does not know yet: nothing to hand over.
        _ => {
            out.truncate(start);
            return;
        }
    }
    out.push(b'}');
}

fn failure_kind(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Unrecoverable => "unrecoverable",
        FailureKind::Timeout => "timeout",
        FailureKind::Cancelled => "cancelled",
        FailureKind::Stalled => "stalled",
        _ => "error",
    }
}

/// The native worker behind `Worker` in `worker.js`.
#[napi]
pub struct NativeWorker {
    worker: Arc<Worker>,
    /// The worker's queue (progress and logs of its jobs).
    queue: Queue,
    /// Subscribed when the worker was made, so `worker.js` sees every event from the start.
    events: Arc<Mutex<WorkerEvents>>,
    /// Set once `close` has finished: the event stream ends after the events before it.
    closed: watch::Sender<bool>,
    autorun: bool,
    completions: Arc<Completions>,
    /// Whether `worker.js` has `completed` listeners: the one event of every job is
    /// written and handed over only then.
    completed: Arc<AtomicBool>,
}

impl NativeWorker {
    /// A worker of `queue` calling the JS function `processor` (registered with the
    /// client's dispatcher), with `opts` read by the core's schema.
    pub fn new(
        client: &redkit::Client,
        completions: &Arc<Completions>,
        queue: &str,
        processor: u32,
        opts: Option<Js>,
    ) -> napi::Result<Self> {
        let opts: redkit::worker::WorkerOptions = read("worker options", opts)?;
        let autorun = opts.autorun;
        let host = JsHost::text(Arc::clone(completions), HostTarget::Registered(processor));
        let executor = Arc::clone(completions.executor());
        let mut builder = client
            .worker(queue, Arc::new(JsProcessor(host)))
            .spawner(Arc::new(JsThread(Arc::clone(&executor))))
            .options(opts);
        // `worker.js` starts it (`start`) once its event pump listens.
        builder = builder.autorun(false);
        let worker = js(builder.build())?;
        let events = worker.events();
        Ok(NativeWorker {
            worker: Arc::new(worker),
            queue: js(client.queue(queue))?,
            events: Arc::new(Mutex::new(events)),
            closed: watch::channel(false).0,
            autorun,
            completions: Arc::clone(completions),
            completed: Arc::new(AtomicBool::new(false)),
        })
    }

    fn executor(&self) -> &Executor {
        self.completions.executor()
    }
}

/// The JSON text of every event ready now (an array of at least one, waiting for it), or
/// `None` once the worker is closed and every event before the close was handed over.
/// `completed` events go only while `completed` says somebody listens (see
/// [`NativeWorker::listen_completed`]); a batch of nothing else is not handed over.
async fn next_events(
    events: &Mutex<WorkerEvents>,
    mut closed: watch::Receiver<bool>,
    completed: &AtomicBool,
) -> Option<String> {
    let mut events = events.lock().await;
    let mut out = Vec::new();
    loop {
        let first = loop {
            if let Some(e) = events.try_next() {
                break e;
            }
            if *closed.borrow_and_update() {
                return None;
            }
            tokio::select! {
                e = events.next() => match e {
                    Some(e) => break e,
                    None => return None,
                },
                _ = closed.changed() => {}
            }
        };
        let completed = completed.load(Ordering::Relaxed);
        write_event(&mut out, first, completed);
        for _ in 1..EVENT_BATCH {
            match events.try_next() {
                Some(e) => write_event(&mut out, e, completed),
                None => break,
            }
        }
        if !out.is_empty() {
            out.push(b']');
            // Only JSON text went in (see `write_event`).
            return Some(String::from_utf8_lossy(&out).into_owned());
        }
    }
}

#[napi]
impl NativeWorker {
    /// Whether the options asked for the worker to start at once (`autorun`, default true).
    #[napi(getter)]
    pub fn autorun(&self) -> bool {
        self.autorun
    }

    /// The most delivered jobs `worker.js` keeps for its listeners (the core's bound).
    #[napi(getter)]
    pub fn kept(&self) -> u32 {
        redkit::worker::EVENTS_KEPT as u32
    }

    /// This worker's id, as `queue.workers()` lists it.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.worker.id().to_string()
    }

    /// Start fetching (once; later calls do nothing). The engine's tasks run on the JS
    /// thread; they are polled before this returns.
    #[napi(catch_unwind)]
    pub fn start(&self) -> napi::Result<()> {
        js(self.executor().drive(|| self.worker.start()))
    }

    /// Whether `completed` events are wanted (`worker.js` has listeners for them); until
    /// they are, they are left out of what `next` hands over.
    #[napi(catch_unwind)]
    pub fn listen_completed(&self, on: bool) {
        self.completed.store(on, Ordering::Relaxed);
    }

    /// Take no new jobs; those in flight go on.
    #[napi(catch_unwind)]
    pub fn pause(&self) {
        self.executor().drive(|| self.worker.pause());
    }

    /// Take jobs again.
    #[napi(catch_unwind)]
    pub fn resume(&self) {
        self.executor().drive(|| self.worker.resume());
    }

    /// Jobs being processed now.
    #[napi(catch_unwind)]
    pub fn jobs_in_flight(&self) -> u32 {
        u32::try_from(self.worker.jobs_in_flight()).unwrap_or(u32::MAX)
    }

    /// The operations as plain functions (see `functions.rs`), each taking its `Start`
    /// first: `next` resolves to the JSON text of the events ready (an array), or `null`
    /// once the worker is closed; `close(op, graceful)`; `updateProgress(op, id, json)`;
    /// `log(op, id, line)` resolves to the number of lines.
    #[napi(
        catch_unwind,
        ts_return_type = "{ next(op: number): unknown; close(op: number, graceful: boolean): unknown; updateProgress(op: number, id: string, progress: string): unknown; log(op: number, id: string, line: string): unknown }"
    )]
    pub fn functions<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (events, closed, c1, completed) = (
            Arc::clone(&self.events),
            self.closed.clone(),
            Arc::clone(&self.completions),
            Arc::clone(&self.completed),
        );
        let f = Functions::new(env)?.add("next", move |x| {
            let (events, closed, completed) = (
                Arc::clone(&events),
                closed.subscribe(),
                Arc::clone(&completed),
            );
            c1.start(x.env, arg(x, 0)?, async move {
                Ok(match next_events(&events, closed, &completed).await {
                    Some(batch) => Outcome::Text(batch),
                    None => Outcome::Null,
                })
            })
        })?;
        let (w, closed, c2) = (
            Arc::clone(&self.worker),
            self.closed.clone(),
            Arc::clone(&self.completions),
        );
        let f = f.add("close", move |x| {
            let graceful: bool = arg(x, 1)?;
            let (w, closed) = (Arc::clone(&w), closed.clone());
            c2.start(x.env, arg(x, 0)?, async move {
                w.close(graceful).await;
                closed.send_replace(true);
                Ok(Outcome::Unit)
            })
        })?;
        let (w, c3) = (Arc::clone(&self.worker), Arc::clone(&self.completions));
        let f = f.add("updateProgress", move |x| {
            let (id, text) = (string_arg(x, 1)?, arg::<String>(x, 2)?);
            let w = Arc::clone(&w);
            c3.start(x.env, arg(x, 0)?, async move {
                w.update_progress(&id, progress_value(&text)?).await?;
                Ok(Outcome::Unit)
            })
        })?;
        let (q, c4) = (self.queue.clone(), Arc::clone(&self.completions));
        let f = f.add("log", move |x| {
            let (id, line) = (string_arg(x, 1)?, arg::<String>(x, 2)?);
            let q = q.clone();
            c4.start(x.env, arg(x, 0)?, async move {
                let n = q.log(&id, &line).await?;
                Ok(Outcome::Text(n.to_string()))
            })
        })?;
        Ok(f.finish())
    }
}

/// `client.worker(...)`'s native half (called by `NativeClient::worker`).
pub fn worker(
    client: &redkit::Client,
    completions: &Arc<Completions>,
    queue: Js,
    processor: u32,
    opts: Option<Js>,
) -> napi::Result<NativeWorker> {
    let queue = queue.text("queue name")?;
    NativeWorker::new(client, completions, &queue, processor, opts)
}
