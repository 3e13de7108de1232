//! The one contract by which the core calls a user function of the host language: a cache
//! loader today, a queue processor and a subscription handler next.
//!
//! A [`HostFunction`] is something the core may call many times and concurrently. Each
//! call ([`HostCall`]) carries an argument (bytes the caller encoded: the cache passes the
//! key, a worker will pass the job), a [`Cancel`] signal, and an id; it ends with the
//! function's result (bytes) or a [`HostError`] that keeps what the host raised (its type
//! name, message, traceback, and the host's own error object for the binding to rethrow).
//! Results and events flow back to the host as a stream ([`Events`]).
//!
//! Each binding implements [`HostFunction`] once, for its language's functions:
//! - Python: a plain function runs on a thread pool of the binding's own (never on a core
//!   I/O thread while holding the GIL); a coroutine function runs on the caller's event
//!   loop. The signal reaches it as an object it can poll or wait on.
//! - Node and wasm: the call is handed to the JS thread; the signal is an `AbortSignal`.
//!
//! Rules every implementation keeps, so that the core can rely on them:
//! - `call` starts nothing the core has to drive other than the returned future, and
//!   returns at once: the host function runs when the binding gets to it.
//! - Cancellation is cooperative. [`Cancel::cancel`] asks the function to stop; the call
//!   still ends with whatever the function then returns or raises, and the core takes that
//!   as the call's outcome. A caller that stops waiting instead drops the future; [`call`]
//!   (the way the core makes every call) signals cancellation when that happens, so
//!   bindings only ever watch the signal.
//! - A host function that raises gives `Err(HostError)`; a binding that cannot even reach
//!   the function (its runtime is shutting down) gives a `HostError` of kind
//!   [`HostError::UNREACHABLE`].
//!
//! [`run_many`] is the shape of a worker without a queue: a bounded number of calls in
//! flight, some cancelled, every outcome reported on a stream. The bindings' tests drive
//! their implementations with it.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::StreamExt;

use crate::error::Error;
use crate::transport::{BoxFuture, MaybeSend, MaybeSync};

/// What a host function gives back: its encoded result, or what it raised.
pub type HostResult = std::result::Result<Vec<u8>, HostError>;

/// A user function of the host language, as the core calls it. See the module docs for
/// the rules an implementation keeps.
pub trait HostFunction: MaybeSend + MaybeSync + 'static {
    /// Start one call. The returned future ends with the function's outcome; see
    /// [`HostCall`] for what the call carries. Called through [`call`], which signals
    /// cancellation when the future is dropped before it ends.
    fn call(&self, call: HostCall) -> BoxFuture<'static, HostResult>;
}

/// One call of a [`HostFunction`].
#[derive(Debug)]
#[non_exhaustive]
pub struct HostCall {
    /// The argument, encoded by the caller. The cache passes the entry's key (UTF-8).
    pub arg: Vec<u8>,
    /// Set when the core asks the function to stop (see [`Cancel`]).
    pub cancel: Cancel,
    /// Unique in this process for its lifetime. A binding may keep it in a host-side
    /// context (a contextvar, an AsyncLocalStorage) while the function runs, so that a call
    /// the function makes back into redkit can name the call it is made from (e.g. to
    /// refuse a loader that asks for its own key).
    pub id: u64,
}

impl HostCall {
    /// A call with `arg` and `cancel`, and a fresh id.
    pub fn new(arg: Vec<u8>, cancel: Cancel) -> Self {
        HostCall {
            arg,
            cancel,
            id: next_call_id(),
        }
    }
}

/// A fresh call id (see [`HostCall::id`]); the cache names its Rust loaders' calls from
/// the same sequence.
pub(crate) fn next_call_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Call `f` with `arg`. `cancel` is the call's signal: cancel it to ask the function to
/// stop; it is also cancelled when the returned future is dropped before it ends (the
/// caller stopped waiting), so the host function can stop then too.
pub fn call(
    f: &dyn HostFunction,
    arg: Vec<u8>,
    cancel: Cancel,
) -> impl Future<Output = HostResult> + MaybeSend + 'static {
    call_with(f, HostCall::new(arg, cancel))
}

/// [`call`] with a call made beforehand (its id chosen by the caller).
pub(crate) fn call_with(
    f: &dyn HostFunction,
    call: HostCall,
) -> impl Future<Output = HostResult> + MaybeSend + 'static {
    let cancel = call.cancel.clone();
    let pending = f.call(call);
    Invocation {
        pending,
        cancel,
        done: false,
    }
}

/// A call in flight: cancels its signal when dropped before it ended.
struct Invocation {
    pending: BoxFuture<'static, HostResult>,
    cancel: Cancel,
    done: bool,
}

