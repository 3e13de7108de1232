//! The threads plain Python host functions run on (see `host.rs`).
//!
//! A plain function holds the GIL while it runs and may block for as long as it likes; on
//! one of the core's I/O threads that would stall every request of the process. It runs
//! here instead: a pool that starts a thread whenever every thread is busy and lets a
//! thread go after a minute without work. There is no upper bound on purpose: a loader may
//! call the cache, whose loader needs a thread of its own while the first one waits, so a
//! bound would turn enough concurrent misses into a deadlock. The calls in flight bound
//! the threads (the callers' threads times the nesting of loaders, or a worker's
//! concurrency). Submitting never takes the GIL.
//!
//! Like the runtime, the pool belongs to one process: after `fork()` its threads are gone,
//! so a child starts a pool of its own. The pool in use is found without a lock (a lock
//! held by a parent's thread at the fork would stay locked in the child forever).

use std::collections::VecDeque;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// One call to run.
pub type Job = Box<dyn FnOnce() + Send>;

/// How long a thread waits for work before it ends.
const IDLE: Duration = Duration::from_secs(60);

struct Pool {
    pid: u32,
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
    threads: usize,
}

/// The pool of the current process (every pool ever made is leaked: one per process).
static POOL: AtomicPtr<Pool> = AtomicPtr::new(ptr::null_mut());

fn pool() -> &'static Pool {
    let pid = std::process::id();
    let current = POOL.load(Ordering::Acquire);
    #[allow(unsafe_code)]
    // SAFETY: every pointer stored in POOL comes from `Box::leak` and is never freed.
    if let Some(pool) = unsafe { current.as_ref() } {
        if pool.pid == pid {
            return pool;
        }
    }
    let fresh: &'static mut Pool = Box::leak(Box::new(Pool {
        pid,
        state: Mutex::new(State::default()),
        work: Condvar::new(),
    }));
    let fresh_ptr: *mut Pool = fresh;
    match POOL.compare_exchange(current, fresh_ptr, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        Err(other) => {
            #[allow(unsafe_code)]
            // SAFETY: as above; `other` is not null (it differs from `current` or won a race).
            match unsafe { other.as_ref() } {
                // Another thread of this process installed one first: use it (ours leaks,
                // unused, once).
                Some(pool) if pool.pid == pid => pool,
                _ => fresh,
            }
        }
    }
}

impl Pool {
    fn state(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock: nothing can panic while it is held.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Run `job` on a pool thread. If no thread can be started at all, the job is dropped
/// (its call then ends as unreachable), never run here.
pub fn submit(job: Job) {
    let pool = pool();
    let start = {
        let mut state = pool.state();
        state.jobs.push_back(job);
        let start = state.jobs.len() > state.idle;
        if start {
            state.threads += 1;
        }
        start
    };
    if start {
        let spawned = std::thread::Builder::new()
            .name("redkit-host".into())
            .spawn(move || work(pool));
        if spawned.is_err() {
            let mut state = pool.state();
            state.threads -= 1;
            if state.threads == 0 {
                state.jobs.clear();
            }
        }
    }
    pool.work.notify_one();
}

/// A pool thread: run jobs until none comes for [`IDLE`].
fn work(pool: &'static Pool) {
    loop {
        let job = {
            let mut state = pool.state();
            loop {
                if let Some(job) = state.jobs.pop_front() {
                    break job;
                }
                state.idle += 1;
                let (guard, waited) = pool
                    .work
                    .wait_timeout(state, IDLE)
                    .unwrap_or_else(|p| p.into_inner());
                state = guard;
                state.idle -= 1;
                if waited.timed_out() && state.jobs.is_empty() {
                    state.threads -= 1;
                    return;
                }
            }
        };
        job();
    }
}
