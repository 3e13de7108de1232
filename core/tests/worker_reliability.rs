//! At least once, measured: jobs flow through worker processes that are SIGKILLed at
//! random and restarted, while the redis-server itself (appendonly yes, appendfsync
//! always) is killed and restarted: no job is lost, none fails, and the duplicate runs are
//! counted. The normal suite runs 2,000 jobs; `reliability_20k` (ignored) runs 20,000.
//!
//! The worker processes are this test binary run again with `reliability_child`, which
//! works only when the parent's environment variables are set.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redkit::worker::processor_fn;
use redkit::{Client, Cmd, ConnectOptions, HostError, JobOptions};

/// A redis-server that persists every write (AOF, fsync always) in a directory of its own,
/// killed with SIGKILL and started again on the same port and data.
struct AofServer {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl AofServer {
    fn start() -> AofServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("redkit-aof-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = AofServer {
            port,
            dir,
            child: None,
        };
        s.spawn();
        s
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let bin = std::env::var("REDKIT_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--loglevel", "warning"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not come back");
    }

    /// SIGKILL: whatever the server acknowledged is in the AOF, nothing else.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for AofServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// PING answered with PONG (the server has loaded its data).
fn ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 16];
    s.write_all(b"*1\r\n$4\r\nPING\r\n").is_ok()
        && s.read(&mut buf)
            .map(|n| buf[..n].starts_with(b"+PONG"))
            .unwrap_or(false)
}

const URL_VAR: &str = "REDKIT_RELIABILITY_URL";
const PREFIX_VAR: &str = "REDKIT_RELIABILITY_PREFIX";

/// A worker process: runs until killed. Each run of a job counts itself in `<prefix>:runs`
/// (a hash outside the queue) before it returns, so the parent can count duplicates.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a worker process of the reliability tests; does nothing alone"]
async fn reliability_child() {
    let (Ok(url), Ok(prefix)) = (std::env::var(URL_VAR), std::env::var(PREFIX_VAR)) else {
        return;
    };
    let client = loop {
        let opts = ConnectOptions::default().prefix(prefix.clone());
        match Client::connect_with(&url, opts).await {
            Ok(c) => break c,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let worker = client
        .worker("jobs", counting(&client, &format!("{prefix}:runs")))
        .concurrency(4)
        .lock_duration(Duration::from_millis(1000))
        .stalled_interval(Duration::from_millis(500))
        .max_stalled_count(1000)
        .build()
        .unwrap();
    worker.run().await.unwrap();
}

/// A processor that takes 5-25 ms and counts each run in the hash `runs` before it
/// returns, retrying while the server is away.
fn counting(client: &Client, runs: &str) -> std::sync::Arc<dyn redkit::worker::Processor> {
    let (c, runs) = (client.clone(), runs.to_string());
    processor_fn(move |job, cancel| {
        let (c, runs) = (c.clone(), runs.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(5 + redkit::rt::random_u64() % 20)).await;
            loop {
                let cmd = Cmd::new("HINCRBY").arg(&runs).arg(&job.id).arg(1i64);
                match c.transport().send(cmd).await {
                    Ok(_) => return Ok(b"1".to_vec()),
                    Err(_) if !cancel.is_cancelled() => {
                        tokio::time::sleep(Duration::from_millis(50)).await
                    }
                    Err(e) => return Err(HostError::new("Error", e.to_string())),
                }
            }
        }
    })
}

fn spawn_child(url: &str, prefix: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "reliability_child",
            "--test-threads=1",
        ])
        .env(URL_VAR, url)
        .env(PREFIX_VAR, prefix)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("worker process")
}

async fn hlen_sum(client: &Client, key: &str) -> (u64, u64) {
    let all = client
        .transport()
        .send(Cmd::new("HVALS").arg(key))
        .await
        .unwrap()
        .into_array()
        .unwrap();
    let runs: u64 = all.iter().map(|v| v.as_int().unwrap() as u64).sum();
    (all.len() as u64, runs)
}