impl Future for Invocation {
    type Output = HostResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<HostResult> {
        let out = self.pending.as_mut().poll(cx);
        if out.is_ready() {
            self.done = true;
        }
        out
    }
}

impl Drop for Invocation {
    fn drop(&mut self) {
        if !self.done {
            self.cancel.cancel();
        }
    }
}

/// A cancellation signal: cheap to clone (clones share it), set once, never reset.
/// Waiting for it works in async code ([`Cancel::cancelled`]) and, on native targets, on a
/// plain thread ([`Cancel::wait_blocking`]).
#[derive(Clone, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Default)]
struct CancelState {
    set: AtomicBool,
    /// Who waits for the signal. A waker is kept until the signal fires (or the signal is
    /// dropped): a call has few waiters and a short life.
    waiters: Mutex<Vec<Waker>>,
    /// Why, when the canceller said (the first reason given wins).
    reason: std::sync::OnceLock<String>,
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cancel").field(&self.is_cancelled()).finish()
    }
}

impl Cancel {
    /// A signal not set yet.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// Set the signal and wake everyone waiting for it. Setting it again does nothing.
    pub fn cancel(&self) {
        if self.0.set.swap(true, Ordering::AcqRel) {
            return;
        }
        let waiters = std::mem::take(&mut *self.waiters());
        for w in waiters {
            w.wake();
        }
    }

    /// Set the signal, saying why: `"Kind: message"` (the worker engine says
    /// `TimeoutError: …`, `CancelledError: …`), for a binding to hand the function as its
    /// signal's reason (a JS `AbortSignal.reason`). The first reason given is kept.
    pub fn cancel_with(&self, reason: impl Into<String>) {
        // Before the flag: whoever sees the signal set finds the reason.
        let _ = self.0.reason.set(reason.into());
        self.cancel();
    }

    /// Why the signal was set, if the canceller said.
    pub fn reason(&self) -> Option<&str> {
        self.0.reason.get().map(String::as_str)
    }

    /// Whether the signal is set.
    pub fn is_cancelled(&self) -> bool {
        self.0.set.load(Ordering::Acquire)
    }

    /// A future that ends once the signal is set.
    pub fn cancelled(&self) -> Cancelled {
        Cancelled(self.clone())
    }

    /// Block this thread until the signal is set or `timeout` passes; whether it is set.
    /// For host threads (a Python function on the binding's pool), never for a core task.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn wait_blocking(&self, timeout: Option<Duration>) -> bool {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        loop {
            if self.register(&waker) {
                return true;
            }
            match deadline {
                None => std::thread::park(),
                Some(at) => {
                    let now = std::time::Instant::now();
                    if now >= at {
                        return self.is_cancelled();
                    }
                    std::thread::park_timeout(at - now);
                }
            }
        }
    }

    /// Keep `waker` to wake when the signal is set, unless it is already: whether it is.
    fn register(&self, waker: &Waker) -> bool {
        if self.is_cancelled() {
            return true;
        }
        let mut waiters = self.waiters();
        // Checked again under the lock: `cancel` sets the flag before taking the list.
        if self.is_cancelled() {
            return true;
        }
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
        false
    }

    fn waiters(&self) -> MutexGuard<'_, Vec<Waker>> {
        // Pushes and takes only: a panic cannot leave the list half changed.
        self.0.waiters.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The future of [`Cancel::cancelled`].
#[derive(Debug)]
pub struct Cancelled(Cancel);

impl Future for Cancelled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.register(cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// What a host function raised, kept so that it can be recorded (a queue stores the kind,
/// message and trace of a failed job) and handed back as it was (a cache loader's caller
/// gets the very exception its loader raised).
#[derive(Clone)]
pub struct HostError {
    kind: String,
    message: String,
    trace: Option<String>,
    original: Option<Arc<dyn Any + Send + Sync>>,
}

impl HostError {
    /// The kind of the error a binding reports when it could not reach the host function at
    /// all (its event loop or runtime is gone).
    pub const UNREACHABLE: &'static str = "Unreachable";

    /// An error of type `kind` (the host's class name: `ValueError`, `TypeError`) with
    /// `message`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        HostError {
            kind: kind.into(),
            message: message.into(),
            trace: None,
            original: None,
        }
    }

    /// With the host's traceback or stack text.
    pub fn with_trace(mut self, trace: impl Into<String>) -> Self {
        self.trace = Some(trace.into());
        self
    }

    /// With the host's own error object, for the binding to hand back unchanged.
    pub fn with_original<T: Any + Send + Sync>(mut self, original: T) -> Self {
        self.original = Some(Arc::new(original));
        self
    }

    /// The host's class name of the error.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The host's traceback or stack text, when it had one.
    pub fn trace(&self) -> Option<&str> {
        self.trace.as_deref()
    }

    /// The host's own error object, if the binding kept one of type `T`.
    pub fn original<T: Any>(&self) -> Option<&T> {
        self.original.as_deref()?.downcast_ref()
    }
}

