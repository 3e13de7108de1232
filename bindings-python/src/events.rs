//! Event cursors of queues and workers: `QueueEventsCore` reads a queue's events stream
//! (any process's events, `Queue::events_from` in the core), `WorkerEventsCore` one
//! worker's local events (`Worker::events`). Each `next*` call waits at most the time it
//! is given, so the Python iterators above them return to Python (signal handlers, a
//! `close()`) between calls. Both belong to the process that made them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use redkit::queue::{QueueEvent, QueueEvents};
use redkit::worker::{FailureKind, WorkerEvent, WorkerEvents};
use redkit::Error;
use tokio::sync::Mutex;

use crate::bridge::LoopBridge;
use crate::cache::Bytes;
use crate::errors::to_py;
use crate::queue::go;
use crate::runtime::block_on;

/// A queue event as Python receives it: `(entry id, event, job id, other fields)`.
pub type RawQueueEvent = (String, String, Option<String>, BTreeMap<String, String>);

fn raw_queue_event(e: QueueEvent) -> RawQueueEvent {
    (e.id, e.event, e.job_id, e.fields)
}

/// Refuse a cursor used in a process other than the one that made it (after a fork its
/// connection belongs to the parent).
pub(crate) fn same_process(pid: u32, what: &str) -> PyResult<()> {
    if std::process::id() == pid {
        Ok(())
    } else {
        Err(to_py(Error::invalid(format!(
            "this {what} was made before fork(): make it again in the child"
        ))))
    }
}

/// A cursor over a queue's events stream.
#[pyclass(frozen, module = "redkit._redkit")]
pub struct QueueEventsCore {
    cursor: Arc<Mutex<QueueEvents>>,
    pid: u32,
}

impl QueueEventsCore {
    /// A cursor after the entry `from` (`"$"`: from now on). Blocking (no bridge), a `"$"`
    /// cursor is pinned to the stream's last entry before this returns, so an add made
    /// next is seen; with a bridge, by its `pin` (or its first read).
    pub(crate) fn new(
        py: Python<'_>,
        events: QueueEvents,
        bridge: Option<&Bound<'_, LoopBridge>>,
    ) -> PyResult<QueueEventsCore> {
        let cursor = Arc::new(Mutex::new(events));
        if bridge.is_none() {
            let c = Arc::clone(&cursor);
            block_on(py, async move { c.lock().await.prime().await })?;
        }
        Ok(QueueEventsCore {
            cursor,
            pid: std::process::id(),
        })
    }
}

#[pymethods]
impl QueueEventsCore {
    /// Pin a `"$"` cursor to the stream's last entry now (a no-op for any other).
    fn pin<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        same_process(self.pid, "events iterator")?;
        let cursor = Arc::clone(&self.cursor);
        go(py, bridge, async move { cursor.lock().await.prime().await })
    }

    /// The events that arrive within `block_ms` (none if none came), oldest first.
    fn next_batch<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        block_ms: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        same_process(self.pid, "events iterator")?;
        let cursor = Arc::clone(&self.cursor);
        go(py, bridge, async move {
            let batch = cursor
                .lock()
                .await
                .next_batch(Duration::from_millis(block_ms))
                .await?;
            Ok(batch.into_iter().map(raw_queue_event).collect::<Vec<_>>())
        })
    }
}

/// A worker event as Python receives it: `(event, job id, result, text, failure kind,
/// will_retry)`. `result`: a completed job's return value (codec bytes); `text`: a failed
/// reason, a progress as JSON, or an error message; `failure kind`: `error`,
/// `unrecoverable`, `timeout`, `cancelled` or `stalled`.
pub type RawWorkerEvent = (
    &'static str,
    Option<String>,
    Option<Bytes>,
    Option<String>,
    Option<&'static str>,
    bool,
);

fn kind_name(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Error => "error",
        FailureKind::Unrecoverable => "unrecoverable",
        FailureKind::Timeout => "timeout",
        FailureKind::Cancelled => "cancelled",
        FailureKind::Stalled => "stalled",
        _ => "error",
    }
}

fn raw_worker_event(e: WorkerEvent) -> Option<RawWorkerEvent> {
    Some(match e {
        WorkerEvent::Completed { job_id, result } => (
            "completed",
            Some(job_id),
            Some(Bytes(result)),
            None,
            None,
            false,
        ),
        WorkerEvent::Failed {
            job_id,
            reason,
            kind,
            will_retry,
        } => (
            "failed",
            Some(job_id),
            None,
            Some(reason),
            Some(kind_name(kind)),
            will_retry,
        ),
        WorkerEvent::Progress { job_id, progress } => (
            "progress",
            Some(job_id),
            None,
            Some(progress.to_string()),
            None,
            false,
        ),
        WorkerEvent::Stalled { job_id } => ("stalled", Some(job_id), None, None, None, false),
        WorkerEvent::Error { message } => ("error", None, None, Some(message), None, false),
        WorkerEvent::Drained => ("drained", None, None, None, None, false),
        // An event kind this binding does not know yet is not forwarded.
        _ => return None,
    })
}

/// The most events one `next_batch` call returns.
const BATCH: usize = 512;

/// A listener of one worker's events, from the moment it was made.
#[pyclass(frozen, module = "redkit._redkit")]
pub struct WorkerEventsCore {
    events: Arc<Mutex<WorkerEvents>>,
    pid: u32,
}

impl WorkerEventsCore {
    pub(crate) fn new(events: WorkerEvents) -> WorkerEventsCore {
        WorkerEventsCore {
            events: Arc::new(Mutex::new(events)),
            pid: std::process::id(),
        }
    }
}

#[pymethods]
impl WorkerEventsCore {
    /// The events ready now, waiting at most `wait_ms` for the first (none when none came
    /// or the worker is gone): one call per burst, not per event.
    fn next_batch<'py>(
        &self,
        py: Python<'py>,
        bridge: Option<&Bound<'py, LoopBridge>>,
        wait_ms: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        same_process(self.pid, "worker events listener")?;
        let events = Arc::clone(&self.events);
        go(py, bridge, async move {
            let mut events = events.lock().await;
            let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
            let mut out = Vec::new();
            while out.is_empty() {
                match tokio::time::timeout_at(deadline, events.next()).await {
                    Ok(Some(e)) => out.extend(raw_worker_event(e)),
                    Ok(None) | Err(_) => return Ok(out),
                }
            }
            while out.len() < BATCH {
                match events.try_next() {
                    Some(e) => out.extend(raw_worker_event(e)),
                    None => break,
                }
            }
            Ok(out)
        })
    }

    /// Events this listener missed because it fell more than 4096 behind.
    fn skipped(&self) -> u64 {
        self.events.try_lock().map_or(0, |e| e.skipped())
    }
}
