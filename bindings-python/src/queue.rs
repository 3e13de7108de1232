//! `QueueCore` and `WorkerCore`: the native halves of `redkit.Queue` and `redkit.Worker`.
//!
//! Options arrive as JSON text (the Python layer turns keyword arguments into it) and are
//! read by the core's one schema (`JobOptions::from_json`, `WorkerOptions::from_json`), so
//! names, types and ranges are checked once for every runtime. Jobs go back as plain
//! tuples the Python layer wraps; payloads stay bytes of the queue's codec, which Python
//! encodes and decodes. Every queue and worker semantic is in the core.
//!
//! Each method takes the event loop's bridge first: `None` blocks (GIL released), a bridge
//! returns an awaitable of that loop. One method serves both clients.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::IntoPyObjectExt;
use redkit::queue::{
    replay, JobState, NewJob, QueueOptions, Repeat, Scheduler, SchedulerSpec, WorkerInfo,
    WORKER_WINDOW,
};
use redkit::worker::{host_processor, QueueLiveness, Worker, WorkerOptions};
use redkit::{Error, JobOptions, Queue};

use crate::bridge::{self, LoopBridge};
use crate::cache::Bytes;
use crate::connection::{PerProcess, Shared};
use crate::errors::to_py;
use crate::events::{same_process, QueueEventsCore, WorkerEventsCore};
use crate::host::PyHost;
use crate::runtime::{block_on, runtime};

/// A job as the Python layer receives it: `(id, name, data, opts_json, attempts_made,
/// progress_json, return_value, failed_reason, timestamp, processed_on, finished_on,
/// stacktrace)`.
pub type RawJob = (
    String,
    String,
    Bytes,
    String,
    u32,
    Option<String>,
    Option<Bytes>,
    Option<String>,
    u64,
    Option<u64>,
    Option<u64>,
    Vec<String>,
);

fn raw(job: redkit::Job) -> RawJob {
    (
        job.id,
        job.name,
        Bytes(job.data),
        job.opts.to_json(),
        job.attempts_made,
        job.progress.map(|p| p.to_string()),
        job.return_value.map(Bytes),
        job.failed_reason,
        job.timestamp,
        job.processed_on,
        job.finished_on,
        job.stacktrace,
    )
}

/// Parse JSON text the Python layer made from keyword arguments.
fn json(what: &str, text: &str) -> redkit::Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| Error::invalid(format!("{what}: {e}")))
}

/// Job options from the Python layer's dict, by the core's schema (`input::read`, Python's
/// names and seconds).
fn job_options(opts: Option<&Bound<'_, PyDict>>) -> PyResult<JobOptions> {
    crate::options::read("job options", opts)
}

/// When a scheduler fires, from `upsert_scheduler`'s keywords: `every` (a Python
/// duration) or `cron` (with an optional `tz`), exactly one of them.
fn repeat(
    every: Option<&Bound<'_, PyAny>>,
    cron: Option<String>,
    tz: Option<String>,
) -> PyResult<Repeat> {
    match (every, cron) {
        (Some(every), None) if tz.is_none() => {
            Ok(Repeat::Every(crate::options::duration("every", every)?))
        }
        (Some(_), None) => Err(to_py(Error::invalid("tz goes with cron, not every"))),
        (None, Some(pattern)) => Ok(Repeat::Cron { pattern, tz }),
        _ => Err(to_py(Error::invalid(
            "a scheduler needs every= or cron=, one of them",
        ))),
    }
}

/// A scheduler as Python receives it: `(id, every_ms, cron, tz, name, data, opts_json,
/// next)`.
type RawScheduler = (
    String,
    Option<u64>,
    Option<String>,
    Option<String>,
    String,
    Bytes,
    String,
    Option<u64>,
);

fn raw_scheduler(s: Scheduler) -> RawScheduler {
    let (every, cron, tz) = match s.repeat {
        Repeat::Every(d) => (Some(d.as_millis() as u64), None, None),
        Repeat::Cron { pattern, tz } => (None, Some(pattern), tz),
    };
    (
        s.id,
        every,
        cron,
        tz,
        s.name,
        Bytes(s.data),
        s.opts.to_json(),
        s.next,
    )
}

/// A live worker as Python receives it: `(id, host, pid, name, concurrency, running,
/// last_seen_ms)`.
type RawWorker = (String, String, u32, String, u32, u32, u64);

fn raw_worker(w: WorkerInfo) -> RawWorker {
    (
        w.id,
        w.host,
        w.pid,
        w.name,
        w.concurrency,
        w.running,
        w.last_seen.as_millis() as u64,
    )
}

fn raw_liveness(l: QueueLiveness) -> (u64, Vec<RawWorker>, bool) {
    (
        l.waiting,
        l.workers.into_iter().map(raw_worker).collect(),
        l.stuck,
    )
}