/// `n` jobs through 4 worker processes, one SIGKILLed and restarted every ~1.5 s, the
/// server SIGKILLed once (after a third of the jobs) and back 2 s later.
async fn at_least_once(n: u64) {
    let mut server = AofServer::start();
    let url = server.url();
    let prefix = format!("rel{}", std::process::id());
    let opts = ConnectOptions::default().prefix(prefix.clone());
    let client = Client::connect_with(&url, opts).await.unwrap();
    let queue = client.queue("jobs").unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        queue
            .add_bulk(chunk.iter().map(|i| ("job", *i, JobOptions::default())))
            .await
            .unwrap();
    }
    let mut children: Vec<Child> = (0..4).map(|_| spawn_child(&url, &prefix)).collect();
    let started = Instant::now();
    let mut next_kill = Instant::now() + Duration::from_millis(1500);
    let mut kills = 0;
    let mut server_restarted = false;
    let deadline = started + Duration::from_secs(30 + n / 100);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Ok(counts) = queue.counts().await else {
            continue;
        };
        if counts.completed + counts.failed >= n {
            break;
        }
        assert!(Instant::now() < deadline, "not done in time: {counts:?}");
        if Instant::now() >= next_kill {
            let i = (redkit::rt::random_u64() % 4) as usize;
            let _ = children[i].kill();
            let _ = children[i].wait();
            children[i] = spawn_child(&url, &prefix);
            kills += 1;
            next_kill =
                Instant::now() + Duration::from_millis(1000 + redkit::rt::random_u64() % 1000);
        }
        if !server_restarted && counts.completed >= n / 3 {
            server_restarted = true;
            server.kill();
            tokio::time::sleep(Duration::from_secs(2)).await;
            server.spawn();
        }
    }
    let elapsed = started.elapsed();
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    let counts = queue.counts().await.unwrap();
    let (ran, runs) = hlen_sum(&client, &format!("{prefix}:runs")).await;
    let late = queue.late_results().await.unwrap();
    println!(
        "at least once: {n} jobs in {elapsed:.1?}, {kills} worker kills, server restarted once; \
         completed {}, failed {}, lost {}, duplicate runs {}, late results refused {late}",
        counts.completed,
        counts.failed,
        n - ran,
        runs - ran
    );
    assert!(server_restarted);
    assert_eq!(counts.failed, 0, "{counts:?}");
    assert_eq!(counts.completed, n, "{counts:?}");
    assert_eq!(ran, n, "every job ran at least once");
    assert_eq!(
        counts.waiting + counts.active + counts.delayed,
        0,
        "{counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn at_least_once_under_kills_and_a_server_restart() {
    at_least_once(2_000).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "the full run (20,000 jobs, about a minute): cargo test -p redkit --test worker_reliability -- --ignored --exact reliability_20k --nocapture"]
async fn reliability_20k() {
    at_least_once(20_000).await;
}

/// Send one command on a connection of its own (the test's hand on the server).
fn raw(port: u16, args: &[&str]) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.read(&mut [0u8; 64]);
}

/// Every client connection killed mid-job (CLIENT KILL), then the server down for three
/// seconds: the workers reconnect and every job completes, none lost or failed.
#[tokio::test(flavor = "multi_thread")]
async fn client_kill_and_a_server_down_lose_nothing() {
    let mut server = AofServer::start();
    let prefix = "ck";
    let opts = ConnectOptions::default().prefix(prefix);
    let client = Client::connect_with(&server.url(), opts.clone())
        .await
        .unwrap();
    let queue = client.queue("jobs").unwrap();
    let n = 600u64;
    queue
        .add_bulk((0..n).map(|i| ("job", i, JobOptions::default())))
        .await
        .unwrap();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            client
                .worker("jobs", counting(&client, "ck:runs"))
                .concurrency(4)
                .lock_duration(Duration::from_millis(1000))
                .stalled_interval(Duration::from_millis(500))
                .max_stalled_count(1000)
                .build()
                .unwrap()
        })
        .collect();
    let (mut killed, mut downed) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Ok(c) = queue.counts().await else {
            continue;
        };
        if c.completed + c.failed >= n {
            break;
        }
        assert!(Instant::now() < deadline, "not done in time: {c:?}");
        if !killed && c.completed >= n / 4 {
            killed = true;
            raw(server.port, &["CLIENT", "KILL", "TYPE", "normal"]);
        }
        if !downed && c.completed >= n / 2 {
            downed = true;
            server.kill();
            tokio::time::sleep(Duration::from_secs(3)).await;
            server.spawn();
        }
    }
    for w in &workers {
        w.close(true).await;
    }
    let c = queue.counts().await.unwrap();
    let (ran, runs) = hlen_sum(&client, "ck:runs").await;
    println!(
        "client kill + server down: completed {}, failed {}, lost {}, duplicate runs {}",
        c.completed,
        c.failed,
        n - ran,
        runs - ran
    );
    assert!(killed && downed);
    assert_eq!((c.completed, c.failed), (n, 0), "{c:?}");
    assert_eq!(ran, n);
}

/// A graceful close while the server is down returns once the results in hand can no
/// longer count (their lease is over): it used to retry storing them for ever.
#[tokio::test(flavor = "multi_thread")]
async fn graceful_close_with_the_server_down_returns() {
    let mut server = AofServer::start();
    let client = Client::connect_with(&server.url(), ConnectOptions::default().prefix("cd"))
        .await
        .unwrap();
    let queue = client.queue("jobs").unwrap();
    queue
        .add_bulk((0..4u64).map(|i| ("job", i, JobOptions::default())))
        .await
        .unwrap();
    let (started, mut started_rx) = tokio::sync::mpsc::unbounded_channel();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let held = gate.clone();
    let worker = client
        .worker(
            "jobs",
            processor_fn(move |_job, _cancel| {
                let (started, held) = (started.clone(), held.clone());
                async move {
                    let _ = started.send(());
                    let _ = held.acquire().await;
                    Ok(b"\"done\"".to_vec())
                }
            }),
        )
        .concurrency(4)
        .lock_duration(Duration::from_millis(1000))
        .build()
        .unwrap();
    for _ in 0..4 {
        started_rx.recv().await.unwrap();
    }
    server.kill();
    gate.add_permits(4);
    // The first store's deadline (5 s) and the deregistration's (5 s): nothing more.
    let closed = tokio::time::timeout(Duration::from_secs(15), worker.close(true)).await;
    assert!(closed.is_ok(), "close(true) still waiting after 15 s");
    // Nothing was stored: the jobs are still leased, to run again once found stalled.
    server.spawn();
    let counts = queue.counts().await.unwrap();
    assert_eq!((counts.active, counts.completed), (4, 0), "{counts:?}");
}
