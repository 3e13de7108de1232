//! Queue and worker throughput of redkit's Rust core on one redis-server: `add` (one job
//! per call, one call in flight), `add_bulk` (1,000 jobs per call), and a worker at
//! concurrency 1 and 100 on no-op jobs; with the commands the server runs per job (INFO
//! commandstats, the scripts' own commands included) beside BullMQ's 23, and for the
//! workers their round trips and the CPU their process used per job.
//!
//! `cargo run --release -p redkit-bench --bin queue-bench` (a server of its own unless
//! REDIS_URL is set; BENCH_JOBS sets the jobs per worker run, default 20,000;
//! BENCH_LINK_DELAY_US > 0 connects the workers through a link that adds that much to each
//! round trip, as a server on another host would). Prints a markdown table and writes it to
//! bench/results/rust-queue.md.
//!
//! BENCH_PHASE splits the worker run for a profiler (bench/queue-callgrind.sh): `fill`
//! flushes the server and queues 2 × BENCH_JOBS no-op jobs, `worker` then runs a worker at
//! BENCH_CONCURRENCY (default 100) over them and prints one line; no table is written.
//!
//! BullMQ's column holds the figures issue 17 quotes, unless BENCH_BULLMQ names the JSON
//! cells `bench/node/queue.mjs` wrote (BENCH_JSON) for BullMQ itself on the same server
//! just before: `bench/queue-same-run.sh` runs both that way.

use std::time::{Duration, Instant};

use redkit::worker::processor_fn;
use redkit::{Client, JobOptions};
use redkit_bench::server::{info, send};

/// Every command the server ran (scripts' commands included), INFO itself left out, and
/// the CPU time it used (user + system, µs): what a job costs the server, whatever else
/// loads the machine.
async fn server_cost(client: &Client) -> (u64, f64) {
    let calls = info(client, "commandstats")
        .await
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
        .filter_map(|l| l.split("calls=").nth(1))
        .filter_map(|r| r.split(',').next())
        .filter_map(|n| n.parse::<u64>().ok())
        .sum();
    let cpu = info(client, "cpu")
        .await
        .lines()
        .filter(|l| l.starts_with("used_cpu_sys:") || l.starts_with("used_cpu_user:"))
        .filter_map(|l| l.split(':').nth(1))
        .filter_map(|v| v.trim().parse::<f64>().ok())
        .sum::<f64>();
    (calls, cpu * 1e6)
}

/// CPU time this process (the worker and the bench around it) has used, user + system, in
/// µs: /proc/self/stat's utime and stime, in ticks of USER_HZ (100 on Linux).
fn own_cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the 3rd, `state`.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    ticks as f64 * 10_000.0
}

/// A worker run's figures.
struct WorkerRun {
    jobs_per_sec: f64,
    /// Commands the server ran per job (scripts' own included).
    server_cmds: f64,
    /// redis-server CPU µs per job.
    server_cpu: f64,
    /// The worker's take and finish round trips per job.
    round_trips: f64,
    /// This process's CPU µs per job (the worker's share; the bench's polling is a few
    /// commands).
    worker_cpu: f64,
}

async fn reset(client: &Client) {
    send(client, redkit::Cmd::new("FLUSHALL")).await;
    send(client, redkit::Cmd::new("CONFIG").arg("RESETSTAT")).await;
}

async fn fill(client: &Client, n: u64) {
    let q = client.queue("bench").expect("queue");
    let mut i = 0;
    while i < n {
        let k = (n - i).min(1000);
        q.add_bulk((i..i + k).map(|j| ("noop", j, JobOptions::default())))
            .await
            .expect("add_bulk");
        i += k;
    }
}

/// The share of a worker run's jobs done before its clock starts.
const START_MARK: f64 = 0.05;

