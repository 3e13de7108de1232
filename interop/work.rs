//! The Rust worker of the interop matrix (see interop/matrix.py): processes `INTEROP_QUEUE`
//! on `REDIS_URL` until killed, answering each job with `{"worker": "rust", "name", "data"}`.
//! A job of the matrix's batch (`INTEROP_BATCH`) whose data is not exactly the batch's
//! fails, naming the difference: what a producer sent is checked on arrival too.
//!
//! With `INTEROP_RUNS_DIR` set (the chaos run) each run also takes 5-25 ms and appends the
//! job id to a file of its own in that directory before it returns, so the driver counts
//! every run, duplicates included, even of a process it SIGKILLs.
//!
//! Built as an example of redkit-examples: `cargo build -p redkit-examples --examples`.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use redkit::worker::processor_fn;
use redkit::{Client, HostError};
use serde_json::{json, Value};

mod compare;

/// Connect, retrying for up to 30 s while the server is away or still loading its data
/// (the chaos run restarts it).
async fn connect(url: &str) -> redkit::Result<Client> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match Client::connect(url).await {
            Ok(c) => return Ok(c),
            Err(e) if std::time::Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::main]
async fn main() -> redkit::Result<()> {
    let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let client = connect(&env("REDIS_URL")).await?;
    let runs: Option<Arc<File>> = std::env::var("INTEROP_RUNS_DIR").ok().map(|dir| {
        let path = std::path::Path::new(&dir).join(format!("rust-{}.log", std::process::id()));
        let file = File::options().create(true).append(true).open(path);
        Arc::new(file.expect("the runs file"))
    });
    let cases: Arc<HashMap<String, Value>> = Arc::new(
        compare::batch()
            .into_iter()
            .map(|c| (c.name, c.data))
            .collect(),
    );
    let processor = processor_fn(move |job, _cancel| {
        let (runs, cases) = (runs.clone(), cases.clone());
        async move {
            let data: Value = job
                .data()
                .map_err(|e| HostError::new("DecodeError", e.to_string()))?;
            if let Some(want) = cases.get(&job.name) {
                if let Some(why) = compare::difference(want, &data, "data") {
                    let why = format!("the rust worker received other data: {why}");
                    return Err(HostError::new("Error", why));
                }
            }
            if let Some(runs) = runs {
                let ms = 5 + redkit::rt::random_u64() % 21;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                // One write(2) per run: in the file once it returns, whatever kills us later.
                (&*runs)
                    .write_all(format!("{}\n", job.id).as_bytes())
                    .map_err(|e| HostError::new("IoError", e.to_string()))?;
            }
            let result = json!({"worker": "rust", "name": job.name, "data": data});
            Ok(serde_json::to_vec(&result).expect("a JSON value serializes"))
        }
    });
    let worker = client
        .worker(&env("INTEROP_QUEUE"), processor)
        .concurrency(4)
        .lock_duration(Duration::from_secs(1))
        .stalled_interval(Duration::from_millis(500))
        .max_stalled_count(1000)
        .build()?;
    worker.run().await
}
