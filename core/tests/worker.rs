//! The worker engine against a real redis-server and the embedded engine: concurrency,
//! fencing, batched renewal, stalled recovery, the limiter, timeouts and cancellation,
//! close, retries, events.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Backend;
use redkit::worker::{processor_fn, unrecoverable, FailureKind, WorkerEvent};
use redkit::{Cancel, Client, HostError, JobOptions};

/// Jobs go in through the queue (`Queue::add_bulk`); states are read back from it.
mod jobs {
    use super::*;
    use redkit::queue::Backoff;

    /// Add `n` jobs named `job` with data `{"i": k}` and `opts`.
    pub async fn add(client: &Client, queue: &str, n: usize, opts: JobOptions) -> Vec<String> {
        client
            .queue(queue)
            .unwrap()
            .add_bulk((0..n).map(|i| ("job", serde_json::json!({ "i": i }), opts.clone())))
            .await
            .expect("add")
            .into_iter()
            .map(|j| j.id)
            .collect()
    }

    pub fn none() -> JobOptions {
        JobOptions::default()
    }

    pub fn retried(attempts: u32, backoff_ms: u64) -> JobOptions {
        JobOptions::new()
            .attempts(attempts)
            .backoff(Backoff::fixed(Duration::from_millis(backoff_ms)))
    }

    pub async fn count(client: &Client, queue: &str, state: &str) -> u64 {
        let c = client.queue(queue).unwrap().counts().await.unwrap();
        match state {
            "completed" => c.completed,
            "failed" => c.failed,
            "active" => c.active,
            "waiting" => c.waiting,
            "delayed" => c.delayed,
            other => panic!("{other}"),
        }
    }

    pub async fn job(client: &Client, queue: &str, id: &str) -> redkit::Job {
        client
            .queue(queue)
            .unwrap()
            .get_job(id)
            .await
            .unwrap()
            .expect("job")
    }