/// A liveness window in ms, or the core's default.
fn window(ms: Option<u64>) -> Duration {
    ms.map_or(WORKER_WINDOW, Duration::from_millis)
}

/// Block (no bridge) or return an awaitable of the bridge's loop.
pub(crate) fn go<'py, T, F>(
    py: Python<'py>,
    bridge: Option<&Bound<'py, LoopBridge>>,
    fut: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: std::future::Future<Output = redkit::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    match bridge {
        Some(bridge) => bridge::spawn(py, bridge.get(), fut),
        None => block_on(py, fut)?.into_bound_py_any(py),
    }
}

/// One queue of one connection.
#[pyclass(frozen, module = "redkit._redkit")]
pub struct QueueCore {
    conn: Arc<Shared>,
    name: String,
    opts: QueueOptions,
    /// The core queue of the current process (rebuilt after a fork, like the client).
    state: PerProcess<Queue>,
}

impl QueueCore {
    /// The queue `name` whose jobs start from the job options `defaults`.
    pub(crate) fn new(
        conn: Arc<Shared>,
        name: &str,
        defaults: Option<&Bound<'_, PyDict>>,
        codec: &str,
    ) -> PyResult<QueueCore> {
        let opts = QueueOptions::new()
            .defaults(job_options(defaults)?)
            .codec(redkit::Codec::parse(codec).map_err(to_py)?);
        let core = QueueCore {
            conn,
            name: name.to_string(),
            opts,
            state: PerProcess::default(),
        };
        core.queue()?; // a bad name or default fails here, not at first use
        Ok(core)
    }

    fn queue(&self) -> PyResult<Queue> {
        self.state.get_or_try_make(|| {
            self.conn
                .client()?
                .queue_with(&self.name, self.opts.clone())
                .map_err(to_py)
        })
    }
}