/// Jobs per second of a worker at `concurrency` over `n` no-op jobs (queued first when
/// `fill_first`, else already there), and what a job cost the server and the worker.
async fn worker_run(
    client: &Client,
    link: &Client,
    n: u64,
    concurrency: usize,
    fill_first: bool,
) -> WorkerRun {
    if fill_first {
        reset(client).await;
        fill(client, n).await;
    }
    let before = server_cost(client).await;
    let cpu_before = own_cpu_us();
    let q = client.queue("bench").expect("queue");
    let started = Instant::now();
    let worker = link
        .worker("bench", processor_fn(|_, _| async { Ok(b"1".to_vec()) }))
        .concurrency(concurrency)
        .build()
        .expect("worker");
    // Jobs/s from the first look at which START_MARK of the jobs are done to the last, as
    // bench/node/queue.mjs measures BullMQ and redkit-node: start-up left out, and the
    // counts seen at the two looks (not n) make it exact whatever the polling interval. A
    // run too short for two looks is timed whole.
    let mut start: Option<(Instant, u64)> = None;
    let rate = loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let done = q.counts().await.expect("counts").completed;
        let now = Instant::now();
        match start {
            Some((t0, d0)) if done >= n && done > d0 => {
                break (done - d0) as f64 / (now - t0).as_secs_f64()
            }
            _ if done >= n => break n as f64 / started.elapsed().as_secs_f64(),
            None if done as f64 >= n as f64 * START_MARK => start = Some((now, done)),
            _ => {}
        }
    };
    worker.close(true).await;
    let worker_cpu = own_cpu_us() - cpu_before;
    // The counts polled meanwhile are a handful of commands against n jobs.
    let after = server_cost(client).await;
    let n = n as f64;
    WorkerRun {
        jobs_per_sec: rate,
        server_cmds: (after.0 - before.0) as f64 / n,
        server_cpu: (after.1 - before.1) / n,
        round_trips: worker.stats().take_calls as f64 / n,
        worker_cpu: worker_cpu / n,
    }
}

/// BullMQ's jobs/s for add, addBulk, and a worker at concurrency 1 and 100, and where
/// they come from.
struct Peer {
    add: f64,
    bulk: f64,
    c1: f64,
    c100: f64,
    source: String,
    /// The command that makes this table.
    command: &'static str,
}

impl Peer {
    /// The figures issue 17 quotes for this kind of machine.
    fn quoted() -> Peer {
        Peer {
            add: 9_400.0,
            bulk: 41_700.0,
            c1: 7_900.0,
            c100: 35_600.0,
            source: "BullMQ's figures are the ones issue 17 quotes for this kind of machine \
                     (bench/queue-same-run.sh measures BullMQ itself on the same server in the same run)"
                .into(),
            command: "cargo run --release -p redkit-bench --bin queue-bench",
        }
    }