    /// Wait until `state` holds `n` jobs (at most `within`).
    pub async fn until(client: &Client, queue: &str, state: &str, n: u64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let c = count(client, queue, state).await;
            if c >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{state} holds {c} jobs after {within:?}, expected {n}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn ok() -> Vec<u8> {
    b"\"ok\"".to_vec()
}

async fn concurrency_is_respected(backend: Backend) {
    let client = backend.client_named("w_conc").await;
    jobs::add(&client, "q", 20, jobs::none()).await;
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (n, p) = (now.clone(), peak.clone());
    let worker = client
        .worker(
            "q",
            processor_fn(move |_job, _cancel| {
                let (n, p) = (n.clone(), p.clone());
                async move {
                    let c = n.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(c, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    n.fetch_sub(1, Ordering::SeqCst);
                    Ok(ok())
                }
            }),
        )
        .concurrency(5)
        .build()
        .unwrap();
    jobs::until(&client, "q", "completed", 20, Duration::from_secs(10)).await;
    worker.close(true).await;
    assert_eq!(peak.load(Ordering::SeqCst), 5);
    assert_eq!(worker.stats().completed, 20);
    assert_eq!(worker.jobs_in_flight(), 0);
}
every_backend!(
    concurrency,
    super::concurrency_is_respected,
    flavor = "multi_thread"
);

async fn retries_then_unrecoverable(backend: Backend) {
    let client = backend.client_named("w_retry").await;
    let ids = jobs::add(&client, "q", 1, jobs::retried(3, 50)).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let worker = client
        .worker(
            "q",
            processor_fn(move |job, _| {
                let s = s.clone();
                async move {
                    s.lock().unwrap().push(job.attempts_made);
                    if job.attempts_made < 2 {
                        Err(HostError::new("Error", "flaky"))
                    } else {
                        Ok(ok())
                    }
                }
            }),
        )
        .autorun(false)
        .build()
        .unwrap();
    let mut events = worker.events();
    worker.start().unwrap();
    jobs::until(&client, "q", "completed", 1, Duration::from_secs(10)).await;
    assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2]);
    assert_eq!(jobs::job(&client, "q", &ids[0]).await.attempts_made, 3);
    let mut retries = 0;
    while let Some(e) = events.try_next() {
        if let WorkerEvent::Failed {
            will_retry, kind, ..
        } = e
        {
            assert!(will_retry);
            assert_eq!(kind, FailureKind::Error);
            retries += 1;
        }
    }
    assert_eq!(retries, 2);
    worker.close(true).await;

    // UnrecoverableError: no retry, whatever attempts remain.
    let ids = jobs::add(&client, "q", 1, jobs::retried(5, 0)).await;
    let worker = client
        .worker(
            "q",
            processor_fn(|_, _| async { Err(unrecoverable("bad payload")) }),
        )
        .build()
        .unwrap();
    jobs::until(&client, "q", "failed", 1, Duration::from_secs(10)).await;
    worker.close(true).await;
    let job = jobs::job(&client, "q", &ids[0]).await;
    assert_eq!(job.attempts_made, 1);
    assert_eq!(job.failed_reason.as_deref(), Some("bad payload"));

    // An error with no message (a bare `new Error()`, a `KeyboardInterrupt`) fails the job
    // with its kind as the reason: a failed job always says why.
    let ids = jobs::add(&client, "q", 1, jobs::none()).await;
    let worker = client
        .worker(
            "q",
            processor_fn(|_, _| async { Err(HostError::new("KeyboardInterrupt", "")) }),
        )
        .build()
        .unwrap();
    jobs::until(&client, "q", "failed", 2, Duration::from_secs(10)).await;
    worker.close(true).await;
    let job = jobs::job(&client, "q", &ids[0]).await;
    assert_eq!(job.failed_reason.as_deref(), Some("KeyboardInterrupt"));
}
every_backend!(
    retries,
    super::retries_then_unrecoverable,
    flavor = "multi_thread"
);

/// A processor that waits for its signal and notes that it saw it.
fn waits_for_its_signal(saw: Arc<Mutex<bool>>) -> Arc<dyn redkit::worker::Processor> {
    processor_fn(move |_, cancel: Cancel| {
        let saw = saw.clone();
        async move {
            cancel.cancelled().await;
            *saw.lock().unwrap() = true;
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(ok())
        }
    })
}

async fn timeout_reaches_the_processor(backend: Backend) {
    let client = backend.client_named("w_timeout").await;
    let ids = jobs::add(
        &client,
        "q",
        1,
        JobOptions::new().timeout(Duration::from_millis(150)),
    )
    .await;
    let saw = Arc::new(Mutex::new(false));
    let worker = client
        .worker("q", waits_for_its_signal(saw.clone()))
        .build()
        .unwrap();
    let started = Instant::now();
    jobs::until(&client, "q", "failed", 1, Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    worker.close(true).await;
    assert!(*saw.lock().unwrap(), "the processor saw its signal");
    let fr = jobs::job(&client, "q", &ids[0])
        .await
        .failed_reason
        .unwrap();
    assert!(fr.starts_with("TimeoutError"), "{fr}");
}
every_backend!(
    timeout,
    super::timeout_reaches_the_processor,
    flavor = "multi_thread"
);

async fn cancel_reaches_the_processor(backend: Backend) {
    let client = backend.client_named("w_cancel").await;
    let ids = jobs::add(&client, "q", 1, jobs::retried(3, 0)).await;
    let saw = Arc::new(Mutex::new(false));
    let worker = client
        .worker("q", waits_for_its_signal(saw.clone()))
        .lock_duration(Duration::from_millis(600))
        .build()
        .unwrap();
    jobs::until(&client, "q", "active", 1, Duration::from_secs(5)).await;
    let asked = Instant::now();
    assert!(client.queue("q").unwrap().cancel(&ids[0]).await.unwrap());
    jobs::until(&client, "q", "failed", 1, Duration::from_secs(5)).await;
    // The signal rides on the next lease renewal (every lock_duration / 2 here).
    assert!(asked.elapsed() < Duration::from_millis(1500));
    worker.close(true).await;
    assert!(*saw.lock().unwrap(), "the processor saw its signal");
    let fr = jobs::job(&client, "q", &ids[0])
        .await
        .failed_reason
        .unwrap();
    assert!(fr.starts_with("CancelledError"), "{fr}");
    // Cancelled means no retry, whatever attempts remain.
    assert_eq!(jobs::count(&client, "q", "delayed").await, 0);
    assert_eq!(jobs::count(&client, "q", "waiting").await, 0);
}
every_backend!(
    cancel,
    super::cancel_reaches_the_processor,
    flavor = "multi_thread"
);

async fn close_graceful_and_forced(backend: Backend) {
    let client = backend.client_named("w_close").await;
    jobs::add(&client, "q", 2, jobs::none()).await;
    let worker = client
        .worker(
            "q",
            processor_fn(|_, _| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(ok())
            }),
        )
        .concurrency(2)
        .build()
        .unwrap();
    jobs::until(&client, "q", "active", 2, Duration::from_secs(5)).await;
    worker.close(true).await;
    // Graceful: both results are in when close returns.
    assert_eq!(jobs::count(&client, "q", "completed").await, 2);
    assert_eq!(jobs::count(&client, "q", "active").await, 0);

    jobs::add(&client, "q", 1, jobs::none()).await;
    let saw = Arc::new(Mutex::new(false));
    let worker = client
        .worker("q", waits_for_its_signal(saw.clone()))
        .build()
        .unwrap();
    jobs::until(&client, "q", "active", 1, Duration::from_secs(5)).await;
    let t = Instant::now();
    worker.close(false).await;
    assert!(t.elapsed() < Duration::from_millis(500));
    assert!(*saw.lock().unwrap(), "the processor saw its signal");
    // Forced: the job is left to stalled recovery, still active under its lease.
    assert_eq!(jobs::count(&client, "q", "active").await, 1);
    assert_eq!(jobs::count(&client, "q", "completed").await, 2);
}
every_backend!(
    close,
    super::close_graceful_and_forced,
    flavor = "multi_thread"
);

/// `close()` that comes before `run()` (another thread closing a worker that has not
/// started yet, or one started but not yet waited on) still ends `run()`: the stop is
/// remembered even while nobody waits for it. `run()` used to wait forever.
async fn run_after_close_returns(backend: Backend) {
    let client = backend.client_named("w_close_run").await;
    let never_started = client
        .worker("q", processor_fn(|_, _| async { Ok(ok()) }))
        .autorun(false)
        .build()
        .unwrap();
    never_started.close(true).await;
    tokio::time::timeout(Duration::from_secs(5), never_started.run())
        .await
        .expect("run() after close() of a worker never started returns")
        .unwrap();

    let started = client
        .worker("q", processor_fn(|_, _| async { Ok(ok()) }))
        .heartbeat_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    started.close(true).await;
    tokio::time::timeout(Duration::from_secs(5), started.run())
        .await
        .expect("run() after close() of a started worker returns")
        .unwrap();
    // Its tasks stopped too, even those that had not looked at the stop flag before the
    // close: it beats no more. (A beat already in flight when close removes the worker
    // from `queue.workers()` can still put it back once; hence last_seen, not is_empty.)
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let q = client.queue("q").unwrap();
    let w = q.workers(Duration::from_secs(60)).await.unwrap();
    assert!(
        w.iter().all(|w| w.last_seen >= Duration::from_millis(500)),
        "{w:?}"
    );
}
every_backend!(
    run_after_close,
    super::run_after_close_returns,
    flavor = "multi_thread"
);

async fn stalled_job_is_recovered_in_time(backend: Backend) {
    let client = backend.client_named("w_stall").await;
    let ids = jobs::add(&client, "q", 1, jobs::none()).await;
    let lock = Duration::from_millis(800);
    let interval = Duration::from_millis(400);
    // The first worker takes the job and dies with it (close(false) stops it renewing).
    let dying = client
        .worker("q", processor_fn(|_, _| std::future::pending()))
        .lock_duration(lock)
        .build()
        .unwrap();
    jobs::until(&client, "q", "active", 1, Duration::from_secs(5)).await;
    dying.close(false).await;
    let died = Instant::now();
    let other = client
        .worker("q", processor_fn(|_, _| async { Ok(ok()) }))
        .lock_duration(lock)
        .stalled_interval(interval)
        .build()
        .unwrap();
    let mut events = other.events();
    jobs::until(&client, "q", "completed", 1, Duration::from_secs(5)).await;
    let took = died.elapsed();
    other.close(true).await;
    assert!(
        took <= lock + interval + Duration::from_millis(300),
        "recovered after {took:?}"
    );
    assert_eq!(jobs::job(&client, "q", &ids[0]).await.stalled_count, 1);
    let mut stalled = false;
    while let Some(e) = events.try_next() {
        stalled |= e
            == WorkerEvent::Stalled {
                job_id: ids[0].clone(),
            };
    }
    assert!(stalled, "the recovering worker emits `stalled`");
}
every_backend!(
    stalled,
    super::stalled_job_is_recovered_in_time,
    flavor = "multi_thread"
);

/// A worker frozen past its lease (a GC pause, a stopped VM) finishes late: the result is
/// refused and counted, and the job completes once, by the worker that took it over.
async fn late_result_is_refused(backend: Backend) {
    let client = backend.client_named("w_fence").await;
    let ids = jobs::add(&client, "q", 1, jobs::none()).await;
    let frozen_client = backend.client(client.prefix()).await;
    // The frozen worker lives on a runtime of one thread, which its processor blocks.
    let (tx, rx) = std::sync::mpsc::channel();
    let frozen = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let worker = frozen_client
                .worker(
                    "q",
                    processor_fn(|_, _| async {
                        std::thread::sleep(Duration::from_millis(1200));
                        Ok(b"\"late\"".to_vec())
                    }),
                )
                .lock_duration(Duration::from_millis(300))
                .build()
                .unwrap();
            // Wait for the late finish to be answered.
            let deadline = Instant::now() + Duration::from_secs(10);
            while worker.stats().refused == 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tx.send(worker.stats()).unwrap();
            worker.close(false).await;
        });
    });
    jobs::until(&client, "q", "active", 1, Duration::from_secs(5)).await;
    let rescuer = client
        .worker(
            "q",
            processor_fn(|_, _| async { Ok(b"\"rescued\"".to_vec()) }),
        )
        .stalled_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    jobs::until(&client, "q", "completed", 1, Duration::from_secs(5)).await;
    let stats = rx.recv_timeout(Duration::from_secs(15)).unwrap();
    frozen.join().unwrap();
    rescuer.close(true).await;
    assert_eq!(stats.refused, 1, "{stats:?}");
    assert_eq!(stats.completed, 0);
    assert_eq!(rescuer.stats().completed, 1);
    let job = jobs::job(&client, "q", &ids[0]).await;
    assert_eq!(job.return_value.as_deref(), Some(&b"\"rescued\""[..]));
    assert!(client.queue("q").unwrap().late_results().await.unwrap() >= 1);
}
every_backend!(
    fencing,
    super::late_result_is_refused,
    flavor = "multi_thread"
);