#[pymethods]
impl QueueCore {
    /// Add a job (`data`: codec bytes; `opts`: the job options dict).
    #[pyo3(signature = (bridge, name, data, opts))]
    fn add<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        name: String,
        data: Vec<u8>,
        opts: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        let opts = job_options(Some(opts))?;
        go(py, bridge, async move {
            q.add_raw(&name, data, opts).await.map(raw)
        })
    }

    /// Add `(name, data, opts)` jobs atomically.
    fn add_bulk<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        jobs: Vec<(String, Vec<u8>, Bound<'py, PyDict>)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        let jobs = jobs
            .into_iter()
            .map(|(name, data, opts)| Ok(NewJob::new(name, data, job_options(Some(&opts))?)))
            .collect::<PyResult<Vec<_>>>()?;
        go(py, bridge, async move {
            q.add_bulk_raw(jobs)
                .await
                .map(|jobs| jobs.into_iter().map(raw).collect::<Vec<_>>())
        })
    }

    /// The job with this id, or None.
    fn get_job<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            q.get_job(&id).await.map(|j| j.map(raw))
        })
    }

    /// Jobs in `states`, `start..=end` of each state's order.
    fn get_jobs<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        states: Vec<String>,
        start: i64,
        end: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            let states: Vec<&str> = states.iter().map(String::as_str).collect();
            q.get_jobs_named(&states, start, end)
                .await
                .map(|jobs| jobs.into_iter().map(raw).collect::<Vec<_>>())
        })
    }

    /// State name → count.
    fn counts<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            q.counts().await.map(|c| {
                c.as_map()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect::<BTreeMap<_, _>>()
            })
        })
    }

    /// The job's state name, or None when there is no such job.
    fn state<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            q.state(&id).await.map(|s| s.map(|s| s.as_str()))
        })
    }

    /// Pause (`true`) or resume (`false`) the queue.
    fn set_paused<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        paused: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            if paused {
                q.pause().await
            } else {
                q.resume().await
            }
        })
    }

    /// Whether the queue is paused.
    fn is_paused<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.is_paused().await })
    }

    /// Move every job of `state` back to waiting; how many moved.
    fn retry_jobs<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        state: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        let state = JobState::parse(state).map_err(to_py)?;
        go(py, bridge, async move { q.retry_jobs(state).await })
    }

    /// Run one failed or completed job again.
    fn retry_job<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.retry_job(&id).await })
    }

    /// Make a delayed job ready now.
    fn promote<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.promote(&id).await })
    }

    /// Remove a job.
    fn remove<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.remove(&id).await })
    }

    /// Cancel a job.
    fn cancel<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.cancel(&id).await })
    }

    /// Remove up to `limit` jobs of `state` older than `grace_ms`; their ids.
    fn clean<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        grace_ms: u64,
        limit: u32,
        state: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        let state = JobState::parse(state).map_err(to_py)?;
        go(py, bridge, async move {
            q.clean(Duration::from_millis(grace_ms), limit, state).await
        })
    }

    /// Remove every waiting job (and delayed ones when `delayed`).
    fn drain<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        delayed: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.drain(delayed).await })
    }

    /// Delete the queue and every job.
    fn obliterate<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        force: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.obliterate(force).await })
    }

    /// Store a job's progress (JSON text).
    fn update_progress<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
        progress: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        let progress = json("progress", progress).map_err(to_py)?;
        go(py, bridge, async move {
            q.update_progress(&id, &progress).await
        })
    }

    /// Append a line to a job's log; the number of lines.
    fn log<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
        line: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.log(&id, &line).await })
    }

    /// A job's log lines.
    fn logs<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
        start: i64,
        end: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.logs(&id, start, end).await })
    }

    /// The job's return value (codec bytes) once it completes; raises `JobFailed`.
    fn wait_until_finished<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
        timeout_ms: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            q.wait_until_finished(&id, Duration::from_millis(timeout_ms))
                .await
                .map(|v| v.map(Bytes))
        })
    }

    /// Create or replace the scheduler `id` (`every` or `cron` and `tz`); the id of its
    /// pending job.
    #[pyo3(signature = (bridge, id, every, cron, tz, name, data, opts))]
    #[allow(clippy::too_many_arguments)]
    fn upsert_scheduler<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
        every: Option<&Bound<'py, PyAny>>,
        cron: Option<String>,
        tz: Option<String>,
        name: String,
        data: Vec<u8>,
        opts: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        let spec = SchedulerSpec::new(repeat(every, cron, tz)?, name, data, job_options(opts)?);
        go(
            py,
            bridge,
            async move { q.upsert_scheduler(&id, spec).await },
        )
    }

    /// Remove a scheduler and its pending job; whether it existed.
    fn remove_scheduler<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.remove_scheduler(&id).await })
    }

    /// Every scheduler of the queue, by id.
    fn schedulers<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            q.schedulers()
                .await
                .map(|s| s.into_iter().map(raw_scheduler).collect::<Vec<_>>())
        })
    }

    /// The workers seen within `ttl_ms` (None: the core's default window), most recently
    /// seen last.
    fn workers<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        ttl_ms: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            q.workers(window(ttl_ms))
                .await
                .map(|w| w.into_iter().map(raw_worker).collect::<Vec<_>>())
        })
    }

    /// `(waiting, workers seen within `within_ms`, stuck)` (None: the core's default
    /// window).
    fn liveness<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        within_ms: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            q.liveness(window(within_ms)).await.map(raw_liveness)
        })
    }

    /// Late results refused since the queue was made.
    fn late_results<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move { q.late_results().await })
    }

    /// A cursor over the queue's events after the entry `from_id` (`"$"`: from now on).
    fn events(
        &self,
        py: Python<'_>,
        bridge: Option<&Bound<'_, LoopBridge>>,
        from_id: &str,
    ) -> PyResult<QueueEventsCore> {
        let q = self.queue()?;
        QueueEventsCore::new(
            py,
            q.events_from(from_id).map_err(crate::errors::to_py)?,
            bridge,
        )
    }

    /// Conformance hook (conformance/README.md, op `take`): lease the next job as a worker
    /// would; `(job, token)` or None.
    fn _take<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            Ok(replay::take(&q).await?.map(|j| {
                let token = j.token;
                (raw(j), token)
            }))
        })
    }

    /// Conformance hook (ops `complete` and `fail`): end the delivery `(id, token)` with
    /// `outcome` (`completed` with `value`, `failed` or `unrecoverable` with `reason`);
    /// the job's fate.
    #[allow(clippy::too_many_arguments)]
    fn _finish<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
        token: u64,
        outcome: &str,
        value: Vec<u8>,
        reason: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        let outcome = replay::outcome(outcome, value, reason).map_err(to_py)?;
        go(py, bridge, async move {
            replay::finish(&q, id, token, outcome).await
        })
    }

    /// Conformance hook (op `maintain`): the workers' upkeep, `(stalled, failed, removed)`.
    fn _maintain<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue()?;
        go(py, bridge, async move {
            let m = replay::maintain(&q).await?;
            Ok((m.stalled, m.failed, m.removed))
        })
    }
}

/// A worker of one connection: the core's engine over a Python processor.
#[pyclass(frozen, module = "redkit._redkit")]
pub struct WorkerCore {
    worker: Arc<Worker>,
    /// The process that made it: its engine runs on that process's runtime and client.
    pid: u32,
}

