//! Worker-local events (completed, failed, progress, stalled, error, drained), as a stream
//! any number of listeners read: a binding forwards them to its EventEmitter or callbacks.
//! Bounded: a listener that falls behind skips the oldest and is told how many.

use tokio::sync::broadcast;

/// How many events a slow listener may fall behind before it skips some. A binding that
/// keeps each delivered job for its listeners until the job's `completed` or `failed` event
/// keeps at most this many: a delivery whose lease was lost, or whose event a lagging
/// listener skipped, gets no event, so the oldest are let go past it.
pub const EVENTS_KEPT: usize = 4096;

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The processor returned an error.
    Error,
    /// The processor returned an `UnrecoverableError`.
    Unrecoverable,
    /// The job's `timeout` passed.
    Timeout,
    /// `queue.cancel(id)`.
    Cancelled,
    /// Stalled more than `max_stalled_count` times.
    Stalled,
}

/// Something that happened in this worker.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WorkerEvent {
    /// A job completed (the server accepted the result).
    Completed {
        /// The job's id.
        job_id: String,
        /// The processor's return value.
        result: Vec<u8>,
    },
    /// An attempt failed (the server accepted the failure).
    Failed {
        /// The job's id.
        job_id: String,
        /// The stored `failed_reason`.
        reason: String,
        /// Why it failed.
        kind: FailureKind,
        /// Whether the job will run again (attempts left, not unrecoverable).
        will_retry: bool,
    },
    /// A processor reported progress.
    Progress {
        /// The job's id.
        job_id: String,
        /// The progress (any JSON value).
        progress: serde_json::Value,
    },
    /// This worker's stalled check gave a job whose lease expired back to the queue.
    Stalled {
        /// The job's id.
        job_id: String,
    },
    /// Something went wrong outside a processor (Redis unreachable, a late result refused).
    Error {
        /// What happened.
        message: String,
    },
    /// The queue has no job waiting for this worker any more.
    Drained,
}

/// The sending side, shared by the engine's tasks.
#[derive(Debug, Clone)]
pub(crate) struct EventSender(broadcast::Sender<WorkerEvent>);

impl EventSender {
    pub(crate) fn new() -> Self {
        EventSender(broadcast::channel(EVENTS_KEPT).0)
    }

    /// Emit to every listener; nobody listening is fine.
    pub(crate) fn emit(&self, e: WorkerEvent) {
        let _ = self.0.send(e);
    }

    pub(crate) fn subscribe(&self) -> WorkerEvents {
        WorkerEvents {
            rx: self.0.subscribe(),
            skipped: 0,
        }
    }
}

/// A listener's stream of [`WorkerEvent`]s, from the moment it subscribed.
#[derive(Debug)]
pub struct WorkerEvents {
    rx: broadcast::Receiver<WorkerEvent>,
    skipped: u64,
}

impl WorkerEvents {
    /// The next event; `None` once the worker is gone.
    pub async fn next(&mut self) -> Option<WorkerEvent> {
        loop {
            match self.rx.recv().await {
                Ok(e) => return Some(e),
                Err(broadcast::error::RecvError::Lagged(n)) => self.skipped += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is ready now.
    pub fn try_next(&mut self) -> Option<WorkerEvent> {
        loop {
            match self.rx.try_recv() {
                Ok(e) => return Some(e),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.skipped += n,
                Err(_) => return None,
            }
        }
    }

    /// Events this listener missed because it fell more than 4096 behind.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}