async fn limiter_is_shared_and_not_busy(backend: Backend) {
    let client = backend.client_named("w_limit").await;
    jobs::add(&client, "q", 12, jobs::none()).await;
    let starts = Arc::new(Mutex::new(Vec::new()));
    let make = |c: &Client| {
        let s = starts.clone();
        c.worker(
            "q",
            processor_fn(move |_, _| {
                let s = s.clone();
                async move {
                    s.lock().unwrap().push(Instant::now());
                    Ok(ok())
                }
            }),
        )
        .concurrency(10)
        .limiter(4, Duration::from_millis(400))
        .build()
        .unwrap()
    };
    let t0 = Instant::now();
    let a = make(&client);
    let b = make(&backend.client(client.prefix()).await);
    jobs::until(&client, "q", "completed", 12, Duration::from_secs(10)).await;
    let took = t0.elapsed();
    let calls = a.stats().take_calls + b.stats().take_calls;
    a.close(true).await;
    b.close(true).await;
    // 12 jobs at 4 per 400 ms across both workers: three windows, so at least 800 ms.
    assert!(took >= Duration::from_millis(790), "{took:?}");
    let mut s = starts.lock().unwrap().clone();
    s.sort();
    for w in s.windows(5) {
        assert!(
            w[4] - w[0] >= Duration::from_millis(350),
            "5 starts within one window"
        );
    }
    // A limited worker sleeps until the window ends: no busy loop.
    assert!(calls < 40, "{calls} take calls");
}
every_backend!(
    limiter,
    super::limiter_is_shared_and_not_busy,
    flavor = "multi_thread"
);