impl fmt::Debug for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for HostError {}

impl From<HostError> for Error {
    /// A host function's failure as the core reports it ([`Error::Loader`]); bindings find
    /// the [`HostError`] again with `downcast_ref`.
    fn from(e: HostError) -> Self {
        Error::loader(e)
    }
}

/// The sending half of an [`Events`] stream. Cheap to clone; the stream ends when every
/// sender is dropped.
pub struct EventSender<T> {
    shared: Arc<EventQueue<T>>,
}

/// A stream of events from the core to the host (call outcomes today; a worker's
/// completed/failed events next). Unbounded: the core never waits for the host to read.
pub struct Events<T> {
    shared: Arc<EventQueue<T>>,
}

struct EventQueue<T> {
    state: Mutex<EventState<T>>,
}

struct EventState<T> {
    items: VecDeque<T>,
    reader: Option<Waker>,
    senders: usize,
    /// The reader is gone: sends are dropped.
    closed: bool,
}

impl<T> EventQueue<T> {
    fn state(&self) -> MutexGuard<'_, EventState<T>> {
        // Pushes and takes only: a panic cannot leave the queue half changed.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A new event stream and its first sender.
pub fn events<T>() -> (EventSender<T>, Events<T>) {
    let shared = Arc::new(EventQueue {
        state: Mutex::new(EventState {
            items: VecDeque::new(),
            reader: None,
            senders: 1,
            closed: false,
        }),
    });
    (
        EventSender {
            shared: Arc::clone(&shared),
        },
        Events { shared },
    )
}

impl<T> EventSender<T> {
    /// Queue `event`; false if the stream's reader is gone (the event is dropped).
    pub fn send(&self, event: T) -> bool {
        let reader = {
            let mut state = self.shared.state();
            if state.closed {
                return false;
            }
            state.items.push_back(event);
            state.reader.take()
        };
        if let Some(w) = reader {
            w.wake();
        }
        true
    }
}

impl<T> Clone for EventSender<T> {
    fn clone(&self) -> Self {
        self.shared.state().senders += 1;
        EventSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for EventSender<T> {
    fn drop(&mut self) {
        let reader = {
            let mut state = self.shared.state();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.reader.take()
        };
        if let Some(w) = reader {
            w.wake();
        }
    }
}

impl<T> Events<T> {
    /// The next event; `None` once every sender is gone and the queue is empty.
    pub fn recv(&mut self) -> impl Future<Output = Option<T>> + '_ {
        std::future::poll_fn(|cx| self.poll_recv(cx))
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.shared.state();
        if let Some(item) = state.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if state.senders == 0 {
            return Poll::Ready(None);
        }
        state.reader = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Every event queued now, without waiting.
    pub fn drain(&mut self) -> Vec<T> {
        self.shared.state().items.drain(..).collect()
    }

    /// Whether the stream has ended: no sender is left and nothing is queued.
    pub fn is_finished(&self) -> bool {
        let state = self.shared.state();
        state.senders == 0 && state.items.is_empty()
    }
}

impl<T> futures_util::Stream for Events<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.poll_recv(cx)
    }
}

impl<T> Drop for Events<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state();
        state.closed = true;
        state.items.clear();
    }
}

/// One planned call of [`run_many`].
#[derive(Debug, Clone)]
pub struct Planned {
    /// The call's argument.
    pub arg: Vec<u8>,
    /// Cancel the call this long after it starts (`None`: let it finish).
    pub cancel_after: Option<Duration>,
}

/// How one call of [`run_many`] ended.
#[derive(Debug, Clone)]
pub struct CallReport {
    /// The call's position in the plan.
    pub index: usize,
    /// Whether its signal was set before it ended (by the plan).
    pub cancelled: bool,
    /// What the host function returned or raised.
    pub result: HostResult,
}

