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
//! Short calls run back to back: a thread that finishes a call takes the next queued one
//! while it still holds the GIL, and lets the GIL go only once the queue is empty. Waking
//! a thread for every call, and handing the GIL from thread to thread, cost more than a
//! short call itself (a no-op queue job is a few dozen µs of Python). A thread is woken
//! (or started) only when a call is queued and no thread is free to take it: "free" is a
//! thread that is not inside a call (just woken, waiting for the GIL, or between two
//! calls), and the pool keeps at least one whenever calls are queued. So a call that
//! blocks (`time.sleep`, I/O: the GIL released) never holds up the queue: the thread
//! that took it was busy from that moment, and another one was woken for the rest.
//!
//! Like the runtime, the pool belongs to one process: after `fork()` its threads are gone,
//! so a child starts a pool of its own. The pool in use is found without a lock (a lock
//! held by a parent's thread at the fork would stay locked in the child forever).

use std::collections::VecDeque;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use pyo3::Python;

/// One call to run, on a pool thread attached to the interpreter.
pub type Job = Box<dyn for<'py> FnOnce(Python<'py>) + Send>;

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
    /// Threads waiting on `work`.
    sleeping: usize,
    /// Sleeping threads told to wake (already counted in `free`).
    woken: usize,
    /// Threads not inside a call and not sleeping: each will take a queued call or find
    /// the queue empty. At least one whenever `jobs` is not empty.
    free: usize,
    threads: usize,
}

/// What a change of the queue asks of the pool, done after the lock is let go.
#[must_use]
enum Help {
    None,
    Wake,
    Start,
}

impl State {
    /// Keep a free thread for the queued calls: wake a sleeping thread or start one when
    /// there is none.
    fn keep_one_free(&mut self) -> Help {
        if self.jobs.is_empty() || self.free > 0 {
            return Help::None;
        }
        self.free += 1;
        if self.sleeping > self.woken {
            self.woken += 1;
            Help::Wake
        } else {
            self.threads += 1;
            Help::Start
        }
    }
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
        // Calls run outside the lock: nothing can panic while it is held.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn help(&'static self, help: Help) {
        match help {
            Help::None => {}
            Help::Wake => self.work.notify_one(),
            Help::Start => {
                let spawned = std::thread::Builder::new()
                    .name("redkit-host".into())
                    .spawn(move || work(self));
                if spawned.is_err() {
                    let mut state = self.state();
                    state.threads -= 1;
                    state.free -= 1;
                    if state.threads == 0 {
                        // No thread at all to run them: their calls end as unreachable.
                        state.jobs.clear();
                    }
                }
            }
        }
    }
}

/// Run `job` on a pool thread. If no thread can be started at all, the job is dropped
/// (its call then ends as unreachable), never run here.
pub fn submit(job: Job) {
    let pool = pool();
    let help = {
        let mut state = pool.state();
        state.jobs.push_back(job);
        state.keep_one_free()
    };
    pool.help(help);
}

/// A pool thread (free when it starts): run queued calls until none comes for [`IDLE`].
fn work(pool: &'static Pool) {
    loop {
        if !sleep_while_empty(pool) {
            return;
        }
        // A call is queued: take the GIL and run calls back to back while any are queued.
        // If another free thread gets the GIL first and empties the queue, this one finds
        // nothing and goes back to sleep.
        Python::attach(|py| {
            let mut state = pool.state();
            while let Some(job) = state.jobs.pop_front() {
                state.free -= 1;
                let help = state.keep_one_free();
                drop(state);
                pool.help(help);
                job(py);
                state = pool.state();
                state.free += 1;
            }
        });
    }
}

/// Wait (free) until a call is queued: true, or false once the thread has waited
/// [`IDLE`] for nothing and has ended its count.
fn sleep_while_empty(pool: &'static Pool) -> bool {
    let mut state = pool.state();
    while state.jobs.is_empty() {
        state.free -= 1;
        state.sleeping += 1;
        loop {
            let (guard, waited) = pool
                .work
                .wait_timeout(state, IDLE)
                .unwrap_or_else(|p| p.into_inner());
            state = guard;
            state.sleeping -= 1;
            if state.woken > 0 {
                // Told to wake, and counted free again by whoever told it (or another
                // sleeping thread was told, and this one took its place: the same).
                state.woken -= 1;
                break;
            }
            if waited.timed_out() {
                state.threads -= 1;
                return false;
            }
            state.sleeping += 1;
        }
    }
    true
}