async fn events_and_pause(backend: Backend) {
    let client = backend.client_named("w_events").await;
    let worker = client
        .worker(
            "q",
            processor_fn(|mut job, _| async move {
                job.update_progress(serde_json::json!(50))
                    .await
                    .map_err(|e| HostError::new("Error", e.to_string()))?;
                Ok(ok())
            }),
        )
        .build()
        .unwrap();
    let mut events = worker.events();
    let ids = jobs::add(&client, "q", 1, jobs::none()).await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let e = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("event")
            .unwrap();
        seen.push(e);
    }
    assert!(seen.contains(&WorkerEvent::Completed {
        job_id: ids[0].clone(),
        result: ok()
    }));
    assert!(seen.contains(&WorkerEvent::Drained));
    assert!(seen.contains(&WorkerEvent::Progress {
        job_id: ids[0].clone(),
        progress: serde_json::json!(50)
    }));
    assert_eq!(
        jobs::job(&client, "q", &ids[0]).await.progress,
        Some(serde_json::json!(50))
    );

    worker.pause();
    tokio::time::sleep(Duration::from_millis(50)).await;
    jobs::add(&client, "q", 1, jobs::none()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(jobs::count(&client, "q", "completed").await, 1);
    worker.resume();
    jobs::until(&client, "q", "completed", 2, Duration::from_secs(5)).await;
    worker.close(true).await;
}
every_backend!(events, super::events_and_pause, flavor = "multi_thread");

