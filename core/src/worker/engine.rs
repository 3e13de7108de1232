//! The worker engine: four tasks around the processor.
//!
//! - fetch: while slots are free, take jobs (one round trip for as many as are free); when
//!   none wait, block on the queue's marker on a connection of its own (at most
//!   `drain_delay`), so an idle worker sends a command or two per `drain_delay`;
//! - finish (finish.rs): every job's end goes to one task that sends the ends ready
//!   together in one round trip, each finish taking the next job in the same script call,
//!   with a few such round trips in flight at once;
//! - extend: heartbeat and renewal of every lease of the worker in one round trip; a lost
//!   lease or a `queue.cancel(id)` fires the processor's cancellation signal;
//! - maintain: stalled recovery (and the queue's other upkeep) every `stalled_interval`.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::events::{EventSender, FailureKind, WorkerEvent};
use super::options::WorkerOptions;
use super::processor::{Processor, UNRECOVERABLE};
use super::slots::Slots;
use super::spawn::Spawn;
use crate::error::{Error, Result};
use crate::host::{Cancel, HostError, HostResult};
use crate::queue::{Finish, Job, Outcome, Queue, Take, TakeArgs, WorkerBeat};
use crate::value::Cmd;

/// Why the engine fired a delivery's signal. The first reason wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelReason {
    /// The job's `timeout` passed: the attempt fails (retried while attempts remain).
    Timeout,
    /// `queue.cancel(id)`: the job fails, no retry.
    Cancelled,
    /// The lease was lost: nothing is written (the result would be refused).
    LockLost,
    /// `close(false)`: nothing is written; stalled recovery takes the job.
    Closing,
}

impl CancelReason {
    /// What the processor's signal says (`Cancel::reason`: a JS `AbortSignal.reason`).
    fn text(self) -> &'static str {
        match self {
            CancelReason::Timeout => "TimeoutError: the job's timeout passed",
            CancelReason::Cancelled => "CancelledError: job was cancelled",
            CancelReason::LockLost => "LockLost: this delivery lost its lease",
            CancelReason::Closing => "Closed: the worker is closing without waiting",
        }
    }
}

/// A delivery's signal and why it fired.
#[derive(Debug, Clone, Default)]
struct Signal {
    cancel: Cancel,
    reason: Arc<std::sync::OnceLock<CancelReason>>,
}

impl Signal {
    fn fire(&self, reason: CancelReason) {
        if self.reason.set(reason).is_ok() {
            self.cancel.cancel_with(reason.text());
        }
    }

    fn reason(&self) -> Option<CancelReason> {
        self.reason.get().copied()
    }
}

/// How long a cancelled processor may take to wind down before it is dropped.
const CANCEL_GRACE: Duration = Duration::from_millis(250);

/// How much longer than its own timeout a blocking wait may take before it is given up.
const MARKER_SLACK: Duration = Duration::from_secs(2);

/// Counters of one worker since it started.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub refused: AtomicU64,
    pub stalled: AtomicU64,
    pub renewals: AtomicU64,
    pub take_calls: AtomicU64,
}

/// A job in flight: its delivery token and its cancellation signal.
struct Running {
    token: u64,
    signal: Signal,
}

/// One delivery's end on its way to the finish task. `finished` is None when nothing is
/// to be written (the lease was lost, or the worker is closing without waiting): the slot
/// is released all the same.
pub(crate) struct End {
    pub(super) id: String,
    pub(super) token: u64,
    pub(super) finished: Option<(Finish, FailureKind)>,
}

