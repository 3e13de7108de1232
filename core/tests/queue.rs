//! The queue against a real server and the embedded engine: every behaviour of the Queue
//! section of the shared API that needs no worker engine, driven through the calls the
//! worker makes (take, finish, extend, maintain), and the round-trip counts.

mod common;

use std::time::Duration;

use common::Backend;
use redkit::queue::{
    Backoff, Finish, Finished, JobOptions, JobState, Outcome, Removal, Repeat, SchedulerSpec, Take,
    TakeArgs, WorkerBeat,
};
use redkit::{Client, Error, Queue};
use redkit_testkit::Server;
use serde_json::json;

fn args(lock_ms: u64) -> TakeArgs {
    TakeArgs {
        worker_id: "w1".into(),
        lock: Duration::from_millis(lock_ms),
        limiter: None,
    }
}

/// Take one job (panics when none is ready).
async fn take_one(q: &Queue, lock_ms: u64) -> redkit::Job {
    match q.take(&args(lock_ms), 1).await.unwrap() {
        Take::Jobs(mut jobs) => jobs.remove(0),
        other => panic!("expected a job, got {other:?}"),
    }
}

async fn finish(q: &Queue, job: &redkit::Job, outcome: Outcome) -> Finished {
    let (fins, _) = q
        .finish(
            &[Finish {
                id: job.id.clone(),
                token: job.token,
                outcome,
                jitter_draw: 0.0,
            }],
            &args(30_000),
            0,
        )
        .await
        .unwrap();
    fins[0]
}

fn completed(v: serde_json::Value) -> Outcome {
    Outcome::Completed(serde_json::to_vec(&v).unwrap())
}

fn failed(reason: &str) -> Outcome {
    Outcome::Failed {
        reason: reason.into(),
        stack: Some(format!("Error: {reason}\n  at processor")),
    }
}

async fn add_get_counts_and_state(backend: Backend) {
    let c = backend.client_named("q_add").await;
    let q = c.queue("emails").unwrap();
    let job = q
        .add(
            "send-welcome",
            &json!({"to": "user@example.com"}),
            JobOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(job.id, "1");
    assert!(job.timestamp > 1_600_000_000_000);
    let got = q.get_job("1").await.unwrap().unwrap();
    assert_eq!(got.name, "send-welcome");
    assert_eq!(
        got.data::<serde_json::Value>().unwrap(),
        json!({"to": "user@example.com"})
    );
    assert_eq!(got.timestamp, job.timestamp);
    assert_eq!(got.attempts_made, 0);
    assert_eq!(q.state("1").await.unwrap(), Some(JobState::Waiting));
    assert_eq!(q.state("nope").await.unwrap(), None);
    assert!(q.get_job("nope").await.unwrap().is_none());
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.waiting, counts.active, counts.delayed), (1, 0, 0));

    let j = take_one(&q, 30_000).await;
    assert_eq!(j.id, "1");
    assert_eq!(j.token, 1);
    assert!(j.processed_on.unwrap() >= job.timestamp);
    assert_eq!(q.state("1").await.unwrap(), Some(JobState::Active));
    assert_eq!(
        finish(&q, &j, completed(json!({"sent": true}))).await,
        Finished::Completed
    );
    let done = q.get_job("1").await.unwrap().unwrap();
    assert_eq!(done.attempts_made, 1);
    assert_eq!(
        done.return_value::<serde_json::Value>().unwrap(),
        Some(json!({"sent": true}))
    );
    assert!(done.finished_on.is_some());
    assert_eq!(q.state("1").await.unwrap(), Some(JobState::Completed));
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.waiting, counts.completed), (0, 1));
}
every_backend!(add_get_counts_and_state, super::add_get_counts_and_state);