/// A host function (what a binding implements once for its language) as a processor: the
/// job reaches the host as JSON and the host completes the call from another thread.
async fn host_function_processor(backend: Backend) {
    use redkit::{HostCall, HostFunction, HostResult};
    type Pending = (HostCall, tokio::sync::oneshot::Sender<HostResult>);
    struct Host(std::sync::mpsc::Sender<Pending>);
    impl HostFunction for Host {
        fn call(&self, call: HostCall) -> redkit::BoxFuture<'static, HostResult> {
            let (tx, rx) = tokio::sync::oneshot::channel();
            self.0.send((call, tx)).unwrap();
            Box::pin(async move {
                rx.await
                    .unwrap_or_else(|_| Err(HostError::new(HostError::UNREACHABLE, "gone")))
            })
        }
    }
    let client = backend.client_named("w_host").await;
    jobs::add(&client, "q", 30, jobs::none()).await;
    let (tx, rx) = std::sync::mpsc::channel::<Pending>();
    let host = std::thread::spawn(move || {
        let mut n = 0;
        while let Ok((call, reply)) = rx.recv_timeout(Duration::from_secs(5)) {
            let job: serde_json::Value = serde_json::from_slice(&call.arg).unwrap();
            let data: serde_json::Value =
                serde_json::from_str(job["data"].as_str().unwrap()).unwrap();
            let r = match data["i"].as_u64().unwrap() % 10 {
                7 => Err(HostError::new("ValueError", "seven").with_trace("at host")),
                9 => Err(HostError::new("UnrecoverableError", "nine")),
                i => Ok(i.to_string().into_bytes()),
            };
            reply.send(r).unwrap();
            n += 1;
            if n == 30 {
                break;
            }
        }
        n
    });
    let worker = client
        .worker("q", redkit::worker::host_processor(Arc::new(Host(tx))))
        .concurrency(8)
        .build()
        .unwrap();
    jobs::until(&client, "q", "completed", 24, Duration::from_secs(10)).await;
    jobs::until(&client, "q", "failed", 6, Duration::from_secs(10)).await;
    worker.close(true).await;
    assert_eq!(host.join().unwrap(), 30);
    let failed = client
        .queue("q")
        .unwrap()
        .get_jobs(&[redkit::JobState::Failed], 0, -1)
        .await
        .unwrap();
    let seven = failed
        .iter()
        .find(|j| j.failed_reason.as_deref() == Some("seven"))
        .unwrap();
    assert_eq!(seven.stacktrace, vec!["at host".to_string()]);
}
every_backend!(
    host_processor,
    super::host_function_processor,
    flavor = "multi_thread"
);

#[tokio::test]
async fn bad_options_are_refused() {
    let client = common::embedded("w_bad");
    let p = processor_fn(|_, _| async { Ok(Vec::new()) });
    for b in [
        client.worker("q", p.clone()).concurrency(0),
        client.worker("", p.clone()),
        client.worker("a{b}", p.clone()),
        client.worker("q", p.clone()).lock_duration(Duration::ZERO),
        client
            .worker("q", p.clone())
            .limiter(0, Duration::from_secs(1)),
    ] {
        assert_eq!(
            b.build().unwrap_err().kind(),
            redkit::ErrorKind::InvalidArgument
        );
    }
}

