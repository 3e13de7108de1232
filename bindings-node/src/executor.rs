//! Running the core's futures on the JS thread.
//!
//! With the hosted transport the socket is a Node socket, so a request's future makes
//! progress exactly when JS calls in: when it starts, when the socket delivers bytes, when
//! a loader settles. Polling it right there, on the JS thread, is what saves the thread
//! hops a tokio-driven request pays (JS → tokio → Redis → tokio → JS). Every native entry
//! point that can move a future forward runs inside [`Executor::drive`], which polls
//! whatever became ready before returning to JS.
//!
//! Some wake-ups do come from other threads: tokio timers (retry backoff, lock waits, the
//! rate limiter's deadline) and the blocking-command connection. Such a wake queues the
//! task and, when JS is not already inside `drive`, calls the client's threadsafe `wake`
//! function; JS answers with `poll()`, which drives the queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Wake, Waker};

use napi::threadsafe_function::ThreadsafeFunctionCallMode;

use crate::completion::Wake as JsWake;

/// A task the executor polls.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The futures of one client, polled on the JS thread.
pub struct Executor {
    tasks: Mutex<Tasks>,
    shared: Arc<Shared>,
    /// Entered while polling, so the core's timers find their runtime.
    runtime: tokio::runtime::Handle,
}

#[derive(Default)]
struct Tasks {
    slots: Vec<Option<Task>>,
    /// The waker of each slot, made once and kept when the slot is reused.
    wakers: Vec<Waker>,
    free: Vec<usize>,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: JsWake,
}

#[derive(Default)]
struct Queue {
    ready: Vec<usize>,
    /// The allocation `drive` polled the last batch from, kept for the next: a fresh vector
    /// per batch cost an allocation on every call.
    spare: Vec<usize>,
    /// JS is inside `drive`: it will poll whatever is queued before it returns, so a wake
    /// needs no call into JS.
    driving: bool,
}

struct TaskWaker {
    id: usize,
    shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let call_js = {
            let mut queue = lock(&self.shared.queue);
            queue.ready.push(self.id);
            !queue.driving && queue.ready.len() == 1
        };
        if call_js {
            self.shared
                .wake
                .call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a push or a take: a panic cannot leave them half done.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Executor {
    /// An executor whose cross-thread wake-ups call `wake` on the JS thread.
    pub fn new(wake: JsWake, runtime: tokio::runtime::Handle) -> Arc<Self> {
        Arc::new(Executor {
            tasks: Mutex::new(Tasks::default()),
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                wake,
            }),
            runtime,
        })
    }

    /// Run `f` (a native entry point), then poll every task that became ready, including
    /// those `f` woke, until none is left.
    pub fn drive<R>(&self, f: impl FnOnce() -> R) -> R {
        lock(&self.shared.queue).driving = true;
        let result = f();
        let _runtime = self.runtime.enter();
        loop {
            let mut ready = {
                let mut queue = lock(&self.shared.queue);
                if queue.ready.is_empty() {
                    queue.driving = false;
                    break;
                }
                let spare = std::mem::take(&mut queue.spare);
                std::mem::replace(&mut queue.ready, spare)
            };
            for id in ready.drain(..) {
                self.poll(id);
            }
            let mut queue = lock(&self.shared.queue);
            if queue.spare.capacity() < ready.capacity() {
                queue.spare = ready;
            }
        }
        result
    }

    /// Start `task`: it is polled before this returns, and from then on when woken.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.drive(|| {
            let id = self.insert(Box::pin(task));
            lock(&self.shared.queue).ready.push(id);
        })
    }

    /// Start `task` from anywhere, from inside another task's poll included: it is polled
    /// by the `drive` in progress, or else by the next one (JS is woken for it). `spawn`
    /// must not be called from inside a poll: its nested `drive` could take the wake of the
    /// very task being polled (out of its slot then) and lose it.
    pub fn spawn_queued(&self, task: Task) {
        let id = self.insert(task);
        let waker = lock(&self.tasks).wakers[id].clone();
        waker.wake();
    }

    /// Put `task` in a free slot; its id.
    fn insert(&self, task: Task) -> usize {
        let mut tasks = lock(&self.tasks);
        match tasks.free.pop() {
            Some(id) => {
                tasks.slots[id] = Some(task);
                id
            }
            None => {
                let id = tasks.slots.len();
                tasks.slots.push(Some(task));
                tasks.wakers.push(Waker::from(Arc::new(TaskWaker {
                    id,
                    shared: Arc::clone(&self.shared),
                })));
                id
            }
        }
    }

    fn poll(&self, id: usize) {
        // Out of its slot while it runs, so a wake during the poll finds nothing to poll
        // twice. A stale wake (the task finished, the slot was reused) polls a task early,
        // which futures allow.
        let (mut task, waker) = {
            let mut tasks = lock(&self.tasks);
            match tasks.slots.get_mut(id).and_then(Option::take) {
                Some(task) => (task, tasks.wakers[id].clone()),
                None => return,
            }
        };
        let done = task
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        let mut tasks = lock(&self.tasks);
        if done {
            tasks.free.push(id);
        } else {
            tasks.slots[id] = Some(task);
        }
    }
}