async fn job_id_and_deduplication(backend: Backend) {
    let c = backend.client_named("q_dedup").await;
    let q = c.queue("q").unwrap();
    let a = q
        .add("a", &1, JobOptions::new().job_id("order-7"))
        .await
        .unwrap();
    let b = q
        .add("b", &2, JobOptions::new().job_id("order-7"))
        .await
        .unwrap();
    assert_eq!((a.id.as_str(), b.id.as_str()), ("order-7", "order-7"));
    assert_eq!(b.name, "a", "the existing job comes back");
    assert_eq!(q.counts().await.unwrap().waiting, 1);

    let ttl = Some(Duration::from_millis(150));
    let d1 = q
        .add("d", &1, JobOptions::new().deduplication("user:1", ttl))
        .await
        .unwrap();
    let d2 = q
        .add("d", &2, JobOptions::new().deduplication("user:1", ttl))
        .await
        .unwrap();
    assert_eq!(d1.id, d2.id);
    assert_eq!(d2.data::<i32>().unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let d3 = q
        .add("d", &3, JobOptions::new().deduplication("user:1", ttl))
        .await
        .unwrap();
    assert_ne!(d3.id, d1.id, "the window is over");

    // Without a ttl: until the job finishes.
    let e1 = q
        .add("e", &1, JobOptions::new().deduplication("until-done", None))
        .await
        .unwrap();
    let e2 = q
        .add("e", &2, JobOptions::new().deduplication("until-done", None))
        .await
        .unwrap();
    assert_eq!(e1.id, e2.id);
    q.drain(false).await.unwrap();
    let e3 = q
        .add("e", &3, JobOptions::new().deduplication("until-done", None))
        .await
        .unwrap();
    assert_ne!(e3.id, e1.id, "a removed job releases its deduplication id");
}
every_backend!(job_id_and_deduplication, super::job_id_and_deduplication);

async fn delivery_order_priority_fifo_lifo(backend: Backend) {
    let c = backend.client_named("q_order").await;
    let q = c.queue("q").unwrap();
    let specs: Vec<(&str, JobOptions)> = vec![
        ("p5a", JobOptions::new().priority(5)),
        ("plain1", JobOptions::new()),
        ("p1", JobOptions::new().priority(1)),
        ("plain2", JobOptions::new()),
        ("p5b", JobOptions::new().priority(5)),
        ("lifo", JobOptions::new().lifo(true)),
    ];
    q.add_bulk(specs.iter().map(|(n, o)| (*n, &0, o.clone())))
        .await
        .unwrap();
    let mut order = Vec::new();
    while let Take::Jobs(jobs) = q.take(&args(30_000), 1).await.unwrap() {
        order.push(jobs[0].name.clone());
    }
    assert_eq!(order, ["lifo", "plain1", "plain2", "p1", "p5a", "p5b"]);
}
every_backend!(
    delivery_order_priority_fifo_lifo,
    super::delivery_order_priority_fifo_lifo
);

async fn delay_and_promote(backend: Backend) {
    let c = backend.client_named("q_delay").await;
    let q = c.queue("q").unwrap();
    let j = q
        .add(
            "later",
            &0,
            JobOptions::new().delay(Duration::from_millis(300)),
        )
        .await
        .unwrap();
    assert_eq!(q.state(&j.id).await.unwrap(), Some(JobState::Delayed));
    match q.take(&args(30_000), 1).await.unwrap() {
        Take::Empty { wait: Some(w) } => {
            assert!(w <= Duration::from_millis(300), "{w:?}")
        }
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(take_one(&q, 30_000).await.id, j.id);

    let k = q
        .add(
            "much-later",
            &0,
            JobOptions::new().delay(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    assert!(q.promote(&k.id).await.unwrap());
    assert!(!q.promote(&k.id).await.unwrap());
    assert_eq!(take_one(&q, 30_000).await.id, k.id);
    assert!(matches!(
        q.take(&args(30_000), 1).await.unwrap(),
        Take::Empty { wait: None }
    ));
}
every_backend!(delay_and_promote, super::delay_and_promote);

async fn retries_with_backoff_then_failure(backend: Backend) {
    let c = backend.client_named("q_retry").await;
    let q = c.queue("q").unwrap();
    let j = q
        .add(
            "flaky",
            &0,
            JobOptions::new()
                .attempts(3)
                .backoff(Backoff::exponential(Duration::from_millis(100))),
        )
        .await
        .unwrap();
    let mut waits = Vec::new();
    for attempt in 1..=3u32 {
        let got = loop {
            match q.take(&args(30_000), 1).await.unwrap() {
                Take::Jobs(mut jobs) => break jobs.remove(0),
                Take::Empty { wait: Some(w) } => {
                    waits.push(w);
                    tokio::time::sleep(w).await;
                }
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(got.id, j.id);
        assert_eq!(got.token, u64::from(attempt));
        let fin = finish(&q, &got, failed(&format!("boom {attempt}"))).await;
        let expected = if attempt < 3 {
            Finished::Retrying
        } else {
            Finished::Failed
        };
        assert_eq!(fin, expected);
        if attempt < 3 {
            assert_eq!(q.state(&j.id).await.unwrap(), Some(JobState::Delayed));
        }
    }
    // The backoff delays, exactly as the retrying events state them: 100 ms, then 200 ms
    // (and a worker never waited longer than the delay).
    assert!(
        waits.iter().all(|w| *w <= Duration::from_millis(200)),
        "{waits:?}"
    );
    let delays: Vec<String> = q
        .events_from("0")
        .unwrap()
        .next_batch(Duration::from_millis(10))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "retrying")
        .map(|e| e.fields["delay"].clone())
        .collect();
    assert_eq!(delays, ["100", "200"]);
    let done = q.get_job(&j.id).await.unwrap().unwrap();
    assert_eq!(done.attempts_made, 3);
    assert_eq!(done.failed_reason.as_deref(), Some("boom 3"));
    assert_eq!(done.stacktrace.len(), 3);
    assert_eq!(q.state(&j.id).await.unwrap(), Some(JobState::Failed));

    // Unrecoverable: no retry left unused matters.
    let u = q.add("u", &0, JobOptions::new().attempts(5)).await.unwrap();
    let got = take_one(&q, 30_000).await;
    assert_eq!(got.id, u.id);
    assert_eq!(
        finish(
            &q,
            &got,
            Outcome::Unrecoverable {
                reason: "bad address".into(),
                stack: Some("UnrecoverableError: bad address\n  at processor".into()),
            }
        )
        .await,
        Finished::Failed
    );
    // Its stack is kept, as a failure's is.
    let gone = q.get_job(&u.id).await.unwrap().unwrap();
    assert_eq!(
        gone.stacktrace,
        ["UnrecoverableError: bad address\n  at processor"]
    );
    assert_eq!(q.counts().await.unwrap().failed, 2);
    assert_eq!(q.retry_jobs(JobState::Failed).await.unwrap(), 2);
    assert_eq!(q.get_job(&j.id).await.unwrap().unwrap().attempts_made, 0);
    assert_eq!(q.counts().await.unwrap().waiting, 2);
}
every_backend!(
    retries_with_backoff_then_failure,
    super::retries_with_backoff_then_failure
);

async fn fencing_stalls_and_late_results(backend: Backend) {
    let c = backend.client_named("q_fence").await;
    let q = c.queue("q").unwrap();
    let j = q.add("slow", &0, JobOptions::new()).await.unwrap();
    let first = take_one(&q, 50).await;
    tokio::time::sleep(Duration::from_millis(80)).await;
    // The lease is gone: the first worker can neither extend nor finish.
    let beat = WorkerBeat {
        id: "w1".into(),
        ..Default::default()
    };
    let ext = q
        .extend(
            &beat,
            Duration::from_secs(30),
            &[(j.id.clone(), first.token)],
        )
        .await
        .unwrap();
    assert_eq!(ext.lost, [j.id.as_str()]);
    let m = q.maintain(1, 100, Duration::from_secs(60)).await.unwrap();
    assert_eq!(m.stalled, [j.id.as_str()]);
    assert_eq!(q.state(&j.id).await.unwrap(), Some(JobState::Waiting));
    let second = take_one(&q, 30_000).await;
    assert_eq!(second.token, 2);
    assert_eq!(second.stalled_count, 1);
    assert_eq!(
        finish(&q, &first, completed(json!("late"))).await,
        Finished::Lost,
        "a stale delivery cannot complete the job"
    );
    assert_eq!(
        finish(&q, &second, completed(json!("ok"))).await,
        Finished::Completed
    );
    assert_eq!(
        finish(&q, &second, completed(json!("twice"))).await,
        Finished::Lost,
        "one delivery completes once"
    );
    assert_eq!(q.late_results().await.unwrap(), 3);
    let done = q.get_job(&j.id).await.unwrap().unwrap();
    assert_eq!(
        done.return_value::<String>().unwrap().as_deref(),
        Some("ok")
    );

    // A delivery whose failure scheduled a retry (the job is waiting again, its lease
    // not past) is over too: a repeated finish (a call resent after a lost reply) is
    // refused, and so is the second of one delivery's two ends in one call.
    let r = q
        .add("retried", &0, JobOptions::new().attempts(3))
        .await
        .unwrap();
    let d = take_one(&q, 30_000).await;
    assert_eq!(finish(&q, &d, failed("once")).await, Finished::Retrying);
    assert_eq!(
        finish(&q, &d, completed(json!("again"))).await,
        Finished::Lost
    );
    assert_eq!(q.state(&r.id).await.unwrap(), Some(JobState::Waiting));
    let d = take_one(&q, 30_000).await;
    let end = |v: &str| Finish {
        id: d.id.clone(),
        token: d.token,
        outcome: completed(json!(v)),
        jitter_draw: 0.0,
    };
    let (fins, _) = q
        .finish(&[end("first"), end("second")], &args(30_000), 0)
        .await
        .unwrap();
    assert_eq!(fins, [Finished::Completed, Finished::Lost]);
    let got = q.get_job(&r.id).await.unwrap().unwrap();
    assert_eq!(
        got.return_value::<String>().unwrap().as_deref(),
        Some("first")
    );
    assert_eq!(q.counts().await.unwrap().active, 0);
    assert_eq!(q.late_results().await.unwrap(), 5);

    // Stalled more than max_stalled_count times: failed.
    let s = q.add("dies", &0, JobOptions::new()).await.unwrap();
    for _ in 0..2 {
        take_one(&q, 20).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        q.maintain(1, 100, Duration::from_secs(60)).await.unwrap();
    }
    assert_eq!(q.state(&s.id).await.unwrap(), Some(JobState::Failed));
    let f = q.get_job(&s.id).await.unwrap().unwrap();
    assert_eq!(
        f.failed_reason.as_deref(),
        Some("job stalled more than allowable limit")
    );
}
every_backend!(
    fencing_stalls_and_late_results,
    super::fencing_stalls_and_late_results
);

async fn remove_on_complete_and_fail(backend: Backend) {
    let c = backend.client_named("q_keep").await;
    let q = c.queue("q").unwrap();
    let run_all = |q: Queue, outcome: Outcome| async move {
        while let Take::Jobs(jobs) = q.take(&args(30_000), 10).await.unwrap() {
            for j in jobs {
                finish(&q, &j, outcome.clone()).await;
            }
        }
    };
    let opts = JobOptions::new().remove_on_complete(Removal::Remove);
    q.add_bulk((0..3).map(|_| ("x", &0, opts.clone())))
        .await
        .unwrap();
    run_all(q.clone(), completed(json!(1))).await;
    assert_eq!(q.counts().await.unwrap().completed, 0);

    let opts = JobOptions::new().remove_on_complete(Removal::KeepLast(2));
    q.add_bulk((0..5).map(|_| ("x", &0, opts.clone())))
        .await
        .unwrap();
    run_all(q.clone(), completed(json!(1))).await;
    assert_eq!(q.counts().await.unwrap().completed, 2);
    let kept: Vec<String> = q
        .get_jobs(&[JobState::Completed], 0, -1)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(kept, ["8", "7"], "the newest are kept");

    let opts = JobOptions::new().remove_on_fail(Removal::KeepFor {
        age: Duration::from_secs(1),
        count: None,
    });
    q.add_bulk((0..3).map(|_| ("x", &0, opts.clone())))
        .await
        .unwrap();
    run_all(q.clone(), failed("no")).await;
    assert_eq!(q.counts().await.unwrap().failed, 3);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // No job finishes any more: the workers' upkeep removes them.
    let m = q.maintain(1, 100, Duration::from_secs(60)).await.unwrap();
    assert_eq!(m.removed, 3);
    assert_eq!(q.counts().await.unwrap().failed, 0);
}
every_backend!(
    remove_on_complete_and_fail,
    super::remove_on_complete_and_fail
);

/// The scripts batch their writes within one call (the wait list's pushes in an add, the
/// active set's entries in a take, the completed set's entries in a finish): the result
/// must be the one of the jobs handled one by one.
async fn one_call_batches_as_one_by_one(backend: Backend) {
    let c = backend.client_named("q_batch").await;
    let q = c.queue("q").unwrap();
    let specs: Vec<(&str, JobOptions)> = vec![
        ("a", JobOptions::new()),
        ("p", JobOptions::new().priority(1)),
        ("b", JobOptions::new()),
        ("l", JobOptions::new().lifo(true)),
        ("c", JobOptions::new()),
        ("d", JobOptions::new()),
    ];
    q.add_bulk(specs.iter().map(|(n, o)| (*n, &0, o.clone())))
        .await
        .unwrap();
    let names = |t: Take| match t {
        Take::Jobs(jobs) => jobs.into_iter().map(|j| j.name).collect::<Vec<_>>(),
        other => panic!("expected jobs, got {other:?}"),
    };
    assert_eq!(
        names(q.take(&args(30_000), 4).await.unwrap()),
        ["l", "a", "b", "c"]
    );
    assert_eq!(names(q.take(&args(30_000), 10).await.unwrap()), ["d", "p"]);
    assert_eq!(q.counts().await.unwrap().active, 6);

    // Four deliveries finished in one call; the second keeps only the last completed job,
    // so the first one (completed just before it) goes, the later two stay.
    let keep_one = JobOptions::new().remove_on_complete(Removal::KeepLast(1));
    let opts = [
        JobOptions::new(),
        keep_one,
        JobOptions::new(),
        JobOptions::new(),
    ];
    let q2 = c.queue("q2").unwrap();
    let added = q2
        .add_bulk(opts.iter().map(|o| ("x", &0, o.clone())))
        .await
        .unwrap();
    let jobs = match q2.take(&args(30_000), 4).await.unwrap() {
        Take::Jobs(jobs) => jobs,
        other => panic!("expected jobs, got {other:?}"),
    };
    let finishes: Vec<Finish> = jobs
        .iter()
        .map(|j| Finish {
            id: j.id.clone(),
            token: j.token,
            outcome: completed(json!(1)),
            jitter_draw: 0.0,
        })
        .collect();
    let (fins, _) = q2.finish(&finishes, &args(30_000), 0).await.unwrap();
    assert_eq!(fins, [Finished::Completed; 4]);
    assert_eq!(q2.counts().await.unwrap().completed, 3);
    assert!(q2.get_job(&added[0].id).await.unwrap().is_none());
    for j in &added[1..] {
        assert_eq!(q2.state(&j.id).await.unwrap(), Some(JobState::Completed));
    }
}
every_backend!(
    one_call_batches_as_one_by_one,
    super::one_call_batches_as_one_by_one
);

async fn pause_limiter_and_cancel(backend: Backend) {
    let c = backend.client_named("q_pause").await;
    let q = c.queue("q").unwrap();
    q.add_bulk((0..4).map(|i| ("x", i, JobOptions::new())))
        .await
        .unwrap();
    q.pause().await.unwrap();
    assert!(q.is_paused().await.unwrap());
    assert!(q.counts().await.unwrap().paused);
    assert_eq!(q.counts().await.unwrap().as_map()["paused"], 4);
    assert!(matches!(
        q.take(&args(30_000), 1).await.unwrap(),
        Take::Limited { wait: None }
    ));
    q.add("still-accepted", &0, JobOptions::new())
        .await
        .unwrap();
    q.resume().await.unwrap();
    assert!(!q.is_paused().await.unwrap());

    let limited = TakeArgs {
        limiter: Some((2, Duration::from_secs(10))),
        ..args(30_000)
    };
    let Take::Jobs(jobs) = q.take(&limited, 5).await.unwrap() else {
        panic!("expected jobs")
    };
    assert_eq!(jobs.len(), 2, "the limiter admits 2 per window");
    match q.take(&limited, 1).await.unwrap() {
        Take::Limited { wait: Some(w) } => assert!(w <= Duration::from_secs(10)),
        other => panic!("{other:?}"),
    }

    // Cancel: an active job is flagged for its worker, a waiting one fails at once.
    let active = &jobs[0];
    assert!(q.cancel(&active.id).await.unwrap());
    let beat = WorkerBeat {
        id: "w1".into(),
        host: "h".into(),
        pid: 7,
        concurrency: 2,
        running: 2,
        ..Default::default()
    };
    let ext = q
        .extend(
            &beat,
            Duration::from_secs(30),
            &[
                (active.id.clone(), active.token),
                (jobs[1].id.clone(), jobs[1].token),
            ],
        )
        .await
        .unwrap();
    assert_eq!(ext.cancelled, [active.id.as_str()]);
    assert!(ext.lost.is_empty());
    assert!(q.cancel("3").await.unwrap());
    assert_eq!(q.state("3").await.unwrap(), Some(JobState::Failed));
    assert!(!q.cancel("3").await.unwrap(), "finished already");

    let workers = q.workers(Duration::from_secs(10)).await.unwrap();
    assert_eq!(workers.len(), 1);
    assert_eq!((workers[0].pid, workers[0].running), (7, 2));
}
every_backend!(pause_limiter_and_cancel, super::pause_limiter_and_cancel);

async fn progress_logs_remove_clean_events(backend: Backend) {
    let c = backend.client_named("q_misc").await;
    let q = c.queue("q").unwrap();
    let mut events = q.events_from("0").unwrap();
    let mut j = q.add("x", &0, JobOptions::new()).await.unwrap();
    j.update_progress(json!({"pct": 50})).await.unwrap();
    assert_eq!(j.log("step 1").await.unwrap(), 1);
    assert_eq!(j.log("step 2").await.unwrap(), 2);
    assert_eq!(q.logs(&j.id, 0, -1).await.unwrap(), ["step 1", "step 2"]);
    let got = q.get_job(&j.id).await.unwrap().unwrap();
    assert_eq!(got.progress, Some(json!({"pct": 50})));
    assert!(matches!(
        q.update_progress("nope", &json!(1)).await,
        Err(Error::NotFound(_))
    ));

    let taken = take_one(&q, 30_000).await;
    assert!(matches!(
        q.remove(&j.id).await,
        Err(Error::InvalidArgument(_))
    ));
    finish(&q, &taken, completed(json!(null))).await;
    assert!(q.remove(&j.id).await.unwrap());
    assert!(!q.remove(&j.id).await.unwrap());
    assert!(q.logs(&j.id, 0, -1).await.unwrap().is_empty());

    let seen = events.next_batch(Duration::from_millis(100)).await.unwrap();
    let names: Vec<&str> = seen.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        ["waiting", "progress", "active", "completed", "removed"]
    );
    // A take's one `active` entry reads as one event per job it leased.
    assert_eq!(seen[2].job_id.as_deref(), Some(j.id.as_str()));
    assert!(seen[2].fields.is_empty());

    q.add_bulk((0..3).map(|i| ("old", i, JobOptions::new())))
        .await
        .unwrap();
    // Far apart, so a loaded machine cannot blur old and new.
    tokio::time::sleep(Duration::from_millis(600)).await;
    q.add("new", &0, JobOptions::new()).await.unwrap();
    let removed = q
        .clean(Duration::from_millis(300), 100, JobState::Waiting)
        .await
        .unwrap();
    assert_eq!(removed.len(), 3);
    assert_eq!(q.counts().await.unwrap().waiting, 1);
}
every_backend!(
    progress_logs_remove_clean_events,
    super::progress_logs_remove_clean_events
);

async fn one_completed_entry_per_finish_call(backend: Backend) {
    let c = backend.client_named("q_done").await;
    let q = c.queue("q").unwrap();
    q.add_bulk((0..3).map(|i| ("x", i, JobOptions::new())))
        .await
        .unwrap();
    let jobs = match q.take(&args(30_000), 3).await.unwrap() {
        Take::Jobs(jobs) => jobs,
        other => panic!("{other:?}"),
    };
    let mut events = q.events();
    events.prime().await.unwrap();
    let finishes: Vec<Finish> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| Finish {
            id: j.id.clone(),
            token: j.token,
            outcome: completed(json!({ "n": i })),
            jitter_draw: 0.0,
        })
        .collect();
    let (fins, _) = q.finish(&finishes, &args(30_000), 0).await.unwrap();
    assert!(fins.iter().all(|f| *f == Finished::Completed), "{fins:?}");

    // The three jobs' ends are one stream entry (one XADD for the call)...
    let entries = c
        .transport()
        .send(
            redkit::Cmd::new("XREVRANGE")
                .arg(format!("{}:{{queue:q}}:events", c.prefix()))
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1),
        )
        .await
        .unwrap();
    let redkit::Value::Array(entries) = entries else {
        panic!("{entries:?}")
    };
    let redkit::Value::Array(entry) = &entries[0] else {
        panic!("{entries:?}")
    };
    let redkit::Value::Array(fields) = &entry[1] else {
        panic!("{entry:?}")
    };
    assert_eq!(
        fields.len(),
        2 + 4 * 3,
        "ev completed, then id and rv per job"
    );
    // ...which the reader gives as one `completed` event per job, each with its own value.
    let seen = events.next_batch(Duration::from_millis(100)).await.unwrap();
    let got: Vec<(String, Option<String>, String)> = seen
        .iter()
        .map(|e| (e.event.clone(), e.job_id.clone(), e.fields["rv"].clone()))
        .collect();
    let want: Vec<(String, Option<String>, String)> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            (
                "completed".into(),
                Some(j.id.clone()),
                format!("{{\"n\":{i}}}"),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(seen
        .iter()
        .all(|e| e.id == seen[0].id && e.fields.len() == 1));
}
every_backend!(
    one_completed_entry_per_finish_call,
    super::one_completed_entry_per_finish_call
);

/// The keys whose names start with `prefix` (KEYS is fine on a test's own data).
async fn key_count(c: &Client) -> usize {
    let r = c
        .transport()
        .send(redkit::Cmd::new("KEYS").arg(format!("{}*", c.prefix())))
        .await
        .unwrap();
    match r {
        redkit::Value::Array(a) => a.len(),
        other => panic!("{other:?}"),
    }
}

async fn drain_and_obliterate_return_to_baseline(backend: Backend) {
    let c = backend.client_named("q_obl").await;
    let baseline = key_count(&c).await;
    let q = c.queue("q").unwrap();
    q.add_bulk((0..2500).map(|i| ("x", i, JobOptions::new())))
        .await
        .unwrap();
    q.add("d", &0, JobOptions::new().delay(Duration::from_secs(60)))
        .await
        .unwrap();
    q.drain(false).await.unwrap();
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.waiting, counts.delayed), (0, 1));
    q.add_bulk((0..2500).map(|i| ("x", i, JobOptions::new().attempts(2))))
        .await
        .unwrap();
    let taken = take_one(&q, 30_000).await;
    finish(&q, &taken, failed("x")).await;
    take_one(&q, 30_000).await;
    q.upsert_scheduler(
        "s",
        SchedulerSpec::new(
            Repeat::Every(Duration::from_secs(60)),
            "tick",
            b"0".to_vec(),
            JobOptions::new(),
        ),
    )
    .await
    .unwrap();
    assert!(matches!(
        q.obliterate(false).await,
        Err(Error::InvalidArgument(_))
    ));
    q.obliterate(true).await.unwrap();
    assert_eq!(key_count(&c).await, baseline);
}
every_backend!(
    drain_and_obliterate_return_to_baseline,
    super::drain_and_obliterate_return_to_baseline
);

async fn schedulers_one_job_per_slot(backend: Backend) {
    let c = backend.client_named("q_sched").await;
    let q = c.queue("q").unwrap();
    let spec = |every| {
        SchedulerSpec::new(
            Repeat::Every(every),
            "tick",
            b"{\"n\":1}".to_vec(),
            JobOptions::new(),
        )
    };
    let first = q
        .upsert_scheduler("tick", spec(Duration::from_millis(200)))
        .await
        .unwrap();
    // A restart upserting the same definition keeps the pending job.
    let again = q
        .upsert_scheduler("tick", spec(Duration::from_millis(200)))
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(q.counts().await.unwrap().delayed, 1);
    let listed = q.schedulers().await.unwrap();
    assert_eq!(listed.len(), 1);
    let slot = listed[0].next.unwrap();
    assert_eq!(slot % 200, 0);
    assert_eq!(first, format!("repeat:tick:{slot}"));

    tokio::time::sleep(Duration::from_millis(250)).await;
    let job = take_one(&q, 30_000).await;
    assert_eq!(job.scheduler, Some(("tick".to_string(), slot)));
    // Two workers advancing the same slot add one job.
    q.advance_scheduler(&job).await.unwrap();
    q.advance_scheduler(&job).await.unwrap();
    let counts = q.counts().await.unwrap();
    assert_eq!(counts.delayed + counts.waiting, 1);
    let next = q.schedulers().await.unwrap()[0].next.unwrap();
    assert!(next > slot && next % 200 == 0);

    // A changed definition replaces the pending job.
    let replaced = q
        .upsert_scheduler("tick", spec(Duration::from_secs(3600)))
        .await
        .unwrap();
    assert!(replaced.starts_with("repeat:tick:"));
    // The old pending job is gone unless its time came already (then it runs).
    assert_eq!(q.counts().await.unwrap().delayed, 1);
    assert_eq!(
        q.schedulers().await.unwrap()[0].next.unwrap() % 3_600_000,
        0
    );

    assert!(q.remove_scheduler("tick").await.unwrap());
    assert!(!q.remove_scheduler("tick").await.unwrap());
    assert_eq!(q.counts().await.unwrap().delayed, 0);
    assert!(q.schedulers().await.unwrap().is_empty());
}
every_backend!(
    schedulers_one_job_per_slot,
    super::schedulers_one_job_per_slot
);

async fn wait_until_finished_sees_the_result(backend: Backend) {
    let c = backend.client_named("q_wait").await;
    let q = c.queue("q").unwrap();
    let j = q.add("x", &0, JobOptions::new()).await.unwrap();
    let waiter = {
        let j = j.clone();
        tokio::spawn(async move { j.wait_until_finished(Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let taken = take_one(&q, 30_000).await;
    finish(&q, &taken, completed(json!(42))).await;
    let rv = waiter.await.unwrap().unwrap();
    assert_eq!(rv.as_deref(), Some(&b"42"[..]));

    let f = q.add("y", &0, JobOptions::new()).await.unwrap();
    let taken = take_one(&q, 30_000).await;
    finish(&q, &taken, failed("nope")).await;
    assert!(matches!(
        f.wait_until_finished(Duration::from_secs(1)).await,
        Err(Error::JobFailed(r)) if r == "nope"
    ));
    // A job removed as it completes: its event carries the result.
    let r = q
        .add(
            "r",
            &0,
            JobOptions::new().remove_on_complete(Removal::Remove),
        )
        .await
        .unwrap();
    let waiter = {
        let r = r.clone();
        tokio::spawn(async move { r.wait_until_finished(Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let taken = take_one(&q, 30_000).await;
    finish(&q, &taken, completed(json!("gone"))).await;
    assert_eq!(q.state(&r.id).await.unwrap(), None);
    let rv = waiter.await.unwrap().unwrap();
    assert_eq!(rv.as_deref(), Some(&b"\"gone\""[..]));
    assert!(matches!(
        q.wait_until_finished("nope", Duration::from_secs(1)).await,
        Err(Error::NotFound(_))
    ));
    let g = q.add("z", &0, JobOptions::new()).await.unwrap();
    assert!(matches!(
        g.wait_until_finished(Duration::from_millis(100)).await,
        Err(Error::Timeout(_))
    ));
}
every_backend!(
    wait_until_finished_sees_the_result,
    super::wait_until_finished_sees_the_result,
    flavor = "multi_thread"
);

async fn bad_input_is_typed_and_harmless(backend: Backend) {
    let c = backend.client_named("q_bad").await;
    assert!(matches!(c.queue(""), Err(Error::InvalidArgument(_))));
    assert!(matches!(c.queue("a{b"), Err(Error::InvalidArgument(_))));
    let q = c.queue("q").unwrap();
    assert!(matches!(
        q.add("", &0, JobOptions::new()).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        q.add("x", &0, JobOptions::new().attempts(0)).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        q.add("x", &0, JobOptions::new().priority(1 << 22)).await,
        Err(Error::InvalidArgument(_))
    ));
    // A map with non-string keys has no JSON form: the codec cannot encode it.
    let bad: std::collections::HashMap<(i32, i32), i32> = [((1, 2), 3)].into();
    assert!(matches!(
        q.add("x", &bad, JobOptions::new()).await,
        Err(Error::Encode(_))
    ));
    assert!(matches!(
        q.get_jobs_named(&["waiting", "sleeping"], 0, -1).await,
        Err(Error::InvalidArgument(_))
    ));
    // One bad job in a bulk add refuses the whole call.
    assert!(matches!(
        q.add_bulk([
            ("ok", &0, JobOptions::new()),
            ("x", &0, JobOptions::new().attempts(0))
        ])
        .await,
        Err(Error::InvalidArgument(_))
    ));
    // An events cursor is "$" or a stream entry id; anything else is refused when given.
    for id in ["", "now", "1-", "-1", "1-2-3", "$$", "18446744073709551616"] {
        assert!(
            matches!(q.events_from(id), Err(Error::InvalidArgument(_))),
            "{id:?}"
        );
    }
    for id in ["$", "0", "0-0", "1700000000000-5"] {
        assert!(q.events_from(id).is_ok(), "{id:?}");
    }
    assert_eq!(q.counts().await.unwrap(), Default::default());
}
every_backend!(
    bad_input_is_typed_and_harmless,
    super::bad_input_is_typed_and_harmless
);

/// add is one command, add_bulk of 1,000 jobs is one, finishing a job and taking the next
/// is one, a renewal of all of a worker's leases is one.
#[tokio::test]
async fn round_trips() {
    let server = Server::start();
    let c = common::client_at(&server.url(), "rt").await;
    let q = c.queue("q").unwrap();
    // Warm the script cache (a first call is EVALSHA, NOSCRIPT, EVAL).
    q.add("warm", &0, JobOptions::new()).await.unwrap();
    let warm = take_one(&q, 30_000).await;
    q.finish(
        &[Finish {
            id: warm.id.clone(),
            token: warm.token,
            outcome: completed(json!(0)),
            jitter_draw: 0.0,
        }],
        &args(30_000),
        0,
    )
    .await
    .unwrap();
    let beat = WorkerBeat::default();
    q.extend(&beat, Duration::from_secs(30), &[]).await.unwrap();

    let names = |cmds: Vec<String>| {
        cmds.iter()
            .map(|c| c.split(' ').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let m = server.monitor();
    q.add("one", &json!({"a": 1}), JobOptions::new().attempts(3))
        .await
        .unwrap();
    assert_eq!(names(m.finish()), ["EVALSHA"], "add");

    let data: Vec<serde_json::Value> = (0..1000).map(|i| json!({"i": i})).collect();
    let m = server.monitor();
    let jobs = q
        .add_bulk(data.iter().map(|d| ("bulk", d, JobOptions::new())))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1000);
    assert_eq!(names(m.finish()), ["EVALSHA"], "add_bulk of 1,000");

    let first = take_one(&q, 30_000).await;
    let m = server.monitor();
    let (fins, next) = q
        .finish(
            &[Finish {
                id: first.id.clone(),
                token: first.token,
                outcome: completed(json!(1)),
                jitter_draw: 0.0,
            }],
            &args(30_000),
            1,
        )
        .await
        .unwrap();
    assert_eq!(fins, [Finished::Completed]);
    let Take::Jobs(next) = next else {
        panic!("expected the next job")
    };
    assert_eq!(names(m.finish()), ["EVALSHA"], "finish + take next");

    let mut held: Vec<(String, u64)> = vec![(next[0].id.clone(), next[0].token)];
    if let Take::Jobs(more) = q.take(&args(30_000), 50).await.unwrap() {
        held.extend(more.into_iter().map(|j| (j.id, j.token)));
    }
    assert_eq!(held.len(), 51);
    let m = server.monitor();
    let ext = q
        .extend(&beat, Duration::from_secs(30), &held)
        .await
        .unwrap();
    assert!(ext.lost.is_empty());
    assert_eq!(names(m.finish()), ["EVALSHA"], "renewal of 51 leases");
}

async fn active_events_name_every_job_of_a_take(backend: Backend) {
    let c = backend.client_named("q_active_ev").await;
    let q = c.queue("q").unwrap();
    let ids: Vec<String> = q
        .add_bulk((0..3).map(|i| ("x", i, JobOptions::new())))
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    let mut events = q.events();
    events.prime().await.unwrap();
    let Take::Jobs(jobs) = q.take(&args(30_000), 3).await.unwrap() else {
        panic!("expected jobs");
    };
    assert_eq!(jobs.len(), 3);
    // One stream entry for the take; the reader gives one `active` event per job.
    let seen = events.next_batch(Duration::from_millis(100)).await.unwrap();
    let active: Vec<&str> = seen
        .iter()
        .filter(|e| e.event == "active")
        .filter_map(|e| e.job_id.as_deref())
        .collect();
    assert_eq!(active, ids);
    assert!(seen.iter().all(|e| e.id == seen[0].id));
}
every_backend!(
    active_events_name_every_job_of_a_take,
    super::active_events_name_every_job_of_a_take
);