/// A paused queue hands the worker nothing; a resume wakes it at once. A delayed job runs
/// when due, though the idle worker blocks for up to `drain_delay` (5 s).
async fn queue_pause_and_delayed_jobs(backend: Backend) {
    let client = backend.client_named("w_qpause").await;
    let queue = client.queue("q").unwrap();
    let worker = client
        .worker("q", processor_fn(|_, _| async { Ok(ok()) }))
        .build()
        .unwrap();
    queue.pause().await.unwrap();
    jobs::add(&client, "q", 1, jobs::none()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(jobs::count(&client, "q", "completed").await, 0);
    let resumed = Instant::now();
    queue.resume().await.unwrap();
    jobs::until(&client, "q", "completed", 1, Duration::from_secs(5)).await;
    assert!(
        resumed.elapsed() < Duration::from_millis(1000),
        "{:?}",
        resumed.elapsed()
    );

    tokio::time::sleep(Duration::from_millis(100)).await;
    let added = Instant::now();
    jobs::add(
        &client,
        "q",
        1,
        JobOptions::new().delay(Duration::from_millis(400)),
    )
    .await;
    jobs::until(&client, "q", "completed", 2, Duration::from_secs(5)).await;
    let took = added.elapsed();
    worker.close(true).await;
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}
every_backend!(
    queue_pause,
    super::queue_pause_and_delayed_jobs,
    flavor = "multi_thread"
);

/// Heartbeats make a worker visible; a queue whose jobs wait while no worker was seen
/// within the window reads as stuck.
async fn liveness_reports_a_stuck_queue(backend: Backend) {
    let client = backend.client_named("w_live").await;
    let queue = client.queue("q").unwrap();
    let worker = client
        .worker("q", processor_fn(|_, _| async { Ok(ok()) }))
        .concurrency(3)
        .name("mailer")
        .build()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let live = queue.liveness(Duration::from_secs(10)).await.unwrap();
    assert_eq!(live.workers.len(), 1, "{live:?}");
    let w = &live.workers[0];
    assert_eq!(
        (w.name.as_str(), w.concurrency, w.pid),
        ("mailer", 3, std::process::id())
    );
    assert!(!live.stuck);
    let report = client.check().await.unwrap();
    assert!(!report.warnings.iter().any(|w| w.starts_with("queue ")));
    worker.close(true).await;
    // A closed worker leaves the list at once.
    assert!(queue
        .workers(Duration::from_secs(10))
        .await
        .unwrap()
        .is_empty());

    jobs::add(&client, "q", 2, jobs::none()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let live = queue.liveness(Duration::from_millis(200)).await.unwrap();
    assert_eq!(live.waiting, 2);
    assert!(live.workers.is_empty() && live.stuck, "{live:?}");
    // check() finds the queue and says so.
    let report = client.check().await.unwrap();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w == "queue q: 2 jobs waiting and no worker is registered"),
        "{:?}",
        report.warnings
    );
}
every_backend!(
    liveness,
    super::liveness_reports_a_stuck_queue,
    flavor = "multi_thread"
);

/// A binding's own runtime (`WorkerBuilder::spawner`): every task of the engine, the jobs'
/// included, runs where the spawner puts it (here a runtime on a thread of its own, not the
/// test's), and the worker behaves as on tokio's.
async fn tasks_run_on_the_given_spawner(backend: Backend) {
    struct OwnThread {
        handle: tokio::runtime::Handle,
        spawned: AtomicUsize,
    }
    impl redkit::worker::Spawner for OwnThread {
        fn spawn(&self, task: redkit::BoxFuture<'static, ()>) {
            self.spawned.fetch_add(1, Ordering::SeqCst);
            self.handle.spawn(task);
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || rt.block_on(async { stopped.await.ok() }));
    let spawner = Arc::new(OwnThread {
        handle,
        spawned: AtomicUsize::new(0),
    });

    let client = backend.client_named("w_spawner").await;
    jobs::add(&client, "q", 10, jobs::none()).await;
    let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let t = threads.clone();
    let worker = client
        .worker(
            "q",
            processor_fn(move |_, _| {
                t.lock().unwrap().insert(std::thread::current().id());
                async { Ok(ok()) }
            }),
        )
        .concurrency(3)
        .spawner(spawner.clone())
        .build()
        .unwrap();
    jobs::until(&client, "q", "completed", 10, Duration::from_secs(10)).await;
    worker.close(true).await;
    assert_eq!(worker.stats().completed, 10);
    // Four loops and one task per job.
    assert!(spawner.spawned.load(Ordering::SeqCst) >= 14);
    let seen = threads.lock().unwrap().clone();
    assert_eq!(
        seen,
        [thread.thread().id()].into_iter().collect(),
        "every job ran on the spawner's thread"
    );
    stop.send(()).unwrap();
    thread.join().unwrap();
}
every_backend!(
    spawner,
    super::tasks_run_on_the_given_spawner,
    flavor = "multi_thread"
);
