//! A busy worker keeps more than one finish request in flight (each ends a batch of jobs and
//! takes the next ones), never more than the engine's bound, and never holds more leases
//! than its concurrency. Seen through a transport that slows every finish call down (a
//! link with a long round trip) and counts the calls out at once.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::Backend;
use redkit::script::Script;
use redkit::transport::native::NativeTransport;
use redkit::transport::{BoxFuture, Transport};
use redkit::worker::processor_fn;
use redkit::{Client, Cmd, ConnectOptions, JobOptions, Result, Value};

/// The engine's bound on finish requests in flight (worker/finish.rs, MAX_IN_FLIGHT).
const IN_FLIGHT: usize = 2;

/// Holds each finish call `delay` before it goes on, and counts them.
struct SlowFinishes {
    inner: Arc<dyn Transport>,
    finish_sha: String,
    active_key: String,
    delay: Duration,
    out: AtomicUsize,
    most_out: AtomicUsize,
    finishes: AtomicUsize,
    /// The largest `active` set seen just after a finish call: the leases of the one worker.
    most_active: AtomicUsize,
}

impl SlowFinishes {
    fn is_finish(&self, cmd: &Cmd) -> bool {
        let mut parts = cmd.parts();
        parts.next() == Some(b"EVALSHA".as_slice())
            && parts.next() == Some(self.finish_sha.as_bytes())
    }
}

impl Transport for SlowFinishes {
    fn send(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(async move {
            if !self.is_finish(&cmd) {
                return self.inner.send(cmd).await;
            }
            let n = self.out.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_out.fetch_max(n, Ordering::SeqCst);
            self.finishes.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            let reply = self.inner.send(cmd).await;
            let active = self
                .inner
                .send(Cmd::new("ZCARD").arg(&self.active_key))
                .await?
                .as_int()?;
            self.most_active
                .fetch_max(active as usize, Ordering::SeqCst);
            self.out.fetch_sub(1, Ordering::SeqCst);
            reply
        })
    }

    fn pipeline(&self, cmds: Vec<Cmd>) -> BoxFuture<'_, Result<Vec<Value>>> {
        self.inner.pipeline(cmds)
    }

    fn send_blocking(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        self.inner.send_blocking(cmd)
    }

    fn send_blocking_within(&self, cmd: Cmd, within: Duration) -> BoxFuture<'_, Result<Value>> {
        self.inner.send_blocking_within(cmd, within)
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.inner.close()
    }

    fn name(&self) -> &'static str {
        "slow-finishes"
    }
}

async fn pipelined_finishes(backend: Backend) {
    let prefix = redkit_testkit::prefix("w_inflight");
    let inner: Arc<dyn Transport> = match &backend {
        Backend::Redis => Arc::new(
            NativeTransport::connect(&redkit_testkit::shared().url(), ConnectOptions::default())
                .await
                .expect("connect"),
        ),
        Backend::Embedded(engine) => Arc::new(engine.clone()),
    };
    let finish = Script::new(
        "queue_finish",
        Box::leak(
            format!(
                "{}{}",
                include_str!("../lua/queue_common.lua"),
                include_str!("../lua/queue_finish.lua")
            )
            .into_boxed_str(),
        ),
    );
    let slow = Arc::new(SlowFinishes {
        inner,
        finish_sha: finish.sha().to_string(),
        active_key: format!("{prefix}:{{queue:q}}:active"),
        delay: Duration::from_millis(20),
        out: AtomicUsize::new(0),
        most_out: AtomicUsize::new(0),
        finishes: AtomicUsize::new(0),
        most_active: AtomicUsize::new(0),
    });
    let client = Client::from_transport(slow.clone(), &prefix).expect("client");
    let q = client.queue("q").unwrap();
    let n = 400;
    q.add_bulk((0..n).map(|i| ("job", i, JobOptions::default())))
        .await
        .unwrap();
    let concurrency = 20;
    let worker = client
        .worker("q", processor_fn(|_, _| async { Ok(b"1".to_vec()) }))
        .concurrency(concurrency)
        .build()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while q.counts().await.unwrap().completed < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "jobs did not complete"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.close(true).await;
    let stats = worker.stats();
    assert_eq!(stats.completed, n);
    assert_eq!(stats.refused, 0);
    assert_eq!(worker.jobs_in_flight(), 0);
    // One request at a time would leave this at 1.
    assert_eq!(slow.most_out.load(Ordering::SeqCst), IN_FLIGHT);
    assert!(slow.most_active.load(Ordering::SeqCst) <= concurrency);
    // Batches, not a call per job: each carries its share of the slots' ends.
    let calls = slow.finishes.load(Ordering::SeqCst);
    assert!(calls as u64 <= n / 5, "{calls} finish calls for {n} jobs");
}
every_backend!(
    pipelined,
    super::pipelined_finishes,
    flavor = "multi_thread"
);
