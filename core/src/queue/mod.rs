//! Durable job queues: `client.queue(name)` → [`Queue`], to add jobs, inspect and maintain
//! them, read the queue's events and run schedulers; the worker engine processes them.
//!
//! Every operation that changes the queue is one Lua script (core/lua/queue_*.lua), so it
//! is atomic and one round trip; every timestamp is the server's clock; no key carries an
//! expiry. The layout is docs/WIRE.md, section Queue.

mod events;
mod handle;
mod job;
mod lease;
mod options;
#[doc(hidden)]
pub mod replay;
mod scheduler;
pub(crate) mod scripts;

pub use events::{QueueEvent, QueueEvents};
pub use handle::{Counts, NewJob, Queue, QueueOptions, WorkerInfo, WAIT_TIMEOUT, WORKER_WINDOW};
pub use job::{Job, JobState};
pub use lease::{Extended, Finish, Finished, Maintained, Outcome, Take, TakeArgs, WorkerBeat};
pub use options::{
    Backoff, BackoffKind, Deduplication, JobOptions, Removal, MAX_DURATION_MS, MAX_PRIORITY,
};
pub use scheduler::{Repeat, Scheduler, SchedulerSpec};