pub(crate) struct Shared {
    pub queue: Queue,
    pub opts: WorkerOptions,
    pub processor: Arc<dyn Processor>,
    /// Where the tasks run.
    pub(crate) spawn: Spawn,
    pub id: String,
    pub events: EventSender,
    pub counters: Counters,
    pub(super) take_args: TakeArgs,
    pub(super) slots: Slots,
    running: Mutex<HashMap<String, Running>>,
    ends: mpsc::UnboundedSender<End>,
    /// The worker's pause (not the queue's).
    paused: AtomicBool,
    pub(super) closing: AtomicBool,
    /// `close(false)`: give up on results the server has not taken yet.
    pub(super) forced: AtomicBool,
    /// Bumped on pause, resume and close: wakes the fetch loop from a blocking wait (a
    /// watch, so a bump while the loop was busy elsewhere is not missed).
    pub(super) wake: watch::Sender<u64>,
    /// The limiter is full until this instant.
    limited_until: Mutex<Option<Instant>>,
    stopped: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(
        queue: Queue,
        opts: WorkerOptions,
        processor: Arc<dyn Processor>,
        spawn: Spawn,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<End>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = format!("{}-{}", std::process::id(), &crate::rt::token()[..12]);
        let take_args = TakeArgs {
            worker_id: id.clone(),
            lock: opts.lock_duration,
            limiter: opts.limiter.map(|l| (l.max, l.duration)),
        };
        let shared = Arc::new(Shared {
            slots: Slots::new(opts.concurrency),
            take_args,
            queue,
            opts,
            processor,
            spawn,
            id,
            events: EventSender::new(),
            counters: Counters::default(),
            running: Mutex::new(HashMap::new()),
            ends: tx,
            paused: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            forced: AtomicBool::new(false),
            wake: watch::channel(0).0,
            limited_until: Mutex::new(None),
            stopped: watch::channel(false).0,
        });
        (shared, rx)
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn limited_until(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.limited_until.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn is_limited(&self) -> bool {
        self.limited_until().is_some_and(|u| u > Instant::now())
    }

    pub(super) fn accepting(&self) -> bool {
        !self.paused.load(Ordering::Acquire) && !self.closing.load(Ordering::Acquire)
    }

    /// Drop a delivery that ended from the jobs in flight. Only that delivery: the job may
    /// have been delivered again meanwhile (its lease ran out and stalled recovery put it
    /// back), to this worker, in a take answered before this end's finish.
    pub(super) fn forget(&self, id: &str, token: u64) {
        let mut running = self.running();
        if running.get(id).is_some_and(|r| r.token == token) {
            running.remove(id);
        }
    }

    pub(crate) fn jobs_in_flight(&self) -> usize {
        self.running().len()
    }

    /// Start the four tasks (after `spawn.check()`).
    pub(crate) fn start(self: &Arc<Self>, ends: mpsc::UnboundedReceiver<End>) {
        self.spawn.spawn(fetch_loop(self.clone()));
        self.spawn
            .spawn(super::finish::finish_loop(self.clone(), ends));
        self.spawn.spawn(extend_loop(self.clone()));
        self.spawn.spawn(maintain_loop(self.clone()));
    }

    fn bump(&self) {
        self.wake.send_modify(|n| *n += 1);
    }

    pub(crate) fn pause(&self) {
        self.paused.store(true, Ordering::Release);
        self.bump();
    }

    pub(crate) fn resume(&self) {
        self.paused.store(false, Ordering::Release);
        self.bump();
    }

    /// Stop fetching; wait for the jobs in flight (graceful) or cancel them and leave
    /// them to stalled recovery.
    pub(crate) async fn close(&self, graceful: bool) {
        self.forced.fetch_or(!graceful, Ordering::AcqRel);
        self.closing.store(true, Ordering::Release);
        self.bump();
        if !graceful {
            for r in self.running().values() {
                r.signal.fire(CancelReason::Closing);
            }
        }
        self.slots.until_all_free().await;
        // send_replace: the stop is kept even when no `run()` waits yet (send would drop it).
        self.stopped.send_replace(true);
        // Gone from `queue.workers()` at once rather than when its heartbeat ages out.
        let base = self.queue.base();
        let _ = self
            .queue
            .client()
            .transport()
            .pipeline(vec![
                Cmd::new("ZREM").arg(format!("{base}workers")).arg(&self.id),
                Cmd::new("HDEL").arg(format!("{base}winfo")).arg(&self.id),
            ])
            .await;
    }

    /// Mark a worker that never started as stopped.
    pub(crate) fn mark_stopped(&self) {
        self.closing.store(true, Ordering::Release);
        // send_replace: the stop is kept even when no `run()` waits yet (send would drop it).
        self.stopped.send_replace(true);
    }

    pub(crate) fn stopped(&self) -> watch::Receiver<bool> {
        self.stopped.subscribe()
    }

    /// Run each job taken on a slot the caller holds; returns how many.
    pub(super) fn spawn_jobs(self: &Arc<Self>, take: Take) -> usize {
        let Take::Jobs(jobs) = take else {
            if let Take::Limited { wait: Some(d) } = take {
                // Remember the limiter's answer: no take is asked for until it passes.
                *self.limited_until() = Some(Instant::now() + d);
            }
            return 0;
        };
        let n = jobs.len();
        for mut job in jobs {
            let events = self.events.clone();
            job.on_progress = Some(Arc::new(move |id: &str, p: &serde_json::Value| {
                events.emit(WorkerEvent::Progress {
                    job_id: id.to_string(),
                    progress: p.clone(),
                })
            }));
            let signal = Signal::default();
            self.running().insert(
                job.id.clone(),
                Running {
                    token: job.token,
                    signal: signal.clone(),
                },
            );
            if self.forced.load(Ordering::Acquire) {
                // close(false) came while this take was in flight and fired only the jobs
                // it found running: this one would run unsignalled and hold its slot,
                // and the close, for ever. (close sets `forced` before it looks, and the
                // running map's lock orders the two, so one of them always fires it.)
                signal.fire(CancelReason::Closing);
            }
            if job.scheduler.is_some() {
                // The scheduler's next slot gets its job now that this one is taken.
                let shared = self.clone();
                let job = job.clone();
                self.spawn.spawn(async move {
                    if let Err(e) = shared.queue.advance_scheduler(&job).await {
                        shared.error("advancing a scheduler", &e);
                    }
                });
            }
            self.spawn.spawn(run_job(self.clone(), job, signal));
        }
        n
    }

    pub(super) fn error(&self, what: &str, e: &Error) {
        self.events.emit(WorkerEvent::Error {
            message: format!("{what}: {e}"),
        });
    }

    fn beat(&self, host: &str, started: u64) -> WorkerBeat {
        WorkerBeat {
            id: self.id.clone(),
            host: host.to_string(),
            pid: std::process::id(),
            name: self.opts.name.clone(),
            concurrency: self.opts.concurrency as u32,
            running: self.jobs_in_flight() as u32,
            started,
        }
    }

    /// Block on the queue's marker (on a connection of its own) at most `wait`.
    async fn wait_marker(&self, wait: Duration) -> Result<()> {
        // BZPOPMIN takes seconds as a double; at least 1 ms.
        let secs = wait.max(Duration::from_millis(1)).as_secs_f64();
        let cmd = Cmd::new("BZPOPMIN").arg(self.queue.marker_key()).arg(secs);
        // A deadline past the server's own timeout: a connection that died without a word
        // (a half-open socket) cannot hold the worker idle for ever.
        self.queue
            .client()
            .transport()
            .send_blocking_within(cmd, wait + MARKER_SLACK)
            .await
            .map(drop)
    }
}

/// Run one job and hand its end to the finish task.
async fn run_job(shared: Arc<Shared>, job: Job, signal: Signal) {
    let id = job.id.clone();
    let token = job.token;
    let timeout = job.opts.timeout;
    let fut = AssertUnwindSafe(shared.processor.process(job, signal.cancel.clone())).catch_unwind();
    let mut fut = std::pin::pin!(fut);
    let mut returned = false;
    let outcome = tokio::select! {
        r = &mut fut => {
            returned = true;
            match signal.reason() {
                // A processor that answers its signal: the signal says how the attempt ends.
                Some(reason) => Err(reason),
                None => Ok(r.unwrap_or_else(|_| Err(HostError::new("Panic", "the processor panicked")))),
            }
        }
        _ = signal.cancel.cancelled() => Err(signal.reason().unwrap_or(CancelReason::Cancelled)),
        _ = sleep_or_never(timeout) => {
            signal.fire(CancelReason::Timeout);
            Err(signal.reason().unwrap_or(CancelReason::Timeout))
        }
    };
    if outcome.is_err() && !returned {
        // A processor that watches its signal gets a moment to wind down (its result is
        // not used); one that ignores it is dropped then, and its slot freed.
        let _ = tokio::time::timeout(CANCEL_GRACE, &mut fut).await;
    }
    let end = End {
        finished: decide(&id, token, timeout, outcome),
        id,
        token,
    };
    // The finish task is gone only once the worker stopped; the slot no longer matters.
    let _ = shared.ends.send(end);
}

async fn sleep_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// A failed attempt's reason: the error's message, or its kind when the message is empty
/// (a bare `new Error()`, a `KeyboardInterrupt`), so a failed job always says why.
fn failed_reason(e: &HostError) -> String {
    match e.message() {
        "" => e.kind().to_string(),
        message => message.to_string(),
    }
}

/// What a delivery's end writes, or nothing (lease lost, closing without waiting).
fn decide(
    id: &str,
    token: u64,
    timeout: Option<Duration>,
    outcome: std::result::Result<HostResult, CancelReason>,
) -> Option<(Finish, FailureKind)> {
    let (outcome, kind) = match outcome {
        Ok(Ok(value)) => (Outcome::Completed(value), FailureKind::Error),
        Ok(Err(e)) if e.kind() == UNRECOVERABLE => (
            Outcome::Unrecoverable {
                reason: failed_reason(&e),
                stack: e.trace().map(str::to_string),
            },
            FailureKind::Unrecoverable,
        ),
        Ok(Err(e)) => (
            Outcome::Failed {
                reason: failed_reason(&e),
                stack: e.trace().map(str::to_string),
            },
            FailureKind::Error,
        ),
        Err(CancelReason::Timeout) => (
            Outcome::Timeout {
                reason: format!(
                    "TimeoutError: job timed out after {} ms",
                    timeout.unwrap_or_default().as_millis()
                ),
            },
            FailureKind::Timeout,
        ),
        Err(CancelReason::Cancelled) => (
            Outcome::Cancelled {
                reason: "CancelledError: job was cancelled".to_string(),
            },
            FailureKind::Cancelled,
        ),
        Err(_) => return None,
    };
    Some((
        Finish {
            id: id.to_string(),
            token,
            outcome,
            jitter_draw: crate::rt::random_unit().min(0.999_999),
        },
        kind,
    ))
}

/// Take jobs while slots are free; block on the server while none wait.
async fn fetch_loop(shared: Arc<Shared>) {
    let mut was_idle = false;
    let mut failures = 0u32;
    let mut wake = shared.wake.subscribe();
    loop {
        wake.borrow_and_update();
        if shared.closing.load(Ordering::Acquire) {
            return;
        }
        if !shared.accepting() {
            let _ = wake.changed().await;
            continue;
        }
        let limited_until = *shared.limited_until();
        if let Some(until) = limited_until.filter(|u| *u > Instant::now()) {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {}
                _ = wake.changed() => {}
            }
            continue;
        }
        let free = shared.slots.take_all();
        if free == 0 {
            tokio::select! {
                _ = shared.slots.until_free() => {}
                _ = wake.changed() => {}
            }
            continue;
        }
        shared.counters.take_calls.fetch_add(1, Ordering::Relaxed);
        let take = match shared.queue.take(&shared.take_args, free as u32).await {
            Ok(t) => {
                failures = 0;
                t
            }
            Err(e) => {
                shared.slots.release(free);
                shared.error("taking jobs", &e);
                failures += 1;
                backoff(failures, &mut wake).await;
                continue;
            }
        };
        let wait = match &take {
            Take::Jobs(_) => None,
            // The limiter: the loop sleeps until its window turns (spawn_jobs noted it).
            Take::Limited { wait: Some(_) } => None,
            // The queue is paused: a resume adds the marker.
            Take::Limited { wait: None } => Some(shared.opts.drain_delay),
            Take::Empty { wait } => {
                if !was_idle {
                    shared.events.emit(WorkerEvent::Drained);
                }
                Some(wait.map_or(shared.opts.drain_delay, |d| d.min(shared.opts.drain_delay)))
            }
        };
        let got = shared.spawn_jobs(take);
        shared.slots.release(free - got);
        let Some(wait) = wait else {
            was_idle = false;
            continue;
        };
        was_idle = true;
        tokio::select! {
            r = shared.wait_marker(wait) => if let Err(e) = r {
                shared.error("waiting for jobs", &e);
                failures += 1;
                backoff(failures, &mut wake).await;
            },
            _ = wake.changed() => {}
        }
    }
}

/// The pause after `failures` failed calls in a row: 100 ms doubling to 5 s, cut short
/// by pause, resume or close.
pub(super) async fn backoff(failures: u32, wake: &mut watch::Receiver<u64>) {
    let d = Duration::from_millis(100 << failures.min(6)).min(Duration::from_secs(5));
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = wake.changed() => {}
    }
}

