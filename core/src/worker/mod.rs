//! Workers: `client.worker(queue, processor)` runs a user function over a queue's jobs.
//!
//! The engine (fetching, concurrency slots, leases with fencing and batched renewal,
//! stalled recovery, the global limiter, timeouts, cancellation, retries, events, close)
//! lives here once; a binding only implements [`Processor`] (hand a job to the host, get a
//! result or an error back). Data layout and scripts: docs/WIRE.md, "Queue".

mod engine;
mod events;
mod finish;
mod liveness;
mod options;
mod processor;
mod slots;
mod spawn;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use events::{FailureKind, WorkerEvent, WorkerEvents, EVENTS_KEPT};
pub use liveness::QueueLiveness;
pub use options::{Limiter, WorkerOptions};
pub use processor::{
    host_processor, job_arg, processor_fn, unrecoverable, Processor, UNRECOVERABLE,
};
pub use spawn::Spawner;

use crate::error::Result;
use crate::Client;
use engine::{End, Shared};
use spawn::Spawn;

/// Builder of a [`Worker`]: `client.worker("email", processor).concurrency(5).build()`.
pub struct WorkerBuilder {
    client: Client,
    queue: String,
    processor: Arc<dyn Processor>,
    opts: WorkerOptions,
    spawn: Spawn,
}

impl WorkerBuilder {
    pub(crate) fn new(client: Client, queue: &str, processor: Arc<dyn Processor>) -> Self {
        WorkerBuilder {
            client,
            queue: queue.to_string(),
            processor,
            opts: WorkerOptions::default(),
            spawn: Spawn::Tokio,
        }
    }

    /// Jobs processed at once (default 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.opts.concurrency = n;
        self
    }
    /// At most `max` jobs start per `duration`, across every worker of the queue.
    pub fn limiter(mut self, max: u64, duration: Duration) -> Self {
        self.opts.limiter = Some(Limiter { max, duration });
        self
    }
    /// Lease length without renewal (default 30 s).
    pub fn lock_duration(mut self, d: Duration) -> Self {
        self.opts.lock_duration = d;
        self
    }
    /// How often expired leases are looked for (default 30 s).
    pub fn stalled_interval(mut self, d: Duration) -> Self {
        self.opts.stalled_interval = d;
        self
    }
    /// Recoveries a job may go through before it fails as stalled (default 1).
    pub fn max_stalled_count(mut self, n: u32) -> Self {
        self.opts.max_stalled_count = n;
        self
    }
    /// Start at once (default true) or on [`Worker::run`].
    pub fn autorun(mut self, on: bool) -> Self {
        self.opts.autorun = on;
        self
    }
    /// Longest blocking wait of an idle worker (default 5 s).
    pub fn drain_delay(mut self, d: Duration) -> Self {
        self.opts.drain_delay = d;
        self
    }
    /// Heartbeat period while idle (default 5 s).
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.opts.heartbeat_interval = d;
        self
    }
    /// A name `queue.workers()` shows.
    pub fn name(mut self, name: &str) -> Self {
        self.opts.name = name.to_string();
        self
    }
    /// Replace every option at once.
    pub fn options(mut self, opts: WorkerOptions) -> Self {
        self.opts = opts;
        self
    }
    /// Run the engine's tasks through `spawner` instead of `tokio::spawn` (a binding that
    /// polls the client's futures itself, as Node does on its JS thread; see [`Spawner`]).
    pub fn spawner(mut self, spawner: Arc<dyn Spawner>) -> Self {
        self.spawn = Spawn::Host(spawner);
        self
    }

    /// Make the worker; with `autorun` it starts fetching now. Needs a tokio runtime
    /// (unless a [`Spawner`] was given).
    pub fn build(self) -> Result<Worker> {
        self.opts.validate()?;
        let queue = self.client.queue(&self.queue)?;
        let (shared, ends) = Shared::new(queue, self.opts, self.processor, self.spawn);
        let worker = Worker {
            shared,
            ends: Mutex::new(Some(ends)),
        };
        if worker.shared.opts.autorun {
            worker.start()?;
        }
        Ok(worker)
    }
}

/// A running worker. Dropping it stops fetching and lets the jobs in flight finish.
pub struct Worker {
    shared: Arc<Shared>,
    /// Taken when the engine starts.
    ends: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<End>>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.shared.id)
            .field("opts", &self.shared.opts)
            .finish()
    }
}

/// What a worker did since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Jobs completed (results the server accepted).
    pub completed: u64,
    /// Attempts failed (retried or failed for good).
    pub failed: u64,
    /// Late results refused because this delivery's lease was lost.
    pub refused: u64,
    /// Jobs this worker's stalled check recovered or failed.
    pub stalled: u64,
    /// Lease renewal round trips.
    pub renewals: u64,
    /// Take/finish round trips.
    pub take_calls: u64,
}

impl Worker {
    /// Start fetching (when built with `autorun(false)`; a started worker is left alone).
    /// Listeners subscribed before it see every event.
    pub fn start(&self) -> Result<()> {
        let Some(ends) = self.ends.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return Ok(());
        };
        if let Err(e) = self.shared.spawn.check() {
            // Not started: a later `start()` may find a runtime.
            *self.ends.lock().unwrap_or_else(|p| p.into_inner()) = Some(ends);
            return Err(e);
        }
        self.shared.start(ends);
        Ok(())
    }

    /// Start (if `autorun` was off) and wait until the worker is closed.
    pub async fn run(&self) -> Result<()> {
        self.start()?;
        let mut stopped = self.shared.stopped();
        while !*stopped.borrow_and_update() {
            if stopped.changed().await.is_err() {
                break;
            }
        }
        Ok(())
    }

    /// Stop fetching. `graceful`: wait for the jobs in flight and their results;
    /// otherwise fire their signals and leave them to stalled recovery.
    pub async fn close(&self, graceful: bool) {
        if self
            .ends
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .is_some()
        {
            // Never started: nothing in flight.
            self.shared.mark_stopped();
            return;
        }
        self.shared.close(graceful).await;
    }

    /// Stop taking jobs; those in flight go on.
    pub fn pause(&self) {
        self.shared.pause();
    }

    /// Take jobs again after [`Worker::pause`].
    pub fn resume(&self) {
        self.shared.resume();
    }

    /// The worker's events from now on.
    pub fn events(&self) -> WorkerEvents {
        self.shared.events.subscribe()
    }

    /// A job this worker runs reports `progress`: stored on the job and sent as a
    /// `progress` event (as [`Queue::update_progress`]), then told to this worker's
    /// listeners. What a host processor (a binding's function) calls, so every runtime's
    /// `progress` listeners hear the same thing.
    pub async fn update_progress(&self, job_id: &str, progress: serde_json::Value) -> Result<()> {
        self.shared.queue.update_progress(job_id, &progress).await?;
        self.shared.events.emit(WorkerEvent::Progress {
            job_id: job_id.to_string(),
            progress,
        });
        Ok(())
    }

    /// This worker's id, as `queue.workers()` lists it.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// Jobs being processed now.
    pub fn jobs_in_flight(&self) -> usize {
        self.shared.jobs_in_flight()
    }

    /// Counters since start.
    pub fn stats(&self) -> WorkerStats {
        let c = &self.shared.counters;
        WorkerStats {
            completed: c.completed.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            stalled: c.stalled.load(Ordering::Relaxed),
            renewals: c.renewals.load(Ordering::Relaxed),
            take_calls: c.take_calls.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let shared = self.shared.clone();
        self.shared
            .spawn
            .detach(async move { shared.close(true).await });
    }
}