/// Call `f` once per planned call, at most `concurrency` calls in flight, cancelling each
/// call whose plan says so, and send every call's report to `reports` as it ends (in the
/// order calls end). Returns when every call has ended. The shape of a worker: a queue's
/// processor is driven the same way, with jobs for arguments.
pub async fn run_many(
    f: &dyn HostFunction,
    plan: Vec<Planned>,
    concurrency: usize,
    reports: &EventSender<CallReport>,
) {
    futures_util::stream::iter(plan.into_iter().enumerate())
        .for_each_concurrent(concurrency.max(1), |(index, planned)| async move {
            let cancel = Cancel::new();
            let pending = std::pin::pin!(call(f, planned.arg, cancel.clone()));
            let result = match planned.cancel_after {
                None => pending.await,
                Some(after) => {
                    let timer = std::pin::pin!(crate::rt::sleep(after));
                    match futures_util::future::select(pending, timer).await {
                        futures_util::future::Either::Left((result, _)) => result,
                        futures_util::future::Either::Right((_, pending)) => {
                            cancel.cancel();
                            pending.await
                        }
                    }
                }
            };
            reports.send(CallReport {
                index,
                cancelled: cancel.is_cancelled(),
                result,
            });
        })
        .await;
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// A host function in Rust, as a binding would write one: echoes its argument, fails
    /// on "fail", and on "wait" waits for its signal and reports that it saw it.
    struct Echo;

    impl HostFunction for Echo {
        fn call(&self, call: HostCall) -> BoxFuture<'static, HostResult> {
            Box::pin(async move {
                match call.arg.as_slice() {
                    b"fail" => Err(HostError::new("ValueError", "no").with_trace("at echo")),
                    b"wait" => {
                        call.cancel.cancelled().await;
                        Err(HostError::new("Cancelled", "saw the signal"))
                    }
                    other => Ok(other.to_vec()),
                }
            })
        }
    }

    fn plan(n: usize) -> Vec<Planned> {
        (0..n)
            .map(|i| match i % 3 {
                0 => Planned {
                    arg: b"wait".to_vec(),
                    cancel_after: Some(Duration::from_millis(1)),
                },
                1 => Planned {
                    arg: b"fail".to_vec(),
                    cancel_after: None,
                },
                _ => Planned {
                    arg: i.to_string().into_bytes(),
                    cancel_after: None,
                },
            })
            .collect()
    }

    #[tokio::test]
    async fn run_many_reports_every_outcome() {
        let (tx, mut rx) = events();
        run_many(&Echo, plan(300), 32, &tx).await;
        drop(tx);
        let mut seen = vec![false; 300];
        while let Some(report) = rx.recv().await {
            assert!(!std::mem::replace(&mut seen[report.index], true));
            match report.index % 3 {
                0 => {
                    assert!(report.cancelled);
                    assert_eq!(report.result.unwrap_err().kind(), "Cancelled");
                }
                1 => {
                    assert!(!report.cancelled);
                    let e = report.result.unwrap_err();
                    assert_eq!(
                        (e.kind(), e.message(), e.trace()),
                        ("ValueError", "no", Some("at echo"))
                    );
                }
                _ => assert_eq!(
                    report.result.unwrap(),
                    report.index.to_string().into_bytes()
                ),
            }
        }
        assert!(seen.iter().all(|&s| s));
        assert!(rx.is_finished());
    }

    #[tokio::test]
    async fn dropping_a_call_cancels_its_signal() {
        let cancel = Cancel::new();
        let pending = call(&Echo, b"wait".to_vec(), cancel.clone());
        let mut pending = Box::pin(pending);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(pending.as_mut().poll(&mut cx).is_pending());
        assert!(!cancel.is_cancelled());
        drop(pending);
        assert!(cancel.is_cancelled());
        // A finished call leaves its signal alone.
        let cancel = Cancel::new();
        assert_eq!(
            call(&Echo, b"x".to_vec(), cancel.clone()).await.unwrap(),
            b"x"
        );
        assert!(!cancel.is_cancelled());
    }

    #[test]
    fn a_signal_keeps_the_first_reason_given() {
        let cancel = Cancel::new();
        assert_eq!(cancel.reason(), None);
        cancel.cancel_with("TimeoutError: too slow");
        cancel.cancel_with("CancelledError: later");
        assert!(cancel.is_cancelled());
        assert_eq!(cancel.clone().reason(), Some("TimeoutError: too slow"));
    }

    #[test]
    fn a_thread_waits_for_the_signal() {
        let cancel = Cancel::new();
        assert!(!cancel.wait_blocking(Some(Duration::from_millis(5))));
        let setter = cancel.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            setter.cancel();
        });
        assert!(cancel.wait_blocking(None));
        t.join().unwrap();
    }

    #[test]
    fn a_host_error_keeps_what_was_raised() {
        let e = HostError::new("KeyError", "'id'").with_original(42u32);
        assert_eq!(e.to_string(), "KeyError: 'id'");
        assert_eq!(e.original::<u32>(), Some(&42));
        assert_eq!(e.original::<String>(), None);
        let core: Error = e.into();
        match core {
            Error::Loader(inner) => {
                let back = inner.downcast_ref::<HostError>().expect("a HostError");
                assert_eq!(back.kind(), "KeyError");
            }
            other => panic!("{other:?}"),
        }
    }
}