impl WorkerCore {
    /// A worker of `queue` (not started) calling `processor(arg, cancel)` as the core's
    /// host-callback contract says: on the pool (no bridge) or on the bridge's loop.
    pub(crate) fn new(
        py: Python<'_>,
        conn: &Shared,
        queue: &str,
        processor: Py<PyAny>,
        opts: Option<&Bound<'_, PyDict>>,
        bridge: Option<&Bound<'_, LoopBridge>>,
    ) -> PyResult<WorkerCore> {
        let mut opts: WorkerOptions = crate::options::read("worker options", opts)?;
        // Python starts a worker with `run()`.
        opts.autorun = false;
        let host = match bridge {
            Some(bridge) => PyHost::on_loop(py, processor, bridge)?,
            None => PyHost::blocking(processor),
        };
        let client = conn.client()?;
        let _rt = runtime().enter();
        let worker = client
            .worker(queue, host_processor(Arc::new(host)))
            .options(opts)
            .build()
            .map_err(to_py)?;
        Ok(WorkerCore {
            worker: Arc::new(worker),
            pid: std::process::id(),
        })
    }
}

#[pymethods]
impl WorkerCore {
    /// Start (once) and wait, blocking, up to `wait_ms` for the worker to be closed;
    /// whether it is. The Python layer calls it in a loop so signal handlers run between.
    fn run_for(&self, py: Python<'_>, wait_ms: u64) -> PyResult<bool> {
        same_process(self.pid, "worker")?;
        let w = Arc::clone(&self.worker);
        block_on(py, async move {
            w.start()?;
            Ok(
                tokio::time::timeout(Duration::from_millis(wait_ms), w.run())
                    .await
                    .is_ok(),
            )
        })
    }

    /// Start (once) and resolve when the worker is closed.
    fn run_async<'py>(
        &self,
        py: Python<'py>,
        bridge: &Bound<'py, LoopBridge>,
    ) -> PyResult<Bound<'py, PyAny>> {
        same_process(self.pid, "worker")?;
        let w = Arc::clone(&self.worker);
        bridge::spawn(py, bridge.get(), async move { w.run().await })
    }

    /// Stop fetching; `graceful` waits for the jobs in flight.
    fn close<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        graceful: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        same_process(self.pid, "worker")?;
        let w = Arc::clone(&self.worker);
        go(py, bridge, async move {
            w.close(graceful).await;
            Ok(())
        })
    }

    /// A listener of this worker's events from now on (made before `run` to see them all).
    fn events(&self) -> PyResult<WorkerEventsCore> {
        same_process(self.pid, "worker")?;
        Ok(WorkerEventsCore::new(self.worker.events()))
    }

    /// Store the progress (JSON text) of job `id`, which this worker runs, and tell this
    /// worker's listeners (`Worker::update_progress`).
    fn update_progress<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        id: String,
        progress: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        same_process(self.pid, "worker")?;
        let w = Arc::clone(&self.worker);
        let progress = json("progress", progress).map_err(to_py)?;
        go(
            py,
            bridge,
            async move { w.update_progress(&id, progress).await },
        )
    }

    /// Stop taking jobs; those in flight go on.
    fn pause(&self) {
        self.worker.pause();
    }

    /// Take jobs again.
    fn resume(&self) {
        self.worker.resume();
    }

    /// The worker's id, as `queue.workers()` lists it.
    #[getter]
    fn id(&self) -> String {
        self.worker.id().to_string()
    }

    /// Jobs being processed now.
    fn jobs_in_flight(&self) -> usize {
        self.worker.jobs_in_flight()
    }

    /// `(completed, failed)` attempts since start.
    fn stats(&self) -> (u64, u64) {
        let s = self.worker.stats();
        (s.completed, s.failed)
    }
}

/// Conformance hook (op `backoff`): the delays in ms of `backoff` (the job option, read as
/// Python gives it) after each of `attempts_made`, with `draw` as the random part.
#[pyfunction]
pub fn _backoff_delays(
    backoff: &Bound<'_, PyAny>,
    attempts_made: Vec<u32>,
    draw: f64,
) -> PyResult<Vec<u64>> {
    let opts = PyDict::new(backoff.py());
    opts.set_item("backoff", backoff)?;
    let opts = job_options(Some(&opts))?;
    let backoff = opts
        .backoff
        .ok_or_else(|| to_py(Error::invalid("backoff is missing")))?;
    Ok(replay::backoff_delays(&backoff, &attempts_made, draw))
}

/// Conformance hook (op `next_slots`): the next `count` slots after `after_ms` of a
/// scheduler given as `upsert_scheduler` takes it.
#[pyfunction]
#[pyo3(signature = (every, cron, tz, after_ms, count))]
pub fn _next_slots(
    every: Option<&Bound<'_, PyAny>>,
    cron: Option<String>,
    tz: Option<String>,
    after_ms: u64,
    count: u32,
) -> PyResult<Vec<u64>> {
    let r = repeat(every, cron, tz)?;
    replay::next_slots(&r, after_ms, count).map_err(to_py)
}