/// Heartbeat and renew every lease in one round trip: every `renew_interval` while jobs
/// run, every `heartbeat_interval` while none do. Cancels the deliveries that lost their
/// lease or whose job was cancelled.
async fn extend_loop(shared: Arc<Shared>) {
    let mut stopped = shared.stopped();
    let host = hostname();
    let started = crate::rt::now_ms();
    let mut last = None::<Instant>;
    loop {
        // A worker closed before this task first ran must not beat (and reappear in
        // `queue.workers()`) after close removed it.
        if *stopped.borrow() {
            return;
        }
        let leases: Vec<(String, u64)> = shared
            .running()
            .iter()
            .filter(|(_, r)| r.signal.reason().is_none())
            .map(|(id, r)| (id.clone(), r.token))
            .collect();
        let heartbeat_due = last.is_none_or(|l| l.elapsed() >= shared.opts.heartbeat_interval);
        if !leases.is_empty() || heartbeat_due {
            last = Some(Instant::now());
            if !leases.is_empty() {
                shared.counters.renewals.fetch_add(1, Ordering::Relaxed);
            }
            let beat = shared.beat(&host, started);
            match shared
                .queue
                .extend(&beat, shared.opts.lock_duration, &leases)
                .await
            {
                Ok(crate::queue::Extended { lost, cancelled }) => {
                    let running = shared.running();
                    let fire = |ids: Vec<String>, reason| {
                        for id in ids {
                            let held = leases.iter().find(|(i, _)| *i == id);
                            if let Some(r) = running
                                .get(&id)
                                .filter(|r| held.is_some_and(|(_, t)| *t == r.token))
                            {
                                r.signal.fire(reason);
                            }
                        }
                    };
                    fire(lost, CancelReason::LockLost);
                    fire(cancelled, CancelReason::Cancelled);
                }
                Err(e) => shared.error("renewing leases", &e),
            }
        }
        let every = shared
            .opts
            .renew_interval()
            .min(shared.opts.heartbeat_interval);
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

/// Stalled recovery every `stalled_interval`.
async fn maintain_loop(shared: Arc<Shared>) {
    let mut stopped = shared.stopped();
    let every = shared.opts.stalled_interval;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        let ttl = shared.opts.heartbeat_interval * 10;
        match shared
            .queue
            .maintain(shared.opts.max_stalled_count, 1000, ttl)
            .await
        {
            Ok(crate::queue::Maintained {
                stalled: recovered,
                failed,
                ..
            }) => {
                for job_id in recovered {
                    shared.counters.stalled.fetch_add(1, Ordering::Relaxed);
                    shared.events.emit(WorkerEvent::Stalled { job_id });
                }
                for job_id in failed {
                    shared.counters.stalled.fetch_add(1, Ordering::Relaxed);
                    shared.events.emit(WorkerEvent::Stalled {
                        job_id: job_id.clone(),
                    });
                    shared.events.emit(WorkerEvent::Failed {
                        job_id,
                        reason: "job stalled more than allowable limit".into(),
                        kind: FailureKind::Stalled,
                        will_retry: false,
                    });
                }
            }
            Err(e) => shared.error("stalled check", &e),
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