    /// BullMQ as `bench/node/queue.mjs` measured it (its BENCH_JSON cells at `path`).
    fn measured(path: &str) -> Result<Peer, Box<dyn std::error::Error>> {
        let cells: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        // The cell of BullMQ whose workload is `workload`, or starts with it when it ends
        // in '(' (the add rows name their batch after it).
        let rate = |workload: &str| -> Result<f64, Box<dyn std::error::Error>> {
            cells
                .iter()
                .find(|c| {
                    let w = c["workload"].as_str().unwrap_or_default();
                    c["contender"] == "BullMQ"
                        && (w == workload || workload.ends_with('(') && w.starts_with(workload))
                })
                .and_then(|c| c["jobsPerSec"].as_f64())
                .ok_or_else(|| format!("{path}: no BullMQ cell for {workload:?}").into())
        };
        Ok(Peer {
            add: rate("add (")?,
            bulk: rate("addBulk (")?,
            c1: rate("worker, concurrency 1")?,
            c100: rate("worker, concurrency 100")?,
            source: "BullMQ's figures are BullMQ itself (bench/node/queue.mjs), measured on the \
                     same server just before, in the same run (bench/queue-same-run.sh)"
                .into(),
            command: "bash bench/queue-same-run.sh",
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jobs: u64 = redkit_bench::env_or("BENCH_JOBS", 20_000);
    let peer = match std::env::var("BENCH_BULLMQ") {
        Ok(path) => Peer::measured(&path)?,
        Err(_) => Peer::quoted(),
    };
    let (url, _own_server) = redkit_bench::server::target();
    let client = Client::builder(&url).prefix("qbench").build().await?;
    let q = client.queue("bench")?;
    match std::env::var("BENCH_PHASE").as_deref() {
        Ok("fill") => {
            reset(&client).await;
            fill(&client, jobs * 2).await;
            return Ok(());
        }
        Ok("worker") => {
            let concurrency = redkit_bench::env_or("BENCH_CONCURRENCY", 100);
            let r = worker_run(&client, &client, jobs * 2, concurrency, false).await;
            println!(
                "worker, concurrency {concurrency}: {:.0} jobs/s, {:.2} server commands, \
                 {:.1} µs server CPU and {:.1} µs worker CPU per job",
                r.jobs_per_sec, r.server_cmds, r.server_cpu, r.worker_cpu
            );
            return Ok(());
        }
        Ok(other) => return Err(format!("BENCH_PHASE is fill or worker, not {other:?}").into()),
        Err(_) => {}
    }

    reset(&client).await;
    let n = jobs / 2;
    let (_, cpu0) = server_cost(&client).await;
    let started = Instant::now();
    for i in 0..n {
        q.add("noop", &i, JobOptions::default()).await?;
    }
    let add = n as f64 / started.elapsed().as_secs_f64();
    let add_cpu = (server_cost(&client).await.1 - cpu0) / n as f64;

    reset(&client).await;
    let bulk_n = jobs * 5;
    let (_, cpu0) = server_cost(&client).await;
    let started = Instant::now();
    fill(&client, bulk_n).await;
    let bulk = bulk_n as f64 / started.elapsed().as_secs_f64();
    let bulk_cpu = (server_cost(&client).await.1 - cpu0) / bulk_n as f64;

    let delay_us: u64 = redkit_bench::env_or("BENCH_LINK_DELAY_US", 0);
    let link = if delay_us > 0 {
        let url = redkit_bench::slow_link::start(&url, Duration::from_micros(delay_us)).await;
        Client::builder(&url).prefix("qbench").build().await?
    } else {
        client.clone()
    };
    let c1 = worker_run(&client, &link, jobs / 2, 1, true).await;
    let c100 = worker_run(&client, &link, jobs * 2, 100, true).await;

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut out = String::new();
    out.push_str("## Rust: queue and worker\n\n");
    out.push_str(
        "redkit's Rust core on one redis-server, one run. No-op jobs, JSON payload a number. \
         A worker's jobs/s runs from the moment 5 % of its jobs are done to the last \
         (start-up left out, as bench/node/queue.mjs times BullMQ). Server CPU is redis-server's user + system time per job (INFO cpu), worker CPU the \
         bench process's (/proc/self/stat); neither is inflated by the machine's load the way \
         jobs/s is. ",
    );
    out.push_str(&peer.source);
    out.push_str(".\n");
    out.push_str(&format!(
        "Command: `{}` (BENCH_JOBS={jobs}, BENCH_LINK_DELAY_US={delay_us}); load average at the \
         end: {}\n\n",
        peer.command,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    ));
    out.push_str("| what | redkit jobs/s | BullMQ jobs/s | ratio | server commands per job | server CPU µs per job | worker round trips per job | worker CPU µs per job |\n");
    out.push_str("|---|---:|---:|---:|---|---:|---:|---:|\n");
    let mut row = |what: &str, ours: f64, theirs: f64, cmds: &str, cpu: f64, worker: &str| {
        out.push_str(&format!(
            "| {what} | {ours:.0} | {theirs:.0} | {:.2}× | {cmds} | {cpu:.1} | {worker} |\n",
            ours / theirs
        ))
    };
    let worker = |r: &WorkerRun| format!("{:.3} | {:.1}", r.round_trips, r.worker_cpu);
    row(
        "add (1 per call, 1 in flight)",
        add,
        peer.add,
        "1 EVALSHA per job",
        add_cpu,
        "— | —",
    );
    row(
        "add_bulk (1,000 per call)",
        bulk,
        peer.bulk,
        "1 EVALSHA per 1,000 jobs",
        bulk_cpu,
        "— | —",
    );
    row(
        "worker, concurrency 1",
        c1.jobs_per_sec,
        peer.c1,
        &format!("{:.1} (BullMQ: 23)", c1.server_cmds),
        c1.server_cpu,
        &worker(&c1),
    );
    row(
        "worker, concurrency 100",
        c100.jobs_per_sec,
        peer.c100,
        &format!("{:.1} (BullMQ: 23)", c100.server_cmds),
        c100.server_cpu,
        &worker(&c100),
    );
    print!("{out}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/rust-queue.md");
    // The file's hand-written sections (from its first `### ` heading on) stay after the
    // new table.
    let kept = std::fs::read_to_string(path).unwrap_or_default();
    if let Some(at) = kept.find("\n### ") {
        out.push_str(&kept[at..]);
    }
    std::fs::write(path, out)?;
    Ok(())
}
